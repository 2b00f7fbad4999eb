"""The query commands: ``list``, ``get``, ``stats`` and ``explain``.

They add no query logic of their own: options become a ListJobs wire mapping that
:class:`~jobquery.store.JobStore` (or, with ``--dataset``, a job dataset) validates and
answers; the statistics are computed by :mod:`jobquery.stats`, and only printed here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from jobquery.cli.dataset import DatasetSession, list_from_dataset, open_dataset_session
from jobquery.cli.options import (
    CALLER,
    DUMPS_HELP,
    OUTPUT,
    SectionedCommand,
    _cache_option,
    _common_options,
    _dataset_options,
    _format_option,
    _lenient_option,
    _option,
    _request_id_option,
    _request_options,
)
from jobquery.cli.output import (
    CliError,
    _chosen_format,
    _LazyModule,
    _notice,
    _pretty_json,
    as_text,
    fitting_columns,
    hidden_note,
    humanise_seconds,
    page_footer,
    page_frame,
    print_out,
    render_every_match,
    render_page,
    reported_errors,
    resolve_columns,
)
from jobquery.cli.session import Session, load_store, make_caller, notice_no_jobs, open_session
from jobquery.request import format_timestamp

if TYPE_CHECKING:
    import polars as pl

    from jobquery.dataset.job_dataset import JobDataset
    from jobquery.store import JobStore

else:
    pl = _LazyModule("polars")


FORMATS = ("table", "json", "ndjson", "csv")
STATS_FORMATS = ("table", "json", "csv")


@dataclass(frozen=True)
class _Source:
    """The options of list, stats and explain that say what answers and who asks
    (``_common_options`` and ``_dataset_options``); a command's other options are its request's."""

    dataset: str | None
    engine: str
    now: str | None
    as_user: str | None
    admin: bool
    lenient: bool
    no_cache: bool

    @classmethod
    def taken_from(cls, options: dict[str, Any]) -> _Source:
        """These options, taken out of a command's options (the request's are left)."""
        return cls(**{field.name: options.pop(field.name) for field in fields(cls)})


@contextmanager
def _answering(
    dumps: Sequence[str], options: dict[str, Any]
) -> Iterator[tuple[JobStore | JobDataset, Session | DatasetSession]]:
    """What answers a query command — the dumps' store, or with ``--dataset`` the dataset
    (closed on leaving) — and the command's session. ``options``: the command's options left
    once it took its own; :class:`_Source`'s are taken out here, the rest are the request's."""
    source = _Source.taken_from(options)
    if source.dataset is not None:
        with open_dataset_session(
            source.dataset,
            source.engine,
            dumps,
            options,
            now=source.now,
            as_user=source.as_user,
            admin=source.admin,
        ) as on_dataset:
            yield on_dataset.dataset, on_dataset
        return
    session = open_session(
        dumps,
        options,
        now=source.now,
        as_user=source.as_user,
        admin=source.admin,
        lenient=source.lenient,
        use_cache=not source.no_cache,
    )
    yield session.store, session


LIST_EXAMPLES = (
    "jobquery list jobs.ndjson",
    "jobquery list dumps/ --status Failed --tag team=rec --start-time 2026-11-01T00:00:00Z",
    "jobquery list jobs.ndjson --as-user 1001 --show-own --format csv --all > mine.csv",
)


@click.command(
    "list",
    cls=SectionedCommand,
    short_help="List jobs as ListJobs does: a page, or every match.",
    examples=LIST_EXAMPLES,
)
@click.argument("dumps", nargs=-1, metavar="[DUMP]...", help=DUMPS_HELP)
@_request_options(paging=True)
@_common_options(page_section=True)
@_format_option(FORMATS)
@_option(
    "--columns",
    metavar="A,B",
    section=OUTPUT,
    help="Columns of the table or CSV (top-level job fields, e.g. JobId,Status,Duration); "
    "on a pipe, CSV.",
)
@_request_id_option()
@_dataset_options()
def list_command(
    *,
    dumps: tuple[str, ...],
    all_matches: bool,
    output_format: str | None,
    columns: str | None,
    request_id: str | None,
    **options: Any,
) -> None:
    """List jobs as ListJobs does: one page (default) or every match (--all).

    --format json prints exactly the ListJobs response body.
    """
    fmt = _chosen_format(output_format)
    if columns is not None and fmt in ("json", "ndjson"):
        if output_format is None:
            fmt = "csv"  # on a pipe, the chosen columns as CSV rather than the whole JSON
        else:
            _notice(f"note: --columns chooses table and CSV columns; --format {fmt} ignores it")
    with reported_errors(fmt, request_id):
        chosen = resolve_columns(columns)  # a typo is told before a long read
        with _answering(dumps, options) as (_, session):
            if isinstance(session, DatasetSession):
                list_from_dataset(
                    session, fmt=fmt, columns=chosen, all_matches=all_matches, request_id=request_id
                )
                return
            if all_matches:
                store, clock = session.store, session.clock
                frame = store.query(session.query, now=clock.now, caller=session.caller)
                render_every_match(frame, fmt, chosen)
            else:
                _print_page(session, fmt, chosen, request_id)


def _print_page(
    session: Session, fmt: str, chosen: Sequence[str] | None, request_id: str | None
) -> None:
    """One ListJobs page: ``--format json`` is the response body, the others its jobs."""
    store = session.store
    response = store.list_jobs(
        session.query, now=session.clock.now, caller=session.caller, request_id=request_id
    )
    if fmt == "json":
        click.echo(_pretty_json(response.to_wire()), nl=False)
        return
    page = session.plan.page
    footer = page_footer(response.total_count, page.number, page.size)
    render_page(page_frame(store, response.jobs), fmt, chosen, footer)


GET_EXAMPLES = (
    "jobquery get dlc-20261127164702-wq9pwzaeug5b1    (a job of the bundled sample)",
    "jobquery get jobs.ndjson dlc-20261128100211-abc123",
    "jobquery get dumps/ dlc-20261128100211-abc123 --as-user 1001",
)


@click.command(
    "get",
    cls=SectionedCommand,
    short_help="Show one job by its exact JobId.",
    examples=GET_EXAMPLES,
)
@click.argument("dumps", nargs=-1, metavar="[DUMP]...", help=DUMPS_HELP)
@click.argument("job_id", help="The exact JobId of the job.")
@_option(
    "--as-user", metavar="ID", section=CALLER, help="Ask as this user (hides others' PRIVATE jobs)."
)
@_option("--admin", is_flag=True, section=CALLER, help="Ask as an administrator.")
@_lenient_option()
@_cache_option()
def get_command(
    *,
    dumps: tuple[str, ...],
    job_id: str,
    as_user: str | None,
    admin: bool,
    lenient: bool,
    no_cache: bool,
) -> None:
    """One job by its exact JobId, as pretty JSON (deleted jobs included, with a note).

    Without DUMP (only a JOB_ID), the job is looked up in the bundled sample, as list does.
    """
    with reported_errors():
        if not dumps and os.path.exists(job_id):  # `jobquery get jobs.ndjson`: no JobId given
            raise CliError("JOB_ID", f"missing; {job_id} is a dump: jobquery get {job_id} JOB_ID")
        store = load_store(dumps, lenient=lenient, use_cache=not no_cache)
        caller = make_caller(as_user, admin)
        notice_no_jobs(dumps, store, caller)
        job = store.get_job(job_id, caller=caller)
        if job is None:
            who = f" visible to user {as_user}" if caller is not None and not admin else ""
            where = ", ".join(dumps) if dumps else "the bundled sample"
            raise CliError("JOB_ID", f"no job {job_id!r}{who} in {where}")
        if job.get("IsDeleted") is True:
            _notice("note: this job is deleted (IsDeleted=true); list never shows it")
        click.echo(_pretty_json(job), nl=False)


#: The metrics of ``stats`` (``--order-by`` offers each): ``jobquery.stats.METRICS``, named here
#: so that the help is written without importing Polars (a test keeps the two equal).
METRICS = (
    "jobs",
    "pending",
    "running",
    "succeeded",
    "failed",
    "stopped",
    "other",
    "success_rate",
    "failure_rate",
    "duration_p50_s",
    "duration_p90_s",
    "duration_p99_s",
    "gpu_hours",
    "queue_mean_s",
    "queue_p50_s",
)
#: Digits kept of the float metrics (rates, durations, GPU-hours) in every format.
DECIMALS = 4


def _rounded(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.col(pl.Float64).round(DECIMALS))


def _stats_cell(name: str, value: Any) -> str:
    if value is None:
        return "(none)" if name not in METRICS else ""
    if name.endswith("_rate"):
        return f"{value * 100:.1f}%"
    if name.endswith("_s"):
        return humanise_seconds(value)
    if name == "gpu_hours":
        return f"{value:,.1f}"
    if isinstance(value, datetime):
        return format_timestamp(value)
    return str(value)


STATS_HEADERS = {
    "success_rate": "success",
    "failure_rate": "failure",
    "duration_p50_s": "p50 dur",
    "duration_p90_s": "p90 dur",
    "duration_p99_s": "p99 dur",
    "gpu_hours": "GPU h",
    "queue_mean_s": "queue avg",
    "queue_p50_s": "queue p50",
}


#: The metrics a narrow terminal leaves out of the stats table, first to last, until a row fits
#: on a line (the groups, jobs and the main outcomes stay).
STATS_LEAVE_OUT = (
    "queue_p50_s",
    "duration_p99_s",
    "duration_p90_s",
    "queue_mean_s",
    "other",
    "pending",
    "stopped",
    "failure_rate",
    "gpu_hours",
    "duration_p50_s",
    "success_rate",
)


def render_stats_table(
    groups: pl.DataFrame, total: pl.DataFrame, labels: Sequence[str], order_by: str
) -> None:
    """The stats as a table; a narrow terminal leaves metrics out, never ``order_by`` (the
    groups' order would look random without it)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from jobquery.stats import CATEGORIES

    # category columns that are zero everywhere only take room in a table
    metrics = [
        name
        for name in METRICS
        if name not in CATEGORIES or (total.height and (total[name][0] or 0) > 0)
    ]
    if total["jobs"][0] == 0:
        print_out(Text("no matching jobs"))
        return
    names = [*labels, *metrics]
    rows = [
        [_stats_cell(name, row[name]) for name in names] for row in groups.iter_rows(named=True)
    ]
    if labels:  # the total
        rows.append(
            [
                "total",
                *([""] * (len(labels) - 1)),
                *(_stats_cell(name, total[name][0]) for name in metrics),
            ]
        )
    headers = [STATS_HEADERS.get(name, name) for name in names]
    leave_out = [STATS_HEADERS.get(name, name) for name in STATS_LEAVE_OUT if name != order_by]
    shown = fitting_columns(headers, rows, leave_out)
    table = Table(box=box.HORIZONTALS, show_edge=False, pad_edge=False)
    for at in shown:
        table.add_column(headers[at], justify="left" if names[at] in labels else "right")
    for row in rows:
        table.add_row(*(Text(row[at]) for at in shown))
    if labels:  # the total, under a line
        table.rows[-2].end_section = True
    note = hidden_note(headers, shown, "see --format csv")
    print_out(table, *([Text(note)] if note else []))


def _json_value(value: Any) -> Any:
    return format_timestamp(value) if isinstance(value, datetime) else value


STATS_EXAMPLES = (
    "jobquery stats jobs.ndjson --by user --order-by gpu_hours",
    "jobquery stats dumps/ --by quota,status --start-time 2026-11-01T00:00:00Z",
    "jobquery stats jobs.ndjson --tag team=rec --by type --format json",
)


@click.command(
    "stats",
    cls=SectionedCommand,
    short_help="Counts, rates, durations, GPU-hours and queueing per group.",
    examples=STATS_EXAMPLES,
)
@click.argument("dumps", nargs=-1, metavar="[DUMP]...", help=DUMPS_HELP)
@_request_options(paging=False)
@_common_options(page_section=False)
@_option(
    "--by",
    metavar="FIELD[,FIELD]",
    section=OUTPUT,
    help="Group by status, type, user, workspace, quota or any top-level column "
    "(default: one group of every match).",
)
@_option(
    "--order-by",
    type=click.Choice(METRICS),
    default="jobs",
    show_default=True,
    section=OUTPUT,
    help="Sort groups by this metric, largest first.",
)
@_option("--top", type=click.IntRange(min=1), metavar="N", section=OUTPUT, help="Show N groups.")
@_format_option(STATS_FORMATS)
@_request_id_option()
@_dataset_options()
def stats_command(
    *,
    dumps: tuple[str, ...],
    by: str | None,
    order_by: str,
    top: int | None,
    output_format: str | None,
    request_id: str | None,
    **options: Any,
) -> None:
    """Statistics over every job the filters match, per group.

    Per group: job count; counts per status category (pending, running, succeeded, failed,
    stopped, other); success and failure rate (of terminal jobs: succeeded, failed, stopped);
    Duration percentiles p50/p90/p99 in seconds; GPU-hours (RequestGPU x Duration / 3600);
    queueing time (GmtRunningTime - GmtSubmittedTime), mean and p50 in seconds.
    """
    from jobquery import stats
    from jobquery.snapshot.columns import TYPED_COLUMNS

    fmt = _chosen_format(output_format)
    with reported_errors(fmt, request_id):
        try:  # a typo is told before a long read
            keys, labels = stats.group_fields(by, TYPED_COLUMNS)
        except ValueError as exc:
            raise CliError("--by", str(exc)) from exc
        with _answering(dumps, options) as (source, session):
            frame = source.query(session.query, now=session.clock.now, caller=session.caller)
        window = session.plan.window
        groups, total = stats.compute_stats(frame, keys, labels, order_by)
        if top is not None:
            groups = groups.head(top)
        groups, total = _rounded(groups), _rounded(total)
        if fmt == "json":
            document = {
                "by": labels,
                "window": {
                    "field": window.column,
                    "start": format_timestamp(window.start),
                    "end": format_timestamp(window.end),
                },
                "groups": [
                    {name: _json_value(value) for name, value in row.items()}
                    for row in groups.select([*labels, *METRICS]).iter_rows(named=True)
                ],
                "total": total.row(0, named=True),
            }
            click.echo(_pretty_json(document), nl=False)
        elif fmt == "csv":
            click.echo(as_text(groups, [*labels, *METRICS]).write_csv(), nl=False)
        else:
            render_stats_table(groups, total, labels, order_by)


EXPLAIN_EXAMPLES = (
    "jobquery explain jobs.ndjson --display-name bert --status Failed,Stopped",
    "jobquery explain jobs.ndjson --as-user 1001 --sort-by DisplayName --order asc",
)


@click.command(
    "explain",
    cls=SectionedCommand,
    short_help="Show how a request is understood and answered.",
    examples=EXPLAIN_EXAMPLES,
)
@click.argument("dumps", nargs=-1, metavar="[DUMP]...", help=DUMPS_HELP)
@_request_options(paging=True)
@_common_options(page_section=False)
@_dataset_options()
def explain_command(
    *,
    dumps: tuple[str, ...],
    **options: Any,
) -> None:
    """How a request is understood and answered: the window, each filter in words, order, page;
    the steps list takes (paths and row counts for an administrator); the Polars plan of
    query(), which list does not run (with --dataset: the SQL the engine runs)."""
    with reported_errors(), _answering(dumps, options) as (source, session):
        click.echo(source.explain(session.query, now=session.clock.now, caller=session.caller))
