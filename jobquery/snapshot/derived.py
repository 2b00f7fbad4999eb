"""Structures derived from a snapshot's columns on first use, and kept on the snapshot.

A snapshot is immutable, so anything computed from its columns stays true for its lifetime;
these structures live in ``snapshot.index`` (:class:`jobquery.snapshot.index.SnapshotIndex`:
each built once, whichever thread asks first) and die with it (a new version starts empty).

- :class:`ColumnDictionary` — the distinct values of a column of ``live`` and, per row, the
  code of its value, plus the rows of each value (*postings*, ascending). Most filter columns
  have few distinct values (statuses, workspaces, users, tag lists), so a predicate is
  evaluated once per distinct value and then looked up per row by code, and a selective one
  fetches its rows from the postings instead of scanning the window.
  The postings of a code cut to a row range (:meth:`ColumnDictionary.postings_between`) are a
  sorted list of that range's rows with the value, found by two binary searches: a lone filter
  keeping a few values counts and pages its matches from those lists, touching no other row.
- :func:`rank_order` — the rows of ``live`` in the order of a rank column (a permutation), so
  an unselective filter ordered by a rank is a walk down that order until the page is full.
- :func:`column_array` — a column of ``live`` as a numpy array.

Building a dictionary costs a hash grouping of the column. Nothing here is built before a
snapshot answers its first query: a store builds all of it in a background thread once the
snapshot is ready (:func:`warm_everything`), and each query builds what it needs first if the
background has not yet; a store swapping in a new version warms the dictionaries the previous
version's queries used before the swap (:func:`warm`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, Protocol, cast

import numpy as np
import numpy.typing as npt
import polars as pl

from jobquery.snapshot.columns import JOB_JSON, RANKED_SORT_KEYS, ROW, rank_column, rank_key
from jobquery.snapshot.dictionary import Codes, ColumnDictionary, Rows
from jobquery.snapshot.table import Snapshot
from jobquery.snapshot.text_bytes import JobTexts


class DictionaryLimits(Protocol):
    """When a column gets no dictionary: what :func:`dictionary` reads of the index engine's
    selection policy (:class:`jobquery.index_engine.policy.SelectionPolicy`)."""

    @property
    def max_distinct_share(self) -> float:
        """Distinct values above this share of the rows: no dictionary."""
        ...

    @property
    def min_rows_for_distinct_limit(self) -> int:
        """Columns of fewer rows always get one."""
        ...


def merged(pieces: Sequence[Rows]) -> Rows:
    """The rows of some disjoint ascending lists, ascending (one list: itself, no copy)."""
    if not pieces:
        return np.empty(0, dtype=np.int64)
    if len(pieces) == 1:
        return pieces[0]
    rows: Rows = np.sort(np.concatenate(pieces))
    return rows


def dictionary(
    snapshot: Snapshot, column: str, policy: DictionaryLimits
) -> ColumnDictionary | None:
    """The dictionary of a column of ``live``, or None when it has too many distinct values
    (``policy.max_distinct_share``).

    The column is noted as used by queries (see :func:`used_columns`).
    """
    snapshot.index.note_used(column)
    return _dictionary(snapshot, column, policy)


def cached_dictionary(
    snapshot: Snapshot, column: str, policy: DictionaryLimits
) -> ColumnDictionary | None:
    """The dictionary of a column (built now if it was not), without noting the column as
    used by queries; None when the column is not in ``live`` or has too many values."""
    if column not in snapshot.live.columns:
        return None
    return _dictionary(snapshot, column, policy)


def _dictionary(
    snapshot: Snapshot, column: str, policy: DictionaryLimits
) -> ColumnDictionary | None:
    return snapshot.index.dictionaries.get(
        column, lambda: _build_dictionary(snapshot.live, column, policy)
    )


def _build_dictionary(
    live: pl.DataFrame, column: str, policy: DictionaryLimits
) -> ColumnDictionary | None:
    groups = columns_of(live, (column, ROW)).group_by(column, maintain_order=True).agg(ROW)
    if (
        live.height >= policy.min_rows_for_distinct_limit
        and groups.height > policy.max_distinct_share * live.height
    ):
        return None
    sizes = groups[ROW].list.len().to_numpy().astype(np.int64)
    # rows keep their order within a group, so every code's postings are ascending
    postings = groups[ROW].explode().to_numpy().astype(np.int64)
    # the narrowest type that holds every code: most columns have a few hundred values, and a
    # filter reads the codes of the rows it tests scattered over the whole column, which a
    # byte per row keeps in cache
    kind = (
        np.uint8 if groups.height <= 1 << 8 else np.uint16 if groups.height <= 1 << 16 else np.int32
    )
    codes = cast(Codes, np.empty(live.height, dtype=kind))
    codes[postings] = np.repeat(np.arange(groups.height, dtype=kind), sizes)
    offsets = np.zeros(groups.height + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    return ColumnDictionary(groups.select(column), codes, postings, offsets)


def columns_of(frame: pl.DataFrame, names: Iterable[str]) -> pl.DataFrame:
    """Some columns of a frame, taken by name into a new frame (no copy).

    ``DataFrame.select`` of one column of ``live`` is slow when the snapshot was read from a
    file: its columns come in several chunks and ``ix_row`` in one, and every eager ``select``
    of such a frame pays for aligning them. Taking the columns costs nothing.
    """
    return pl.DataFrame([frame.get_column(name) for name in names])


def recall(snapshot: Snapshot, key: Hashable) -> Any:
    """What :func:`remember` stored under ``key`` for this snapshot, or None."""
    return snapshot.index.remembered.recall(key)


def remember(snapshot: Snapshot, key: Hashable, value: Any, *, limit: int) -> None:
    """Keep a small result (a predicate's table of codes) for later queries on this snapshot.

    Dashboards repeat the same filters; beyond ``limit`` entries, the least recently used
    goes first.
    """
    snapshot.index.remembered.remember(key, value, size=limit)


def forget_remembered(snapshot: Snapshot) -> None:
    """Drop what earlier queries left behind: remembered filter tables and long-integer notes.

    The dictionaries a store builds before it serves a snapshot stay. The benchmarks use this
    to time a query as the first one with its filter values would run.
    """
    snapshot.index.remembered.clear()
    notes = snapshot.index.long_integer_notes.peek()
    if notes is not None:
        notes.forget()


def rank_order(snapshot: Snapshot, column: str) -> Rows:
    """The rows of ``live`` ascending by a rank column (``ix_rank_<key>``)."""

    def compute() -> Rows:
        ranks = column_array(snapshot, column)
        # ranks are distinct positions (0 to the live count - 1 since format 2; a frame's deleted
        # rows rank after them): scatter the live rows into their rank slots and drop the
        # empty slots, no sort needed
        slots = np.full(snapshot.frame.height, -1, dtype=np.int64)
        slots[ranks] = np.arange(len(ranks), dtype=np.int64)
        rows: Rows = slots[slots >= 0]
        return rows

    return snapshot.index.rank_orders.get(column, compute)


def ranks_in_order(snapshot: Snapshot, column: str) -> npt.NDArray[Any]:
    """The ranks of :func:`rank_order`'s rows, ascending (to find a rank's place in it)."""
    return snapshot.index.ranks_in_order.get(
        column, lambda: column_array(snapshot, column)[rank_order(snapshot, column)]
    )


def column_array(snapshot: Snapshot, column: str) -> npt.NDArray[Any]:
    """A column of ``live`` without nulls as a numpy array (kept); a rank column too."""

    def compute() -> npt.NDArray[Any]:
        key = rank_key(column)
        if key is not None and column not in snapshot.live.columns:
            ranks: npt.NDArray[Any] = snapshot.rank(key)[: snapshot.live.height]
            return ranks
        values: npt.NDArray[Any] = snapshot.live[column].to_numpy()
        return values

    return snapshot.index.arrays.get(column, compute)


def used_columns(snapshot: Snapshot) -> list[str]:
    """The columns whose dictionaries queries on this snapshot have asked for."""
    return snapshot.index.used_columns()


def warm(
    snapshot: Snapshot, columns: Iterable[str], policy: DictionaryLimits, *, in_use: bool = False
) -> None:
    """Build the dictionaries of some columns now, so that no query pays for them later.

    ``in_use``: note them as used (the columns a replaced version's queries used stay in use
    through versions no query reads).
    """
    for column in columns:
        if column in snapshot.live.columns:
            if in_use:
                snapshot.index.note_used(column)
            found = _dictionary(snapshot, column, policy)
            if found is not None:
                # cached properties, built now rather than by a query
                found.texts  # noqa: B018
                found.numbers  # noqa: B018


def warm_everything(snapshot: Snapshot, columns: Iterable[str], policy: DictionaryLimits) -> None:
    """Build every structure queries on this snapshot may ask for: the rank columns and rank
    orders of every sort key, the page-text reader, and the dictionaries of ``columns``.

    Safe to run beside queries (a store runs it in a background thread): each structure is
    built once, by whichever thread asks first, the others waiting for it. Anything that
    needs warming before a store's later first calls belongs here.
    """
    for step in warm_everything_steps(snapshot, columns, policy):
        step()


def warm_everything_steps(
    snapshot: Snapshot, columns: Iterable[str], policy: DictionaryLimits
) -> list[Callable[[], Any]]:
    """:func:`warm_everything` as steps of one structure each, so that a background warm-up
    can stop between two of them."""
    steps: list[Callable[[], Any]] = [functools.partial(job_texts, snapshot)]
    steps += [
        functools.partial(ranks_in_order, snapshot, rank_column(key)) for key in RANKED_SORT_KEYS
    ]
    steps += [functools.partial(warm, snapshot, [column], policy) for column in columns]
    return steps


def job_texts(snapshot: Snapshot) -> JobTexts:
    """The page-text reader of a snapshot's ``live`` rows (kept)."""
    return snapshot.index.job_texts.get(
        lambda: JobTexts.of(snapshot.live[JOB_JSON], snapshot.codec)
    )
