"""The filter registry: one row per ListJobs filter parameter.

Each row names the wire parameter, the predicate kind it produces and the snapshot column it
reads; small factories build the rows (the datasette habit). A parameter that is not a filter
of its own — a sort or page control, or a modifier read by another row (``EndTime`` by the time
window, ``DisplayNameSearchMode`` by ``DisplayName``) — is listed in :data:`NOT_FILTERS`. A test
fails if a parameter of the spec is in neither.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from jobquery.errors import InvalidParameterError
from jobquery.plan.predicates import (
    EqualsAny,
    Flag,
    MatchNothing,
    NumericRange,
    Predicate,
    Substring,
    TagsContain,
    TimeRange,
    TokenSearch,
)
from jobquery.request import PARAMETERS, Caller, ListJobsRequest
from jobquery.snapshot import index_column, tag_pair, tokenize

#: The default window is the last seven days before ``now`` (spec §3.5.5).
DEFAULT_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class FilterContext:
    """What a filter may read besides the request: the clock and the caller."""

    now: datetime
    caller: Caller | None


Build = Callable[[ListJobsRequest, FilterContext], Predicate | None]


@dataclass(frozen=True)
class FilterRow:
    """One request parameter as a filter: its predicate kind, its column, how to build it."""

    parameter: str
    kind: type
    column: str
    build: Build


def _field(parameter: str) -> str:
    return PARAMETERS[parameter][0]


def substring(parameter: str, column: str) -> FilterRow:
    def build(request: ListJobsRequest, _: FilterContext) -> Predicate | None:
        value = getattr(request, _field(parameter))
        return None if value is None else Substring(parameter, column, value.casefold())

    return FilterRow(parameter, Substring, column, build)


def equals_any(parameter: str, column: str, *, unless: str | None = None) -> FilterRow:
    """Casefold-equality with one value or any of a comma list; skipped when ``unless`` is set."""

    def build(request: ListJobsRequest, _: FilterContext) -> Predicate | None:
        value = getattr(request, _field(parameter))
        if value is None or (unless is not None and getattr(request, _field(unless))):
            return None
        values = (value,) if isinstance(value, str) else value
        return EqualsAny(parameter, column, tuple(dict.fromkeys(v.casefold() for v in values)))

    return FilterRow(parameter, EqualsAny, column, build)


def token_search(parameter: str, column: str, *, per_element: bool = False) -> FilterRow:
    def build(request: ListJobsRequest, _: FilterContext) -> Predicate | None:
        value = getattr(request, _field(parameter))
        if value is None:
            return None
        tokens = tuple(dict.fromkeys(tokenize(value)))
        if not tokens:
            return MatchNothing(parameter, "the search text has no word to look for")
        return TokenSearch(parameter, column, tokens, per_element)

    return FilterRow(parameter, TokenSearch, column, build)


def flag(parameter: str, column: str) -> FilterRow:
    def build(request: ListJobsRequest, _: FilterContext) -> Predicate | None:
        value = getattr(request, _field(parameter))
        return None if value is None else Flag(parameter, column, value)

    return FilterRow(parameter, Flag, column, build)


def tags_contain(parameter: str, column: str) -> FilterRow:
    def build(request: ListJobsRequest, _: FilterContext) -> Predicate | None:
        tags = request.tags
        if not tags:
            return None
        pairs = tuple(tag_pair(key, value) for key, value in tags.items())
        return TagsContain(parameter, column, pairs, tuple(tags.items()))

    return FilterRow(parameter, TagsContain, column, build)


def _display_name(request: ListJobsRequest, _: FilterContext) -> Predicate | None:
    if request.display_name is None:
        return None
    needle = request.display_name.casefold()
    column = index_column("DisplayName")
    mode = request.display_name_search_mode or "wildcard"
    if mode == "exact":
        return EqualsAny("DisplayName", column, (needle,))
    return Substring("DisplayName", column, needle, prefix=mode == "prefix")


def _time_window(request: ListJobsRequest, context: FilterContext) -> Predicate:
    defaulted = []
    if request.start_time is None:
        defaulted.append("start = now - 7 days")
    if request.end_time is None:
        defaulted.append("end = now")
    # a clock within 7 days of year 1 has no "7 days earlier": the window starts at year 1
    earliest = datetime.min.replace(tzinfo=UTC) + DEFAULT_WINDOW
    default_start = (
        context.now - DEFAULT_WINDOW
        if context.now >= earliest
        else datetime.min.replace(tzinfo=UTC)
    )
    return TimeRange(
        "StartTime/EndTime",
        request.time_range_field or "GmtCreateTime",
        request.start_time or default_start,
        request.end_time or context.now,
        tuple(defaulted),
    )


def _numeric_range(request: ListJobsRequest, _: FilterContext) -> Predicate | None:
    if request.numeric_range_field is None:
        return None
    return NumericRange(
        "NumericRange",
        request.numeric_range_field,
        request.numeric_range_min,
        request.numeric_range_max,
    )


def _show_own(request: ListJobsRequest, context: FilterContext) -> Predicate | None:
    if not request.show_own:
        return None
    if context.caller is None or context.caller.user_id is None:
        raise InvalidParameterError(
            "ShowOwn", "true", "needs a caller identity (the current user) to know whose jobs"
        )
    # ownership is exact: a user id is an identity, not a name to search
    return EqualsAny("ShowOwn", "UserId", (context.caller.user_id,))


REGISTRY: tuple[FilterRow, ...] = (
    equals_any("Accessibility", "ix_Accessibility"),
    equals_any("BusinessUserId", index_column("BusinessUserId")),
    equals_any("Caller", index_column("Caller")),
    substring("Description", index_column("Description")),
    FilterRow("DisplayName", Substring, index_column("DisplayName"), _display_name),
    flag("EnableAssignNode", "ix_EnableAssignNode"),
    token_search("ImageSearch", "ix_image_tokens", per_element=True),
    substring("JobId", index_column("JobId")),  # project decision 1: JobId is fuzzy
    equals_any("JobIds", index_column("JobId"), unless="JobId"),
    equals_any("JobType", index_column("JobType")),
    FilterRow("NumericRangeField", NumericRange, "(the named field)", _numeric_range),
    equals_any("OversoldInfo", "ix_OversoldInfo"),
    equals_any("PaymentType", "ix_PaymentType"),
    equals_any("PipelineId", index_column("PipelineId")),
    token_search("ReasonSearch", "ix_reason_tokens"),
    equals_any("ResourceId", index_column("ResourceId")),
    equals_any("ResourceIds", index_column("ResourceId")),
    substring("ResourceQuotaName", index_column("ResourceQuotaName")),
    FilterRow("ShowOwn", EqualsAny, "UserId", _show_own),
    FilterRow("StartTime", TimeRange, "(TimeRangeField)", _time_window),
    equals_any("Status", index_column("Status")),
    tags_contain("Tags", "ix_tags"),
    equals_any("TemplateId", index_column("TemplateId")),
    token_search("UserCommandSearch", "ix_command_tokens"),
    equals_any("UserIdForFilter", index_column("UserId")),
    substring("Username", index_column("Username")),
    equals_any("WorkspaceId", index_column("WorkspaceId"), unless="FromAllWorkspaces"),
)

#: Parameters that are not filters of their own: controls, and modifiers read by a row above.
NOT_FILTERS: tuple[str, ...] = (
    "DisplayNameSearchMode",  # read by DisplayName
    "EndTime",  # read by StartTime (the time window)
    "TimeRangeField",  # read by StartTime (the time window)
    "NumericRangeMin",  # read by NumericRangeField
    "NumericRangeMax",  # read by NumericRangeField
    "FromAllWorkspaces",  # read by WorkspaceId (lifts it)
    "SortBy",
    "Order",
    "PageNumber",
    "PageSize",
    "NextToken",  # extension: keyset paging
)


def build_predicates(request: ListJobsRequest, context: FilterContext) -> list[Predicate]:
    """Every filter the request asks for, in registry order."""
    return [predicate for row in REGISTRY if (predicate := row.build(request, context)) is not None]
