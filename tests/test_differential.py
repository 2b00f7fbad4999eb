"""The engine against the reference: same page, same count, same order, same errors.

For generated job sets, requests, clocks and callers (``tests/helpers/strategies.py``), the Polars
engine (:class:`jobquery.store.JobStore`) must answer exactly like the naive oracle
(:mod:`jobquery.reference`): the same ``Jobs`` (same JSON values, types included), the same
``TotalCount``, and the same ``InvalidParameterError`` (naming the same parameter) when the
request is refused. ``tests/test_strategies.py`` shows that these cases are not vacuous: many
match something, sort keys tie, and results span several pages.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobquery import reference
from jobquery.errors import InvalidParameterError
from jobquery.request import ORDERS, SORT_KEYS, ListJobsRequest
from jobquery.store import JobStore
from tests.helpers.pages import engine_page, outcome, reference_page, walk_pages
from tests.helpers.strategies import RULE_FAMILIES, Case, cases, single_filter_cases, typed_request


@given(case=cases(), compress_texts=st.booleans())
def test_engine_answers_like_the_reference(case: Case, compress_texts: bool) -> None:
    """The page (for the wire and the typed form of the request) and the unpaged order.

    One test for the three checks, because building a store is most of the cost of a case.
    Half the stores keep their job texts compressed, which only changes how pages read them.
    """
    records_before = copy.deepcopy(case.jobs)
    typed = typed_request(case.wire)
    assert typed == ListJobsRequest.parse(case.wire), "the two forms must mean the same request"
    store = JobStore.from_records(case.jobs, compress_texts=compress_texts)

    for request in (case.wire, typed):
        expected = outcome(partial(reference_page, request, case))
        actual = outcome(partial(engine_page, store, request, case))
        assert actual == expected, f"the page differs for the {type(request).__name__} form"

    def engine_order() -> list[str]:
        frame = store.query(case.wire, now=case.now, caller=case.caller)
        return list(frame["JobId"].to_list())

    def reference_order() -> list[str]:
        found = reference.query(case.jobs, case.wire, now=case.now, caller=case.caller)
        return [job["JobId"] for job in found]

    assert outcome(engine_order) == outcome(reference_order), "JobStore.query order differs"
    assert case.jobs == records_before, "the engine changed the records it was given"


@pytest.mark.parametrize("family", sorted(RULE_FAMILIES))
@given(data=st.data())
def test_one_filter_alone_answers_like_the_reference(family: str, data: st.DataObject) -> None:
    """One filter of a rule family over a few jobs, every job in the window
    (``strategies.single_filter_cases``): the rules that decide few answers of the test above
    (casefolding, full-text tokens, numbers read from strings, tag texts, derived labels)
    decide all of these.
    """
    case = data.draw(single_filter_cases(RULE_FAMILIES[family]))
    store = JobStore.from_records(case.jobs)
    expected = outcome(partial(reference_page, case.wire, case))
    assert outcome(partial(engine_page, store, case.wire, case)) == expected


@settings(max_examples=max(5, settings().max_examples // 5))
@given(case=cases(), page_size=st.integers(1, 4), spelling=st.sampled_from((str, str.upper)))
def test_walking_the_pages_lists_each_match_once_in_order_for_every_sort(
    case: Case, page_size: int, spelling: Callable[[str], str]
) -> None:
    """For every ``SortBy`` and ``Order``: pages 1..k concatenated are the reference's order,
    without duplicates or gaps, and every page carries the full ``TotalCount``.

    A fifth of the profile's examples: each one walks 10 orderings.
    """
    store = JobStore.from_records(case.jobs)
    for sort_by in SORT_KEYS:
        for order in ORDERS:
            wire = {k: v for k, v in case.wire.items() if k != "PageNumber"}
            wire |= {"SortBy": spelling(sort_by), "Order": spelling(order)}
            wire["PageSize"] = str(page_size)
            try:
                found = reference.query(case.jobs, wire, now=case.now, caller=case.caller)
            except InvalidParameterError as error:
                with pytest.raises(InvalidParameterError) as raised:
                    store.list_jobs(wire, now=case.now, caller=case.caller)
                assert raised.value.parameter == error.parameter
                return
            walk_pages(store, wire, case, [job["JobId"] for job in found])


# ---------------------------------------------------------------------------------------------
# Disagreements found by the tests above, pinned as minimal examples until the engine is fixed.


def test_long_decimal_strings_compare_as_doubles_in_both() -> None:
    # docs/semantics.md: numbers compare as IEEE doubles; 2**53 + 1 rounds to 2**53
    jobs = [
        {"JobId": "big", "GmtCreateTime": "2026-11-27T00:00:00Z", "NodeCount": "9007199254740993"}
    ]
    request = {"NumericRangeField": "NodeCount", "NumericRangeMax": "9007199254740992"}
    now = datetime(2026, 11, 28, tzinfo=UTC)
    assert [job["JobId"] for job in reference.query(jobs, request, now=now)] == ["big"]
    assert JobStore.from_records(jobs).query(request, now=now)["JobId"].to_list() == ["big"]
