"""Request bounds: every value at its limit is answered, one past it is refused.

The limits live in ``jobquery.request`` (``MAX_TEXT_LENGTH``, ``MAX_ENUM_TEXT_LENGTH``,
``MAX_LIST_ITEMS``, ``MAX_TAG_PAIRS``, ``MAX_TAGS_TEXT_LENGTH``, ``MAX_TOKEN_LENGTH``, the page
and int64 ranges); ``docs/promises.md`` lists them with their values. A refusal is an
``InvalidParameterError`` naming the parameter, whose message stays short however long the
value was. The largest legal request (every filter at its maximal size) is answered; its cost on
a million jobs is measured by ``benchmarks/bench_largest_request.py``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from typing import Any

import pytest

from jobquery import InvalidParameterError, ListJobsRequest
from jobquery.request import (
    INT64_MAX,
    INT64_MIN,
    MAX_ENUM_TEXT_LENGTH,
    MAX_LIST_ITEMS,
    MAX_TAG_PAIRS,
    MAX_TAGS_TEXT_LENGTH,
    MAX_TEXT_LENGTH,
    MAX_TOKEN_LENGTH,
    PAGE_NUMBER_MAX,
    PAGE_SIZE_MAX,
    PARAMETERS,
)
from jobquery.store import JobStore

NOW = datetime(2026, 11, 29, tzinfo=UTC)

#: Free-text parameters and their limits (in characters, i.e. code points).
TEXT_LIMITS = {
    "Accessibility": MAX_TEXT_LENGTH,
    "BusinessUserId": MAX_TEXT_LENGTH,
    "Caller": MAX_TEXT_LENGTH,
    "Description": MAX_TEXT_LENGTH,
    "DisplayName": MAX_TEXT_LENGTH,
    "ImageSearch": MAX_TEXT_LENGTH,
    "JobId": MAX_TEXT_LENGTH,
    "OversoldInfo": MAX_TEXT_LENGTH,
    "PaymentType": MAX_TEXT_LENGTH,
    "PipelineId": MAX_TEXT_LENGTH,
    "ReasonSearch": MAX_TEXT_LENGTH,
    "ResourceId": MAX_TEXT_LENGTH,
    "ResourceQuotaName": MAX_TEXT_LENGTH,
    "TemplateId": MAX_TEXT_LENGTH,
    "UserCommandSearch": MAX_TEXT_LENGTH,
    "UserIdForFilter": MAX_TEXT_LENGTH,
    "Username": MAX_TEXT_LENGTH,
    "WorkspaceId": MAX_TEXT_LENGTH,
    "NextToken": MAX_TOKEN_LENGTH,
}
#: Comma-list parameters and the limit of each element.
LIST_LIMITS = {
    "JobIds": MAX_TEXT_LENGTH,
    "ResourceIds": MAX_TEXT_LENGTH,
    "JobType": MAX_ENUM_TEXT_LENGTH,
    "Status": MAX_ENUM_TEXT_LENGTH,
}
#: One-, two-, three- and four-byte characters: limits count characters, not bytes.
CHARACTERS = ("a", "é", "训", "😀")


@cache
def store() -> JobStore:
    return JobStore.from_records(
        [
            {
                "JobId": f"dlc-{index}",
                "DisplayName": "mnist",
                "Status": "Running",
                "GmtCreateTime": "2026-11-28T00:00:00Z",
                "Settings": {"Tags": {"team": "rec"}},
            }
            for index in range(5)
        ]
    )


def answered(wire: dict[str, Any]) -> int:
    response = store().list_jobs(wire, now=NOW)
    return response.total_count


def refused(wire: dict[str, Any]) -> InvalidParameterError:
    with pytest.raises(InvalidParameterError) as error:
        store().list_jobs(wire, now=NOW)
    assert len(error.value.message) < 500, "the message must not echo a huge value"
    return error.value


def test_every_parameter_is_covered_by_a_bound() -> None:
    bounded = {
        *TEXT_LIMITS,
        *LIST_LIMITS,
        "Tags",
        "PageSize",
        "PageNumber",
        "NumericRangeMin",
        "NumericRangeMax",
        "StartTime",
        "EndTime",
        # enumerations and booleans: a closed set of short values
        "DisplayNameSearchMode",
        "NumericRangeField",
        "Order",
        "SortBy",
        "TimeRangeField",
        "EnableAssignNode",
        "FromAllWorkspaces",
        "ShowOwn",
    }
    assert bounded == set(PARAMETERS)


@pytest.mark.parametrize("character", CHARACTERS)
@pytest.mark.parametrize(("parameter", "limit"), TEXT_LIMITS.items(), ids=list(TEXT_LIMITS))
def test_text_at_its_limit_is_answered_and_one_past_it_refused(
    parameter: str, limit: int, character: str
) -> None:
    if parameter == "NextToken":
        # a token of legal length is then checked as a token: refused, but not for its length
        try:
            answered({parameter: character * limit})
        except InvalidParameterError as not_a_token:
            assert not_a_token.parameter == parameter
            assert "longer than" not in not_a_token.message
    else:
        answered({parameter: character * limit})
    assert refused({parameter: character * (limit + 1)}).parameter == parameter
    assert refused({parameter: character * 1_000_000}).parameter == parameter
    with pytest.raises(InvalidParameterError) as typed:
        ListJobsRequest(**{PARAMETERS[parameter][0]: character * (limit + 1)})
    assert typed.value.parameter == parameter


@pytest.mark.parametrize(("parameter", "limit"), LIST_LIMITS.items(), ids=list(LIST_LIMITS))
def test_comma_lists_at_their_limits_are_answered_and_past_them_refused(
    parameter: str, limit: int
) -> None:
    # MAX_LIST_ITEMS elements of the longest legal length: answered
    longest = [f"{index:04d}".ljust(limit, "x") for index in range(MAX_LIST_ITEMS)]
    answered({parameter: ",".join(longest)})
    # one element more: refused, as a string and as a repeated parameter (the last one counts)
    assert refused({parameter: ",".join([*longest, "y"])}).parameter == parameter
    assert refused({parameter: ["a", ",".join([*longest, "y"])]}).parameter == parameter
    # one element one character too long: refused
    assert refused({parameter: "a," + "y" * (limit + 1)}).parameter == parameter
    # empty elements and spaces around elements do not count
    padded = ", ,".join(f"{index}" for index in range(MAX_LIST_ITEMS))
    answered({parameter: padded + ",,,"})
    # typed lists follow the same rule
    with pytest.raises(InvalidParameterError):
        ListJobsRequest(**{PARAMETERS[parameter][0]: [f"{i}" for i in range(MAX_LIST_ITEMS + 1)]})


def test_a_comma_list_text_past_its_total_length_is_refused_before_it_is_split() -> None:
    # a million commas: no element, but far past MAX_LIST_ITEMS x (limit + 1) characters
    assert refused({"JobIds": "," * 2_000_000}).parameter == "JobIds"
    assert refused({"Status": "a," * 40_000}).parameter == "Status"


def tags(count: int, key_length: int = 8, value_length: int = 8) -> str:
    return json.dumps(
        {f"{index:03d}".ljust(key_length, "k"): "v" * value_length for index in range(count)}
    )


def test_tags_at_their_limits_are_answered_and_past_them_refused() -> None:
    answered({"Tags": tags(MAX_TAG_PAIRS)})
    assert refused({"Tags": tags(MAX_TAG_PAIRS + 1)}).parameter == "Tags"
    answered({"Tags": tags(1, MAX_TEXT_LENGTH, MAX_TEXT_LENGTH)})
    assert refused({"Tags": tags(1, MAX_TEXT_LENGTH + 1)}).parameter == "Tags"
    assert refused({"Tags": tags(1, 8, MAX_TEXT_LENGTH + 1)}).parameter == "Tags"
    # the text itself: MAX_TAGS_TEXT_LENGTH characters at most, whitespace included
    longest = tags(40, 1000, 1000)
    assert len(longest) > MAX_TAGS_TEXT_LENGTH
    assert refused({"Tags": longest}).parameter == "Tags"
    fits = json.dumps({"k": "v"}).ljust(MAX_TAGS_TEXT_LENGTH)
    answered({"Tags": fits})
    assert refused({"Tags": fits + " "}).parameter == "Tags"
    with pytest.raises(InvalidParameterError):
        ListJobsRequest(tags={f"k{index}": "v" for index in range(MAX_TAG_PAIRS + 1)})


def test_deeply_nested_tags_are_refused_without_a_crash() -> None:
    for text in ("[" * (MAX_TAGS_TEXT_LENGTH - 1), '{"a":' * 10_000, "[" * 1_000_000):
        assert refused({"Tags": text}).parameter == "Tags"


INTEGER_BOUNDS = {
    "PageSize": (1, PAGE_SIZE_MAX),
    "PageNumber": (1, PAGE_NUMBER_MAX),
    "NumericRangeMin": (INT64_MIN, INT64_MAX),
    "NumericRangeMax": (INT64_MIN, INT64_MAX),
}


@pytest.mark.parametrize(("parameter", "bounds"), INTEGER_BOUNDS.items(), ids=list(INTEGER_BOUNDS))
def test_integers_inside_their_range_are_answered_and_outside_refused(
    parameter: str, bounds: tuple[int, int]
) -> None:
    low, high = bounds
    paired = {"NumericRangeField": "RequestGPU"} if parameter.startswith("Numeric") else {}
    for value in (low, high, f"+{high}", "0" * (40 - len(str(high))) + str(high)):
        answered({**paired, parameter: str(value)})
    for value in (low - 1, high + 1, -(2**200), 2**200):
        assert refused({**paired, parameter: str(value)}).parameter == parameter
    assert refused({**paired, parameter: "0" * 41 + "1"}).parameter == parameter
    assert refused({**paired, parameter: "9" * 5000}).parameter == parameter


def test_the_page_bounds_have_their_documented_values() -> None:
    assert (PAGE_SIZE_MAX, PAGE_NUMBER_MAX) == (100, 2**31 - 1)
    assert (INT64_MIN, INT64_MAX) == (-(2**63), 2**63 - 1)
    assert (MAX_TEXT_LENGTH, MAX_ENUM_TEXT_LENGTH, MAX_LIST_ITEMS) == (1024, 32, 1000)
    assert (MAX_TAG_PAIRS, MAX_TAGS_TEXT_LENGTH, MAX_TOKEN_LENGTH) == (50, 64 * 1024, 4096)
    assert answered({"PageNumber": str(PAGE_NUMBER_MAX), "PageSize": "100"}) == 5


@pytest.mark.parametrize("parameter", ["StartTime", "EndTime"])
def test_timestamps_longer_than_64_characters_are_refused(parameter: str) -> None:
    answered({parameter: "2026-11-28T00:00:00." + "1" * 38 + "+08:00"})  # 64 characters
    assert refused({parameter: "2026-11-28T00:00:00." + "1" * 39 + "+08:00"}).parameter == parameter
    assert refused({parameter: "2026-11-28T00:00:00Z" + " " * 1_000_000}).parameter == parameter


def largest_legal_request(job_ids: list[str]) -> dict[str, str]:
    """Every parameter at its largest legal size (see the benchmark for its cost at 1M jobs)."""
    text = "x" * MAX_TEXT_LENGTH
    padded_ids = [job_ids[index % len(job_ids)] for index in range(MAX_LIST_ITEMS)]
    statuses = [f"Status{index:04d}".ljust(MAX_ENUM_TEXT_LENGTH, "s") for index in range(999)]
    return {
        **{name: text for name in TEXT_LIMITS if name not in ("JobId", "NextToken")},
        "JobIds": ",".join(padded_ids),
        "ResourceIds": ",".join(text[:-4] + f"{i:04d}" for i in range(MAX_LIST_ITEMS)),
        "JobType": ",".join(["PyTorchJob", *statuses]),
        "Status": ",".join(["Running", *statuses]),
        "Tags": tags(MAX_TAG_PAIRS, 600, 600),
        "DisplayNameSearchMode": "wildcard",
        "EnableAssignNode": "false",
        "StartTime": "1970-01-01T00:00:00Z",
        "EndTime": "2100-01-01T00:00:00Z",
        "TimeRangeField": "GmtCreateTime",
        "NumericRangeField": "RequestGPU",
        "NumericRangeMin": str(INT64_MIN),
        "NumericRangeMax": str(INT64_MAX),
        "SortBy": "DisplayName",
        "Order": "asc",
        "PageSize": str(PAGE_SIZE_MAX),
        "PageNumber": "1000",
    }


def test_the_largest_legal_request_is_answered() -> None:
    wire = largest_legal_request([f"dlc-{index}" for index in range(5)])
    assert sum(len(value) for value in wire.values()) > 100_000
    assert answered(wire) == 0
    assert answered({**wire, "JobId": "x" * MAX_TEXT_LENGTH}) == 0
    assert store().query(wire, now=NOW).height == 0
