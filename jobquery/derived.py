"""Structures derived from a snapshot's columns on first use, and kept on the snapshot.

A snapshot is immutable, so anything computed from its columns stays true for its lifetime;
these structures live in ``snapshot.structures`` (each built once, whichever thread asks
first: :class:`jobquery.lazy.Structures`) and die with it (a new version starts empty).

- :class:`ColumnDictionary` — the distinct values of a column of ``live`` and, per row, the
  code of its value, plus the rows of each value (*postings*, ascending). Most filter columns
  have few distinct values (13 statuses, 40 workspaces, 300 users, 244 tag lists among 100k
  jobs), so a predicate is evaluated once per distinct value and then looked up per row by
  code, and a selective one fetches its rows from the postings instead of scanning the window.
  The postings of a code cut to a row range (:meth:`ColumnDictionary.postings_between`) are a
  sorted list of that range's rows with the value, found by two binary searches: a lone filter
  keeping a few values counts and pages its matches from those lists, touching no other row.
- :func:`rank_order` — the rows of ``live`` in the order of a rank column (a permutation), so
  an unselective filter ordered by a rank is a walk down that order until the page is full.
- :func:`column_array` — a column of ``live`` as a numpy array.

Building a dictionary costs a hash grouping of the column (about 5 ms per 100k rows). Nothing
here is built before a snapshot answers its first query: a store builds all of it in a
background thread once the snapshot is ready (:func:`warm_everything`), and each query builds
what it needs first if the background has not yet; a store swapping in a new version warms
the dictionaries the previous version's queries used before the swap (:func:`warm`).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa

from jobquery.snapshot import JOB_JSON, RANKED_SORT_KEYS, ROW, Snapshot, rank_column, rank_key
from jobquery.textcodec import TextCodec

if TYPE_CHECKING:
    from jobquery.index_engine.policy import SelectionPolicy

Rows = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]
Codes = npt.NDArray[np.uint8] | npt.NDArray[np.uint16] | npt.NDArray[np.int32]

_NO_DICTIONARY = "none"
_USED = "used:"
#: The key of the remembered results in ``snapshot.cache``.
REMEMBERED = "remembered"


@dataclass(frozen=True)
class ColumnDictionary:
    """The distinct values of one column of ``snapshot.live``, with codes and postings.

    Attributes
    ----------
    values : polars.DataFrame
        One column, named like the source column: the distinct values (null included); the
        code of a value is its row here.
    codes : numpy.ndarray
        Per row of ``live``, the code of its value (uint8, uint16 or int32: the narrowest
        that holds every code).
    postings : numpy.ndarray
        The rows of ``live`` grouped by code, ascending within a code (int64).
    offsets : numpy.ndarray
        The rows of code ``k`` are ``postings[offsets[k]:offsets[k + 1]]``.
    """

    values: pl.DataFrame
    codes: Codes
    postings: Rows
    offsets: npt.NDArray[np.int64]

    @property
    def size(self) -> int:
        """The number of distinct values."""
        return self.values.height

    @functools.cached_property
    def numbers(self) -> tuple[npt.NDArray[np.float64], Mask] | None:
        """For a Float64 column, the distinct values as numpy floats (nulls as 0.0) and which
        of them are null; None for any other column. Computed once, kept with the dictionary."""
        column = self.values.to_series()
        if column.dtype != pl.Float64:
            return None
        return column.fill_null(0.0).to_numpy(), column.is_null().to_numpy()

    @functools.cached_property
    def texts(self) -> ValueTexts | None:
        """For a String column, the distinct values as UTF-8 bytes (:class:`ValueTexts`);
        None for any other column. Computed once, kept with the dictionary."""
        column = self.values.to_series()
        if column.dtype != pl.String:
            return None
        return ValueTexts.of(column)

    def count(self, table: Mask) -> int:
        """How many rows have a value for which ``table`` (one flag per code) is true."""
        return int(np.diff(self.offsets)[table].sum())

    def unordered_rows_between(
        self, codes: npt.NDArray[np.int64], start: int, stop: int, *, max_slices: int
    ) -> Rows:
        """The rows in ``start..stop`` whose code is one of ``codes`` (many of them: a few are
        cut by :meth:`postings_between`), in no particular order: sorting 600-800k rows costs
        10-17 ms, so callers sort what is left after their other filters."""
        # up to a few thousand codes, their postings are copied slice by slice (1 ms for 800k
        # rows, where a gather by index took 7 ms)
        if len(codes) <= max_slices:
            firsts, lasts = self.offsets[codes].tolist(), self.offsets[codes + 1].tolist()
            rows = np.concatenate(
                [self.postings[first:last] for first, last in zip(firsts, lasts, strict=True)]
            )
        else:
            sizes = self.offsets[codes + 1] - self.offsets[codes]
            ends = np.cumsum(sizes)
            where = np.arange(int(ends[-1]), dtype=np.int64) + np.repeat(
                self.offsets[codes] - (ends - sizes), sizes
            )
            rows = self.postings[where]
        if start > 0 or stop < len(self.codes):
            rows = rows[(rows >= start) & (rows < stop)]
        return rows

    def postings_between(self, codes: npt.NDArray[np.int64], start: int, stop: int) -> list[Rows]:
        """Per code (those with any), its rows in ``start..stop``: ascending views of
        ``postings``, found by a binary search per code, not merged."""
        pieces = []
        for code in codes.tolist():
            rows = self.postings[self.offsets[code] : self.offsets[code + 1]]
            low, high = np.searchsorted(rows, (start, stop))
            if high > low:
                pieces.append(rows[low:high])
        return pieces


@dataclass(frozen=True)
class ValueTexts:
    """The values of a String column as one UTF-8 byte array, to test them with numpy.

    A substring, a prefix or an equality is tested on all values at once — about 0.3 ms for
    30,000 names, where a Polars query on them costs about 5 ms (and any Polars query 0.2-0.7
    ms of handing work to its threads). Bytes compare as Polars compares strings: a UTF-8
    needle occurs in a value's bytes exactly when it occurs in the value.

    Attributes
    ----------
    data : numpy.ndarray
        The values' bytes, one after the other (uint8).
    offsets : numpy.ndarray
        Value ``k`` is ``data[offsets[k]:offsets[k + 1]]`` (int64, one more than the values).
    null : numpy.ndarray
        Which values are null (they match nothing).
    """

    data: npt.NDArray[np.uint8]
    offsets: npt.NDArray[np.int64]
    null: Mask

    @classmethod
    def of(cls, column: pl.Series) -> ValueTexts:
        """The texts of a String series (copied out of its Arrow buffers)."""
        array = column.to_arrow(compat_level=pl.CompatLevel.oldest())
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks()
        if array.type != pa.large_string():
            array = array.cast(pa.large_string())
        null = column.is_null().to_numpy()
        buffers = array.buffers()
        offsets = np.frombuffer(buffers[1], dtype=np.int64)
        offsets = offsets[array.offset : array.offset + len(array) + 1]
        data = np.empty(0, dtype=np.uint8)
        if buffers[2] is not None and len(array):
            data = np.frombuffer(buffers[2], dtype=np.uint8)[offsets[0] : offsets[-1]].copy()
        return cls(data, offsets - offsets[0], null)

    @property
    def size(self) -> int:
        """The number of values."""
        return len(self.null)

    def contains(self, needle: str) -> Mask:
        """Which values contain ``needle``: its first byte's places, narrowed byte by byte,
        then kept when the match ends inside the value that holds its start."""
        wanted = _utf8(needle)
        if not len(wanted):
            return ~self.null
        data, offsets = self.data, self.offsets
        keep = np.zeros(self.size, dtype=np.bool_)
        if len(wanted) > len(data):
            return keep
        places = np.flatnonzero(data[: len(data) - len(wanted) + 1] == wanted[0])
        for index in range(1, len(wanted)):
            places = places[data[places + index] == wanted[index]]
        owner = np.searchsorted(offsets, places, side="right") - 1
        keep[owner[places + len(wanted) <= offsets[owner + 1]]] = True
        keep &= ~self.null
        return keep

    def starts_with(self, needle: str) -> Mask:
        """Which values start with ``needle``."""
        return self._matching_start(needle, exact=False)

    def equals_any(self, values: Iterable[str]) -> Mask:
        """Which values equal one of ``values``."""
        keep = np.zeros(self.size, dtype=np.bool_)
        for value in values:
            keep |= self._matching_start(value, exact=True)
        return keep

    def _matching_start(self, needle: str, *, exact: bool) -> Mask:
        wanted = _utf8(needle)
        lengths = np.diff(self.offsets)
        codes = np.flatnonzero(lengths == len(wanted) if exact else lengths >= len(wanted))
        starts = self.offsets[codes]
        for index in range(len(wanted)):
            hit = self.data[starts + index] == wanted[index]
            codes, starts = codes[hit], starts[hit]
        keep = np.zeros(self.size, dtype=np.bool_)
        keep[codes] = True
        keep &= ~self.null
        return keep


def _utf8(text: str) -> npt.NDArray[np.uint8]:
    # a lone surrogate encodes to bytes no valid UTF-8 value holds: it matches nothing
    return np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)


def merged(pieces: Sequence[Rows]) -> Rows:
    """The rows of some disjoint ascending lists, ascending (one list: itself, no copy)."""
    if not pieces:
        return np.empty(0, dtype=np.int64)
    if len(pieces) == 1:
        return pieces[0]
    rows: Rows = np.sort(np.concatenate(pieces))
    return rows


def dictionary(snapshot: Snapshot, column: str, policy: SelectionPolicy) -> ColumnDictionary | None:
    """The dictionary of a column of ``live``, or None when it has too many distinct values
    (``policy.max_distinct_share``).

    The column is noted as used by queries (see :func:`used_columns`).
    """
    snapshot.cache[f"{_USED}{column}"] = True
    return _dictionary(snapshot, column, policy)


def cached_dictionary(
    snapshot: Snapshot, column: str, policy: SelectionPolicy
) -> ColumnDictionary | None:
    """The dictionary of a column (built now if it was not), without noting the column as
    used by queries; None when the column is not in ``live`` or has too many values."""
    if column not in snapshot.live.columns:
        return None
    return _dictionary(snapshot, column, policy)


def _dictionary(
    snapshot: Snapshot, column: str, policy: SelectionPolicy
) -> ColumnDictionary | None:
    found = snapshot.structures.get(
        ("dictionary", column),
        lambda: _build_dictionary(snapshot.live, column, policy) or _NO_DICTIONARY,
    )
    return found if isinstance(found, ColumnDictionary) else None


def _build_dictionary(
    live: pl.DataFrame, column: str, policy: SelectionPolicy
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
    # byte per row keeps in cache (10M jobs: a 7% workspace's rows tested in 6 ms with int32)
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

    ``DataFrame.select`` of one column of ``live`` cost 60-250 ms at 400k jobs when the
    snapshot was read from a file: its columns come in several chunks and ``ix_row`` in one,
    and every eager ``select`` of such a frame paid for aligning them. Taking the columns
    costs nothing.
    """
    return pl.DataFrame([frame.get_column(name) for name in names])


def recall(snapshot: Snapshot, key: Hashable) -> Any:
    """What :func:`remember` stored under ``key`` for this snapshot, or None."""
    return snapshot.cache.get(REMEMBERED, {}).get(key)


def remember(snapshot: Snapshot, key: Hashable, value: Any, *, limit: int) -> None:
    """Keep a small result (a predicate's table of codes) for later queries on this snapshot.

    Dashboards repeat the same filters; the oldest of ``limit`` entries goes first.
    """
    with _lock(snapshot):
        remembered = snapshot.cache.setdefault(REMEMBERED, {})
        if len(remembered) >= limit:
            del remembered[next(iter(remembered))]
        remembered[key] = value


def forget_remembered(snapshot: Snapshot) -> None:
    """Drop what earlier queries left behind: remembered filter tables and long-integer notes.

    The dictionaries a store builds before it serves a snapshot stay. The benchmarks use this
    to time a query as the first one with its filter values would run.
    """
    with _lock(snapshot):
        snapshot.cache.pop(REMEMBERED, None)
        # jobquery.index_engine.materialise.LongIntegerNotes
        notes = snapshot.structures.peek("long_integer_notes")
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

    found: Rows = snapshot.structures.get(("rank_order", column), compute)
    return found


def ranks_in_order(snapshot: Snapshot, column: str) -> npt.NDArray[Any]:
    """The ranks of :func:`rank_order`'s rows, ascending (to find a rank's place in it)."""
    found: npt.NDArray[Any] = snapshot.structures.get(
        ("ranks_in_order", column),
        lambda: column_array(snapshot, column)[rank_order(snapshot, column)],
    )
    return found


def column_array(snapshot: Snapshot, column: str) -> npt.NDArray[Any]:
    """A column of ``live`` without nulls as a numpy array (kept); a rank column too."""

    def compute() -> npt.NDArray[Any]:
        key = rank_key(column)
        if key is not None and column not in snapshot.live.columns:
            ranks: npt.NDArray[Any] = snapshot.rank(key)[: snapshot.live.height]
            return ranks
        values: npt.NDArray[Any] = snapshot.live[column].to_numpy()
        return values

    found: npt.NDArray[Any] = snapshot.structures.get(("array", column), compute)
    return found


def used_columns(snapshot: Snapshot) -> list[str]:
    """The columns whose dictionaries queries on this snapshot have asked for."""
    return [key[len(_USED) :] for key in list(snapshot.cache) if key.startswith(_USED)]


def warm(
    snapshot: Snapshot, columns: Iterable[str], policy: SelectionPolicy, *, in_use: bool = False
) -> None:
    """Build the dictionaries of some columns now, so that no query pays for them later.

    ``in_use``: note them as used (the columns a replaced version's queries used stay in use
    through versions no query reads).
    """
    for column in columns:
        if column in snapshot.live.columns:
            if in_use:
                snapshot.cache[f"{_USED}{column}"] = True
            found = _dictionary(snapshot, column, policy)
            if found is not None:
                # cached properties, built now rather than by a query
                found.texts  # noqa: B018
                found.numbers  # noqa: B018


def warm_everything(snapshot: Snapshot, columns: Iterable[str], policy: SelectionPolicy) -> None:
    """Build every structure queries on this snapshot may ask for: the rank columns and rank
    orders of every sort key, the page-text reader, and the dictionaries of ``columns``.

    Safe to run beside queries (a store runs it in a background thread): each structure is
    built once, by whichever thread asks first, the others waiting for it. Anything that
    needs warming before a store's later first calls belongs here.
    """
    for step in warm_everything_steps(snapshot, columns, policy):
        step()


def warm_everything_steps(
    snapshot: Snapshot, columns: Iterable[str], policy: SelectionPolicy
) -> list[Callable[[], Any]]:
    """:func:`warm_everything` as steps of one structure each, so that a background warm-up
    can stop between two of them."""
    steps: list[Callable[[], Any]] = [functools.partial(job_texts, snapshot)]
    steps += [
        functools.partial(ranks_in_order, snapshot, rank_column(key)) for key in RANKED_SORT_KEYS
    ]
    steps += [functools.partial(warm, snapshot, [column], policy) for column in columns]
    return steps


def _lock(snapshot: Snapshot) -> threading.Lock:
    # dict.setdefault is atomic: every thread gets the same lock
    lock: threading.Lock = snapshot.cache.setdefault("lock", threading.Lock())
    return lock


@dataclass(frozen=True)
class JobTexts:
    """The ``job_json`` texts of ``live`` read straight from their Arrow string views.

    Gathering a page's 50 texts through Polars costs 0.1-0.2 ms, mostly per-call overhead;
    slicing the shared buffers costs 15-25 µs. Compressed texts (``codec``) are decompressed
    as they are taken, ~3 µs per job.
    """

    views: npt.NDArray[np.int32]
    buffers: tuple[memoryview, ...]
    codec: TextCodec | None = None

    @classmethod
    def of(cls, column: pl.Series, codec: TextCodec | None = None) -> JobTexts:
        """The reader of a String (or compressed Binary) column; its buffers are shared."""
        array = column.to_arrow(compat_level=pl.CompatLevel.newest())  # one chunk
        views = np.frombuffer(array.buffers()[1], dtype=np.int32).reshape(-1, 4)
        views = views[array.offset : array.offset + len(array)]
        buffers = tuple(memoryview(buffer) for buffer in array.buffers()[2:])
        return cls(views, buffers, codec)

    def take(self, rows: Iterable[int]) -> Sequence[bytes | memoryview]:
        """The texts of some rows (UTF-8), in the given order."""
        texts: list[bytes | memoryview] = []
        for length, prefix, buffer, offset in self.views[np.asarray(rows)].tolist():
            if length <= _INLINE_VIEW:
                # a short string lives in the view itself, after its length
                inline = np.array([prefix, buffer, offset], dtype=np.int32).tobytes()
                texts.append(inline[:length])
            else:
                texts.append(self.buffers[buffer][offset : offset + length])
        if self.codec is not None:
            return self.codec.decompress_each(texts)
        return texts


#: Arrow string views hold strings up to 12 bytes inline.
_INLINE_VIEW = 12


def job_texts(snapshot: Snapshot) -> JobTexts:
    """The page-text reader of a snapshot's ``live`` rows (kept)."""
    found: JobTexts = snapshot.structures.get(
        "job_texts", lambda: JobTexts.of(snapshot.live[JOB_JSON], snapshot.codec)
    )
    return found
