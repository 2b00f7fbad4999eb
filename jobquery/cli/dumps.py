"""The commands that write dump files: ``convert`` and ``generate``."""

from __future__ import annotations

import os
import sys
import tempfile
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from jobquery.cli.options import (
    OUTPUT,
    TIME,
    SectionedCommand,
    _cache_option,
    _lenient_option,
    _option,
    command_line_time,
)
from jobquery.cli.output import CliError, _is_terminal, _notice, reported_errors
from jobquery.cli.progress import ProgressBar
from jobquery.cli.session import SAMPLE, bundled_sample, load_store
from jobquery.request import parse_timestamp

if TYPE_CHECKING:
    pass


#: The shapes ``generate --profile`` offers: ``jobquery.synth.PROFILES``, named here so that
#: the help is written without importing the generator (a test keeps the two equal).
SYNTH_PROFILES = ("default", "high-cardinality")
#: ``jobquery.synth.DEFAULT_END`` and ``DEFAULT_SPAN``, for the help (a test keeps them equal).
SYNTH_END, SYNTH_SPAN_DAYS = "2026-11-28T00:00:00Z", 365


def _check_output_path(out: str, option: str = "OUT") -> Path:
    """The file to write: a known format, in a folder that exists (never created for you)."""
    from jobquery.io.dumps import SUPPORTED_EXTENSIONS

    target = Path(out)
    if target.is_dir():
        raise CliError(
            option, f"{out} is a folder; name the file to write, such as {target / 'jobs.ndjson'}"
        )
    if target.suffix.lower() not in SUPPORTED_EXTENSIONS:
        raise CliError(
            option,
            f"unknown dump format {target.suffix or '(no extension)'} for {out}; "
            f"expected one of {', '.join(SUPPORTED_EXTENSIONS)}",
        )
    if not target.parent.is_dir():
        raise CliError(option, f"no such folder: {target.parent} (create it first, to write {out})")
    return target


CONVERT_EXAMPLES = (
    "jobquery convert jobs.ndjson jobs.parquet",
    "jobquery convert 'pages/*.json' all_jobs.arrow",
    "jobquery convert sample.parquet    (the bundled sample, as Parquet)",
)


@click.command(
    "convert",
    cls=SectionedCommand,
    short_help="Convert dumps between JSON, NDJSON, Parquet and Arrow.",
    examples=CONVERT_EXAMPLES,
)
@click.argument(
    "paths",
    nargs=-1,
    required=True,
    metavar="[IN]... OUT",
    help="The dumps to convert (none: the bundled sample), then the file to write; the "
    "extensions choose the formats.",
)
@_option(
    "--overwrite",
    is_flag=True,
    section=OUTPUT,
    help="Replace OUT when it exists (without it, an existing OUT is refused: the last "
    "argument is what convert writes).",
)
@_lenient_option()
@_cache_option()
def convert_command(paths: tuple[str, ...], overwrite: bool, lenient: bool, no_cache: bool) -> None:
    """Convert dumps between JSON pages, NDJSON, Parquet and Arrow (by extension), losslessly.

    Every input is read as one job set (a JobId seen twice keeps its latest GmtModifiedTime)
    and written to OUT, deleted jobs included. OUT must be a new file unless --overwrite: a
    forgotten OUT never overwrites the dump you meant to read. With OUT alone, the bundled
    sample is converted (as list reads it).
    """
    from jobquery.io.dumps import jobs_counted

    *inputs, out = paths
    with reported_errors():
        target = _check_output_path(out)
        if not inputs and target.exists():
            raise CliError(
                "OUT",
                f"{out} exists; give IN... OUT to convert it, or a new OUT to write the "
                "bundled sample",
            )
        if target.exists() and not overwrite:
            raise CliError(
                "OUT",
                f"{out} exists, and convert writes its last argument: give a new OUT, or "
                "--overwrite to replace it",
            )
        if not inputs:
            inputs = [str(bundled_sample())]
            _notice(f"no input given: converting the bundled sample ({SAMPLE[-1]})")
        store = load_store(inputs, lenient=lenient, use_cache=not no_cache)
        with ProgressBar(_is_terminal(sys.stderr), f"writing {target.name}", None):
            written = store.export(target)
        click.echo(
            f"wrote {jobs_counted(written)} to {out} ({store.duplicates} duplicate(s) resolved, "
            f"{len(store.skipped)} malformed record(s) skipped)"
        )


GENERATE_EXAMPLES = (
    "jobquery generate --count 1000 -o jobs.ndjson",
    "jobquery generate --count 1000000 --seed 7 --start 2026-01-01T00:00:00Z "
    "--end 2026-12-01T00:00:00Z -o big.parquet",
    "jobquery generate --count 100000 --profile high-cardinality -o real-like.ndjson",
)


@click.command(
    "generate",
    cls=SectionedCommand,
    short_help="Write a synthetic job dump.",
    examples=GENERATE_EXAMPLES,
)
@_option(
    "--count", type=click.IntRange(min=0), required=True, metavar="N", section=OUTPUT,
    help="How many jobs.",
)  # fmt: skip
@_option(
    "--seed",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    section=OUTPUT,
    help="Random seed.",
)
@_option(
    "--profile",
    type=click.Choice(SYNTH_PROFILES),
    default="default",
    show_default=True,
    section=OUTPUT,
    help="What the jobs look like. default: a few dozen name bases and a few hundred "
    "suffixes (about 30,000 distinct DisplayNames per million jobs), 300 users, 40 "
    "workspaces, 0-3 tags from small sets. high-cardinality: as real histories, nearly "
    "unique values: every DisplayName is a model, a task and a random run suffix, 30,000 "
    "users with a skewed share of jobs, 400 workspaces, and 3 or more tags per job "
    "(team, an experiment among 4,000, and a run_id unique per job). Both span a year.",
)
@_option(
    "--start", metavar="TIME", section=TIME,
    help="Earliest GmtCreateTime (RFC 3339, or a date alone: midnight UTC). "
    f"[default: {SYNTH_SPAN_DAYS} days before --end]",
)  # fmt: skip
@_option(
    "--end", metavar="TIME", section=TIME,
    help="Latest GmtCreateTime (RFC 3339, or a date alone: midnight UTC). "
    f"[default: {SYNTH_END}]",
)  # fmt: skip
@_option(
    "-o", "--output", "output", required=True, metavar="FILE", section=OUTPUT,
    help="The dump to write; the format follows the extension.",
)  # fmt: skip
def generate_command(
    *, count: int, seed: int, profile: str, start: str | None, end: str | None, output: str
) -> None:
    """Write a deterministic synthetic dump (same count and seed, same jobs)."""
    from jobquery import synth
    from jobquery.io.dumps import NDJSON_EXTENSIONS, jobs_counted
    from jobquery.store import JobStore

    with reported_errors():
        target = _check_output_path(output, "--output")
        window: dict[str, datetime] = {}
        for name, text in (("start", start), ("end", end)):
            if text is not None:
                moment = parse_timestamp(command_line_time(text))
                if moment is None:
                    raise CliError(
                        f"--{name}",
                        f"expected an RFC 3339 timestamp or a date alone (got {text!r})",
                    )
                window[name] = moment
        last = window.get("end", synth.DEFAULT_END)
        if window.get("start", last) > last:
            given = "" if "end" in window else f" ({SYNTH_END}, the default)"
            raise CliError("--start", f"must not be after --end{given}")
        show_bar = _is_terminal(sys.stderr)
        with ExitStack() as stack:
            bar = stack.enter_context(ProgressBar(show_bar, "generating", count))
            # generate beside the target, then rename or convert: never a half-written dump
            folder = stack.enter_context(tempfile.TemporaryDirectory(dir=target.parent))
            ndjson = Path(folder) / "generated.ndjson"
            try:
                written = synth.write_ndjson(
                    ndjson, count, seed=seed, on_progress=bar.update, profile=profile, **window
                )
            except ValueError as exc:  # the generator's own limits (count, seed, window)
                raise CliError("generate", str(exc)) from exc
            if target.suffix.lower() in NDJSON_EXTENSIONS:
                os.replace(ndjson, target)
            else:
                bar.phase("reading the jobs", ndjson.stat().st_size, in_bytes=True)
                store = JobStore.from_path(
                    ndjson, on_progress=bar.advance, background_warm_up=False
                )
                bar.phase(f"writing {target.name}")
                written = store.export(target)
        shape = "" if profile == "default" else f", profile {profile}"
        click.echo(f"wrote {jobs_counted(written)} to {output} (seed {seed}{shape})")
