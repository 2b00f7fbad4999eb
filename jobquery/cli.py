"""The ``jobquery`` command line: offline analysis of PAI-DLC job dumps.

Commands (``jobquery COMMAND --help`` for each)::

    list      ListJobs over dump files: one option per API parameter, as a table or JSON
    get       one job by its exact JobId, as pretty JSON
    stats     counts, success and failure rates, durations, GPU-hours and queueing per group
    explain   how a request is understood and answered: list's steps, query()'s Polars plan
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

import importlib
import math
import os
import re
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
import orjson

from jobquery import __version__
from jobquery.errors import InternalError, InvalidParameterError, JobQueryError
from jobquery.request import (
    DEFAULT_PAGE_SIZE,
    DISPLAY_NAME_SEARCH_MODES,
    NUMERIC_FIELDS,
    ORDERS,
    PARAMETER_KINDS,
    PARAMETERS,
    SORT_KEYS,
    TIME_FIELDS,
    Caller,
    ListJobsRequest,
    format_timestamp,
    parse_timestamp,
)


class _LazyModule:
    """A module imported when first used.

    ``jobquery --help`` and commands that never touch a frame start without importing Polars
    (docs/performance.md, "Start-up"); the other heavy modules (rich's renderers, the store,
    the server, the generator) are imported inside the functions that use them.
    """

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self._name), attribute)


if TYPE_CHECKING:
    import polars as pl
    from rich.console import JustifyMethod, RenderableType
    from rich.table import Table

    from jobquery.io.cache import CacheEntry, PendingFill, SnapshotCache
    from jobquery.plan import Plan
    from jobquery.store import JobStore
else:
    pl = _LazyModule("polars")

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
#: A progress bar shows when the work it follows lasts longer than this (seconds).
BAR_DELAY_SECONDS = 1.0
#: ``serve --max-connections`` by default: ``server.ConnectionLimits``'s, named here so that
#: the help is written without importing the server (a test keeps the two equal).
SERVE_MAX_CONNECTIONS = 500
#: How many skipped records ``--lenient`` lists one by one.
SKIPPED_SHOWN = 10
#: The shapes ``generate --profile`` offers: ``jobquery.synth.PROFILES``, named here so that
#: the help is written without importing the generator (a test keeps the two equal).
SYNTH_PROFILES = ("default", "high-cardinality")

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
# ListJobs parameters as options: generated from the request model, so none can be forgotten.

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
    "EndTime": "Window end, RFC 3339 such as 2026-11-28T00:00:00Z, or a date alone (midnight "
    "UTC) (default: now).",
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
    "StartTime": "Window start, RFC 3339 or a date alone such as 2026-11-01 (midnight UTC) "
    "(default: 7 days before now).",
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
        if self.kind == "time":
            return command_line_time(str(value))
        return str(value)


_DATE_ALONE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def command_line_time(text: str) -> str:
    """A time typed on the command line as RFC 3339: a date alone means midnight UTC.

    Only the command line accepts a date alone (it is what people type); the API and the
    request model stay strict RFC 3339. Text that is not a real date is left as typed, so the
    refusal quotes it.
    """
    if _DATE_ALONE.fullmatch(text):
        try:
            date.fromisoformat(text)
        except ValueError:
            return text
        return f"{text}T00:00:00Z"
    return text


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
            ParameterOption(wire, f"--{name}", f"p_{field}", PARAMETER_KINDS[wire], _section(wire))
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
        _cache_option(),
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


def _cache_option() -> Callable[[F], F]:
    return _option(
        "--no-cache",
        "no_cache",
        is_flag=True,
        section=INPUT,
        help="Neither read nor write the snapshot cache (see 'jobquery cache --help').",
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


def _dataset_options() -> Callable[[F], F]:
    """``--dataset DIR`` and ``--engine``: answer from a job dataset instead of dumps."""
    return _apply(
        [
            _option(
                "--dataset",
                metavar="DIR",
                section=INPUT,
                help="Answer from a job dataset (written by 'jobquery dataset write') "
                "instead of DUMP files.",
            ),
            _option(
                "--engine",
                type=click.Choice(("duckdb", "spark")),
                default="duckdb",
                show_default=True,
                section=INPUT,
                help="Who queries the --dataset: DuckDB in this process, or Spark (a local "
                "session; see docs/dataset.md for a cluster).",
            ),
        ]
    )


# ---------------------------------------------------------------------------------------------
# Terminals, notices and errors.


def _is_terminal(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def print_out(*renderables: RenderableType) -> None:
    """Print to stdout with rich: styled on a terminal, else plain text without trailing blanks."""
    from rich.console import Console

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


#: Exit status after Ctrl-C (128 + SIGINT, as shells report a process ended by it).
EXIT_INTERRUPTED = 130


class KeyboardInterruptError(Exception):
    """Ctrl-C inside a command, carried past click (which would print a blank line first)."""


def report_interrupted() -> int:
    """Ctrl-C: one line on stderr (over the terminal's ``^C`` echo), and the exit status."""
    sys.stderr.write(("\r" if _is_terminal(sys.stderr) else "") + "interrupted\n")
    sys.stderr.flush()
    return EXIT_INTERRUPTED


class JobQueryGroup(click.Group):
    """The top-level group: usage errors are one line too, and nothing ends in a traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)  # in the order they are defined: the order of the docs

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise KeyboardInterruptError from None

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
        except (KeyboardInterruptError, KeyboardInterrupt):
            status = report_interrupted()
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
        except click.Abort as exc:
            if isinstance(exc.__cause__, KeyboardInterrupt):  # Ctrl-C while parsing options
                status = report_interrupted()
            else:
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
    # entries of a folder or pattern that are not regular files (FIFOs, devices, links to
    # nothing) are left out whether or not --lenient is given
    not_read = [skipped for skipped in store.skipped if skipped.whole_file]
    for skipped in not_read:
        _notice(f"note: {skipped}")
    records = [skipped for skipped in store.skipped if not skipped.whole_file]
    if records:
        _notice(f"skipped {len(records)} malformed record(s) (--lenient):")
        for skipped in records[:SKIPPED_SHOWN]:
            _notice(f"  {skipped}")
        if len(records) > SKIPPED_SHOWN:
            _notice(f"  ... and {len(records) - SKIPPED_SHOWN} more")
    if store.duplicates:
        _notice(
            f"note: {store.duplicates} record(s) repeated a JobId; kept the one with the latest "
            "GmtModifiedTime"
        )


def bundled_sample() -> Path:
    """The sample dump shipped inside the package (what every command reads without DUMP)."""
    sample = resources.files("jobquery").joinpath(*SAMPLE)
    if not sample.is_file():
        raise CliError("DUMP", "no dump given and the bundled sample is missing")
    return Path(str(sample))


def notice_files_left_out(dumps: Sequence[str]) -> None:
    """Say which files of a dump folder are not read (not a dump format), counted by kind."""
    from jobquery.io.dumps import SUPPORTED_EXTENSIONS

    for dump in dumps:
        folder = Path(dump)
        if not folder.is_dir():
            continue
        kinds = Counter(
            path.suffix.lower() or "(no extension)"
            for path in folder.rglob("*")
            if path.is_file() and path.suffix.lower() not in SUPPORTED_EXTENSIONS
        )
        if kinds:
            total = sum(kinds.values())
            shown = ", ".join(f"{count} {kind}" for kind, count in kinds.most_common())
            noun = "file" if total == 1 else "files"
            _notice(f"skipped {total} {noun} in {dump} (not a dump format): {shown}")


def load_store(dumps: Sequence[str], *, lenient: bool, use_cache: bool = True) -> JobStore:
    """Read the dumps as one job set; with none, the bundled sample (with a notice).

    With ``use_cache``, unchanged dumps are opened from the snapshot cache
    (:mod:`jobquery.io.cache`); a snapshot that had to be built is cached once the command has
    answered (:func:`cache_after_the_answer`). A build that lasts shows a progress bar.
    """
    from jobquery.io.cache import load
    from jobquery.store import JobStore

    notice_files_left_out(dumps)
    paths = list(dumps) if dumps else [str(bundled_sample())]
    show_bar = _is_terminal(sys.stderr)
    total = _input_bytes(paths) if show_bar else 0
    with ProgressBar(show_bar, "reading", total, in_bytes=True) as bar:
        loaded = load(
            paths,
            lenient=lenient,
            cache=snapshot_cache() if use_cache else None,
            on_progress=bar.advance,
            on_phase=bar.phase,
        )
    # one question per run: the store builds only the structures the question uses (no
    # background warm-up taking cores from the answer)
    store = JobStore.from_loaded(loaded, background_warm_up=False)
    if not dumps:
        _notice(f"no dump given: reading the bundled sample ({SAMPLE[-1]}, {len(store)} jobs)")
    if loaded.pending is not None:
        cache_after_the_answer(loaded.pending)
    _report_skipped(store)
    return store


def snapshot_cache() -> SnapshotCache:
    """The snapshot cache of ``$JOBQUERY_CACHE_DIR`` (or the user cache folder); its notices
    go to stderr."""
    from jobquery.io.cache import SnapshotCache

    try:
        return SnapshotCache.from_environment(notice=_notice)
    except ValueError as exc:
        raise CliError("environment", str(exc)) from exc


def cache_after_the_answer(pending: PendingFill) -> None:
    """Write a snapshot into the cache when the command has answered.

    The answer is not kept waiting for the write, and whoever reads it from a pipe sees its
    end first (stdout is closed). A problem with the cache is a notice, never a failure: the
    answer was right.
    """

    def write() -> None:
        # the reader may be gone (`| head`): the entry is still worth writing
        with suppress(OSError):
            _release_stdout()
        show_bar = _is_terminal(sys.stderr)
        total = pending.estimated_bytes
        try:
            with ProgressBar(show_bar, "caching the snapshot", total, in_bytes=True) as bar:
                pending.write(on_progress=bar.advance)
        except Exception as exc:
            _notice(f"note: the snapshot was not cached ({type(exc).__name__}: {exc})")

    context = click.get_current_context(silent=True)
    if context is None:
        write()
    else:
        context.call_on_close(write)


def _release_stdout() -> None:
    """Flush stdout and, when it is this process's own pipe or file, point it at /dev/null:
    the reader sees the end of the answer while the process goes on with other work."""
    sys.stdout.flush()
    try:
        descriptor = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # replaced (click's test runner, a capture)
        return
    if descriptor != 1 or os.isatty(descriptor):
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, descriptor)
    finally:
        os.close(null)


def parse_now(text: str | None) -> datetime | None:
    """The ``--now`` value, or None when not given."""
    if text is None:
        return None
    moment = parse_timestamp(command_line_time(text))
    if moment is None:
        raise CliError(
            "--now",
            f"expected an RFC 3339 timestamp such as 2026-11-28T10:02:11Z or a date alone "
            f"(got {text!r})",
        )
    return moment


@dataclass(frozen=True)
class Clock:
    """The ``now`` of the default window and where it came from (``newest``: which job)."""

    now: datetime
    from_dump: bool
    newest: str = "the newest job in the dump"


def dump_clock(store: JobStore, now: datetime | None, caller: Caller | None = None) -> Clock:
    """``--now`` if given, else the newest job time in the dump the caller can see (the wall
    clock if there is none): a non-admin's window never reveals the time of a hidden job."""
    if now is not None:
        return Clock(now, from_dump=False)
    return newest_clock(store.newest_time(caller=caller), caller)


def newest_clock(newest: datetime | None, caller: Caller | None) -> Clock:
    """The clock at ``newest``, the newest job time the caller can see (the wall clock when
    there is none), saying whose view it is for a non-admin caller."""
    if newest is None:
        return Clock(datetime.now(UTC), from_dump=False)
    if caller is None or caller.is_admin:
        return Clock(newest, from_dump=True)
    who = "anyone" if caller.user_id is None else f"user {caller.user_id}"
    return Clock(newest, from_dump=True, newest=f"the newest job in the dump that {who} can see")


def window_notice(plan: Plan, clock: Clock) -> str | None:
    """What window applies, when a default bound of it was taken from the dump's clock."""
    request, window = plan.request, plan.window
    if not clock.from_dump or (request.start_time and request.end_time):
        return None
    field = "" if window.column == "GmtCreateTime" else f" (on {window.column})"
    start, end = format_timestamp(window.start), format_timestamp(window.end)
    if request.start_time is None and request.end_time is None:
        return (
            f"window: 7 days up to {end}, {clock.newest}{field}; "
            "use --start-time/--now to change it"
        )
    if request.start_time is None:
        return (
            f"window: from {start} (7 days before {format_timestamp(clock.now)}, "
            f"{clock.newest}) to {end}{field}; use --start-time to change it"
        )
    return (
        f"window: from {start} up to {end}, {clock.newest}{field}; "
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
    use_cache: bool = True,
) -> Session:
    """Validate the options, read the dumps, resolve the clock and say which window applies."""
    query = wire_query(parameters)
    ListJobsRequest.from_wire(query)  # refuse a bad value before reading any dump
    parsed_now = parse_now(now)
    caller = make_caller(as_user, admin)
    store = load_store(dumps, lenient=lenient, use_cache=use_cache)
    clock = dump_clock(store, parsed_now, caller)
    plan = store.plan(query, now=clock.now, caller=caller)
    notice = window_notice(plan, clock)
    if notice:
        _notice(notice)
    hint_values_not_in_dump(store, plan.request)
    return Session(store, query, clock, caller, plan)


#: How many of a field's values a hint lists before it says how many more there are.
HINT_VALUES_SHOWN = 20


def hint_values_not_in_dump(store: JobStore, request: ListJobsRequest) -> None:
    """A ``--status``/``--job-type`` value that no listable job has (compared ignoring case,
    as the filter compares) is most likely a typo: say so, with the values there are."""
    for wire, wanted in (("Status", request.status), ("JobType", request.job_type)):
        if not wanted:
            continue
        present = store.snapshot.live[wire].drop_nulls().unique().sort().to_list()
        folded = {value.casefold() for value in present}
        unknown = [value for value in wanted if value.casefold() not in folded]
        if not unknown:
            continue
        shown = ", ".join(present[:HINT_VALUES_SHOWN]) or "none"
        if len(present) > HINT_VALUES_SHOWN:
            shown += f", ... ({len(present) - HINT_VALUES_SHOWN} more)"
        flag = OPTION_BY_WIRE[wire].flag
        _notice(
            f"note: no job in the dump has {flag} {', '.join(unknown)} (ignoring case); "
            f"values in the dump: {shown}"
        )


# ---------------------------------------------------------------------------------------------
# Rendering jobs: JSON, NDJSON, CSV and tables.


def _pretty_json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE).decode()


def public_columns(frame: pl.DataFrame) -> list[str]:
    """The typed top-level columns of a store frame (no index columns, no ``job_json``)."""
    from jobquery.snapshot import JOB_JSON

    return [name for name in frame.columns if not name.startswith("ix_") and name != JOB_JSON]


def page_frame(store: JobStore, jobs: Sequence[Mapping[str, Any]]) -> pl.DataFrame:
    """The typed rows (and ``job_json``) of a page of jobs, in page order."""
    from jobquery.snapshot import JOB_JSON

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


def _add_table_column(table: Table, frame: pl.DataFrame, header: str, *, right: bool) -> None:
    """A column of a jobs table: JobIds are never cut (they are copied into ``get``); on a
    narrow terminal the other columns give way, folding their text onto more lines."""
    from rich.cells import cell_len

    justify: JustifyMethod = "right" if right else "left"
    if header != "JobId":
        table.add_column(header, justify=justify, overflow="fold")
        return
    longest = max((cell_len(job_id) for job_id in frame["JobId"] if job_id), default=0)
    table.add_column(header, justify=justify, no_wrap=True, min_width=longest)


def render_table(frame: pl.DataFrame, columns: Sequence[str] | None, footer: str) -> None:
    """Jobs as a table (rich), then the footer line."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.HORIZONTALS, show_edge=False, pad_edge=False)
    if columns is None:
        for header, _ in TABLE_COLUMNS:
            _add_table_column(table, frame, header, right=header in ("Duration", "GPUs"))
        for row in frame.iter_rows(named=True):
            cells = [Text(show(row)) for _, show in TABLE_COLUMNS]
            cells[3].stylize(STATUS_STYLES.get((row["Status"] or "").casefold(), ""))
            table.add_row(*cells)
    else:
        for name in columns:
            _add_table_column(table, frame, name, right=False)
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
@_dataset_options()
def list_command(
    *,
    dumps: tuple[str, ...],
    dataset: str | None,
    engine: str,
    now: str | None,
    as_user: str | None,
    admin: bool,
    lenient: bool,
    no_cache: bool,
    all_matches: bool,
    output_format: str | None,
    columns: str | None,
    request_id: str | None,
    **parameters: Any,
) -> None:
    """List jobs as ListJobs does: one page (default) or every match (--all).

    --format json prints exactly the ListJobs response body.
    """
    from jobquery.snapshot import JOB_JSON

    fmt = _chosen_format(output_format)
    with reported_errors(fmt, request_id):
        if dataset is not None:
            from jobquery.dataset import commands

            with commands.open_dataset_session(
                dataset, engine, dumps, parameters, now=now, as_user=as_user, admin=admin
            ) as on_dataset:
                commands.list_from_dataset(
                    on_dataset,
                    fmt=fmt,
                    columns=columns,
                    all_matches=all_matches,
                    request_id=request_id,
                )
            return
        session = open_session(
            dumps,
            parameters,
            now=now,
            as_user=as_user,
            admin=admin,
            lenient=lenient,
            use_cache=not no_cache,
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
    "jobquery get dlc-20261127164702-wq9pwzaeug5b1    (a job of the bundled sample)",
    "jobquery get jobs.ndjson dlc-20261128100211-abc123",
    "jobquery get dumps/ dlc-20261128100211-abc123 --as-user 1001",
)


@cli.command(
    "get",
    cls=SectionedCommand,
    short_help="Show one job by its exact JobId.",
    examples=GET_EXAMPLES,
)
@click.argument("dumps", nargs=-1, metavar="[DUMP]...")
@click.argument("job_id")
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
        store = load_store(dumps, lenient=lenient, use_cache=not no_cache)
        caller = make_caller(as_user, admin)
        job = store.get_job(job_id, caller=caller)
        if job is None:
            who = f" visible to user {as_user}" if caller is not None and not admin else ""
            where = ", ".join(dumps) if dumps else "the bundled sample"
            raise CliError("JOB_ID", f"no job {job_id!r}{who} in {where}")
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
    from rich import box
    from rich.table import Table
    from rich.text import Text

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
@_dataset_options()
def stats_command(
    *,
    dumps: tuple[str, ...],
    dataset: str | None,
    engine: str,
    now: str | None,
    as_user: str | None,
    admin: bool,
    lenient: bool,
    no_cache: bool,
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
        if dataset is not None:
            from jobquery.dataset import commands

            with commands.open_dataset_session(
                dataset, engine, dumps, parameters, now=now, as_user=as_user, admin=admin
            ) as on_dataset:
                frame = on_dataset.dataset.query(
                    on_dataset.query, now=on_dataset.clock.now, caller=on_dataset.caller
                )
                window = on_dataset.plan.window
        else:
            session = open_session(
                dumps,
                parameters,
                now=now,
                as_user=as_user,
                admin=admin,
                lenient=lenient,
                use_cache=not no_cache,
            )
            frame = session.store.query(session.query, now=session.clock.now, caller=session.caller)
            window = session.plan.window
        keys, labels = resolve_group_fields(frame, by)
        groups, total = compute_stats(frame, keys, labels, order_by)
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
            render_stats_table(groups, total, labels)


EXPLAIN_EXAMPLES = (
    "jobquery explain jobs.ndjson --display-name bert --status Failed,Stopped",
    "jobquery explain jobs.ndjson --as-user 1001 --sort-by DisplayName --order asc",
)


@cli.command(
    "explain",
    cls=SectionedCommand,
    short_help="Show how a request is understood and answered.",
    examples=EXPLAIN_EXAMPLES,
)
@click.argument("dumps", nargs=-1, metavar="[DUMP]...")
@_request_options(paging=True)
@_common_options(page_section=False)
@_dataset_options()
def explain_command(
    *,
    dumps: tuple[str, ...],
    dataset: str | None,
    engine: str,
    now: str | None,
    as_user: str | None,
    admin: bool,
    lenient: bool,
    no_cache: bool,
    **parameters: Any,
) -> None:
    """How a request is understood and answered: the window, each filter in words, order, page;
    the steps list takes (paths and row counts for an administrator); the Polars plan of
    query(), which list does not run (with --dataset: the SQL the engine runs)."""
    with reported_errors():
        if dataset is not None:
            from jobquery.dataset import commands

            with commands.open_dataset_session(
                dataset, engine, dumps, parameters, now=now, as_user=as_user, admin=admin
            ) as on_dataset:
                click.echo(
                    on_dataset.dataset.explain(
                        on_dataset.query, now=on_dataset.clock.now, caller=on_dataset.caller
                    )
                )
            return
        session = open_session(
            dumps,
            parameters,
            now=now,
            as_user=as_user,
            admin=admin,
            lenient=lenient,
            use_cache=not no_cache,
        )
        text = session.store.explain(session.query, now=session.clock.now, caller=session.caller)
        click.echo(text)


# -- convert and generate ---------------------------------------------------------------------


class ProgressBar:
    """A transient rich progress bar on stderr for work that lasts.

    Nothing shows when stderr is not a terminal, nor before ``delay`` seconds have passed (a
    quick run prints no bar, and does not even import rich's progress module). Amounts are
    bytes (``in_bytes``) or counts; a :meth:`phase` starts the next step, of unknown length
    unless a total is given. Callbacks may come from any thread. ``stream``: where the bar is
    drawn (default stderr).
    """

    def __init__(
        self,
        enabled: bool,
        description: str,
        total: float | None,
        *,
        in_bytes: bool = False,
        delay: float = BAR_DELAY_SECONDS,
        stream: Any = None,
    ) -> None:
        self._enabled = enabled
        self._delay = delay
        self._stream = stream  # default: sys.stderr when shown
        self._description = description
        self._total = total
        self._in_bytes = in_bytes
        self._completed = 0.0
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._progress: Any = None  # a rich Progress once shown
        self._task: Any = None
        self._closed = False

    def __enter__(self) -> ProgressBar:
        if self._enabled:
            self._timer = threading.Timer(self._delay, self._show)
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
            if self._progress is not None:
                self._progress.stop()

    @property
    def shown(self) -> bool:
        """Whether the bar is on the screen."""
        return self._progress is not None

    def _show(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        with self._lock:
            if self._closed:
                return
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[amount]}"),
                TimeElapsedColumn(),
                console=Console(file=self._stream or sys.stderr),
                transient=True,
            )
            self._add_task()
            self._progress.start()

    def _add_task(self) -> None:
        self._task = self._progress.add_task(
            self._description, total=self._total, completed=self._completed, amount=self._amount()
        )

    def _amount(self) -> str:
        if self._in_bytes:
            from rich.filesize import decimal

            done = decimal(int(self._completed))
            return done if self._total is None else f"{done} of {decimal(int(self._total))}"
        done = f"{int(self._completed):,}"
        return done if self._total is None else f"{done} of {int(self._total):,}"

    def _refresh(self) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=self._completed, amount=self._amount())

    def advance(self, amount: float) -> None:
        with self._lock:
            self._completed += amount
            self._refresh()

    def update(self, completed: float) -> None:
        with self._lock:
            self._completed = completed
            self._refresh()

    def phase(
        self, description: str, total: float | None = None, *, in_bytes: bool = False
    ) -> None:
        """Go on with the next step: of unknown length (a pulsing bar) unless ``total``."""
        with self._lock:
            self._description, self._total, self._in_bytes = description, total, in_bytes
            self._completed = 0.0
            if self._progress is not None:
                self._progress.update(self._task, visible=False)
                self._add_task()


def _input_bytes(paths: Sequence[str]) -> int:
    from jobquery.io.dumps import resolve_paths

    # a missing path is reported by the read itself, with the reader's own message
    try:
        return sum(path.stat().st_size for path in resolve_paths(paths))
    except (OSError, JobQueryError):
        return 0


def _check_output_path(out: str, option: str = "OUT") -> Path:
    """The file to write: a known format, in a folder that exists (never created for you)."""
    from jobquery.io.dumps import SUPPORTED_EXTENSIONS

    target = Path(out)
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


@cli.command(
    "convert",
    cls=SectionedCommand,
    short_help="Convert dumps between JSON, NDJSON, Parquet and Arrow.",
    examples=CONVERT_EXAMPLES,
)
@click.argument("paths", nargs=-1, required=True, metavar="[IN]... OUT")
@_lenient_option()
@_cache_option()
def convert_command(paths: tuple[str, ...], lenient: bool, no_cache: bool) -> None:
    """Convert dumps between JSON pages, NDJSON, Parquet and Arrow (by extension), losslessly.

    Every input is read as one job set (a JobId seen twice keeps its latest GmtModifiedTime)
    and written to OUT, deleted jobs included. With OUT alone, the bundled sample is converted
    (as list reads it); OUT must then be a new file, so that a forgotten OUT never overwrites
    the dump you meant to read.
    """
    *inputs, out = paths
    with reported_errors():
        target = _check_output_path(out)
        if not inputs:
            if target.exists():
                raise CliError(
                    "OUT",
                    f"{out} exists; give IN... OUT to convert it, or a new OUT to write the "
                    "bundled sample",
                )
            inputs = [str(bundled_sample())]
            _notice(f"no input given: converting the bundled sample ({SAMPLE[-1]})")
        store = load_store(inputs, lenient=lenient, use_cache=not no_cache)
        with ProgressBar(_is_terminal(sys.stderr), f"writing {target.name}", None):
            written = store.export(target)
        click.echo(
            f"wrote {written} jobs to {out} ({store.duplicates} duplicate(s) resolved, "
            f"{len(store.skipped)} malformed record(s) skipped)"
        )


GENERATE_EXAMPLES = (
    "jobquery generate --count 1000 -o jobs.ndjson",
    "jobquery generate --count 1000000 --seed 7 --start 2026-01-01T00:00:00Z "
    "--end 2026-12-01T00:00:00Z -o big.parquet",
    "jobquery generate --count 100000 --profile high-cardinality -o real-like.ndjson",
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
    help="Earliest GmtCreateTime (RFC 3339, or a date alone: midnight UTC).",
)  # fmt: skip
@_option(
    "--end", metavar="TIME", section=TIME,
    help="Latest GmtCreateTime (RFC 3339, or a date alone: midnight UTC).",
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
    from jobquery.io.dumps import NDJSON_EXTENSIONS
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
        if "start" in window and "end" in window and window["start"] > window["end"]:
            raise CliError("--start", "must not be after --end")
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
                bar.phase("converting")
                written = JobStore.from_path(ndjson, background_warm_up=False).export(target)
        shape = "" if profile == "default" else f", profile {profile}"
        click.echo(f"wrote {written} jobs to {output} (seed {seed}{shape})")


# -- dataset ----------------------------------------------------------------------------------


@cli.group(
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
@click.argument("paths", nargs=-1, required=True, metavar="DUMP... DIR")
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
        from jobquery.dataset import commands

        commands.write_from_dumps(inputs, directory, overwrite=overwrite, lenient=lenient)


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
        )


# -- cache ------------------------------------------------------------------------------------


class CacheGroup(click.Group):
    """``jobquery cache``: its subcommands listed in the order they are defined."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)


@cli.group("cache", cls=CacheGroup, short_help="Show or clear the snapshot cache.")
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
            _notice(f"removed {path.name}: {reason}")
        click.echo(f"checked {count} cached snapshot(s): {count - len(damaged)} intact")


def human_size(size: float) -> str:
    """Bytes for people: ``512 bytes``, ``3.4 MiB``, ``1.2 GiB``."""
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"  # pragma: no cover - the loop returns at GiB


def main() -> None:
    """The console script ``jobquery``."""
    cli.main(prog_name="jobquery")


if __name__ == "__main__":  # pragma: no cover
    main()
