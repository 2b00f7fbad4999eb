"""The ListJobs request: every parameter of the API, parsed and validated once.

A request is built either from a *wire mapping* — parameter names and string values exactly as
an HTTP server decodes a query string (``{"PageSize": "20", "ShowOwn": "True"}``) — or from typed
keyword values (``ListJobsRequest(page_size=20, show_own=True)``). Both go through the same
parsers (the wire form is normative, spec §3.3), so a value means the same thing whichever way it
arrives. Every problem is reported as :class:`~jobquery.errors.InvalidParameterError` naming the
parameter; a pydantic ``ValidationError`` never escapes.

Each parameter is declared once, as a field of :class:`ListJobsRequest`: its alias is the wire
name and its type (``Text``, ``Flag``, ``SortKey``, ...) carries the parser. The table of
parameters the filters and the command line read (:data:`PARAMETERS`, :data:`PARAMETER_KINDS`)
is derived from those fields.

Once built, a request holds canonical values: enumerations in their documented spelling, comma
lists as tuples, timestamps as aware UTC datetimes, ``Tags`` as a ``dict[str, str]``. Absent
parameters are ``None``; defaults (the 7-day window, ``SortBy``, page size, ...) are resolved
later, by the plan, because some of them depend on the clock.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from jobquery.errors import InvalidParameterError

# ---------------------------------------------------------------------------------------------
# Bounds (spec §3.3 and the hostile-input promises in docs/promises.md). One place to change.

PAGE_SIZE_MIN, PAGE_SIZE_MAX = 1, 100
#: The page size of a request without ``PageSize`` (spec §3.3).
DEFAULT_PAGE_SIZE = 10
PAGE_NUMBER_MIN, PAGE_NUMBER_MAX = 1, 2**31 - 1  # project decision 2: int32 is the only cap
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
#: Longest accepted value of any free-text parameter (the declared bound of ``DisplayName``).
MAX_TEXT_LENGTH = 1024
#: Longest accepted element of ``JobType`` and ``Status`` lists (declared bound of each).
MAX_ENUM_TEXT_LENGTH = 32
#: Most elements in one comma list (``JobIds``, ``ResourceIds``, ``Status``, ``JobType``).
MAX_LIST_ITEMS = 1000
#: Most key/value pairs in ``Tags``, and the longest accepted ``Tags`` JSON text.
MAX_TAG_PAIRS = 50
MAX_TAGS_TEXT_LENGTH = 64 * 1024
#: Longest accepted ``NextToken`` (an extension: keyset page tokens).
MAX_TOKEN_LENGTH = 4096

SORT_KEYS = ("DisplayName", "JobType", "Status", "GmtCreateTime", "GmtFinishTime")
ORDERS = ("desc", "asc")
TIME_FIELDS = (
    "GmtCreateTime",
    "GmtSubmittedTime",
    "GmtRunningTime",
    "GmtSuccessedTime",
    "GmtFailedTime",
    "GmtStoppedTime",
    "GmtFinishTime",
    "GmtModifiedTime",
)
NUMERIC_FIELDS = (
    "RequestGPU",
    "RequestCPU",
    "NodeCount",
    "Duration",
    "Priority",
    "JobMaxRunningTimeMinutes",
    "RetryCount",
    "RestartTimes",
)
DISPLAY_NAME_SEARCH_MODES = ("wildcard", "exact", "prefix")


@dataclass(frozen=True)
class Caller:
    """Who asks: decides which ``PRIVATE`` jobs are visible and what ``ShowOwn`` means.

    Parameters
    ----------
    user_id : str, optional
        The caller's user id, compared exactly with a job's ``UserId``.
    is_admin : bool
        Administrators see every job, ``PRIVATE`` ones included.
    """

    user_id: str | None = None
    is_admin: bool = False

    def __post_init__(self) -> None:
        # an id given as a number would never equal a job's UserId text, and fail deep inside
        if self.user_id is not None and not isinstance(self.user_id, str):
            raise TypeError(
                f"Caller.user_id must be a str (or None), not {type(self.user_id).__name__}: "
                f"{self.user_id!r}; user ids are compared as text"
            )
        if not isinstance(self.is_admin, bool):
            raise TypeError(f"Caller.is_admin must be a bool, not {type(self.is_admin).__name__}")


def checked_caller(caller: object) -> Caller | None:
    """``caller`` itself when it is a :class:`Caller` or None, else a TypeError naming it."""
    if caller is not None and not isinstance(caller, Caller):
        raise TypeError(f"caller must be a Caller (or None), not {type(caller).__name__}")
    return caller


# ---------------------------------------------------------------------------------------------
# Value parsers: one per wire type. Each takes the raw value (a string from the wire or a typed
# value) and returns the canonical value, None for "absent", or raises InvalidParameterError.

_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})?"
)
_INTEGER = re.compile(r"[+-]?[0-9]+")
_ASCII_WHITESPACE = " \t\n\r\x0b\x0c"


def parse_timestamp(text: str) -> datetime | None:
    """Parse an RFC 3339 date-time; a value without zone is UTC. ``None`` if it does not parse.

    Stored job timestamps and the ``StartTime``/``EndTime`` parameters are read by this one
    function (spec §7 Q5), so a window bound and a stored time always agree on what they mean.
    Fractional seconds beyond microseconds are truncated.
    """
    match = _RFC3339.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    if zone is None or zone in "Zz":
        tz: timezone = UTC
    else:
        zone_hours, zone_minutes = int(zone[1:3]), int(zone[4:6])
        if zone_hours > 23 or zone_minutes > 59:
            return None
        offset = timedelta(hours=zone_hours, minutes=zone_minutes)
        tz = timezone(-offset if zone[0] == "-" else offset)
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micros, tz
        )
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def format_timestamp(moment: datetime) -> str:
    """The wire form of a time: ``2026-11-28T10:02:11Z`` (microseconds only when non-zero)."""
    moment = moment.astimezone(UTC)
    text = f"{moment.year:04d}-" + moment.strftime("%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}"
    return text + "Z"


def tag_value_text(value: Any) -> str | None:
    """The text a tag value is compared as: strings as they are, other JSON scalars as JSON text.

    Returns None for values that are not JSON scalars (objects, arrays), which never match.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        return None  # not a JSON number
    if value is None or isinstance(value, bool | int | float):
        try:
            return json.dumps(value)
        except ValueError:  # an integer too long to print
            return None
    return None


def _check_text(parameter: str, text: str, limit: int) -> str:
    if len(text) > limit:
        raise InvalidParameterError(parameter, text, f"longer than {limit} characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidParameterError(parameter, text, "not valid UTF-8 text") from exc
    return text


def _require_str(parameter: str, value: Any, expected: str) -> str:
    if not isinstance(value, str):
        raise InvalidParameterError(parameter, value, f"expected {expected}")
    return value


def _parse_text(parameter: str, value: Any, limit: int = MAX_TEXT_LENGTH) -> str | None:
    text = _require_str(parameter, value, "a string")
    return _check_text(parameter, text, limit) if text else None


def _parse_list(parameter: str, value: Any, element_limit: int) -> tuple[str, ...] | None:
    if isinstance(value, str):
        _check_text(parameter, value, MAX_LIST_ITEMS * (element_limit + 1))
        parts: Sequence[Any] = value.split(",")
    elif isinstance(value, list | tuple):
        parts = [
            part
            for element in value
            for part in _require_str(parameter, element, "strings").split(",")
        ]
    else:
        raise InvalidParameterError(parameter, value, "expected a comma-separated list of strings")
    items = tuple(part.strip(_ASCII_WHITESPACE) for part in parts)
    items = tuple(item for item in items if item)
    if len(items) > MAX_LIST_ITEMS:
        raise InvalidParameterError(parameter, value, f"more than {MAX_LIST_ITEMS} elements")
    for item in items:
        _check_text(parameter, item, element_limit)
    return items or None


def _parse_bool(parameter: str, value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = _require_str(parameter, value, "true or false")
    if not text:
        return None
    folded = text.casefold()
    if folded in ("true", "1"):
        return True
    if folded in ("false", "0"):
        return False
    raise InvalidParameterError(parameter, value, "expected true or false", ("true", "false"))


def _parse_int(parameter: str, value: Any, low: int, high: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidParameterError(parameter, value, "expected an integer")
    if isinstance(value, str):
        if not value:
            return None
        if len(value) > 40 or not _INTEGER.fullmatch(value):
            raise InvalidParameterError(parameter, value, "expected an integer")
        value = int(value)
    number: int = value
    if not low <= number <= high:
        raise InvalidParameterError(parameter, value, f"must be between {low} and {high}")
    return number


def _parse_time(parameter: str, value: Any) -> datetime | None:
    if isinstance(value, datetime):
        try:
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        except OverflowError as exc:
            reason = "outside the representable range"
            raise InvalidParameterError(parameter, value, reason) from exc
    text = _require_str(parameter, value, "an RFC 3339 timestamp")
    if not text:
        return None
    moment = parse_timestamp(text) if len(text) <= 64 else None
    if moment is None:
        raise InvalidParameterError(
            parameter, value, "expected an RFC 3339 timestamp such as 2026-11-08T16:00:00Z"
        )
    return moment


def _parse_enum(parameter: str, value: Any, allowed: tuple[str, ...]) -> str | None:
    text = _require_str(parameter, value, "a string")
    if not text:
        return None
    for candidate in allowed:
        if candidate.casefold() == text.casefold():
            return candidate
    raise InvalidParameterError(parameter, value, "not an accepted value", allowed)


def _parse_tags(parameter: str, value: Any) -> dict[str, str] | None:
    if isinstance(value, str):
        if not value:
            return None
        _check_text(parameter, value, MAX_TAGS_TEXT_LENGTH)
        try:
            decoded = json.loads(value, parse_constant=_reject_constant)
        except (ValueError, RecursionError) as exc:
            raise InvalidParameterError(parameter, value, "expected a JSON object") from exc
    else:
        decoded = value
    if not isinstance(decoded, Mapping):
        raise InvalidParameterError(parameter, value, "expected a JSON object of tag values")
    if len(decoded) > MAX_TAG_PAIRS:
        raise InvalidParameterError(parameter, value, f"more than {MAX_TAG_PAIRS} tags")
    tags: dict[str, str] = {}
    for key, raw in decoded.items():
        text = tag_value_text(raw)
        if not isinstance(key, str) or text is None:
            raise InvalidParameterError(
                parameter, value, "tag keys must be strings and tag values JSON scalars"
            )
        tags[_check_text(parameter, key, MAX_TEXT_LENGTH)] = _check_text(
            parameter, text, MAX_TEXT_LENGTH
        )
    return tags or None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


Parser = Callable[[str, Any], Any]


def _text(limit: int = MAX_TEXT_LENGTH) -> Parser:
    return lambda parameter, value: _parse_text(parameter, value, limit)


def _comma_list(element_limit: int = MAX_TEXT_LENGTH) -> Parser:
    return lambda parameter, value: _parse_list(parameter, value, element_limit)


def _integer(low: int, high: int) -> Parser:
    return lambda parameter, value: _parse_int(parameter, value, low, high)


def _enum(allowed: tuple[str, ...]) -> Parser:
    return lambda parameter, value: _parse_enum(parameter, value, allowed)


ParameterKind = Literal["text", "enum", "integer", "time", "list", "bool", "tags"]


@dataclass(frozen=True)
class Parameter:
    """How one request field is read: the kind of value it holds and the parser of its values.

    Each field of :class:`ListJobsRequest` carries one as ``Annotated`` metadata (through the
    field types below) and its wire name as its alias. :data:`PARAMETERS` and
    :data:`PARAMETER_KINDS` are read from the fields, so a parameter is declared once, on the
    model, and the command line's options follow from it.
    """

    kind: ParameterKind
    parse: Parser


# The field types of the request: the value type, then how its wire value is parsed.
Text = Annotated[str | None, Parameter("text", _text())]
TextList = Annotated[tuple[str, ...] | None, Parameter("list", _comma_list())]
NameList = Annotated[tuple[str, ...] | None, Parameter("list", _comma_list(MAX_ENUM_TEXT_LENGTH))]
Flag = Annotated[bool | None, Parameter("bool", _parse_bool)]
Time = Annotated[datetime | None, Parameter("time", _parse_time)]
TagMap = Annotated[dict[str, str] | None, Parameter("tags", _parse_tags)]
Int64 = Annotated[int | None, Parameter("integer", _integer(INT64_MIN, INT64_MAX))]
PageNumber = Annotated[int | None, Parameter("integer", _integer(PAGE_NUMBER_MIN, PAGE_NUMBER_MAX))]
PageSize = Annotated[int | None, Parameter("integer", _integer(PAGE_SIZE_MIN, PAGE_SIZE_MAX))]
SearchMode = Annotated[str | None, Parameter("enum", _enum(DISPLAY_NAME_SEARCH_MODES))]
NumericField = Annotated[str | None, Parameter("enum", _enum(NUMERIC_FIELDS))]
SortOrder = Annotated[str | None, Parameter("enum", _enum(ORDERS))]
SortKey = Annotated[str | None, Parameter("enum", _enum(SORT_KEYS))]
TimeField = Annotated[str | None, Parameter("enum", _enum(TIME_FIELDS))]
Token = Annotated[str | None, Parameter("text", _text(MAX_TOKEN_LENGTH))]


class ListJobsRequest(BaseModel):
    """A validated ListJobs request (all 37 parameters of the API, plus ``NextToken``).

    Build it from a wire mapping with :meth:`from_wire` (strings as decoded from a query
    string; unknown names ignored, empty values absent) or from typed keyword values
    (snake_case names or PascalCase wire names). Invalid values raise
    :class:`~jobquery.errors.InvalidParameterError`. Each field is one parameter: its alias is
    the wire name, its type says how a value is parsed (see :class:`Parameter`).

    Examples
    --------
    >>> ListJobsRequest.from_wire({"DisplayName": "mnist", "PageSize": "20", "ShowOwn": "True"})
    ... # doctest: +SKIP
    >>> ListJobsRequest(display_name="mnist", page_size=20, status=["Running", "Failed"])
    ... # doctest: +SKIP
    """

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="forbid")

    accessibility: Text = Field(None, alias="Accessibility")
    business_user_id: Text = Field(None, alias="BusinessUserId")
    caller: Text = Field(None, alias="Caller")
    description: Text = Field(None, alias="Description")
    display_name: Text = Field(None, alias="DisplayName")
    display_name_search_mode: SearchMode = Field(None, alias="DisplayNameSearchMode")
    enable_assign_node: Flag = Field(None, alias="EnableAssignNode")
    end_time: Time = Field(None, alias="EndTime")
    from_all_workspaces: Flag = Field(None, alias="FromAllWorkspaces")
    image_search: Text = Field(None, alias="ImageSearch")
    job_id: Text = Field(None, alias="JobId")
    job_ids: TextList = Field(None, alias="JobIds")
    job_type: NameList = Field(None, alias="JobType")
    numeric_range_field: NumericField = Field(None, alias="NumericRangeField")
    numeric_range_max: Int64 = Field(None, alias="NumericRangeMax")
    numeric_range_min: Int64 = Field(None, alias="NumericRangeMin")
    order: SortOrder = Field(None, alias="Order")
    oversold_info: Text = Field(None, alias="OversoldInfo")
    page_number: PageNumber = Field(None, alias="PageNumber")
    page_size: PageSize = Field(None, alias="PageSize")
    payment_type: Text = Field(None, alias="PaymentType")
    pipeline_id: Text = Field(None, alias="PipelineId")
    reason_search: Text = Field(None, alias="ReasonSearch")
    resource_id: Text = Field(None, alias="ResourceId")
    resource_ids: TextList = Field(None, alias="ResourceIds")
    resource_quota_name: Text = Field(None, alias="ResourceQuotaName")
    show_own: Flag = Field(None, alias="ShowOwn")
    sort_by: SortKey = Field(None, alias="SortBy")
    start_time: Time = Field(None, alias="StartTime")
    status: NameList = Field(None, alias="Status")
    tags: TagMap = Field(None, alias="Tags")
    template_id: Text = Field(None, alias="TemplateId")
    time_range_field: TimeField = Field(None, alias="TimeRangeField")
    user_command_search: Text = Field(None, alias="UserCommandSearch")
    user_id_for_filter: Text = Field(None, alias="UserIdForFilter")
    username: Text = Field(None, alias="Username")
    workspace_id: Text = Field(None, alias="WorkspaceId")
    # Extension (not a PAI-DLC parameter): keyset paging, see jobquery.index_engine.page.
    next_token: Token = Field(None, alias="NextToken")

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise _unwrap(exc) from None

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate(obj, **kwargs)
        except ValidationError as exc:
            raise _unwrap(exc) from None

    @classmethod
    def from_wire(cls, query: Mapping[str, Any]) -> Self:
        """Build a request from a decoded query string.

        Parameters
        ----------
        query : mapping of str to str (or to a list of str)
            Wire names (``PageSize``) to values. A list of values means the name was repeated;
            the last one wins. Unknown names are ignored; empty values mean absent.
        """
        known: dict[str, Any] = {}
        for name, given in query.items():
            if name in PARAMETERS:
                if isinstance(given, list | tuple):
                    if given:  # a repeated name: the last occurrence wins
                        known[name] = given[-1]
                else:
                    known[name] = given
        return cls.model_validate(known)

    @classmethod
    def parse(cls, request: ListJobsRequest | Mapping[str, Any] | None) -> ListJobsRequest:
        """Accept what the public API accepts: a request, a wire mapping, or None (no filters)."""
        if request is None:
            return cls()
        if isinstance(request, ListJobsRequest):
            return request
        if isinstance(request, Mapping):
            return cls.from_wire(request)
        raise TypeError(f"expected a ListJobsRequest or a mapping, not {type(request).__name__}")

    @model_validator(mode="before")
    @classmethod
    def _parse_values(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            raise TypeError("a ListJobsRequest is built from a mapping of parameters")
        parsed: dict[str, Any] = {}
        for name, value in data.items():
            if name in PARAMETERS:
                field, parser = PARAMETERS[name]
                wire = name
            elif name in _WIRE_NAME:
                field, wire = name, _WIRE_NAME[name]
                parser = PARAMETERS[wire][1]
            else:
                raise TypeError(f"ListJobsRequest has no parameter {name!r}")
            if field in parsed:
                raise TypeError(f"parameter {wire} given twice")
            parsed[field] = None if value is None else parser(wire, value)
        return parsed

    @model_validator(mode="after")
    def _check_pairings(self) -> Self:
        has_bound = self.numeric_range_min is not None or self.numeric_range_max is not None
        if self.numeric_range_field is not None and not has_bound:
            raise InvalidParameterError(
                "NumericRangeField",
                self.numeric_range_field,
                "needs NumericRangeMin or NumericRangeMax",
            )
        if self.numeric_range_field is None and has_bound:
            bound = "NumericRangeMin" if self.numeric_range_min is not None else "NumericRangeMax"
            value = self.numeric_range_min if bound == "NumericRangeMin" else self.numeric_range_max
            raise InvalidParameterError(bound, value, "needs NumericRangeField")
        if self.from_all_workspaces and not self.show_own:
            raise InvalidParameterError(
                "FromAllWorkspaces", "true", "must be used together with ShowOwn=true"
            )
        return self

    def to_wire(self) -> dict[str, str]:
        """The request as wire strings, as the SDK would send it (absent parameters omitted)."""
        wire: dict[str, str] = {}
        for field, value in self:
            if value is None:
                continue
            name = _WIRE_NAME[field]
            if isinstance(value, bool):
                wire[name] = "true" if value else "false"
            elif isinstance(value, datetime):
                wire[name] = format_timestamp(value)
            elif isinstance(value, tuple):
                wire[name] = ",".join(value)
            elif isinstance(value, dict):
                wire[name] = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
            else:
                wire[name] = str(value)
        return wire

    @staticmethod
    def wire_name(field: str) -> str:
        """The PascalCase wire name of a field (``page_size`` → ``PageSize``)."""
        return _WIRE_NAME[field]


def _declared_parameters() -> dict[str, tuple[str, Parameter]]:
    """Wire name → (field name, :class:`Parameter`), in the order of the model's fields."""
    table: dict[str, tuple[str, Parameter]] = {}
    for field, info in ListJobsRequest.model_fields.items():
        declared = [item for item in info.metadata if isinstance(item, Parameter)]
        if info.alias is None or len(declared) != 1:
            raise TypeError(f"ListJobsRequest.{field} needs a wire name and one Parameter")
        table[info.alias] = (field, declared[0])
    return table


_DECLARED = _declared_parameters()
#: Wire name → (field name, parser): every request parameter, read from the model's fields (a
#: test checks it against the API's table, ``data/fixtures/listjobs_params.json``).
PARAMETERS: dict[str, tuple[str, Parser]] = {
    wire: (field, parameter.parse) for wire, (field, parameter) in _DECLARED.items()
}
#: Wire name → the kind of value the parameter holds (what the command line's option takes).
PARAMETER_KINDS: dict[str, ParameterKind] = {
    wire: parameter.kind for wire, (_, parameter) in _DECLARED.items()
}
_WIRE_NAME = {field: wire for wire, (field, _) in PARAMETERS.items()}


def _unwrap(exc: ValidationError) -> Exception:
    """Turn pydantic's wrapper back into the error our parsers raised (or a TypeError)."""
    for error in exc.errors():
        original = (error.get("ctx") or {}).get("error")
        if isinstance(original, InvalidParameterError | TypeError):
            return original
    first = exc.errors()[0]
    location = ".".join(str(part) for part in first.get("loc", ()))
    if location in _WIRE_NAME or location in PARAMETERS:
        wire = _WIRE_NAME.get(location, location)
        return InvalidParameterError(wire, first.get("input"), first.get("msg", "invalid value"))
    return TypeError(f"invalid ListJobsRequest: {first.get('msg')} ({location or 'request'})")
