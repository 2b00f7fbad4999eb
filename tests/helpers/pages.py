"""Answers of the engine and of the reference, and walks through their pages.

Shared by the differential tests (``test_differential.py``, ``test_dataset_differential.py``)
and ``test_selection_paths.py``, which runs the same comparisons with the engine's thresholds
forced to extremes, and by the keyset tests (``test_page_tokens.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from jobquery import reference
from jobquery.errors import InvalidParameterError
from jobquery.index_engine.page_tokens import FIRST_PAGE
from jobquery.request import Caller
from jobquery.store import JobStore
from jobquery.synth import DEFAULT_END
from tests.helpers.jsonvalues import JsonValue
from tests.helpers.strategies import Case

Outcome = tuple[str, Any]


def outcome(answer: Callable[[], Any]) -> Outcome:
    """What a call gives: its answer as a JSON value, or the parameter its
    InvalidParameterError names. Two outcomes are equal when the answers are the same JSON
    values (``1``, ``1.0`` and ``True`` differ; object key order does not matter).

    Any other exception propagates and fails the test.
    """
    try:
        return "answer", JsonValue(answer())
    except InvalidParameterError as error:
        return "InvalidParameterError", error.parameter


def engine_page(store: JobStore, request: Any, case: Case) -> dict[str, Any]:
    response = store.list_jobs(request, now=case.now, caller=case.caller, request_id="X")
    return response.to_wire()


def reference_page(request: Any, case: Case) -> dict[str, Any]:
    return reference.list_jobs(case.jobs, request, now=case.now, caller=case.caller, request_id="X")


def walk_pages(store: JobStore, wire: dict[str, str], case: Case, expected: list[str]) -> None:
    """Read pages 1, 2, ... one past the last; they must concatenate to ``expected``."""
    page_size = int(wire["PageSize"])
    walked: list[str] = []
    last_page = -(-len(expected) // page_size)  # ceiling division
    for page_number in range(1, last_page + 2):
        request = {**wire, "PageNumber": str(page_number)}
        page = store.list_jobs(request, now=case.now, caller=case.caller)
        assert page.total_count == len(expected), f"TotalCount on page {page_number}"
        remaining = len(expected) - (page_number - 1) * page_size
        assert len(page.jobs) == max(0, min(page_size, remaining)), f"size of page {page_number}"
        walked += [job["JobId"] for job in page.jobs]
    assert len(walked) == len(set(walked)), "a job was listed on two pages"
    assert walked == expected


def walk(
    store: JobStore,
    wire: Mapping[str, str],
    *,
    now: datetime | None = DEFAULT_END,
    caller: Caller | None = None,
    sizes: list[int] | None = None,
) -> tuple[list[str], list[int]]:
    """Follow tokens from the first page to the last: the JobIds listed and each TotalCount."""
    request = {name: value for name, value in wire.items() if name != "PageNumber"}
    token, listed, totals = FIRST_PAGE, [], []
    for page in range(10_000):
        if sizes:
            request["PageSize"] = str(sizes[page % len(sizes)])
        response = store.list_jobs({**request, "NextToken": token}, now=now, caller=caller)
        listed += [job["JobId"] for job in response.jobs]
        totals.append(response.total_count)
        assert response.next_token is not None
        token = response.next_token
        if not token:
            return listed, totals
    raise AssertionError("the walk did not end")
