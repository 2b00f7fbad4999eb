"""The ``jobquery`` command line: offline analysis of PAI-DLC job dumps.

Commands (``jobquery COMMAND --help`` for each)::

    list      ListJobs over dump files: one option per API parameter, as a table or JSON
    get       one job by its exact JobId, as pretty JSON
    stats     counts, success and failure rates, durations, GPU-hours and queueing per group
    explain   how a request is understood: window, filters in words, order, page, Polars plan
    convert   between JSON pages, NDJSON, Parquet and Arrow (lossless)
    generate  synthetic job dumps

The command line adds no query logic of its own: options become a ListJobs *wire mapping*
that :class:`~jobquery.store.JobStore` validates and answers, so every value is checked (and
every error worded) by the request model. What the CLI adds is the clock: without ``--now``
the default 7-day window ends at the newest job time in the dump, not at the wall clock, so an
old dump still lists its jobs (and stderr says which window applies).

Output that is not a terminal is plain and stable: no colour, no progress bar, fixed width.
Errors are one line on stderr with exit status 2, never a traceback; with ``--format json``
the API error body is printed on stdout as well.
"""

from __future__ import annotations

import math
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar, get_args, get_origin

import click
import orjson
import polars as pl
from rich import box
from rich.console import Console, RenderableType
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from jobquery import __version__, server, synth
from jobquery.errors import InternalError, InvalidParameterError, JobQueryError
from jobquery.ingest import NDJSON_EXTENSIONS, SUPPORTED_EXTENSIONS, resolve_paths
from jobquery.plan import DEFAULT_PAGE_SIZE, Plan
from jobquery.request import (
    DISPLAY_NAME_SEARCH_MODES,
    NUMERIC_FIELDS,
    ORDERS,
    PARAMETERS,
    SORT_KEYS,
    TIME_FIELDS,
    Caller,
    ListJobsRequest,
    format_timestamp,
    parse_timestamp,
)
from jobquery.snapshot import JOB_JSON, newest_time
from jobquery.store import JobStore

F = TypeVar("F", bound=Callable[..., Any])

#: Exit status of every refused input (bad option value, missing or malformed dump).
EXIT_USAGE = 2
#: Exit status of an unexpected failure inside the engine.
EXIT_INTERNAL = 1

FORMATS = ("table", "json", "ndjson", "csv")
STATS_FORMATS = ("table", "json", "csv")
SAMPLE = ("sample", "sample_jobs.ndjson")
#: Width of tables written to a file or a pipe: wide enough that rows never wrap.
PLAIN_WIDTH = 240
#: Inputs smaller than this (bytes, or jobs for ``generate``) finish too fast to need a bar.
BAR_MIN_BYTES = 1 << 20
BAR_MIN_JOBS = 10_000
#: How many skipped records ``--lenient`` lists one by one.
SKIPPED_SHOWN = 10

# ---------------------------------------------------------------------------------------------
# Help sections: options are listed grouped, in this order.

FILTERS = "Filter"
TIME = "Time window"
SORT_AND_PAGE = "Sort and page"
CALLER = "Caller"
INPUT = "Input"
OUTPUT = "Output"
SECTIONS = (FILTERS, TIME, SORT_AND_PAGE, CALLER, INPUT, OUTPUT)


class SectionedOption(click.Option):
    """A click option that knows which help section it belongs to."""

    def __init__(self, *args: Any, section: str = OUTPUT, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.section = section


class SectionedCommand(click.Command):
    """A command whose ``--help`` lists options by section and ends with examples."""

    def __init__(self, *args: Any, examples: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.examples = tuple(examples)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows: dict[str, list[tuple[str, str]]] = {}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            section = param.section if isinstance(param, SectionedOption) else "Other"
            rows.setdefault(section, []).append(record)
        for section in (*SECTIONS, "Other"):
            if section in rows:
                with formatter.section(f"{section} options"):
                    formatter.write_dl(rows[section])

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        if self.examples:
            with formatter.section("Examples"):
                for example in self.examples:
                    formatter.write(f"{'':>{formatter.current_indent}}{example}\n")


def _option(*decls: str, section: str, **attrs: Any) -> Callable[[F], F]:
    return click.option(*decls, cls=SectionedOption, section=section, **attrs)


def _apply(decorators: Sequence[Callable[[F], F]]) -> Callable[[F], F]:
    """Apply option decorators so that they list in the order given."""

    def decorate(function: F) -> F:
        for decorator in reversed(decorators):
            function = decorator(function)
        return function

    return decorate


# ---------------------------------------------------------------------------------------------
# ListJobs parameters as options: generated from request.PARAMETERS, so none can be forgotten.

#: Enumerated control parameters and their accepted values (shown in the help).
ENUM_VALUES: dict[str, tuple[str, ...]] = {
    "DisplayNameSearchMode": DISPLAY_NAME_SEARCH_MODES,
    "NumericRangeField": NUMERIC_FIELDS,
    "Order": ORDERS,
    "SortBy": SORT_KEYS,
    "TimeRangeField": TIME_FIELDS,
}
TIME_PARAMETERS = ("StartTime", "EndTime", "TimeRangeField")
PAGE_PARAMETERS = ("SortBy", "Order", "PageNumber", "PageSize", "NextToken")
#: Parameters that are jobquery extensions, not PAI-DLC ones: accepted but not advertised
#: (a page token is signed with a per-process key, so one CLI run cannot continue another's).
HIDDEN_PARAMETERS = ("NextToken",)
#: The option of ``Tags`` takes one ``KEY=VALUE`` pair at a time, hence a name of its own.
OPTION_NAMES = {"Tags": "tag"}

PARAMETER_HELP: dict[str, str] = {
    "Accessibility": "PUBLIC or PRIVATE (a job without one counts as PUBLIC).",
    "BusinessUserId": "Settings.BusinessUserId equals this (ignoring case).",
    "Caller": "Settings.Caller equals this, e.g. SilkFlow (ignoring case).",
    "Description": "Description contains this (ignoring case).",
    "DisplayName": "DisplayName contains this (ignoring case; see --display-name-search-mode).",
    "DisplayNameSearchMode": "How --display-name matches: wildcard (substring, the default), "
    "exact or prefix.",
    "EnableAssignNode": "Some role has AssignNodeSpec.EnableAssignNode (--no-...: none has).",
    "EndTime": "Window end, RFC 3339 such as 2026-11-28T00:00:00Z (default: now).",
    "FromAllWorkspaces": "Ignore --workspace-id (needs --show-own).",
    "ImageSearch": "Words that some role's image contains, e.g. 'pytorch 2.1'.",
    "JobId": "JobId contains this (ignoring case).",
    "JobIds": "JobId is one of these (comma list, or repeat the option).",
    "JobType": "JobType is one of these, e.g. PyTorchJob,TFJob.",
    "NumericRangeField": "The number --numeric-range-min/--numeric-range-max bound.",
    "NumericRangeMax": "Inclusive upper bound of --numeric-range-field.",
    "NumericRangeMin": "Inclusive lower bound of --numeric-range-field.",
    "Order": "Sort direction (default desc).",
    "OversoldInfo": "ForbiddenQuotaOverSold, ForceQuotaOverSold, AcceptQuotaOverSold-true or "
    "AcceptQuotaOverSold-false.",
    "PageNumber": "Page to show, from 1 (default 1).",
    "PageSize": f"Jobs per page, 1-100 (default {DEFAULT_PAGE_SIZE}).",
    "PaymentType": "PrePaid, PostPaid or Spot.",
    "PipelineId": "Settings.PipelineId equals this (ignoring case).",
    "ReasonSearch": "Words in the failure reasons (ReasonCode, ReasonMessage, StatusHistory).",
    "ResourceId": "ResourceId (the resource quota) equals this (ignoring case).",
    "ResourceIds": "ResourceId is one of these (comma list, or repeat the option).",
    "ResourceQuotaName": "ResourceQuotaName contains this (ignoring case).",
    "ShowOwn": "Only the caller's own jobs (needs --as-user).",
    "SortBy": "Sort key (default GmtCreateTime); ties by GmtCreateTime, then JobId.",
    "StartTime": "Window start, RFC 3339 (default: 7 days before now).",
    "Status": "Status is one of these, e.g. Failed or Running,Queuing.",
    "Tags": "Settings.Tags has KEY=VALUE, exactly (repeat for several; all must match).",
    "TemplateId": "TemplateId equals this (ignoring case).",
    "TimeRangeField": "The job time the window applies to (default GmtCreateTime).",
    "UserCommandSearch": "Words in UserCommand, e.g. 'python train.py'.",
    "UserIdForFilter": "UserId equals this (ignoring case).",
    "Username": "Username contains this (ignoring case).",
    "WorkspaceId": "WorkspaceId equals this (ignoring case).",
    "NextToken": "Keyset page token (a jobquery extension).",
}


@dataclass(frozen=True)
class ParameterOption:
    """One ListJobs parameter as a command-line option."""

    wire: str
    flag: str
    dest: str
    kind: str  # "text", "enum", "integer", "time", "list", "bool" or "tags"
    section: str

    def to_click(self) -> Callable[[F], F]:
        help_text = PARAMETER_HELP.get(self.wire, f"The ListJobs parameter {self.wire}.")
        if self.wire in ENUM_VALUES:
            help_text += f" One of: {', '.join(ENUM_VALUES[self.wire])}."
        attrs: dict[str, Any] = {
            "help": help_text,
            "hidden": self.wire in HIDDEN_PARAMETERS,
            "section": self.section,
        }
        if self.kind == "bool":
            negative = "--no-" + self.flag.removeprefix("--")
            return _option(f"{self.flag}/{negative}", self.dest, default=None, **attrs)
        metavar = {
            "enum": "VALUE",
            "integer": "N",
            "time": "TIME",
            "list": "A,B",
            "tags": "KEY=VALUE",
        }.get(self.kind, "TEXT")
        multiple = self.kind in ("list", "tags")
        return _option(self.flag, self.dest, metavar=metavar, multiple=multiple, **attrs)

    def wire_value(self, value: Any) -> str | None:
        """The option's value as the wire string, or None when the option was not given."""
        if value is None or value == ():
            return None
        if self.kind == "bool":
            return "true" if value else "false"
        if self.kind == "list":
            return ",".join(value)
        if self.kind == "tags":
            return _tags_json(value)
        return str(value)


def _kind(wire: str, field: str) -> str:
    annotation = ListJobsRequest.model_fields[field].annotation
    value_type = next(arg for arg in get_args(annotation) if arg is not type(None))
    if value_type is bool:
        return "bool"
    if value_type is int:
        return "integer"
    if value_type is datetime:
        return "time"
    if get_origin(value_type) is tuple:
        return "list"
    if get_origin(value_type) is dict:
        return "tags"
    return "enum" if wire in ENUM_VALUES else "text"


def _section(wire: str) -> str:
    if wire in TIME_PARAMETERS:
        return TIME
    if wire in PAGE_PARAMETERS:
        return SORT_AND_PAGE
    return FILTERS


def _parameter_options() -> tuple[ParameterOption, ...]:
    options = []
    for wire, (field, _parser) in PARAMETERS.items():
        name = OPTION_NAMES.get(wire, field.replace("_", "-"))
        options.append(
            ParameterOption(wire, f"--{name}", f"p_{field}", _kind(wire, field), _section(wire))
        )
    return tuple(options)


#: Every ListJobs parameter, as the option that sets it.
PARAMETER_OPTIONS = _parameter_options()
OPTION_BY_WIRE = {option.wire: option for option in PARAMETER_OPTIONS}


def _tags_json(pairs: Sequence[str]) -> str:
    tags: dict[str, str] = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator or not key:
            raise InvalidParameterError("Tags", pair, "expected KEY=VALUE")
        tags[key] = value
    return orjson.dumps(tags).decode()


def wire_query(values: Mapping[str, Any]) -> dict[str, str]:
    """The ListJobs wire mapping of the parameter options given on the command line."""
    query: dict[str, str] = {}
    for option in PARAMETER_OPTIONS:
        if option.dest in values:
            text = option.wire_value(values[option.dest])
            if text is not None:
                query[option.wire] = text
    return query


def _request_options(*, paging: bool) -> Callable[[F], F]:
    chosen = [
        option.to_click()
        for option in PARAMETER_OPTIONS
        if paging or option.section != SORT_AND_PAGE
    ]
    return _apply(chosen)


def _common_options(*, page_section: bool) -> Callable[[F], F]:
    """The dump clock, the caller and the input options shared by list, stats and explain."""
    decorators: list[Callable[[F], F]] = [
        _option(
            "--now",
            metavar="TIME",
            section=TIME,
            help="The clock of the default window (default: the newest job time in the dump).",
        ),
        _option(
            "--as-user",
            metavar="ID",
            section=CALLER,
            help="Ask as this user: PRIVATE jobs of others are hidden; --show-own means them.",
        ),
        _option(
            "--admin",
            is_flag=True,
            section=CALLER,
            help="Ask as an administrator (sees PRIVATE jobs). Without --as-user/--admin "
            "the view is the administrator's.",
        ),
        _lenient_option(),
    ]
    if page_section:
        decorators.append(
            _option(
                "--all",
                "all_matches",
                is_flag=True,
                section=SORT_AND_PAGE,
                help="Every match, in order, without paging (ignores --page-number/--page-size).",
            )
        )
    return _apply(decorators)


def _lenient_option() -> Callable[[F], F]:
    return _option(
        "--lenient",
        is_flag=True,
        section=INPUT,
        help="Skip malformed records (reported on stderr) instead of stopping.",
    )


def _request_id_option() -> Callable[[F], F]:
    # for golden files and tests: the RequestId of the JSON answer (or error body)
    return _option("--request-id", hidden=True, section=OUTPUT)


def _format_option(formats: Sequence[str]) -> Callable[[F], F]:
    return _option(
        "--format",
        "output_format",
        type=click.Choice(formats, case_sensitive=False),
        section=OUTPUT,
        help="Output format (default: table on a terminal, json otherwise).",
    )


# ---------------------------------------------------------------------------------------------
# Terminals, notices and errors.


def _is_terminal(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def print_out(*renderables: RenderableType) -> None:
    """Print to stdout with rich: styled on a terminal, else plain text without trailing blanks."""
    if _is_terminal(sys.stdout):
        Console(file=sys.stdout, highlight=False).print(*renderables)
        return
    console = Console(
        file=sys.stdout,
        width=PLAIN_WIDTH,
        no_color=True,
        highlight=False,
        force_terminal=False,
        emoji=False,
    )
    with console.capture() as captured:
        console.print(*renderables)
    # rich pads every cell to its column's width; a file or pipe gets no trailing spaces
    sys.stdout.write("".join(line.rstrip() + "\n" for line in captured.get().splitlines()))


def _notice(message: str) -> None:
    click.echo(message, err=True)


class CliError(Exception):
    """A problem with the command line itself (not a ListJobs parameter): one line, exit 2."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(f"{option}: {message}")


#: What to do about an error that only the command line can fix.
PARAMETER_HINTS = {"ShowOwn": "give --as-user ID"}
_WIRE_NAMES = re.compile(r"\b(" + "|".join(sorted(PARAMETERS, key=len, reverse=True)) + r")\b")


def option_message(error: InvalidParameterError) -> str:
    """An InvalidParameterError worded for the command line: the option, not the wire name."""
    option = OPTION_BY_WIRE.get(error.parameter)
    name = option.flag if option else error.parameter
    reason = _WIRE_NAMES.sub(
        lambda match: OPTION_BY_WIRE[match.group(1)].flag,
        re.sub(r"\b(ShowOwn|FromAllWorkspaces|EnableAssignNode)=true\b", r"\1", error.reason),
    )
    details = []
    if option is None or option.kind != "bool":
        value = error.value if isinstance(error.value, str) else str(error.value)
        shown = value if len(value) <= 60 else value[:57] + "..."
        details.append(f"got {shown!r}")
    if error.valid_values:
        details.append(f"valid values: {', '.join(error.valid_values)}")
    if error.parameter in PARAMETER_HINTS:
        details.append(PARAMETER_HINTS[error.parameter])
    suffix = f" ({'; '.join(details)})" if details else ""
    return f"{name}: {reason}{suffix}"


def _fail(message: str, status: int = EXIT_USAGE) -> click.exceptions.Exit:
    _notice(f"error: {' '.join(message.splitlines())}")
    return click.exceptions.Exit(status)


@contextmanager
def reported_errors(
    output_format: str | None = None, request_id: str | None = None
) -> Iterator[None]:
    """Turn every expected failure into one line on stderr and exit status 2."""
    try:
        yield
    except InvalidParameterError as exc:
        if output_format == "json":
            click.echo(_pretty_json(exc.to_wire(request_id)), nl=False)
        raise _fail(option_message(exc)) from None
    except InternalError as exc:
        if output_format == "json":
            click.echo(_pretty_json(exc.to_wire(request_id)), nl=False)
        cause = exc.__cause__
        detail = f" ({type(cause).__name__}: {cause})" if cause is not None else ""
        raise _fail(f"internal error{detail}", EXIT_INTERNAL) from None
    except (JobQueryError, CliError) as exc:
        raise _fail(str(exc)) from None
    except BrokenPipeError:
        raise  # the reader went away (`| head`): click ends quietly
    except FileNotFoundError as exc:
        raise _fail(str(exc) if exc.filename is None else f"{exc.filename}: no such file") from None
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        raise _fail(f"{where}{exc.strerror or exc}") from None


class JobQueryGroup(click.Group):
    """The top-level group: usage errors are one line too, and nothing ends in a traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)  # in the order they are defined: the order of the docs

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            with reported_errors():
                status = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.Exit as exc:
            status = exc.exit_code
        except click.UsageError as exc:
            hint = ""
            if exc.ctx is not None:
                hint = f" (see '{exc.ctx.command_path} --help')"
            _notice(f"error: {exc.format_message()}{hint}")
            status = exc.exit_code
        except click.ClickException as exc:
            _notice(f"error: {exc.format_message()}")
            status = exc.exit_code
        except click.Abort:
            _notice("aborted")
            status = 1
        except Exception as exc:
            if os.environ.get("JOBQUERY_DEBUG"):
                raise
            _notice(
                f"error: internal error ({type(exc).__name__}: {exc}); "
                "set JOBQUERY_DEBUG=1 to see the traceback"
            )
            status = EXIT_INTERNAL
        sys.exit(status if isinstance(status, int) else 0)


# ---------------------------------------------------------------------------------------------
# Loading dumps and resolving the clock.


def _report_skipped(store: JobStore) -> None:
    if store.skipped:
        _notice(f"skipped {len(store.skipped)} malformed record(s) (--lenient):")
        for skipped in store.skipped[:SKIPPED_SHOWN]:
            _notice(f"  {skipped}")
        if len(store.skipped) > SKIPPED_SHOWN:
            _notice(f"  ... and {len(store.skipped) - SKIPPED_SHOWN} more")
    if store.duplicates:
        _notice(
            f"note: {store.duplicates} record(s) repeated a JobId; kept the one with the latest "
            "GmtModifiedTime"
        )


def load_store(dumps: Sequence[str], *, lenient: bool) -> JobStore:
    """Read the dumps as one job set; with none, the bundled sample (with a notice).

    A command answers once: the structures its query needs are built on first use, nothing
    else is (no background warm-up taking cores from the answer).
    """
    if dumps:
        store = JobStore.from_path(*dumps, lenient=lenient, background_warm_up=False)
    else:
        sample = resources.files("jobquery").joinpath(*SAMPLE)
        if not sample.is_file():
            raise CliError("DUMP", "no dump given and the bundled sample is missing")
        with resources.as_file(sample) as path:
            store = JobStore.from_path(path, lenient=lenient, background_warm_up=False)
        _notice(f"no dump given: reading the bundled sample ({SAMPLE[-1]}, {len(store)} jobs)")
    _report_skipped(store)
    return store


def parse_now(text: str | None) -> datetime | None:
    """The ``--now`` value, or None when not given."""
    if text is None:
        return None
    moment = parse_timestamp(text)
    if moment is None:
        raise CliError(
            "--now", f"expected an RFC 3339 timestamp such as 2026-11-28T10:02:11Z (got {text!r})"
        )
    return moment


@dataclass(frozen=True)
class Clock:
    """The ``now`` of the default window and where it came from."""

    now: datetime
    from_dump: bool


def dump_clock(store: JobStore, now: datetime | None) -> Clock:
    """``--now`` if given, else the newest job time in the dump (the wall clock if it has none)."""
    if now is not None:
        return Clock(now, from_dump=False)
    newest = newest_time(store.snapshot)
    if newest is None:
        return Clock(datetime.now(UTC), from_dump=False)
    return Clock(newest, from_dump=True)


def window_notice(plan: Plan, clock: Clock) -> str | None:
    """What window applies, when a default bound of it was taken from the dump's clock."""
    request, window = plan.request, plan.window
    if not clock.from_dump or (request.start_time and request.end_time):
        return None
    field = "" if window.column == "GmtCreateTime" else f" (on {window.column})"
    start, end = format_timestamp(window.start), format_timestamp(window.end)
    if request.start_time is None and request.end_time is None:
        return (
            f"window: 7 days up to {end}, the newest job in the dump{field}; "
            "use --start-time/--now to change it"
        )
    if request.start_time is None:
        return (
            f"window: from {start} (7 days before {format_timestamp(clock.now)}, the newest job "
            f"in the dump) to {end}{field}; use --start-time to change it"
        )
    return (
        f"window: from {start} up to {end}, the newest job in the dump{field}; "
        "use --end-time/--now to change it"
    )


def make_caller(as_user: str | None, admin: bool) -> Caller | None:
    """``--as-user``/``--admin`` as a Caller; neither means the administrator view (None)."""
    if as_user is None and not admin:
        return None
    return Caller(user_id=as_user, is_admin=admin)


@dataclass(frozen=True)
class Session:
    """Everything a query command needs: the store, the request, the clock and the caller."""

    store: JobStore
    query: dict[str, str]
    clock: Clock
    caller: Caller | None
    plan: Plan


def open_session(
    dumps: Sequence[str],
    parameters: Mapping[str, Any],
    *,
    now: str | None,
    as_user: str | None,
    admin: bool,
    lenient: bool,
) -> Session:
    """Validate the options, read the dumps, resolve the clock and say which window applies."""
    query = wire_query(parameters)
    ListJobsRequest.from_wire(query)  # refuse a bad value before reading any dump
    parsed_now = parse_now(now)
    caller = make_caller(as_user, admin)
    store = load_store(dumps, lenient=lenient)
    clock = dump_clock(store, parsed_now)
    plan = store.plan(query, now=clock.now, caller=caller)
    notice = window_notice(plan, clock)
    if notice:
        _notice(notice)
    return Session(store, query, clock, caller, plan)


# ---------------------------------------------------------------------------------------------
# Rendering jobs: JSON, NDJSON, CSV and tables.


def _pretty_json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE).decode()


def public_columns(frame: pl.DataFrame) -> list[str]:
    """The typed top-level columns of a store frame (no index columns, no ``job_json``)."""
    return [name for name in frame.columns if not name.startswith("ix_") and name != JOB_JSON]


def page_frame(store: JobStore, jobs: Sequence[Mapping[str, Any]]) -> pl.DataFrame:
    """The typed rows (and ``job_json``) of a page of jobs, in page order."""
    frame = store.snapshot.live
    columns = [*public_columns(frame), JOB_JSON]
    order = pl.DataFrame({"JobId": [job["JobId"] for job in jobs]}, schema={"JobId": pl.String})
    found = order.join(frame.select(columns), on="JobId", how="left", maintain_order="left")
    return store.snapshot.with_json_texts(found)


def _text_expression(name: str, dtype: pl.DataType) -> pl.Expr:
    """One column as stable text: RFC 3339 times, integral numbers without ``.0``."""
    column = pl.col(name)
    if isinstance(dtype, pl.Datetime):
        whole = column.dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        fraction = column.dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
        return pl.when(column.dt.microsecond() == 0).then(whole).otherwise(fraction).alias(name)
    if dtype.is_float():
        integral = (column == column.round(0)) & (column.abs() < 2.0**53)
        as_int = column.cast(pl.Int64, strict=False).cast(pl.String)
        return pl.when(integral).then(as_int).otherwise(column.cast(pl.String)).alias(name)
    return column.cast(pl.String).alias(name)


def as_text(frame: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """The chosen columns of a frame as strings (nulls stay null)."""
    return frame.select([_text_expression(name, frame.schema[name]) for name in columns])


def resolve_columns(frame: pl.DataFrame, requested: str | None) -> list[str] | None:
    """``--columns a,b`` as column names of the frame (case-insensitive), or None."""
    if requested is None:
        return None
    known = {name.casefold(): name for name in public_columns(frame)}
    chosen = []
    for item in requested.split(","):
        name = item.strip()
        if not name:
            continue
        if name.casefold() not in known:
            raise CliError(
                "--columns",
                f"unknown column {name!r} (valid: {', '.join(public_columns(frame))})",
            )
        chosen.append(known[name.casefold()])
    if not chosen:
        raise CliError("--columns", "name at least one column")
    return chosen


def humanise_seconds(seconds: float | None) -> str:
    """A duration for people: ``45s``, ``12m 05s``, ``3h 07m``, ``2d 04h``."""
    if seconds is None or math.isnan(seconds):
        return ""
    total = round(seconds)
    sign = "-" if total < 0 else ""
    total = abs(total)
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{sign}{days}d {hours:02d}h"
    if hours:
        return f"{sign}{hours}h {minutes:02d}m"
    if minutes:
        return f"{sign}{minutes}m {secs:02d}s"
    return f"{sign}{secs}s"


def _number_text(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


STATUS_STYLES = {
    "succeeded": "green",
    "failed": "red",
    "stopped": "yellow",
    "running": "cyan",
}

#: The default table of ``list``: header → how to show it from the typed row.
TABLE_COLUMNS: tuple[tuple[str, Callable[[Mapping[str, Any]], str]], ...] = (
    ("JobId", lambda row: row["JobId"] or ""),
    ("DisplayName", lambda row: row["DisplayName"] or ""),
    ("JobType", lambda row: row["JobType"] or ""),
    ("Status", lambda row: row["Status"] or ""),
    ("User", lambda row: row["Username"] or row["UserId"] or ""),
    (
        "Created (UTC)",
        lambda row: row["GmtCreateTime"].strftime("%Y-%m-%d %H:%M") if row["GmtCreateTime"] else "",
    ),
    ("Duration", lambda row: humanise_seconds(row["Duration"])),
    ("GPUs", lambda row: _number_text(row["RequestGPU"])),
)


def render_table(frame: pl.DataFrame, columns: Sequence[str] | None, footer: str) -> None:
    """Jobs as a table (rich), then the footer line."""
    table = Table(box=box.HORIZONTALS, show_edge=False, pad_edge=False)
    if columns is None:
        for header, _ in TABLE_COLUMNS:
            table.add_column(header, justify="right" if header in ("Duration", "GPUs") else "left")
        for row in frame.iter_rows(named=True):
            cells = [Text(show(row)) for _, show in TABLE_COLUMNS]
            cells[3].stylize(STATUS_STYLES.get((row["Status"] or "").casefold(), ""))
            table.add_row(*cells)
    else:
        for name in columns:
            table.add_column(name)
        for cells_text in as_text(frame, columns).iter_rows():
            table.add_row(*(Text(cell or "") for cell in cells_text))
    print_out(*([table] if frame.height else []), Text(footer))


def render_csv(frame: pl.DataFrame, columns: Sequence[str] | None) -> None:
    chosen = list(columns) if columns is not None else public_columns(frame)
    click.echo(as_text(frame, chosen).write_csv(), nl=False)


def render_ndjson(texts: Sequence[str]) -> None:
    out = sys.stdout
    for text in texts:
        out.write(text)
        out.write("\n")
    out.flush()


def render_json_array(texts: Sequence[str]) -> None:
    """Every job as one JSON array, one job per line (streamable, valid JSON)."""
    out = sys.stdout
    out.write("[")
    for index, text in enumerate(texts):
        out.write("\n" if index == 0 else ",\n")
        out.write(text)
    out.write("\n]\n" if texts else "]\n")
    out.flush()


def page_footer(total: int, page_number: int, page_size: int) -> str:
    """``page 1 of 8 · 72 matching jobs``."""
    if total == 0:
        return "no matching jobs"
    pages = math.ceil(total / page_size)
    noun = "job" if total == 1 else "jobs"
    past = " (past the last page)" if page_number > pages else ""
    return f"page {page_number} of {pages} · {total} matching {noun}{past}"


def _chosen_format(output_format: str | None) -> str:
    if output_format is not None:
        return output_format.lower()
    return "table" if _is_terminal(sys.stdout) else "json"


# ---------------------------------------------------------------------------------------------
# Commands.


@click.group(cls=JobQueryGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    __version__, "--version", prog_name="jobquery", message="%(prog)s %(version)s"
)
def cli() -> None:
    """Answer PAI-DLC ListJobs over job dumps, offline.

    DUMP arguments are files (.json ListJobs pages or arrays, .ndjson/.jsonl, .parquet,
    .arrow), folders or glob patterns, read as one job set. Without DUMP the bundled
    sample is used.

    The default time window is the 7 days up to the newest job in the dump (not today):
    use --start-time/--end-time or --now to choose another.
    """


LIST_EXAMPLES = (
    "jobquery list jobs.ndjson",
    "jobquery list dumps/ --status Failed --tag team=rec --start-time 2026-11-01T00:00:00Z",
    "jobquery list jobs.ndjson --as-user 1001 --show-own --format csv --all > mine.csv",
)


@cli.command(
    "list",
    cls=SectionedCommand,
    short_help="List jobs as ListJobs does: a page, or every match.",
    examples=LIST_EXAMPLES,
)
@click.argument("dumps", nargs=-1, metavar="[DUMP]...")
@_request_options(paging=True)
@_common_options(page_section=True)
@_format_option(FORMATS)
@_option(
    "--columns",
    metavar="A,B",
    section=OUTPUT,
    help="Columns of the table or CSV (top-level job fields, e.g. JobId,Status,Duration).",
)
@_request_id_option()
def list_command(
    *,
    dumps: tuple[str, ...],
    now: str | None,
    as_user: str | None,
    admin: bool,
    lenient: bool,
    all_matches: bool,
    output_format: str | None,
    columns: str | None,
    request_id: str | None,
    **parameters: Any,
) -> None:
    """List jobs as ListJobs does: one page (default) or every match (--all).

    --format json prints exactly the ListJobs response body.
    """
    fmt = _chosen_format(output_format)
    with reported_errors(fmt, request_id):
        session = open_session(
            dumps, parameters, now=now, as_user=as_user, admin=admin, lenient=lenient
        )
        store, clock, caller = session.store, session.clock, session.caller
        chosen = resolve_columns(store.snapshot.live, columns)
        if all_matches:
            frame = store.query(session.query, now=clock.now, caller=caller)
            if fmt == "json":
                render_json_array(frame[JOB_JSON].to_list())
            elif fmt == "ndjson":
                render_ndjson(frame[JOB_JSON].to_list())
            elif fmt == "csv":
                render_csv(frame, chosen)
            else:
                noun = "job" if frame.height == 1 else "jobs"
                footer = f"{frame.height} matching {noun}" if frame.height else "no matching jobs"
                render_table(frame, chosen, footer)
            return
        response = store.list_jobs(
            session.query, now=clock.now, caller=caller, request_id=request_id
        )
        if fmt == "json":
            click.echo(_pretty_json(response.to_wire()), nl=False)
            return
        frame = page_frame(store, response.jobs)
        if fmt == "ndjson":
            render_ndjson(frame[JOB_JSON].to_list())
        elif fmt == "csv":
            render_csv(frame, chosen)
        else:
            page = session.plan.page
            footer = page_footer(response.total_count, page.number, page.size)
            render_table(frame, chosen, footer)


GET_EXAMPLES = (
    "jobquery get jobs.ndjson dlc-20261128100211-abc123",
    "jobquery get dumps/ dlc-20261128100211-abc123 --as-user 1001",
)


@cli.command(
    "get",
    cls=SectionedCommand,
    short_help="Show one job by its exact JobId.",
    examples=GET_EXAMPLES,
)
@click.argument("dump")
@click.argument("job_id")
@_option(
    "--as-user", metavar="ID", section=CALLER, help="Ask as this user (hides others' PRIVATE jobs)."
)
@_option("--admin", is_flag=True, section=CALLER, help="Ask as an administrator.")
@_lenient_option()
def get_command(*, dump: str, job_id: str, as_user: str | None, admin: bool, lenient: bool) -> None:
    """One job by its exact JobId, as pretty JSON (deleted jobs included, with a note)."""
    with reported_errors():
        store = load_store([dump], lenient=lenient)
        caller = make_caller(as_user, admin)
        job = store.get_job(job_id, caller=caller)
        if job is None:
            who = f" visible to user {as_user}" if caller is not None and not admin else ""
            raise CliError("JOB_ID", f"no job {job_id!r}{who} in {dump}")
        if job.get("IsDeleted") is True:
            _notice("note: this job is deleted (IsDeleted=true); list never shows it")
        click.echo(_pretty_json(job), nl=False)


# -- stats ------------------------------------------------------------------------------------

#: Status categories (casefolded status → category). Terminal: succeeded, failed, stopped.
STATUS_CATEGORIES: dict[str, tuple[str, ...]] = {
    "pending": ("Creating", "Queuing", "Bidding", "EnvPreparing", "SanityChecking"),
    "running": ("Running", "Restarting", "Stopping"),
    "succeeded": ("Succeeded", "SucceededReserving"),
    "failed": ("Failed", "FailedReserving"),
    "stopped": ("Stopped",),
}
CATEGORIES = (*STATUS_CATEGORIES, "other")
TERMINAL = ("succeeded", "failed", "stopped")
GROUP_ALIASES = {
    "status": "Status",
    "type": "JobType",
    "user": "UserId",
    "workspace": "WorkspaceId",
    "quota": "ResourceQuotaName",
}
METRICS = (
    "jobs",
    *CATEGORIES,
    "success_rate",
    "failure_rate",
    "duration_p50_s",
    "duration_p90_s",
    "duration_p99_s",
    "gpu_hours",
    "queue_mean_s",
    "queue_p50_s",
)
DECIMALS = 4


def _category() -> pl.Expr:
    mapping = {
        status.casefold(): category
        for category, statuses in STATUS_CATEGORIES.items()
        for status in statuses
    }
    return pl.col("Status").str.to_lowercase().replace_strict(mapping, default="other")


def stats_aggregations() -> list[pl.Expr]:
    """The metrics of one group of jobs, as polars expressions over ``store.query`` columns."""
    category = _category()
    counts = [(category == name).sum().alias(name) for name in CATEGORIES]
    terminal = sum(((category == name).sum() for name in TERMINAL), pl.lit(0))
    duration = pl.col("Duration")
    queue = (pl.col("GmtRunningTime") - pl.col("GmtSubmittedTime")).dt.total_microseconds() / 1e6
    return [
        pl.len().alias("jobs"),
        *counts,
        pl.when(terminal > 0)
        .then((category == "succeeded").sum() / terminal)
        .alias("success_rate"),
        pl.when(terminal > 0).then((category == "failed").sum() / terminal).alias("failure_rate"),
        *(
            duration.quantile(q, "linear").alias(f"duration_p{round(q * 100)}_s")
            for q in (0.5, 0.9, 0.99)
        ),
        (pl.col("RequestGPU") * duration / 3600).sum().alias("gpu_hours"),
        queue.mean().alias("queue_mean_s"),
        queue.quantile(0.5, "linear").alias("queue_p50_s"),
    ]


def resolve_group_fields(frame: pl.DataFrame, by: str | None) -> tuple[list[str], list[str]]:
    """``--by`` as (group keys, the columns that label a group: keys and companions).

    A user is grouped by ``UserId`` and labelled with the ``Username`` too.
    """
    if by is None:
        return [], []
    known = {name.casefold(): name for name in public_columns(frame)}
    keys: list[str] = []
    labels: list[str] = []
    for item in by.split(","):
        name = item.strip()
        if not name:
            continue
        column = GROUP_ALIASES.get(name.casefold()) or known.get(name.casefold())
        if column is None:
            raise CliError(
                "--by",
                f"unknown field {name!r} (use {', '.join(GROUP_ALIASES)} or a top-level "
                f"column: {', '.join(public_columns(frame))})",
            )
        if column in keys:
            continue
        keys.append(column)
        labels.append(column)
        if column == "UserId":
            labels.append("Username")
    # a companion that is also a key of its own is shown once, where the key is
    if labels.count("Username") > 1:
        labels.remove("Username")
    return keys, labels


def compute_stats(
    frame: pl.DataFrame, keys: Sequence[str], labels: Sequence[str], order_by: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per-group metrics (sorted by ``order_by`` descending, then the keys) and the total row.

    A companion label (the ``Username`` of a ``UserId``) is the first one in query order.
    """
    aggregations = stats_aggregations()
    total = frame.select(aggregations)
    if not keys:
        return total, total
    shown = [pl.col(name).drop_nulls().first().alias(name) for name in labels if name not in keys]
    groups = frame.group_by(list(keys)).agg([*shown, *aggregations])
    groups = groups.sort(
        [order_by, *keys],
        descending=[True] + [False] * len(keys),
        nulls_last=True,
    )
    return groups, total


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


def render_stats_table(groups: pl.DataFrame, total: pl.DataFrame, labels: Sequence[str]) -> None:
    # category columns that are zero everywhere only take room in a table
    metrics = [
        name
        for name in METRICS
        if name not in CATEGORIES or (total.height and (total[name][0] or 0) > 0)
    ]
    table = Table(box=box.HORIZONTALS, show_edge=False, pad_edge=False)
    for name in [*labels, *metrics]:
        table.add_column(
            STATS_HEADERS.get(name, name), justify="left" if name in labels else "right"
        )
    if total["jobs"][0] == 0:
        print_out(Text("no matching jobs"))
        return
    for row in groups.iter_rows(named=True):
        table.add_row(*(Text(_stats_cell(name, row[name])) for name in [*labels, *metrics]))
    if labels:  # the total, under a line
        table.rows[-1].end_section = True
        cells = ["total", *([""] * (len(labels) - 1))]
        cells += [_stats_cell(name, total[name][0]) for name in metrics]
        table.add_row(*(Text(cell) for cell in cells))
    print_out(table)


def _json_value(value: Any) -> Any:
    return format_timestamp(value) if isinstance(value, datetime) else value


STATS_EXAMPLES = (
    "jobquery stats jobs.ndjson --by user --order-by gpu_hours",
    "jobquery stats dumps/ --by quota,status --start-time 2026-11-01T00:00:00Z",
    "jobquery stats jobs.ndjson --tag team=rec --by type --format json",
)


@cli.command(
    "stats",
    cls=SectionedCommand,
    short_help="Counts, rates, durations, GPU-hours and queueing per group.",
    examples=STATS_EXAMPLES,
)
@click.argument("dumps", nargs=-1, metavar="[DUMP]...")
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
def stats_command(
    *,
    dumps: tuple[str, ...],
    now: str | None,
    as_user: str | None,
    admin: bool,
    lenient: bool,
    by: str | None,
    order_by: str,
    top: int | None,
    output_format: str | None,
    request_id: str | None,
    **parameters: Any,
) -> None:
    """Statistics over every job the filters match, per group.

    Per group: job count; counts per status category (pending, running, succeeded, failed,
    stopped, other); success and failure rate (of terminal jobs: succeeded, failed, stopped);
    Duration percentiles p50/p90/p99 in seconds; GPU-hours (RequestGPU x Duration / 3600);
    queueing time (GmtRunningTime - GmtSubmittedTime), mean and p50 in seconds.
    """
    fmt = _chosen_format(output_format)
    with reported_errors(fmt, request_id):
        session = open_session(
            dumps, parameters, now=now, as_user=as_user, admin=admin, lenient=lenient
        )
        frame = session.store.query(session.query, now=session.clock.now, caller=session.caller)
        keys, labels = resolve_group_fields(frame, by)
        groups, total = compute_stats(frame, keys, labels, order_by)
        if top is not None:
            groups = groups.head(top)
        groups, total = _rounded(groups), _rounded(total)
        if fmt == "json":
            window = session.plan.window
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
            render_stats_table(groups, total, labels)


EXPLAIN_EXAMPLES = (
    "jobquery explain jobs.ndjson --display-name bert --status Failed,Stopped",
    "jobquery explain jobs.ndjson --as-user 1001 --sort-by DisplayName --order asc",
)


@cli.command(
    "explain",
    cls=SectionedCommand,
    short_help="Show how a request is understood and planned.",
    examples=EXPLAIN_EXAMPLES,
)
@click.argument("dumps", nargs=-1, metavar="[DUMP]...")
@_request_options(paging=True)
@_common_options(page_section=False)
def explain_command(
    *,
    dumps: tuple[str, ...],
    now: str | None,
    as_user: str | None,
    admin: bool,
    lenient: bool,
    **parameters: Any,
) -> None:
    """How a request is understood: the window, each filter in words, order, page, Polars plan."""
    with reported_errors():
        session = open_session(
            dumps, parameters, now=now, as_user=as_user, admin=admin, lenient=lenient
        )
        text = session.store.explain(session.query, now=session.clock.now, caller=session.caller)
        click.echo(text)


# -- convert and generate ---------------------------------------------------------------------


class ProgressBar:
    """A transient rich progress bar on stderr, or nothing when stderr is not a terminal."""

    def __init__(
        self, enabled: bool, description: str, total: float | None, *, in_bytes: bool = False
    ) -> None:
        self._progress: Progress | None = None
        if enabled:
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                DownloadColumn() if in_bytes else MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(file=sys.stderr),
                transient=True,
            )
            self._task = self._progress.add_task(description, total=total)

    def __enter__(self) -> ProgressBar:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def advance(self, amount: float) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, amount)

    def update(self, completed: float) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=completed)

    def phase(self, description: str) -> None:
        """Go on with a step of unknown length (a pulsing bar)."""
        if self._progress is not None:
            self._progress.update(self._task, visible=False)
            self._task = self._progress.add_task(description, total=None)


def _input_bytes(paths: Sequence[str]) -> int:
    # a missing path is reported by the read itself, with the reader's own message
    try:
        return sum(path.stat().st_size for path in resolve_paths(paths))
    except (OSError, JobQueryError):
        return 0


def _check_output_path(out: str) -> Path:
    target = Path(out)
    if target.suffix.lower() not in SUPPORTED_EXTENSIONS:
        raise CliError(
            "OUT",
            f"unknown dump format {target.suffix or '(no extension)'} for {out}; "
            f"expected one of {', '.join(SUPPORTED_EXTENSIONS)}",
        )
    return target


CONVERT_EXAMPLES = (
    "jobquery convert jobs.ndjson jobs.parquet",
    "jobquery convert 'pages/*.json' all_jobs.arrow",
)


@cli.command(
    "convert",
    cls=SectionedCommand,
    short_help="Convert dumps between JSON, NDJSON, Parquet and Arrow.",
    examples=CONVERT_EXAMPLES,
)
@click.argument("paths", nargs=-1, required=True, metavar="IN... OUT")
@_lenient_option()
def convert_command(paths: tuple[str, ...], lenient: bool) -> None:
    """Convert dumps between JSON pages, NDJSON, Parquet and Arrow (by extension), losslessly.

    Every input is read as one job set (a JobId seen twice keeps its latest GmtModifiedTime)
    and written to OUT, deleted jobs included.
    """
    if len(paths) < 2:
        raise click.UsageError("give at least one input and the output: IN... OUT")
    *inputs, out = paths
    with reported_errors():
        target = _check_output_path(out)
        total = _input_bytes(inputs)
        show_bar = _is_terminal(sys.stderr) and total >= BAR_MIN_BYTES
        with ProgressBar(show_bar, "reading", total, in_bytes=True) as bar:
            store = JobStore.from_path(
                *inputs, lenient=lenient, on_progress=bar.advance, background_warm_up=False
            )
            bar.phase("indexing and writing")
            written = store.export(target)
        _report_skipped(store)
        click.echo(
            f"wrote {written} jobs to {out} ({store.duplicates} duplicate(s) resolved, "
            f"{len(store.skipped)} malformed record(s) skipped)"
        )


GENERATE_EXAMPLES = (
    "jobquery generate --count 1000 -o jobs.ndjson",
    "jobquery generate --count 1000000 --seed 7 --start 2026-01-01T00:00:00Z "
    "--end 2026-12-01T00:00:00Z -o big.parquet",
)


@cli.command(
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
@_option("--start", metavar="TIME", section=TIME, help="Earliest GmtCreateTime (RFC 3339).")
@_option("--end", metavar="TIME", section=TIME, help="Latest GmtCreateTime (RFC 3339).")
@_option(
    "-o", "--output", "output", required=True, metavar="FILE", section=OUTPUT,
    help="The dump to write; the format follows the extension.",
)  # fmt: skip
def generate_command(
    *, count: int, seed: int, start: str | None, end: str | None, output: str
) -> None:
    """Write a deterministic synthetic dump (same count and seed, same jobs)."""
    with reported_errors():
        target = _check_output_path(output)
        window: dict[str, datetime] = {}
        for name, text in (("start", start), ("end", end)):
            if text is not None:
                moment = parse_timestamp(text)
                if moment is None:
                    raise CliError(f"--{name}", f"expected an RFC 3339 timestamp (got {text!r})")
                window[name] = moment
        if "start" in window and "end" in window and window["start"] > window["end"]:
            raise CliError("--start", "must not be after --end")
        show_bar = _is_terminal(sys.stderr) and count >= BAR_MIN_JOBS
        target.parent.mkdir(parents=True, exist_ok=True)
        with ExitStack() as stack:
            bar = stack.enter_context(ProgressBar(show_bar, "generating", count))
            # generate beside the target, then rename or convert: never a half-written dump
            folder = stack.enter_context(tempfile.TemporaryDirectory(dir=target.parent))
            ndjson = Path(folder) / "generated.ndjson"
            try:
                written = synth.write_ndjson(
                    ndjson, count, seed=seed, on_progress=bar.update, **window
                )
            except ValueError as exc:  # the generator's own limits (count, seed, window)
                raise CliError("generate", str(exc)) from exc
            if target.suffix.lower() in NDJSON_EXTENSIONS:
                os.replace(ndjson, target)
            else:
                bar.phase("converting")
                written = JobStore.from_path(ndjson).export(target)
        click.echo(f"wrote {written} jobs to {output} (seed {seed})")


# -- serve ------------------------------------------------------------------------------------

SERVE_EXAMPLES = (
    "jobquery serve",
    "jobquery serve dumps/ --port 8080 --reload-on-change",
    "jobquery serve old-export.json --now 2021-01-13T00:00:00Z",
)


@cli.command(
    "serve",
    cls=SectionedCommand,
    short_help="Answer GET /api/v1/jobs over HTTP (a local stand-in for PAI-DLC).",
    examples=SERVE_EXAMPLES,
)
@click.argument("dumps", nargs=-1, metavar="[DUMP]...")
@_option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    section=INPUT,
    help="Address to listen on (loopback by default; there is no authentication).",
)
@_option(
    "--port",
    default=8080,
    show_default=True,
    type=int,
    section=INPUT,
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
def serve_command(
    *,
    dumps: tuple[str, ...],
    host: str,
    port: int,
    reload_on_change: bool,
    compress_texts: bool,
    now: str | None,
) -> None:
    """Serve the ListJobs API over the dumps; the official SDK can point at it. Ctrl-C stops."""
    with reported_errors():
        fixed = parse_now(now)
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
        )


def main() -> None:
    """The console script ``jobquery``."""
    cli.main(prog_name="jobquery")


if __name__ == "__main__":  # pragma: no cover
    main()
