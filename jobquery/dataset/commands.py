"""The command line over job datasets: ``jobquery dataset write`` and ``--dataset DIR``.

:mod:`jobquery.cli` defines the commands and their options; when ``--dataset`` is given, its
``list``, ``stats`` and ``explain`` hand over to the functions here, which answer from a
:class:`~jobquery.dataset.JobDataset` and render with the command line's own renderers (so the
output is the same as over dump files). The clock without ``--now`` is the newest job time of
the dataset the caller can see (:meth:`JobDataset.newest_time`), as it is the dump's newest for
dump files.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import click

from jobquery import cli
from jobquery.dataset.engines import ENGINES
from jobquery.dataset.format import WriteProgress
from jobquery.dataset.job_dataset import EngineName, JobDataset
from jobquery.dataset.write import write_dataset_from_dumps
from jobquery.io.dumps import resolve_paths
from jobquery.plan import Plan
from jobquery.request import Caller, ListJobsRequest
from jobquery.snapshot import JOB_JSON


@dataclass
class DatasetSession:
    """What a query command over a dataset needs (as :class:`jobquery.cli.Session`)."""

    dataset: JobDataset
    query: dict[str, str]
    clock: cli.Clock
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
    if dumps:
        raise cli.CliError("--dataset", "give either DUMP files or --dataset DIR, not both")
    query = cli.wire_query(parameters)
    ListJobsRequest.from_wire(query)  # refuse a bad value before starting an engine
    parsed_now = cli.parse_now(now)
    caller = cli.make_caller(as_user, admin)
    if engine not in ENGINES:
        raise cli.CliError("--engine", f"choose one of {', '.join(ENGINES)}")
    dataset = JobDataset.open(directory, cast(EngineName, engine))
    try:
        return _session(dataset, query, parsed_now, caller)
    except BaseException:
        dataset.close()
        raise


def _session(
    dataset: JobDataset, query: dict[str, str], parsed_now: datetime | None, caller: Caller | None
) -> DatasetSession:
    if parsed_now is not None:
        clock = cli.Clock(parsed_now, from_dump=False)
    else:  # a non-admin's window never ends at the time of a job hidden from them
        clock = cli.newest_clock(dataset.newest_time(caller=caller), caller)
    plan = dataset.plan(query, now=clock.now, caller=caller)
    notice = cli.window_notice(plan, clock)
    if notice:
        click.echo(notice.replace("in the dump", "in the dataset"), err=True)
    return DatasetSession(dataset, query, clock, caller, plan)


def list_from_dataset(
    session: DatasetSession,
    *,
    fmt: str,
    columns: str | None,
    all_matches: bool,
    request_id: str | None,
) -> None:
    """``jobquery list --dataset DIR``: the page (or every match), rendered as over dumps."""
    dataset, now, caller = session.dataset, session.clock.now, session.caller
    if all_matches:
        frame = dataset.query(session.query, now=now, caller=caller)
        chosen = cli.resolve_columns(frame, columns)
        if fmt == "json":
            cli.render_json_array(frame[JOB_JSON].to_list())
        elif fmt == "ndjson":
            cli.render_ndjson(frame[JOB_JSON].to_list())
        elif fmt == "csv":
            cli.render_csv(frame, chosen)
        else:
            noun = "job" if frame.height == 1 else "jobs"
            footer = f"{frame.height} matching {noun}" if frame.height else "no matching jobs"
            cli.render_table(frame, chosen, footer)
        return
    if fmt == "json":
        response = dataset.list_jobs(session.query, now=now, caller=caller, request_id=request_id)
        click.echo(cli._pretty_json(response.to_wire()), nl=False)
        return
    frame, total = dataset.page_frame(session.query, now=now, caller=caller)
    chosen = cli.resolve_columns(frame, columns)
    if fmt == "ndjson":
        cli.render_ndjson(frame[JOB_JSON].to_list())
    elif fmt == "csv":
        cli.render_csv(frame, chosen)
    else:
        page = session.plan.page
        cli.render_table(frame, chosen, cli.page_footer(total, page.number, page.size))


def write_from_dumps(
    paths: Sequence[str], directory: str, *, overwrite: bool, lenient: bool
) -> None:
    """``jobquery dataset write DUMP... DIR``: with a progress bar on a terminal."""
    files = resolve_paths(paths)
    total = sum(path.stat().st_size for path in files)
    show_bar = cli._is_terminal(sys.stderr)
    with cli.ProgressBar(show_bar, "reading and indexing", total, in_bytes=True) as bar:
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
    if skipped:
        click.echo(f"skipped {len(skipped)} malformed record(s) (--lenient):", err=True)
        for record in skipped[: cli.SKIPPED_SHOWN]:
            click.echo(f"  {record}", err=True)
        if len(skipped) > cli.SKIPPED_SHOWN:
            click.echo(f"  ... and {len(skipped) - cli.SKIPPED_SHOWN} more", err=True)
    click.echo(
        f"wrote {manifest.job_count} jobs to {directory} ({len(manifest.files)} Parquet files; "
        f"{manifest.duplicates} duplicate(s) resolved, {len(skipped)} malformed record(s) skipped)"
    )
