"""``jobquery serve``: the ListJobs HTTP endpoint (:mod:`jobquery.server`) over dump files."""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING

import click

from jobquery.cli.options import (
    CALLER,
    DUMPS_HELP,
    INPUT,
    OUTPUT,
    TIME,
    SectionedCommand,
    _cache_option,
    _lenient_option,
    _option,
)
from jobquery.cli.output import CliError, _notice, reported_errors
from jobquery.cli.session import SAMPLE, notice_files_left_out, parse_now, snapshot_cache

if TYPE_CHECKING:
    pass


#: ``serve --max-connections`` by default: ``server.ConnectionLimits``'s, named here so that
#: the help is written without importing the server (a test keeps the two equal).
SERVE_MAX_CONNECTIONS = 500

SERVE_EXAMPLES = (
    "jobquery serve",
    "jobquery serve dumps/ --port 8080 --reload-on-change",
    "jobquery serve old-export.json --now 2021-01-13T00:00:00Z",
)


@click.command(
    "serve",
    cls=SectionedCommand,
    short_help="Answer GET /api/v1/jobs over HTTP (a local stand-in for PAI-DLC).",
    examples=SERVE_EXAMPLES,
)
@click.argument("dumps", nargs=-1, metavar="[DUMP]...", help=DUMPS_HELP)
@_option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    section=OUTPUT,
    help="Address to listen on (loopback by default; there is no authentication).",
)
@_option(
    "--port",
    default=8080,
    show_default=True,
    type=click.IntRange(0, 65535),
    section=OUTPUT,
    help="TCP port (0 picks a free one).",
)
@_option(
    "--reload-on-change",
    is_flag=True,
    section=INPUT,
    help="Swap in a new snapshot when the dump files change.",
)
@_option(
    "--compress-texts",
    is_flag=True,
    section=INPUT,
    help="Keep each job's JSON zstd-compressed in memory: about 8x less memory for the "
    "texts (three quarters of a snapshot), ~3 µs more per returned job.",
)
@_option(
    "--now",
    metavar="TIME",
    section=TIME,
    help="A fixed clock for the default 7-day window (default: the wall clock).",
)
@_lenient_option()
@_cache_option()
@_option(
    "--identity",
    type=click.Choice(["anonymous", "headers", "admin"]),
    default="anonymous",
    show_default=True,
    section=CALLER,
    help="Who asks. anonymous: every request sees public jobs only. headers: trust the "
    "x-jobquery-user-id header (only behind a proxy that authenticates and sets it). admin: "
    "every request sees every job (a local test double).",
)
@_option(
    "--admin-user",
    "admin_users",
    multiple=True,
    metavar="ID",
    section=CALLER,
    help="With --identity headers: this user id gets the administrator view (repeatable).",
)
@_option(
    "--trust-admin-header",
    is_flag=True,
    section=CALLER,
    help="With --identity headers: also take x-jobquery-admin: true as the administrator view.",
)
@_option(
    "--max-connections",
    type=click.IntRange(min=1),
    default=SERVE_MAX_CONNECTIONS,
    show_default=True,
    section=INPUT,
    help="Open connections at most; one more closes the connection idle the longest.",
)
def serve_command(
    *,
    dumps: tuple[str, ...],
    host: str,
    port: int,
    reload_on_change: bool,
    compress_texts: bool,
    now: str | None,
    no_cache: bool,
    identity: str,
    admin_users: tuple[str, ...],
    trust_admin_header: bool,
    max_connections: int,
    lenient: bool,
) -> None:
    """Serve the ListJobs API over the dumps; the official SDK can point at it. Ctrl-C stops.

    By default every request is anonymous and sees public jobs only; --identity says otherwise.
    """
    from jobquery import server

    with reported_errors():
        if identity != "headers" and (admin_users or trust_admin_header):
            raise CliError(
                "--identity", "--admin-user and --trust-admin-header need --identity headers"
            )
        callers: dict[str, server.CallerFromRequest] = {
            "anonymous": server.anonymous_caller,
            "admin": server.administrator_caller,
            "headers": server.HeaderIdentity(frozenset(admin_users), trust_admin_header),
        }
        fixed = parse_now(now)
        notice_files_left_out(dumps)
        if dumps:
            paths = list(dumps)
        else:
            paths = [str(resources.files("jobquery").joinpath(*SAMPLE))]
            _notice(f"no dump given: serving the bundled sample ({SAMPLE[-1]})")
        server.serve(
            paths,
            host=host,
            port=port,
            reload_on_change=reload_on_change,
            now=(lambda: fixed) if fixed is not None else None,
            compress_texts=compress_texts,
            cache=None if no_cache else snapshot_cache(),
            identity=callers[identity],
            limits=server.ConnectionLimits(max_connections=max_connections),
            lenient=lenient,
        )
