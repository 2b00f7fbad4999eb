"""Every way ``list_jobs`` can find a page answers like the reference.

``jobquery.selection`` and ``jobquery.paginate`` choose between ways of computing the same rows
by size (postings or a window scan, a mask or a row list, a predicate tabulated on distinct
values or tested by Polars row by row, a walk down the rank order or a partition of the
matches); the generated job sets of ``test_differential`` are small, so on their own they
reach only the choices small sizes make. Here each choice is forced by setting the thresholds
to extremes, and the engine is checked against the reference (one page, then a walk through
all pages of a drawn order, by page number and by NextToken) under each.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from types import ModuleType
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import Case, cases
from test_differential import engine_page, outcome, reference_page, walk_pages
from test_page_tokens import walk

from jobquery import derived, paginate, reference, selection
from jobquery.derived import JobTexts
from jobquery.errors import InvalidParameterError
from jobquery.request import ORDERS, SORT_KEYS
from jobquery.store import JobStore

#: Threshold settings, each forcing one way; (module, name) -> value.
WAYS: dict[str, dict[tuple[ModuleType, str], Any]] = {
    "postings_of_few_codes_then_row_lists": {
        (selection, "POSTINGS_SHARE"): math.inf,
        (selection, "ROWS_SHARE"): math.inf,
        (selection, "MAX_TABLE_SHARE"): math.inf,
        (derived, "FEW_CODES"): 1 << 30,
    },
    "postings_of_many_codes_then_row_lists": {
        (selection, "POSTINGS_SHARE"): math.inf,
        (selection, "ROWS_SHARE"): math.inf,
        (selection, "MAX_TABLE_SHARE"): math.inf,
        (derived, "FEW_CODES"): 0,
    },
    "masks_counted_in_small_chunks_walking_the_rank_order": {
        (selection, "POSTINGS_SHARE"): -1.0,
        (selection, "ROWS_SHARE"): -1.0,
        (selection, "MAX_TABLE_SHARE"): math.inf,
        (selection, "CHUNK_ROWS"): 2,
        (paginate, "WALK_SHARE"): math.inf,
    },
    "masks_partitioning_the_ranks": {
        (selection, "FEW_COMPARISONS"): -1,
        (selection, "POSTINGS_SHARE"): -1.0,
        (selection, "ROWS_SHARE"): -1.0,
        (selection, "MAX_TABLE_SHARE"): math.inf,
        (paginate, "WALK_SHARE"): 0.0,
    },
    "polars_on_every_row_of_the_window": {
        (selection, "MAX_TABLE_SIZE"): 0,
        (selection, "ROWS_SHARE"): -1.0,
    },
    "polars_on_the_survivors_of_tabulated_predicates": {
        (selection, "MAX_TABLE_SHARE"): math.inf,
        (selection, "MAX_TABLE_SIZE"): 2,
        (selection, "ROWS_SHARE"): -1.0,
        (selection, "POLARS_ROWS_SHARE"): math.inf,
        (derived, "MAX_REMEMBERED"): 1,
    },
    "no_dictionaries": {
        (derived, "MAX_DISTINCT_SHARE"): -1.0,
        (derived, "MIN_ROWS_FOR_DISTINCT_LIMIT"): 0,
    },
}


#: The request parameters that are not filters, kept for the walk without filters.
UNFILTERED = ("SortBy", "Order", "PageSize", "TimeRangeField")


@contextmanager
def way(name: str) -> Iterator[None]:
    """Set the thresholds of one way for the duration of the block."""
    saved = {(module, attribute): getattr(module, attribute) for module, attribute in WAYS[name]}
    for (module, attribute), value in WAYS[name].items():
        setattr(module, attribute, value)
    try:
        yield
    finally:
        for (module, attribute), value in saved.items():
            setattr(module, attribute, value)


@pytest.mark.parametrize("name", list(WAYS))
@settings(max_examples=max(10, settings().max_examples // 3))
@given(
    case=cases(),
    sort_by=st.sampled_from(SORT_KEYS),
    order=st.sampled_from(ORDERS),
    page_size=st.integers(1, 4),
)
def test_every_way_of_finding_a_page_answers_like_the_reference(
    name: str, case: Case, sort_by: str, order: str, page_size: int
) -> None:
    with way(name):
        store = JobStore.from_records(case.jobs)
        expected = outcome(lambda: reference_page(case.wire, case))
        assert outcome(lambda: engine_page(store, case.wire, case)) == expected
        wire = {k: v for k, v in case.wire.items() if k != "PageNumber"}
        wire |= {"SortBy": sort_by, "Order": order, "PageSize": str(page_size)}
        try:
            found = reference.query(case.jobs, wire, now=case.now, caller=case.caller)
        except InvalidParameterError:
            return
        expected_ids = [job["JobId"] for job in found]
        walk_pages(store, wire, case, expected_ids)
        listed, totals = walk(store, wire, now=case.now, caller=case.caller)
        assert listed == expected_ids, "the NextToken pages differ"
        assert set(totals) == {len(expected_ids)}
        # the window alone, as an administrator: no filter left to apply
        bare = {k: v for k, v in wire.items() if k in ("StartTime", "EndTime", *UNFILTERED)}
        found = reference.query(case.jobs, bare, now=case.now)
        walk_pages(store, bare, replace(case, caller=None), [job["JobId"] for job in found])


def test_job_texts_reads_short_long_and_sliced_strings() -> None:
    texts = ["{}", "x" * 12, "y" * 13, '{"JobId": "a long enough job text"}', "ß" * 7]
    column = pl.concat([pl.Series(texts[:2]), pl.Series(texts[2:])], rechunk=False)
    for series, expected in ((column, texts), (column.slice(1, 3), texts[1:4])):
        reader = JobTexts.of(series)
        rows = list(reversed(range(len(expected))))
        assert [bytes(text).decode() for text in reader.take(rows)] == expected[::-1]
