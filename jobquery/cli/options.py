"""The command line's options: help sections, and the ListJobs parameters as options.

Every ListJobs parameter becomes an option generated from ``request.PARAMETERS``, so none can
be forgotten; the options shared by several commands (the clock, the caller, the input, the
output format, ``--dataset``) are defined once here. Nothing here imports a heavy library:
the options are built when the commands are, for ``--help`` too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

import click
import orjson

from jobquery.errors import InvalidParameterError
from jobquery.request import (
    DEFAULT_PAGE_SIZE,
    DISPLAY_NAME_SEARCH_MODES,
    NUMERIC_FIELDS,
    ORDERS,
    PARAMETER_KINDS,
    PARAMETERS,
    SORT_KEYS,
    TIME_FIELDS,
)

F = TypeVar("F", bound=Callable[..., Any])

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


#: The help of a command's DUMP arguments.
DUMPS_HELP = (
    "Job dumps (.ndjson/.jsonl, .json, .parquet, .arrow), folders of them or glob patterns, read "
    "as one job set; none: the bundled sample."
)


class SectionedCommand(click.Command):
    """A command whose ``--help`` lists its arguments (click's section), then its options by
    section, and ends with examples."""

    def __init__(self, *args: Any, examples: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.examples = tuple(examples)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows: dict[str, list[tuple[str, str]]] = {}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None or isinstance(param, click.Argument):  # format_arguments' rows
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
