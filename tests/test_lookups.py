"""The lookup indexes of ``jobquery.lookups`` against plain Python on the same values.

The end-to-end checks (every forced way of using them answers like the reference) are in
``test_selection_paths.py``; here each index is held to what it promises on its own, over
values with what makes byte matching tricky (nulls, empty strings, multi-byte characters, a
needle straddling two neighbouring values), in chunks of any size: a trigram lookup returns
every row holding the needle (exactly those for a three-byte needle), a hash lookup every
row holding the value or tag pair.
"""

from __future__ import annotations

import math

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from jobquery import lookups, synth
from jobquery.lookups import HashPostings, TrigramIndex
from jobquery.snapshot import RANKED_SORT_KEYS
from jobquery.store import JobStore

ALPHABET = "abß-λ\x00İ"
_VALUES = st.lists(st.one_of(st.none(), st.text(alphabet=ALPHABET, max_size=7)), max_size=30)


@st.composite
def _ranges(draw: st.DrawFn, size: int) -> tuple[int, int]:
    start = draw(st.integers(0, size))
    return start, draw(st.integers(start, size))


@given(
    values=_VALUES,
    needle=st.text(alphabet=ALPHABET, min_size=1, max_size=4),
    chunk=st.integers(1, 8),
    common=st.sampled_from([math.inf, 0.3]),
    data=st.data(),
)
def test_a_trigram_lookup_finds_every_row_holding_the_needle(
    values: list[str | None], needle: str, chunk: int, common: float, data: st.DataObject
) -> None:
    start, stop = data.draw(_ranges(len(values)))
    saved = lookups.CHUNK_ROWS, lookups.COMMON_SHARE
    lookups.CHUNK_ROWS, lookups.COMMON_SHARE = chunk, common
    try:
        index = TrigramIndex.build(pl.Series("v", values, dtype=pl.String))
    finally:
        lookups.CHUNK_ROWS, lookups.COMMON_SHARE = saved
    wanted = needle.encode()
    holding = [
        row for row in range(start, stop) if values[row] is not None and needle in values[row]
    ]
    found = index.candidates(wanted, start, stop)
    if len(wanted) < 3:
        assert found is None  # nothing to narrow with
        return
    if found is None:  # every trigram of the needle is common: a scan decides
        assert common != math.inf
        return
    rows = found.tolist()
    assert rows == sorted(set(rows))
    assert set(holding) <= set(rows)
    for row in rows:
        text = (values[row] or "").encode()
        assert all(wanted[at : at + 3] in text for at in range(len(wanted) - 2))
    if len(wanted) == 3:
        assert rows == holding
    smallest = index.smallest(wanted)
    assert smallest is not None and smallest >= len(holding)


@given(
    lists=st.lists(
        st.one_of(st.none(), st.lists(st.sampled_from(["a", "b", "ß", "1:x=y", ""]), max_size=4)),
        max_size=25,
    ),
    wanted=st.lists(st.sampled_from(["a", "b", "ß", "1:x=y", "", "zz"]), min_size=1, max_size=3),
    chunk=st.integers(1, 8),
    data=st.data(),
)
def test_a_hash_lookup_finds_the_rows_of_each_list_element(
    lists: list[list[str] | None], wanted: list[str], chunk: int, data: st.DataObject
) -> None:
    start, stop = data.draw(_ranges(len(lists)))
    saved = lookups.CHUNK_ROWS
    lookups.CHUNK_ROWS = chunk
    try:
        index = HashPostings.build(pl.Series("t", lists, dtype=pl.List(pl.String)))
    finally:
        lookups.CHUNK_ROWS = saved
    assert index.collision_free
    for value, rows in zip(wanted, index.rows_of(wanted, start, stop), strict=True):
        expected = [row for row in range(start, stop) if value in (lists[row] or [])]
        assert rows.tolist() == expected
        assert index.count(value) == sum(value in (items or []) for items in lists)
    every = [row for row in range(start, stop) if set(wanted) <= set(lists[row] or [])]
    assert index.rows_of_every(wanted, start, stop).tolist() == every


@given(
    values=_VALUES,
    wanted=st.lists(st.text(alphabet=ALPHABET, max_size=3), max_size=4),
    chunk=st.integers(1, 8),
    data=st.data(),
)
def test_a_hash_lookup_finds_the_rows_of_each_value(
    values: list[str | None], wanted: list[str], chunk: int, data: st.DataObject
) -> None:
    saved = lookups.CHUNK_ROWS
    lookups.CHUNK_ROWS = chunk
    try:
        index = HashPostings.build(pl.Series("v", values, dtype=pl.String))
    finally:
        lookups.CHUNK_ROWS = saved
    for value, rows in zip(wanted, index.rows_of(wanted, 0, len(values)), strict=True):
        assert rows.tolist() == [row for row, found in enumerate(values) if found == value]
    start, stop = data.draw(_ranges(len(values)))
    holding = [row for row in range(start, stop) if values[row] in wanted]
    assert index.rows_of_any(wanted, start, stop).tolist() == holding


def test_trigrams_held_by_most_rows_keep_no_postings() -> None:
    values = [f"dlc-{number:04d}" for number in range(400)]
    index = TrigramIndex.build(pl.Series("id", values))
    common = {bytes([code >> 16, code >> 8 & 255, code & 255]) for code in index.common.tolist()}
    assert {b"dlc", b"lc-", b"c-0"} <= common
    assert index.candidates(b"dlc-", 0, 400) is None  # only common trigrams: left to a scan
    assert index.candidates(b"0123", 0, 400).tolist() == [123]
    assert index.nbytes < 400 * 7 * 4 * 2


def test_a_store_builds_its_lookup_indexes_before_serving_and_after_each_update() -> None:
    jobs = synth.generate_records(300, seed=3, profile="high-cardinality")
    store = JobStore.from_records(jobs)
    expected = {
        ("trigrams", "ix_JobId"),
        ("hashes", "ix_JobId"),
        ("trigrams", "ix_DisplayName"),
        ("hashes", "ix_tags"),
    }
    assert expected <= set(lookups.built(store.snapshot))
    assert all(f"rank_order:ix_rank_{key}" in store.snapshot.cache for key in RANKED_SORT_KEYS)
    changed = {**jobs[0], "DisplayName": "renamed-after-the-update"}
    store.upsert([changed])
    assert expected <= set(lookups.built(store.snapshot)), "an update rebuilt them"
    found = store.list_jobs({"DisplayName": "renamed-after", "StartTime": "2000-01-01T00:00:00Z"})
    assert [job["JobId"] for job in found.jobs] == [changed["JobId"]]
