"""The lookup indexes of ``jobquery.index_engine.lookups`` against plain Python on the same values.

The end-to-end checks (every forced way of using them answers like the reference) are in
``test_selection_paths.py``; here each lookup is held to what it promises on its own, over
values with what makes byte matching tricky (nulls, empty strings, multi-byte characters, a
needle straddling two neighbouring values), in index chunks of any size: the rows of a range it
finds, the rows it keeps among given ones, and its count (never below the matches; exact when
nothing needs checking) are those plain Python finds on the snapshot's index columns.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from jobquery import synth
from jobquery.index_engine import lookups
from jobquery.index_engine.lookups import Lookup, TrigramIndex
from jobquery.index_engine.policy import DEFAULT_POLICY, SelectionPolicy
from jobquery.plan.predicates import EqualsAny, Predicate, Substring, TagsContain
from jobquery.snapshot import RANKED_SORT_KEYS, Snapshot, rank_column, tag_pair
from jobquery.store import JobStore

ALPHABET = "abß-λ\x00İ"
_TEXTS = st.one_of(st.none(), st.text(alphabet=ALPHABET, max_size=7))


def _snapshot(
    names: list[str | None],
    tags: list[dict[str, str] | None],
    policy: SelectionPolicy = DEFAULT_POLICY,
) -> Snapshot:
    """A snapshot of one job per name (and tags), in that row order (created a second apart)."""
    jobs = []
    for row, (name, job_tags) in enumerate(zip(names, tags, strict=True)):
        job: dict[str, Any] = {
            "JobId": f"j{row:04d}",
            "GmtCreateTime": f"2026-01-01T00:{row // 60:02d}:{row % 60:02d}Z",
        }
        if name is not None:
            job["DisplayName"] = name
        if job_tags is not None:
            job["Settings"] = {"Tags": job_tags}
        jobs.append(job)
    # no background warm-up: lookup_for builds the index under the test's policy, and no
    # thread builds the snapshot's other structures beside it while the example runs
    return JobStore.from_records(jobs, policy=policy, background_warm_up=False).snapshot


@st.composite
def _ranges(draw: st.DrawFn, size: int) -> tuple[int, int]:
    start = draw(st.integers(0, size))
    return start, draw(st.integers(start, size))


def _check(snapshot: Snapshot, lookup: Lookup, matches: list[int], data: st.DataObject) -> None:
    """The lookup against the rows plain Python found to match (all of ``live``)."""
    start, stop = data.draw(_ranges(snapshot.live.height))
    inside = [row for row in matches if start <= row < stop]
    assert lookup.rows_between(snapshot, start, stop).tolist() == inside
    count = lookup.count_between(start, stop)
    assert count >= len(inside)
    if not lookup.check and len(lookup.postings) == 1:
        assert count == len(inside)
    probes = data.draw(st.lists(st.integers(0, max(0, snapshot.live.height - 1)), max_size=12))
    if snapshot.live.height:
        kept = lookup.keeps(snapshot, np.asarray(probes, dtype=np.int64)).tolist()
        assert kept == [probe in matches for probe in probes]


@given(
    names=st.lists(_TEXTS, max_size=30),
    needle=st.text(alphabet=ALPHABET, min_size=1, max_size=4),
    prefix=st.booleans(),
    chunk=st.integers(1, 8),
    common=st.sampled_from([math.inf, 0.3]),
    data=st.data(),
)
def test_a_substring_lookup_finds_the_rows_holding_the_needle(
    names: list[str | None],
    needle: str,
    *,
    prefix: bool,
    chunk: int,
    common: float,
    data: st.DataObject,
) -> None:
    policy = replace(DEFAULT_POLICY, index_chunk_rows=chunk, common_share=common)
    snapshot = _snapshot(names, [None] * len(names), policy)
    predicate = Substring("DisplayName", "ix_DisplayName", needle.casefold(), prefix)
    lookup = lookups.lookup_for(snapshot, predicate, policy)
    wanted = predicate.needle.encode()
    if len(wanted) < 3:
        assert lookup is None  # nothing to narrow with
        return
    if lookup is None:  # every trigram of the needle is common: a scan decides
        assert common != math.inf
        return
    assert lookup.check == (len(wanted) > 3 or prefix)
    values = snapshot.live["ix_DisplayName"].to_list()
    matches = [
        row
        for row, value in enumerate(values)
        if value is not None
        and (value.startswith(predicate.needle) if prefix else predicate.needle in value)
    ]
    _check(snapshot, lookup, matches, data)


_PAIRS = st.sampled_from([("a", "1"), ("a", "2"), ("ß", "x"), ("b", ""), ("1:x", "y")])


@given(
    tags=st.lists(
        st.one_of(
            st.none(),
            st.dictionaries(
                st.sampled_from(["a", "ß", "b", "1:x"]),
                st.sampled_from(["1", "2", "x", "", "y"]),
                max_size=3,
            ),
        ),
        max_size=25,
    ),
    wanted=st.lists(_PAIRS, min_size=1, max_size=3),
    chunk=st.integers(1, 8),
    collisions=st.booleans(),
    data=st.data(),
)
def test_a_tag_lookup_finds_the_rows_holding_every_pair(
    tags: list[dict[str, str] | None],
    wanted: list[tuple[str, str]],
    chunk: int,
    collisions: bool,
    data: st.DataObject,
) -> None:
    policy = replace(DEFAULT_POLICY, index_chunk_rows=chunk, assume_collisions=collisions)
    snapshot = _snapshot([None] * len(tags), tags, policy)
    pairs = tuple(dict.fromkeys(tag_pair(key, value) for key, value in wanted))
    predicate = TagsContain("Tags", "ix_tags", pairs, tuple(wanted))
    lookup = lookups.lookup_for(snapshot, predicate, policy)
    assert lookup is not None and lookup.check == collisions
    lists = snapshot.live["ix_tags"].to_list()
    matches = [row for row, items in enumerate(lists) if set(pairs) <= set(items or [])]
    _check(snapshot, lookup, matches, data)


@given(
    names=st.lists(_TEXTS, max_size=30),
    wanted=st.lists(st.text(alphabet=ALPHABET, max_size=3), min_size=1, max_size=4),
    chunk=st.integers(1, 8),
    collisions=st.booleans(),
    data=st.data(),
)
def test_a_value_lookup_finds_the_rows_holding_any_value(
    names: list[str | None],
    wanted: list[str],
    chunk: int,
    collisions: bool,
    data: st.DataObject,
) -> None:
    policy = replace(DEFAULT_POLICY, index_chunk_rows=chunk, assume_collisions=collisions)
    snapshot = _snapshot(names, [None] * len(names), policy)
    values = tuple(dict.fromkeys(value.casefold() for value in wanted))
    predicate: Predicate = EqualsAny("DisplayName", "ix_DisplayName", values)
    lookup = lookups.lookup_for(snapshot, predicate, policy)
    assert lookup is not None and lookup.check == collisions
    column = snapshot.live["ix_DisplayName"].to_list()
    matches = [row for row, value in enumerate(column) if value in values]
    _check(snapshot, lookup, matches, data)


def test_trigrams_held_by_most_rows_keep_no_postings() -> None:
    values = [f"dlc-{number:04d}" for number in range(400)]
    index = TrigramIndex.build(pl.Series("id", values), DEFAULT_POLICY)
    common = {bytes([code >> 16, code >> 8 & 255, code & 255]) for code in index.common.tolist()}
    assert {b"dlc", b"lc-", b"c-0"} <= common
    assert index.nbytes < 400 * 7 * 4 * 2
    snapshot = _snapshot(values, [None] * len(values))
    assert (
        lookups.lookup_for(snapshot, Substring("x", "ix_DisplayName", "dlc-"), DEFAULT_POLICY)
        is None
    )
    found = lookups.lookup_for(snapshot, Substring("x", "ix_DisplayName", "0123"), DEFAULT_POLICY)
    assert found is not None and found.rows_between(snapshot, 0, 400).tolist() == [123]


def test_a_store_warms_its_lookup_indexes_up_and_keeps_them_after_each_update() -> None:
    jobs = synth.generate_records(300, seed=3, profile="high-cardinality")
    store = JobStore.from_records(jobs, background_warm_up=False)
    assert not lookups.built(store.snapshot), "nothing is built in front of the first answer"
    store.warm_up()  # what the background thread of a store does once its snapshot is ready
    expected = {
        ("trigrams", "ix_JobId"),
        ("hashes", "ix_JobId"),
        ("trigrams", "ix_DisplayName"),
        ("hashes", "ix_tags"),
    }
    assert expected <= set(lookups.built(store.snapshot))
    for key in RANKED_SORT_KEYS:
        assert store.snapshot.index.rank_orders.peek(rank_column(key)) is not None
    changed = {**jobs[0], "DisplayName": "renamed-after-the-update"}
    store.upsert([changed])
    assert expected <= set(lookups.built(store.snapshot)), "an update rebuilt them"
    found = store.list_jobs({"DisplayName": "renamed-after", "StartTime": "2000-01-01T00:00:00Z"})
    assert [job["JobId"] for job in found.jobs] == [changed["JobId"]]
    assert found.jobs[0]["DisplayName"] == "renamed-after-the-update"
