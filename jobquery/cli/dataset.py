"""``jobquery dataset write``, and the ``--dataset DIR`` side of ``list``, ``stats``, ``explain``.

:mod:`jobquery.cli.query` defines the query commands and their options; when ``--dataset`` is
given, they hand over to the functions here, which answer from a
:class:`~jobquery.dataset.JobDataset` and render with the command line's own renderers (so the
output is the same as over dump files). The clock without ``--now`` is the newest job time of
the dataset the caller can see (:meth:`JobDataset.newest_time`), as it is the dump's newest for
dump files. The dataset modules are imported when a command runs, not for ``--help``.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

import click

from jobquery.cli.options import OUTPUT, SectionedCommand, _lenient_option, _option, wire_query
from jobquery.cli.output import (
    CliError,
    JobQueryGroup,
    _is_terminal,
    _pretty_json,
    page_footer,
    render_every_match,
    render_page,
    reported_errors,
)
from jobquery.cli.progress import ProgressBar
from jobquery.cli.session import (
    SKIPPED_SHOWN,
    Clock,
    make_caller,
    newest_clock,
    parse_now,
    window_notice,
)
from jobquery.request import Caller, ListJobsRequest

if TYPE_CHECKING:
    from jobquery.dataset.format import WriteProgress
    from jobquery.dataset.job_dataset import EngineName, JobDataset
    from jobquery.plan import Plan


@dataclass
class DatasetSession:
    """What a query command over a dataset needs (as :class:`jobquery.cli.session.Session`)."""

    dataset: JobDataset
    query: dict[str, str]
    clock: Clock
    caller: Caller | None
    plan: Plan

    def __enter__(self) -> DatasetSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.dataset.close()


def open_dataset_session(
    directory: str,
    engine: str,
    dumps: Sequence[str],
    parameters: Mapping[str, Any],
    *,
    now: str | None,
    as_user: str | None,
    admin: bool,
) -> DatasetSession:
    """Validate the options, open the dataset, resolve the clock, say which window applies."""
    from jobquery.dataset.engines import ENGINES
    from jobquery.dataset.job_dataset import JobDataset

    if dumps:
        raise CliError("--dataset", "give either DUMP files or --dataset DIR, not both")
    query = wire_query(parameters)
    ListJobsRequest.from_wire(query)  # refuse a bad value before starting an engine
    parsed_now = parse_now(now)
    caller = make_caller(as_user, admin)
    if engine not in ENGINES:
        raise CliError("--engine", f"choose one of {', '.join(ENGINES)}")
    dataset = JobDataset.open(directory, cast("EngineName", engine))
    try:
        return _session(dataset, query, parsed_now, caller)
    except BaseException:
        dataset.close()
        raise


def _session(
    dataset: JobDataset, query: dict[str, str], parsed_now: datetime | None, caller: Caller | None
) -> DatasetSession:
    if parsed_now is not None:
        clock = Clock(parsed_now, from_dump=False)
    else:  # a non-admin's window never ends at the time of a job hidden from them
        clock = newest_clock(dataset.newest_time(caller=caller), caller)
    plan = dataset.plan(query, now=clock.now, caller=caller)
    notice = window_notice(plan, clock)
    if notice:
        click.echo(notice.replace("in the dump", "in the dataset"), err=True)
    return DatasetSession(dataset, query, clock, caller, plan)


def list_from_dataset(
    session: DatasetSession,
    *,
    fmt: str,
    columns: Sequence[str] | None,
    all_matches: bool,
    request_id: str | None,
) -> None:
    """``jobquery list --dataset DIR``: the page (or every match), rendered as over dumps."""
    dataset, now, caller = session.dataset, session.clock.now, session.caller
    if all_matches:
        frame = dataset.query(session.query, now=now, caller=caller)
        render_every_match(frame, fmt, columns)
        return
    if fmt == "json":
        response = dataset.list_jobs(session.query, now=now, caller=caller, request_id=request_id)
        click.echo(_pretty_json(response.to_wire()), nl=False)
        return
    frame, total = dataset.page_frame(session.query, now=now, caller=caller)
    page = session.plan.page
    footer = page_footer(total, page.number, page.size)
    render_page(frame, fmt, columns, footer)


def write_from_dumps(
    paths: Sequence[str], directory: str, *, overwrite: bool, lenient: bool
) -> None:
    """``jobquery dataset write DUMP... DIR``: with a progress bar on a terminal."""
    from jobquery.dataset.write import write_dataset_from_dumps
    from jobquery.io.dumps import resolve_paths, skipped_lines

    files = resolve_paths(paths)
    total = sum(path.stat().st_size for path in files)
    show_bar = _is_terminal(sys.stderr)
    with ProgressBar(show_bar, "reading and indexing", total, in_bytes=True) as bar:
        step = ["reading"]

        def progress(report: WriteProgress) -> None:
            if report.step == "reading":
                bar.update(report.done)
            elif report.step == "sorting" and step[0] != "sorting":
                step[0] = "sorting"
                bar.phase("sorting and writing months")

        manifest, skipped = write_dataset_from_dumps(
            [str(path) for path in files],
            directory,
            overwrite=overwrite,
            lenient=lenient,
            on_progress=progress,
        )
    for line in skipped_lines(skipped, SKIPPED_SHOWN):
        click.echo(line, err=True)
    click.echo(
        f"wrote {manifest.job_count} jobs to {directory} ({len(manifest.files)} Parquet files; "
        f"{manifest.duplicates} duplicate(s) resolved, {len(skipped)} malformed record(s) skipped)"
    )


@click.group(
    "dataset", cls=JobQueryGroup, short_help="Write job datasets (Parquet for DuckDB/Spark)."
)
def dataset_group() -> None:
    """Job datasets: partitioned Parquet files with jobquery's index columns, answered by
    DuckDB or Spark ('jobquery list --dataset DIR'). See docs/dataset.md."""


DATASET_WRITE_EXAMPLES = (
    "jobquery dataset write jobs.ndjson jobs-dataset/",
    "jobquery dataset write 'dumps/*.ndjson' /data/jobs-dataset --overwrite",
)


@dataset_group.command(
    "write",
    cls=SectionedCommand,
    short_help="Write dumps as a job dataset.",
    examples=DATASET_WRITE_EXAMPLES,
)
@click.argument(
    "paths",
    nargs=-1,
    required=True,
    metavar="DUMP... DIR",
    help="The dump files, folders or patterns to write, then the dataset's folder.",
)
@_option(
    "--overwrite",
    is_flag=True,
    section=OUTPUT,
    help="Replace DIR when it is a job dataset already (never another folder).",
)
@_lenient_option()
def dataset_write_command(paths: tuple[str, ...], overwrite: bool, lenient: bool) -> None:
    """Write dump files as a job dataset in DIR: Parquet files partitioned by creation month
    and workspace bucket, with jobquery's index columns, and a manifest.

    Each file is read and indexed in turn (memory holds one file's jobs); a JobId seen twice
    keeps its latest GmtModifiedTime, as for every other command. DIR appears whole or not at
    all.
    """
    if len(paths) < 2:
        raise click.UsageError("give at least one dump and the dataset folder: DUMP... DIR")
    *inputs, directory = paths
    with reported_errors():
        write_from_dumps(inputs, directory, overwrite=overwrite, lenient=lenient)
