"""Every way ``list_jobs`` can find a page answers like the reference.

The select, order and page steps of ``jobquery.index_engine`` choose between ways of computing
the same rows by size (postings or a window scan, a mask or a row list, the unmerged postings
lists of a lone filter's kept codes, a predicate tabulated on distinct values or tested by
Polars row by row, a walk down the rank order or a partition of the matches); the generated job
sets of ``test_differential`` are small, so on their own they reach only the choices small sizes
make. Here each choice is forced by setting the thresholds to extremes, and the engine is
checked against the reference (one page, then a walk through all pages of a drawn order, by
page number and by NextToken) under each.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import numpy as np
import orjson
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobquery import reference, synth
from jobquery.errors import InvalidParameterError
from jobquery.index_engine import lookups
from jobquery.index_engine import order as ordering
from jobquery.index_engine import page as paging
from jobquery.index_engine import select as selection
from jobquery.index_engine.policy import DEFAULT_POLICY, SelectionPolicy
from jobquery.index_engine.select import Selection, select
from jobquery.plan import build_plan
from jobquery.plan.predicates import EqualsAny, MatchNothing, Substring, TagsContain, Visibility
from jobquery.plan.window import plan_scan
from jobquery.request import ORDERS, SORT_KEYS, Caller, ListJobsRequest
from jobquery.snapshot import ROW, derived
from jobquery.snapshot.text_bytes import JobTexts, ValueTexts
from jobquery.store import JobStore
from tests.helpers.pages import engine_page, outcome, reference_page, walk, walk_pages
from tests.helpers.strategies import Case, _filter_value, cases

#: Threshold settings, each forcing one way: fields of the policy and their values.
WAYS: dict[str, dict[str, Any]] = {
    "postings_of_few_codes_then_row_lists": {
        "postings_share": math.inf,
        "rows_share": math.inf,
        "max_table_share": math.inf,
        "few_codes": 1 << 30,
        "max_lists": -1,
    },
    "postings_of_many_codes_then_row_lists": {
        "postings_share": math.inf,
        "rows_share": math.inf,
        "max_table_share": math.inf,
        "few_codes": 0,
        "max_lists": -1,
    },
    "postings_of_many_codes_gathered_then_row_lists": {
        "postings_share": math.inf,
        "rows_share": math.inf,
        "max_table_share": math.inf,
        "few_codes": 0,
        "max_slices": 0,
        "max_lists": -1,
    },
    "masks_counted_in_small_chunks_walking_the_rank_order": {
        "postings_share": -1.0,
        "rows_share": -1.0,
        "max_table_share": math.inf,
        "count_chunk_rows": 2,
        "walk_share": math.inf,
        "max_lists": -1,
    },
    "masks_partitioning_the_ranks": {
        "few_comparisons": -1,
        "postings_share": -1.0,
        "rows_share": -1.0,
        "max_table_share": math.inf,
        "walk_share": 0.0,
        "max_lists": -1,
    },
    "postings_lists_walking_the_rank_order": {
        "max_lists": 1 << 30,
        "max_table_share": math.inf,
        "walk_share": math.inf,
    },
    "postings_lists_partitioning_the_ranks": {
        "max_lists": 1 << 30,
        "max_table_share": math.inf,
        "walk_share": 0.0,
    },
    "polars_on_every_row_of_the_window": {
        "max_table_size": 0,
        "rows_share": -1.0,
        "visibility_without_product": False,
    },
    "polars_on_the_survivors_of_tabulated_predicates": {
        "max_table_share": math.inf,
        "max_table_size": 2,
        "rows_share": -1.0,
        "polars_rows_share": math.inf,
        "visibility_without_product": False,
        "max_remembered": 1,
    },
    # visibility tested on the accessibility and user codes apart (their product too large),
    # on the window's rows and on the survivors of other filters
    "visibility_without_product": {
        "max_table_share": math.inf,
        "max_table_size": 2,
        "polars_rows_share": 0.5,
    },
    "tables_by_polars_queries": {
        "tables_by_numpy": False,
        "max_table_share": math.inf,
    },
    "tables_by_numpy_on_every_dictionary": {
        "max_numpy_values": 1 << 30,
        "max_table_share": math.inf,
        "postings_share": -1.0,
        "max_lists": -1,
    },
    "no_dictionaries": {
        "max_distinct_share": -1.0,
        "min_rows_for_distinct_limit": 0,
    },
    # columns without dictionary, as nearly unique ones are: the lookup indexes answer their
    # substrings, value lists and tag pairs, every trigram keeping postings
    "lookup_indexes_for_every_column": {
        "max_distinct_share": -1.0,
        "min_rows_for_distinct_limit": 0,
        "common_share": math.inf,
        "candidate_share": math.inf,
    },
    # ...built two rows at a time (many chunks), their candidates checked as if hashes
    # collided, nothing remembered
    "lookup_indexes_in_small_chunks_checked_as_if_hashes_collided": {
        "max_distinct_share": -1.0,
        "min_rows_for_distinct_limit": 0,
        "common_share": math.inf,
        "candidate_share": math.inf,
        "index_chunk_rows": 2,
        "assume_collisions": True,
        "max_remembered_rows": -1,
    },
    # ...their trigrams held by more than a third of the rows left without postings, the
    # lookups applied after other filters (the row lists and masks they leave), fetching
    # their rows and intersecting
    "lookup_indexes_without_common_trigrams_after_other_filters": {
        "max_distinct_share": -1.0,
        "min_rows_for_distinct_limit": 0,
        "common_share": 0.34,
        "candidate_share": math.inf,
        "rows_share": -1.0,
        "lookup_first": False,
        "survivors_share": -1.0,
    },
    # ...applied after other filters, testing each survivor against their postings
    "lookup_indexes_testing_the_survivors_of_other_filters": {
        "max_distinct_share": -1.0,
        "min_rows_for_distinct_limit": 0,
        "common_share": math.inf,
        "candidate_share": math.inf,
        "lookup_first": False,
        "survivors_share": math.inf,
    },
    "no_dictionaries_no_lookups": {
        "max_distinct_share": -1.0,
        "min_rows_for_distinct_limit": 0,
        "use_lookups": False,
    },
}


#: The request parameters that are not filters, kept for the walk without filters.
UNFILTERED = ("SortBy", "Order", "PageSize", "TimeRangeField")


def way(name: str | None) -> SelectionPolicy:
    """The policy forcing one way (None: the default policy)."""
    return DEFAULT_POLICY if name is None else replace(DEFAULT_POLICY, **WAYS[name])


# each of the ~13 ways gets a sixth of the profile's examples (50 under "ci", where the suite
# must stay under 10 minutes on two cores); the "long" profile gives each way 800
@pytest.mark.parametrize("name", list(WAYS))
@settings(max_examples=max(10, settings().max_examples // 6))
@given(
    case=cases(),
    sort_by=st.sampled_from(SORT_KEYS),
    order=st.sampled_from(ORDERS),
    page_size=st.integers(1, 4),
)
def test_every_way_of_finding_a_page_answers_like_the_reference(
    name: str, case: Case, sort_by: str, order: str, page_size: int
) -> None:
    policy = way(name)
    store = JobStore.from_records(case.jobs, policy=policy)
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


#: Filters on one column each, every one with a dictionary in a small snapshot: alone in a
#: request (with the GmtCreateTime window, a row range, and an administrator), the plan's only
#: predicate, so the selection is its kept codes' postings lists.
ONE_COLUMN_FILTERS = (
    "Status", "JobType", "WorkspaceId", "UserIdForFilter", "ResourceId", "Accessibility",
    "NumericRangeField", "PaymentType", "EnableAssignNode", "Username", "DisplayName",
)  # fmt: skip


@pytest.mark.parametrize(
    "name", ["postings_lists_walking_the_rank_order", "postings_lists_partitioning_the_ranks"]
)
@settings(max_examples=max(10, settings().max_examples // 4))
@given(case=cases(), data=st.data(), page_size=st.integers(1, 4))
def test_a_lone_filter_pages_from_its_postings_lists_like_the_reference(
    name: str, case: Case, data: st.DataObject, page_size: int
) -> None:
    """One filter alone, after some jobs were deleted from the store: the selection is its
    postings lists, and every page (past the last too, in both orders, by page number and by
    NextToken) is the reference's."""
    ids = [job["JobId"] for job in case.jobs]
    deleted = data.draw(st.lists(st.sampled_from(ids), unique=True) if ids else st.just([]))
    jobs = [job for job in case.jobs if job["JobId"] not in deleted]
    wire = {k: v for k, v in case.wire.items() if k in ("StartTime", "EndTime")}
    wire |= data.draw(_filter_value(data.draw(st.sampled_from(ONE_COLUMN_FILTERS)), case.jobs))
    # half of the time in row order, where pages are merged from the lists themselves
    sort_by = data.draw(st.sampled_from(("GmtCreateTime",) * len(SORT_KEYS) + SORT_KEYS))
    order = data.draw(st.sampled_from(ORDERS))
    wire |= {"SortBy": sort_by, "Order": order, "PageSize": str(page_size)}
    try:
        found = reference.query(jobs, wire, now=case.now)
    except InvalidParameterError:
        return
    expected = [job["JobId"] for job in found]
    admin = replace(case, jobs=jobs, caller=None)
    policy = way(name)
    store = JobStore.from_records(case.jobs, policy=policy)
    store.delete(deleted)
    snapshot = store.snapshot
    scan = plan_scan(build_plan(ListJobsRequest.parse(wire), now=case.now), snapshot)
    lone = len(scan.filters) == 1 and not isinstance(scan.filters[0], MatchNothing)
    if lone and scan.stop > scan.start:
        assert select(snapshot, scan, policy).lists is not None, "the postings lists were not used"
    walk_pages(store, wire, admin, expected)
    listed, totals = walk(store, wire, now=case.now)
    assert listed == expected, "the NextToken pages differ"
    assert set(totals) == {len(expected)}


@st.composite
def _disjoint_lists(draw: st.DrawFn) -> tuple[int, int, list[list[int]]]:
    """A row range and some ascending lists of distinct rows inside it (none empty)."""
    start = draw(st.integers(0, 50))
    stop = start + draw(st.integers(1, 300))
    rows = draw(st.lists(st.integers(start, stop - 1), unique=True, min_size=1, max_size=120))
    count = draw(st.integers(1, min(20, len(rows))))
    owner = draw(st.lists(st.integers(0, count - 1), min_size=len(rows), max_size=len(rows)))
    lists = [sorted(r for r, o in zip(rows, owner, strict=True) if o == k) for k in range(count)]
    return start, stop, [rows for rows in lists if rows]


def _as_arrays(lists: Sequence[list[int]]) -> tuple[np.ndarray, ...]:
    return tuple(np.asarray(rows, dtype=np.int64) for rows in lists)


@given(
    drawn=_disjoint_lists(),
    first=st.integers(0, 130),
    size=st.integers(1, 60),
    descending=st.booleans(),
    probes=st.lists(st.integers(-5, 400), max_size=30),
)
def test_postings_lists_count_page_and_test_rows_like_one_sorted_row_list(
    drawn: tuple[int, int, list[list[int]]],
    first: int,
    size: int,
    descending: bool,
    probes: list[int],
) -> None:
    """Deep pages (the bisection for the cut), many lists, and rows tested one by one."""
    start, stop, lists = drawn
    together = sorted(row for rows in lists for row in rows)
    selection = Selection(start, stop, lists=_as_arrays(lists))
    assert selection.count() == len(together)
    assert selection.to_rows().tolist() == together
    last = min(first + size, len(together))
    ordered = together[::-1] if descending else together
    chunk_rows = DEFAULT_POLICY.count_chunk_rows
    rows = selection.nth(first, last, descending=descending, chunk_rows=chunk_rows)
    assert rows.tolist() == ordered[first:last]
    tested = selection.contains(np.asarray(probes, dtype=np.int64)).tolist()
    assert tested == [probe in together for probe in probes]


#: Text values with what makes byte matching tricky: empty strings, nulls, shared prefixes,
#: multi-byte characters, a needle straddling two neighbouring values.
_TEXTS = st.lists(st.one_of(st.none(), st.text(alphabet="abß-λ\x00İ", max_size=6)), max_size=12)


@given(values=_TEXTS, needle=st.text(alphabet="abß-λ\x00İ", max_size=4), data=st.data())
def test_value_texts_match_like_polars(
    values: list[str | None], needle: str, data: st.DataObject
) -> None:
    """Substring, prefix and equality on the dictionary's bytes are Polars' on its strings."""
    series = pl.Series("v", values, dtype=pl.String)
    # a slice too: the Arrow offsets of a slice do not start at zero
    cut = data.draw(st.integers(0, len(values)))
    for column in (series, series.slice(cut)):
        texts = ValueTexts.of(column)
        frame = column.to_frame()

        def polars(expression: pl.Expr, frame: pl.DataFrame = frame) -> list[bool]:
            return frame.select(expression.fill_null(False)).to_series().to_list()

        text = pl.col("v").str
        assert texts.contains(needle).tolist() == polars(text.contains(needle, literal=True))
        assert texts.starts_with(needle).tolist() == polars(text.starts_with(needle))
        chosen = data.draw(
            st.lists(
                st.sampled_from([*values, needle, "a"]).filter(lambda value: value is not None),
                max_size=3,
            )
        )
        assert texts.equals_any(chosen).tolist() == polars(pl.col("v").is_in(chosen))


@pytest.mark.parametrize(
    "name",
    ["postings_of_many_codes_then_row_lists", "postings_of_many_codes_gathered_then_row_lists"],
)
def test_the_postings_of_many_codes_are_paged_in_row_order(name: str) -> None:
    """Users whose names hold an "a" (many codes, their postings interleaved in row order)
    selected first, then a status: the rows are gathered code by code and sorted only after
    the last filter; every page in both orders is the reference's."""
    jobs = [orjson.loads(text) for text in synth.generate_lines(400, seed=5)]
    now = datetime.fromisoformat(max(job["GmtCreateTime"] for job in jobs))
    store = JobStore.from_records(jobs, policy=way(name))
    for order in ORDERS:
        wire = {
            "Username": "a",
            "Status": "Running,Failed,Succeeded",
            "StartTime": "2000-01-01T00:00:00Z",
            "SortBy": "GmtCreateTime",
            "Order": order,
            "PageSize": "7",
        }
        expected = [job["JobId"] for job in reference.query(jobs, wire, now=now)]
        assert len(expected) > 20
        walk_pages(store, wire, Case(jobs, wire, now, None), expected)


@pytest.mark.parametrize(
    ("distinct", "kind"), [(3, np.uint8), (256, np.uint8), (257, np.uint16), (65_537, np.int32)]
)
def test_dictionary_codes_are_the_narrowest_type_and_name_each_row_value(
    distinct: int, kind: type[np.integer[Any]]
) -> None:
    values = [None, *(f"v{number}" for number in range(distinct - 1))]
    rows = 2 * distinct + 1
    live = pl.DataFrame({"x": [values[(7 * row) % distinct] for row in range(rows)]}).with_columns(
        pl.int_range(rows).alias(ROW)
    )
    found = derived._build_dictionary(live, "x", DEFAULT_POLICY)
    assert found is not None
    assert found.codes.dtype == kind
    assert found.values.to_series().gather(found.codes).to_list() == live["x"].to_list()


@pytest.mark.parametrize(
    "name", ["tables_by_numpy_on_every_dictionary", "visibility_without_product"]
)
def test_visibility_over_hundreds_of_users_pages_like_the_reference(name: str) -> None:
    """Visibility is tabulated on accessibility x user codes: with 256 users or more, a
    user's code no longer fits the byte an accessibility code is kept in, and their product
    must be computed wider; with too many users for their product, each column's codes are
    tested apart."""
    jobs = [orjson.loads(text) for text in synth.generate_lines(3000, seed=11)]
    users = sorted({job["UserId"] for job in jobs})
    assert len(users) > 256
    now = datetime.fromisoformat(max(job["GmtCreateTime"] for job in jobs))
    policy = way(name)
    store = JobStore.from_records(jobs, policy=policy)
    caller = Caller(user_id=users[-1], is_admin=False)
    wire = {"StartTime": "2000-01-01T00:00:00Z", "PageSize": "50", "SortBy": "GmtCreateTime"}
    expected = [job["JobId"] for job in reference.query(jobs, wire, now=now, caller=caller)]
    assert 0 < len(expected) < len(jobs)
    walk_pages(store, wire, Case(jobs, wire, now, caller), expected)
    step = selection.prepare(store.snapshot, Visibility(caller.user_id), 0, len(jobs), policy)
    assert (step.either is not None) == (name == "visibility_without_product")


@pytest.fixture(scope="module")
def real_like_jobs() -> list[dict[str, Any]]:
    """3,000 jobs of the high-cardinality profile: JobIds, names and tag lists nearly unique,
    so that those columns get no dictionary at the default thresholds."""
    return [
        orjson.loads(text)
        for text in synth.generate_lines(3000, seed=17, profile="high-cardinality")
    ]


def _requests_on_nearly_unique_columns(jobs: list[dict[str, Any]]) -> list[dict[str, str]]:
    one, other = jobs[10], jobs[2000]
    tags = one["Settings"]["Tags"]
    return [
        {"JobId": one["JobId"][-9:-3]},
        {"JobId": one["JobId"][-13:-10].upper()},  # three characters: one trigram, exact
        {"DisplayName": one["DisplayName"][-5:]},
        {"DisplayName": one["DisplayName"][:6], "DisplayNameSearchMode": "prefix"},
        {"DisplayName": other["DisplayName"], "DisplayNameSearchMode": "exact"},
        {"JobIds": ",".join(job["JobId"] for job in jobs[::97])},
        {"Tags": orjson.dumps({"run_id": tags["run_id"]}).decode()},
        {"Tags": orjson.dumps({"team": tags["team"], "experiment": tags["experiment"]}).decode()},
        {"Tags": orjson.dumps({"experiment": tags["experiment"], "Status": "x"}).decode()},
        {"JobId": "zzzz"},  # a trigram no JobId holds: nothing, without a scan
    ]


@pytest.mark.parametrize(
    "name",
    [
        None,  # the default thresholds
        "lookup_indexes_in_small_chunks_checked_as_if_hashes_collided",
        "lookup_indexes_without_common_trigrams_after_other_filters",
        "lookup_indexes_testing_the_survivors_of_other_filters",
        "no_dictionaries_no_lookups",
    ],
)
def test_nearly_unique_columns_are_answered_by_lookup_indexes_like_the_reference(
    real_like_jobs: list[dict[str, Any]], name: str | None
) -> None:
    """JobId, DisplayName and tag filters on jobs whose values are nearly unique: at the
    default thresholds each is answered by a lookup index (its rows known before any other
    filter), and every page, alone and with a status filter, is the reference's."""
    jobs = real_like_jobs
    now = datetime.fromisoformat(max(job["GmtCreateTime"] for job in jobs))
    base = {"StartTime": "2000-01-01T00:00:00Z", "PageSize": "7", "SortBy": "DisplayName"}
    policy = way(name)
    store = JobStore.from_records(jobs, policy=policy)
    snapshot = store.snapshot
    for request in _requests_on_nearly_unique_columns(jobs):
        for extra in ({}, {"Status": "Succeeded,Failed,Running"}):
            wire = base | request | extra
            expected = [job["JobId"] for job in reference.query(jobs, wire, now=now)]
            walk_pages(store, wire, Case(jobs, wire, now, None), expected)
        if name is None:
            scan = plan_scan(build_plan(ListJobsRequest.parse(base | request), now=now), snapshot)
            steps = [
                selection.prepare(snapshot, p, scan.start, scan.stop, policy) for p in scan.filters
            ]
            assert all(step.lookup is not None for step in steps), request
    if name is None:
        assert {"trigrams:ix_JobId", "trigrams:ix_DisplayName", "hashes:ix_tags"} <= set(
            lookups.nbytes(snapshot)
        ), "the store built the lookup indexes before serving"


#: The filters a lookup index answers on a column without dictionary, and where their values
#: come from in a job.
LOOKUP_FILTERS = ("JobId", "JobIds", "DisplayName", "Username", "ResourceQuotaName", "Tags")


@st.composite
def _lookup_filter(draw: st.DrawFn, jobs: list[dict[str, Any]]) -> dict[str, str]:
    """A lookup filter: substrings of three characters or more (or a whole value), or a
    value list, or tag pairs, mostly drawn from the jobs."""
    name = draw(st.sampled_from(LOOKUP_FILTERS))
    if name in ("JobIds", "Tags"):
        return draw(_filter_value(name, jobs))
    texts = [job.get(name) for job in jobs]
    texts = [text for text in texts if isinstance(text, str) and len(text) >= 3]
    text = draw(st.sampled_from(texts)) if texts and draw(st.integers(0, 5)) else "ßtest"
    start = draw(st.integers(0, len(text) - 3))
    piece = text[start : draw(st.integers(start + 3, len(text)))]
    entries = {name: draw(st.sampled_from((piece, piece.upper(), piece.casefold())))}
    if name == "DisplayName":
        mode = draw(st.sampled_from(("wildcard", "prefix", "exact")))
        entries |= {"DisplayNameSearchMode": mode}
        if mode != "wildcard":
            entries[name] = text if mode == "exact" else text[: start + 3]
    return entries


@pytest.mark.parametrize(
    "name",
    [
        "lookup_indexes_for_every_column",
        "lookup_indexes_in_small_chunks_checked_as_if_hashes_collided",
        "lookup_indexes_without_common_trigrams_after_other_filters",
        "lookup_indexes_testing_the_survivors_of_other_filters",
    ],
)
@settings(max_examples=max(10, settings().max_examples // 4))
@given(case=cases(), data=st.data(), page_size=st.integers(1, 4))
def test_lookup_indexes_answer_their_filters_like_the_reference(
    name: str, case: Case, data: st.DataObject, page_size: int
) -> None:
    """A substring (three characters or more), a value list or tag pairs on columns without
    dictionary, alone or with the generated request's filters: the lookup index answers it
    (checked), and every page is the reference's."""
    lookup = data.draw(_lookup_filter(case.jobs))
    wire = {k: v for k, v in case.wire.items() if k not in (*LOOKUP_FILTERS, "PageNumber")}
    if data.draw(st.booleans()):
        wire = {k: v for k, v in wire.items() if k in ("StartTime", "EndTime", *UNFILTERED)}
    wire |= lookup | {"PageSize": str(page_size)}
    try:
        found = reference.query(case.jobs, wire, now=case.now, caller=case.caller)
    except InvalidParameterError:
        return
    policy = way(name)
    store = JobStore.from_records(case.jobs, policy=policy)
    snapshot = store.snapshot
    plan = build_plan(ListJobsRequest.parse(wire), now=case.now, caller=case.caller)
    scan = plan_scan(plan, snapshot)
    for predicate in scan.filters:
        wanted = getattr(predicate, "needle", "xxx").encode("utf-8", "surrogatepass")
        if (
            isinstance(predicate, Substring | EqualsAny | TagsContain)
            and len(wanted) >= 3
            and derived.cached_dictionary(snapshot, predicate.column, policy) is None
        ):
            step = selection.prepare(snapshot, predicate, scan.start, scan.stop, policy)
            # a needle of trigrams held by most rows only is left to a scan
            every_trigram_listed = math.isinf(policy.common_share)
            assert step.lookup is not None or not every_trigram_listed, predicate
    walk_pages(store, wire, case, [job["JobId"] for job in found])


#: Requests whose steps take different paths under the forced ways (on 400 synthetic jobs).
EXPLAINED_REQUESTS = (
    {"Status": "Running,Failed,Succeeded", "SortBy": "DisplayName"},
    {"Username": "a", "Status": "Running,Failed,Succeeded"},
    {"Status": "Failed"},
    {"Status": "Failed", "SortBy": "Status", "Order": "asc", "PageNumber": "3"},
    {"JobId": "xd", "Status": "Running,Failed,Succeeded", "SortBy": "Status"},
    {"ImageSearch": "pytorch", "ReasonSearch": "memory", "PageNumber": "2"},
)
#: What explain must name at least once under a way, among the requests above.
EXPLAINED_PATHS = {
    "postings_of_few_codes_then_row_lists": "row list fetched from the postings",
    "postings_of_many_codes_then_row_lists": "row list fetched from the postings",
    "postings_of_many_codes_gathered_then_row_lists": "row list fetched from the postings",
    "masks_counted_in_small_chunks_walking_the_rank_order": "rank walk",
    "masks_partitioning_the_ranks": "partition",
    "postings_lists_walking_the_rank_order": "unmerged",
    "postings_lists_partitioning_the_ranks": "unmerged",
    "polars_on_every_row_of_the_window": "Polars rule",
    "polars_on_the_survivors_of_tabulated_predicates": "Polars rule",
    "tables_by_numpy_on_every_dictionary": "table over",
    "tables_by_polars_queries": "table over",
    "no_dictionaries": "Polars rule",
    "no_dictionaries_no_lookups": "Polars rule",
}


def _form(selection: Selection) -> str:
    if selection.lists is not None:
        return "unmerged"
    if selection.rows is not None:
        return "row list"
    return "mask over the window" if selection.mask is not None else "the whole window"


@pytest.mark.parametrize("name", list(WAYS))
def test_explain_names_the_path_list_jobs_takes(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Under each forced way, an administrator's explain names, step by step, the path the
    engine took when ``list_jobs`` answered the same request: how each step tests a row, the
    form of the selection it leaves and its rows, and a walk or a partition of the ranks."""
    jobs = [orjson.loads(text) for text in synth.generate_lines(400, seed=5)]
    now = datetime.fromisoformat(max(job["GmtCreateTime"] for job in jobs))
    taken: list[list[tuple[selection.Step, Selection]]] = []
    walked: list[bool] = []
    real_select, real_rank_order = paging.select, ordering.rank_order

    def select_spy(*args: Any, **kwargs: Any) -> Selection:
        taken.append([])
        return real_select(*args, trace=taken[-1], **kwargs)

    def rank_order_spy(*args: Any, **kwargs: Any) -> Any:
        walked.append(True)
        return real_rank_order(*args, **kwargs)

    monkeypatch.setattr(paging, "select", select_spy)
    monkeypatch.setattr(ordering, "rank_order", rank_order_spy)
    told = []
    store = JobStore.from_records(jobs, background_warm_up=False, policy=way(name))
    for request in EXPLAINED_REQUESTS:
        wire = {"StartTime": "2000-01-01T00:00:00Z", "PageSize": "7"} | request
        taken.clear()
        walked.clear()
        page = store.list_jobs(wire, now=now)
        text = store.explain(wire, now=now)
        told.append(text)
        (trace,) = taken
        lines = [line for line in text.splitlines() if re.match(r"  \d+\. ", line)]
        assert len(lines) == len(trace), text
        for line, (step, after) in zip(lines, trace, strict=True):
            assert _form(after) in line.split(" -> ")[1], (line, after)
            assert line.endswith(f": {after.count()} rows"), line
            assert ("lookup index" in line) == (step.lookup is not None), line
            polars = step.lookup is None and step.table is None and step.either is None
            assert ("Polars rule" in line) == polars, line
        order = next(line for line in text.splitlines() if line.startswith("order: "))
        if page.jobs and request.get("SortBy", "GmtCreateTime") != "GmtCreateTime":
            assert order.startswith("order: rank walk" if walked else "order: partition")
    if name in EXPLAINED_PATHS:
        assert any(EXPLAINED_PATHS[name] in text for text in told), name
