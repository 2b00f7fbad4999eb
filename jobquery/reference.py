"""The naive oracle: ListJobs answered by plain Python over a list of job dicts.

This module is written straight from ``spec/listjobs.md`` and ``docs/semantics.md``, one small
function per rule, and is meant to be read next to them. It is slow on purpose (every query
looks at every job, casefolds every string, tokenizes every text) and shares no code with the
engine: the only project modules it uses are the request model (:mod:`jobquery.request`) and the
errors (:mod:`jobquery.errors`). It imports neither Polars nor Arrow. The differential tests
hold the engine (:class:`jobquery.store.JobStore`) to the answers given here.

Not covered: ``NextToken`` (keyset paging is an engine extension); offset paging only.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from jobquery.errors import DumpFormatError, InvalidParameterError, new_request_id
from jobquery.request import Caller, ListJobsRequest, parse_timestamp, tag_value_text

DEFAULT_WINDOW = timedelta(days=7)
DEFAULT_TIME_FIELD = "GmtCreateTime"
DEFAULT_SORT_BY = "GmtCreateTime"
DEFAULT_ORDER = "desc"
DEFAULT_PAGE_SIZE = 10
DEFAULT_PAGE_NUMBER = 1
DEFAULT_SEARCH_MODE = "wildcard"

Job = dict[str, Any]
Filter = Callable[[Job, ListJobsRequest], bool]

# ---------------------------------------------------------------------------------------------
# Reading values from a stored job (semantics.md, "Values read from a stored job").


def _text(value: Any) -> str | None:
    """A string field is present only as a non-empty JSON string."""
    return value if isinstance(value, str) and value else None


def _object(value: Any) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None


def _array(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def _is_true(value: Any) -> bool:
    """A boolean is true only when the JSON value is ``true`` (not ``"true"``, not ``1``)."""
    return value is True


def _settings_text(job: Job, key: str) -> str | None:
    settings = _object(job.get("Settings"))
    return None if settings is None else _text(settings.get(key))


def _job_specs(job: Job) -> list[Mapping[str, Any]]:
    """The roles of a job; a non-array ``JobSpecs`` and non-object elements are skipped."""
    return [spec for spec in _array(job.get("JobSpecs")) if isinstance(spec, Mapping)]


def _time(job: Job, field: str) -> datetime | None:
    text = _text(job.get(field))
    return None if text is None else parse_timestamp(text)


_DECIMAL_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")


def _number(value: Any) -> float | None:
    """A JSON number (not a boolean) or a decimal string, as an IEEE double; else None.

    Non-finite floats are not JSON numbers, so they count as missing too. The decimal text is
    read exactly and then rounded once to the nearest double (docs/semantics.md).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return float(Decimal(value))
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str) and _DECIMAL_NUMBER.fullmatch(value):
        return float(Decimal(value))
    return None


def _accessibility(job: Job) -> str:
    """``Accessibility``, where a missing value counts as ``PUBLIC``."""
    return _text(job.get("Accessibility")) or "PUBLIC"


def oversold_label(job: Job) -> str | None:
    """The ``OversoldInfo`` label a job answers to, or None when it has none."""
    kind = _settings_text(job, "OversoldType")
    if kind is None:
        for spec in _job_specs(job):
            kind = _text(spec.get("OversoldType"))
            if kind is not None:
                break
    if kind is None:
        return None
    if kind.casefold() == "AcceptQuotaOverSold".casefold():
        used = _is_true(job.get("UseOversoldResource"))
        return "AcceptQuotaOverSold-true" if used else "AcceptQuotaOverSold-false"
    return kind


def payment_label(job: Job) -> str:
    """The ``PaymentType`` label a job answers to: ``Spot``, ``PrePaid`` or ``PostPaid``."""
    if any(_is_true(spec.get("UseSpotInstance")) for spec in _job_specs(job)):
        return "Spot"
    if _text(job.get("ResourceId")) is not None:
        return "PrePaid"
    return "PostPaid"


# ---------------------------------------------------------------------------------------------
# Full-text tokens (spec §3.5.7, semantics.md "Tokens").

_CJK_BLOCKS = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2FA1F))


def _is_cjk(char: str) -> bool:
    return any(low <= ord(char) <= high for low, high in _CJK_BLOCKS)


def tokens(text: str) -> list[str]:
    """Split text into search tokens.

    The text is casefolded; a token is a maximal run of characters for which ``str.isalnum``
    holds, except that a character of the CJK ideograph blocks is always a token of its own.
    """
    found: list[str] = []
    run = ""
    for char in text.casefold():
        if _is_cjk(char):
            if run:
                found.append(run)
                run = ""
            found.append(char)
        elif char.isalnum():
            run += char
        elif run:
            found.append(run)
            run = ""
    if run:
        found.append(run)
    return found


def _has_every_token(query: str, texts: Iterable[str]) -> bool:
    wanted = set(tokens(query))
    if not wanted:
        return False
    have: set[str] = set()
    for text in texts:
        have.update(tokens(text))
    return wanted <= have


# ---------------------------------------------------------------------------------------------
# Filters: one function per parameter (or pair of parameters). Each returns True when its
# parameter is absent. They are listed in the order of the table in semantics.md.


def _folds_equal(stored: str | None, wanted: str) -> bool:
    return stored is not None and stored.casefold() == wanted.casefold()


def _folds_contain(stored: str | None, wanted: str) -> bool:
    return stored is not None and wanted.casefold() in stored.casefold()


def _job_id(job: Job, request: ListJobsRequest) -> bool:
    job_id: str = job["JobId"]
    if request.job_id is not None:
        return _folds_contain(job_id, request.job_id)
    if request.job_ids is not None:
        return any(_folds_equal(job_id, wanted) for wanted in request.job_ids)
    return True


def _display_name(job: Job, request: ListJobsRequest) -> bool:
    if request.display_name is None:
        return True
    name = _text(job.get("DisplayName"))
    if name is None:
        return False
    stored, wanted = name.casefold(), request.display_name.casefold()
    mode = request.display_name_search_mode or DEFAULT_SEARCH_MODE
    if mode == "exact":
        return stored == wanted
    if mode == "prefix":
        return stored.startswith(wanted)
    return wanted in stored


def _substrings(job: Job, request: ListJobsRequest) -> bool:
    pairs = (
        (request.username, "Username"),
        (request.resource_quota_name, "ResourceQuotaName"),
        (request.description, "Description"),
    )
    return all(
        wanted is None or _folds_contain(_text(job.get(field)), wanted) for wanted, field in pairs
    )


def _any_of(job: Job, request: ListJobsRequest) -> bool:
    pairs = ((request.job_type, "JobType"), (request.status, "Status"))
    for wanted, field in pairs:
        if wanted is not None:
            stored = _text(job.get(field))
            if not any(_folds_equal(stored, element) for element in wanted):
                return False
    return True


def _accessibility_filter(job: Job, request: ListJobsRequest) -> bool:
    return request.accessibility is None or _folds_equal(_accessibility(job), request.accessibility)


def _workspace(job: Job, request: ListJobsRequest) -> bool:
    if request.workspace_id is None or request.from_all_workspaces:
        return True
    return _folds_equal(_text(job.get("WorkspaceId")), request.workspace_id)


def _equal_fields(job: Job, request: ListJobsRequest) -> bool:
    pairs = (
        (request.user_id_for_filter, _text(job.get("UserId"))),
        (request.resource_id, _text(job.get("ResourceId"))),
        (request.template_id, _text(job.get("TemplateId"))),
        (request.business_user_id, _settings_text(job, "BusinessUserId")),
        (request.caller, _settings_text(job, "Caller")),
        (request.pipeline_id, _settings_text(job, "PipelineId")),
    )
    return all(wanted is None or _folds_equal(stored, wanted) for wanted, stored in pairs)


def _resource_ids(job: Job, request: ListJobsRequest) -> bool:
    if request.resource_ids is None:
        return True
    stored = _text(job.get("ResourceId"))
    return any(_folds_equal(stored, wanted) for wanted in request.resource_ids)


def _derived_labels(job: Job, request: ListJobsRequest) -> bool:
    if request.oversold_info is not None and not _folds_equal(
        oversold_label(job), request.oversold_info
    ):
        return False
    return request.payment_type is None or _folds_equal(payment_label(job), request.payment_type)


def _assign_node(job: Job, request: ListJobsRequest) -> bool:
    if request.enable_assign_node is None:
        return True
    enabled = any(
        _is_true(assign.get("EnableAssignNode"))
        for spec in _job_specs(job)
        if (assign := _object(spec.get("AssignNodeSpec"))) is not None
    )
    return enabled == request.enable_assign_node


def _tags(job: Job, request: ListJobsRequest) -> bool:
    if not request.tags:
        return True
    settings = _object(job.get("Settings"))
    stored = None if settings is None else _object(settings.get("Tags"))
    if stored is None:
        return False
    return all(
        key in stored and tag_value_text(stored[key]) == wanted
        for key, wanted in request.tags.items()
    )


def _numeric_range(job: Job, request: ListJobsRequest) -> bool:
    if request.numeric_range_field is None:
        return True
    value = _number(job.get(request.numeric_range_field))
    if value is None:
        return False
    low, high = request.numeric_range_min, request.numeric_range_max
    return (low is None or float(low) <= value) and (high is None or value <= float(high))


def _full_text(job: Job, request: ListJobsRequest) -> bool:
    if request.image_search is not None:
        images = [image for spec in _job_specs(job) if (image := _text(spec.get("Image")))]
        if not any(_has_every_token(request.image_search, [image]) for image in images):
            return False
    if request.user_command_search is not None:
        command = _text(job.get("UserCommand"))
        if command is None or not _has_every_token(request.user_command_search, [command]):
            return False
    if request.reason_search is not None:
        reasons = [_text(job.get("ReasonCode")), _text(job.get("ReasonMessage"))]
        for entry in _array(job.get("StatusHistory")):
            if isinstance(entry, Mapping):
                reasons += [_text(entry.get("ReasonCode")), _text(entry.get("ReasonMessage"))]
        texts = [reason for reason in reasons if reason is not None]
        if not _has_every_token(request.reason_search, texts):
            return False
    return True


FILTERS: tuple[Filter, ...] = (
    _job_id,
    _display_name,
    _substrings,
    _any_of,
    _accessibility_filter,
    _workspace,
    _equal_fields,
    _resource_ids,
    _derived_labels,
    _assign_node,
    _tags,
    _numeric_range,
    _full_text,
)


# ---------------------------------------------------------------------------------------------
# Who may see what, the window, and the conditions every listing has.


def _check_show_own(request: ListJobsRequest, caller: Caller | None) -> None:
    if request.show_own and (caller is None or caller.user_id is None):
        raise InvalidParameterError(
            "ShowOwn", "true", "needs a caller with a user id to know whose jobs to show"
        )


def _is_owner(job: Job, caller: Caller) -> bool:
    return caller.user_id is not None and _text(job.get("UserId")) == caller.user_id


def _visible(job: Job, caller: Caller | None) -> bool:
    if caller is None or caller.is_admin:
        return True
    return _accessibility(job).casefold() != "private" or _is_owner(job, caller)


def _listed(
    job: Job,
    request: ListJobsRequest,
    window: tuple[datetime, datetime],
    caller: Caller | None,
) -> bool:
    if _is_true(job.get("IsDeleted")) or not _visible(job, caller):
        return False
    if request.show_own and (caller is None or not _is_owner(job, caller)):
        return False
    moment = _time(job, request.time_range_field or DEFAULT_TIME_FIELD)
    if moment is None or not window[0] <= moment <= window[1]:
        return False
    return all(check(job, request) for check in FILTERS)


# ---------------------------------------------------------------------------------------------
# Order (spec §3.5.8, semantics.md "Order and pages"). A missing value is (False, ...), which
# sorts before every present value (True, ...).

TextKey = tuple[bool, str, str]
TimeKey = tuple[bool, datetime]
SortKey = tuple[TextKey | TimeKey, TimeKey, TextKey]

_NO_TIME = datetime.min.replace(tzinfo=UTC)


def _text_key(value: str | None) -> TextKey:
    return (False, "", "") if value is None else (True, value.casefold(), value)


def _time_key(value: datetime | None) -> TimeKey:
    return (False, _NO_TIME) if value is None else (True, value)


def sort_key(job: Job, sort_by: str) -> SortKey:
    """The whole sort key of a job: the ``SortBy`` value, then ``GmtCreateTime``, then ``JobId``."""
    primary: TextKey | TimeKey
    if sort_by in ("DisplayName", "JobType", "Status"):
        primary = _text_key(_text(job.get(sort_by)))
    else:
        primary = _time_key(_time(job, sort_by))
    return primary, _time_key(_time(job, "GmtCreateTime")), _text_key(job["JobId"])


# ---------------------------------------------------------------------------------------------
# The snapshot: one record per JobId.


def _unique_jobs(records: Iterable[Mapping[str, Any]]) -> list[Job]:
    """Keep one record per JobId: the latest ``GmtModifiedTime`` wins, on a tie the later one.

    A missing or unparseable ``GmtModifiedTime`` is older than any time.
    """
    chosen: dict[str, Job] = {}
    for index, record in enumerate(records):
        job = record if isinstance(record, dict) else dict(record)
        job_id = _text(job.get("JobId"))
        if job_id is None:
            raise DumpFormatError("<records>", "a job needs a non-empty string JobId", record=index)
        previous = chosen.get(job_id)
        if previous is None or _time_key(_time(job, "GmtModifiedTime")) >= _time_key(
            _time(previous, "GmtModifiedTime")
        ):
            chosen[job_id] = job
    return list(chosen.values())


def _utc(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


# ---------------------------------------------------------------------------------------------
# The two entry points.


def query(
    records: Iterable[Mapping[str, Any]],
    request: ListJobsRequest | Mapping[str, Any] | None = None,
    *,
    now: datetime | None = None,
    caller: Caller | None = None,
) -> list[Job]:
    """Every job that matches ``request``, in result order, unpaged.

    Takes the same arguments as :func:`list_jobs` (without ``request_id``); ``PageSize`` and
    ``PageNumber`` are ignored.
    """
    parsed = ListJobsRequest.parse(request)
    _check_show_own(parsed, caller)
    moment = _utc(now)
    floor = datetime.min.replace(tzinfo=UTC)  # no earlier time exists
    default_start = moment - DEFAULT_WINDOW if moment - floor >= DEFAULT_WINDOW else floor
    window = (parsed.start_time or default_start, parsed.end_time or moment)
    matches = [job for job in _unique_jobs(records) if _listed(job, parsed, window, caller)]
    sort_by = parsed.sort_by or DEFAULT_SORT_BY
    descending = (parsed.order or DEFAULT_ORDER) == "desc"
    return sorted(matches, key=lambda job: sort_key(job, sort_by), reverse=descending)


def list_jobs(
    records: Iterable[Mapping[str, Any]],
    request: ListJobsRequest | Mapping[str, Any] | None = None,
    *,
    now: datetime | None = None,
    caller: Caller | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """Answer a ListJobs request over job records, the slow and obvious way.

    Parameters
    ----------
    records : iterable of mapping
        Wire-shaped job records (PascalCase keys). Every record needs a non-empty string
        ``JobId``; of records sharing a ``JobId`` the one with the latest ``GmtModifiedTime``
        is kept (on a tie, the later record).
    request : ListJobsRequest or mapping, optional
        A typed request or a wire mapping of strings (as decoded from a query string).
        None means no parameters at all.
    now : datetime, optional
        The clock for the default window (``now - 7 days`` to ``now``); a naive datetime is
        read as UTC. Defaults to the current UTC time.
    caller : Caller, optional
        Who asks. None acts with administrator visibility; ``ShowOwn=true`` needs a caller
        with a user id.
    request_id : str, optional
        The ``RequestId`` of the answer; a fresh upper-case UUID4 by default.

    Returns
    -------
    dict
        ``{"Jobs": [...], "TotalCount": n, "RequestId": "..."}``. ``Jobs`` holds the given
        record objects themselves, unchanged; ``TotalCount`` counts every visible match.

    Raises
    ------
    InvalidParameterError
        For an invalid request, and for ``ShowOwn=true`` without a caller user id.
    DumpFormatError
        For a record without a ``JobId``.

    Examples
    --------
    >>> from datetime import datetime, UTC
    >>> jobs = [{"JobId": "dlc-1", "DisplayName": "job-Test",
    ...          "GmtCreateTime": "2026-11-28T10:00:00Z"}]
    >>> list_jobs(jobs, {"DisplayName": "test"}, now=datetime(2026, 11, 29, tzinfo=UTC),
    ...           request_id="R")["TotalCount"]
    1
    """
    parsed = ListJobsRequest.parse(request)
    matches = query(records, parsed, now=now, caller=caller)
    size = parsed.page_size or DEFAULT_PAGE_SIZE
    start = ((parsed.page_number or DEFAULT_PAGE_NUMBER) - 1) * size
    return {
        "Jobs": matches[start : start + size],
        "TotalCount": len(matches),
        "RequestId": request_id or new_request_id(),
    }
