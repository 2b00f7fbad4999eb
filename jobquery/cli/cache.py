"""``jobquery cache``: show, check or clear the snapshot cache (:mod:`jobquery.io.cache`)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import click

from jobquery.cli.options import SectionedCommand, _format_option
from jobquery.cli.output import (
    CliError,
    _chosen_format,
    _notice,
    _pretty_json,
    print_out,
    reported_errors,
)
from jobquery.cli.session import snapshot_cache
from jobquery.request import format_timestamp

if TYPE_CHECKING:
    from jobquery.io.cache import CacheEntry


class CacheGroup(click.Group):
    """``jobquery cache``: its subcommands listed in the order they are defined."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)


@click.group("cache", cls=CacheGroup, short_help="Show or clear the snapshot cache.")
def cache_group() -> None:
    """The snapshot cache: what every command reading dumps keeps for next time.

    A dump read once is opened memory-mapped the next time, in a fraction of a second, as
    long as it is unchanged (same path, size, times and inode) and read with the same
    --lenient. The folder is $JOBQUERY_CACHE_DIR, else the user cache folder; it holds at most
    $JOBQUERY_CACHE_MAX_SIZE (default 5GiB), the least recently used snapshots going first.
    --no-cache on a command reads its dumps without it.
    """


def _entry_row(entry: CacheEntry) -> dict[str, Any]:
    return {
        "entry": entry.path.name,
        "bytes": entry.size,
        "jobs": entry.rows,
        "last_used": format_timestamp(entry.last_used),
        "lenient": entry.options.get("lenient", False),
        "compress_texts": entry.options.get("compress_texts", False),
        "dumps": list(entry.sources),
        "readable": entry.readable,
    }


@cache_group.command("list", cls=SectionedCommand, examples=("jobquery cache list",))
@_format_option(("table", "json"))
def cache_list_command(output_format: str | None) -> None:
    """Every cached snapshot, most recently used first: size, jobs, when it was last used,
    and the dumps it is the snapshot of."""
    from rich.table import Table
    from rich.text import Text

    with reported_errors():
        cache = snapshot_cache()
        entries = cache.entries()
        if _chosen_format(output_format) == "json":
            click.echo(_pretty_json([_entry_row(entry) for entry in entries]), nl=False)
            return
        table = Table(show_edge=False, pad_edge=False, box=None)
        for header in ("entry", "size", "jobs", "last used (UTC)", "dumps"):
            table.add_column(header, justify="right" if header in ("size", "jobs") else "left")
        for entry in entries:
            options = [name for name, value in entry.options.items() if value]
            dumps = ", ".join(entry.sources) if entry.readable else "(unreadable)"
            table.add_row(
                Text(entry.path.stem[:12]),
                Text(human_size(entry.size)),
                Text(f"{entry.rows:,}" if entry.rows is not None else ""),
                Text(entry.last_used.strftime("%Y-%m-%d %H:%M")),
                Text(dumps + (f" ({', '.join(options)})" if options else "")),
            )
        total = sum(entry.size for entry in entries)
        footer = f"{len(entries)} cached snapshot(s), {human_size(total)} in {cache.folder}"
        print_out(*([table] if entries else []), Text(footer))


@cache_group.command("info", cls=SectionedCommand, examples=("jobquery cache info",))
def cache_info_command() -> None:
    """Where the cache is, how full, and its cap."""
    from jobquery.io.cache import CACHE_DIR_VARIABLE, MAX_SIZE_VARIABLE

    with reported_errors():
        cache = snapshot_cache()
        entries = cache.entries()
        where = f" (${CACHE_DIR_VARIABLE})" if os.environ.get(CACHE_DIR_VARIABLE) else ""
        cap = f" (${MAX_SIZE_VARIABLE})" if os.environ.get(MAX_SIZE_VARIABLE) else ""
        click.echo(f"folder: {cache.folder}{where}")
        click.echo(f"snapshots: {len(entries)}, {human_size(sum(e.size for e in entries))}")
        click.echo(f"cap: {human_size(cache.max_bytes)}{cap}")


@cache_group.command("clear", cls=SectionedCommand, examples=("jobquery cache clear",))
def cache_clear_command() -> None:
    """Remove every cached snapshot (the dumps themselves are not touched)."""
    with reported_errors():
        cache = snapshot_cache()
        count, freed = cache.clear()
        click.echo(f"removed {count} cached snapshot(s), {human_size(freed)}")
        left = len(cache.entries())
        if left:
            raise CliError(
                "cache clear", f"{left} cached snapshot(s) could not be removed from {cache.folder}"
            )


@cache_group.command("verify", cls=SectionedCommand, examples=("jobquery cache verify",))
def cache_verify_command() -> None:
    """Check every byte of every cached snapshot against its checksums; remove damaged ones.

    Opening a snapshot checks its structure and a sample of its bytes; this checks them all.
    """
    with reported_errors():
        cache = snapshot_cache()
        count = len(cache.entries())
        damaged = cache.verify()
        for path, reason in damaged:
            if path.exists():
                _notice(f"damaged, and could not be removed: {path.name}: {reason}")
            else:
                _notice(f"removed {path.name}: {reason}")
        click.echo(f"checked {count} cached snapshot(s): {count - len(damaged)} intact")


def human_size(size: float) -> str:
    """Bytes for people: ``512 bytes``, ``3.4 MiB``, ``1.2 GiB``."""
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"  # pragma: no cover - the loop returns at GiB
