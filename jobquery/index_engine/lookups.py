"""Row lookups for columns whose values are nearly unique: where a value, or a piece of one, is.

Column dictionaries (:mod:`jobquery.snapshot.derived`) suit columns with few distinct values: a
predicate is tested once per value, then looked up per row. A column whose values are nearly
unique — JobIds, names with a run suffix, tag lists holding a run id — gets no dictionary (it
would cost more than it saves), and a filter on it used to test every row of its window.
These indexes answer such filters from postings instead, touching the rows that can match:

- :class:`TrigramIndex` — per byte trigram of a String column's values, the rows holding it.
  A substring of three bytes or more (``JobId``, ``DisplayName``, ``Username``...) is the
  intersection of its trigrams' postings, each candidate then checked (a row can hold every
  trigram of the needle without holding the needle). Matching stays what the Polars rule
  means: literal, on the casefolded index column, bytes against bytes (a UTF-8 needle occurs
  in a value's bytes exactly when it occurs in the value). Shorter needles, and needles made
  only of trigrams that most rows hold, are left to a scan.
- :class:`HashPostings` — the rows of each value of a column, or of each element of a list
  column, by a 64-bit hash of the value (``polars.Series.hash``). It finds a list of 50
  ``JobIds`` by binary searches, and the rows of a tag pair (``ix_tags`` elements) directly,
  however many distinct pairs there are. Equal hashes of different values are detected when
  it is built; only then are the candidates checked against the values themselves.

A :class:`Lookup` is one predicate as an index answers it: the postings of the keys a matching
row holds (every trigram of a needle, every tag pair, any of a list of values), as views of
the index. :mod:`jobquery.index_engine.select` asks it how many rows of a window it can keep,
fetches its rows when it selects first, and otherwise has it test the survivors of other
filters.

Each index is built from ``snapshot.live`` a chunk of ``policy.index_chunk_rows`` rows at a
time (the memory of a build stays bounded however many jobs there are); a lookup reads every
chunk's postings, which are ascending, so their concatenation is. Indexes are cached on the
snapshot like dictionaries: built on first use, or ahead of queries by :func:`warm`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import assert_never

import numpy as np
import numpy.typing as npt
import polars as pl

from jobquery.index_engine.policy import SelectionPolicy
from jobquery.plan.predicates import (
    EqualsAny,
    Flag,
    MatchNothing,
    NumericRange,
    Predicate,
    Substring,
    TagsContain,
    TimeRange,
    TokenSearch,
    Visibility,
)
from jobquery.polars_engine import compile_predicate
from jobquery.snapshot import Snapshot
from jobquery.snapshot.derived import columns_of
from jobquery.snapshot.dictionary import Rows
from jobquery.snapshot.text_bytes import ValueTexts

Keys = npt.NDArray[np.uint64]
Positions = npt.NDArray[np.uint32]


@dataclass(frozen=True)
class Postings:
    """Rows grouped by a key, for the rows ``first..first + count`` of ``live``.

    Attributes
    ----------
    keys : numpy.ndarray
        The distinct keys, ascending (uint64).
    offsets : numpy.ndarray
        The rows of ``keys[i]`` are ``rows[offsets[i]:offsets[i + 1]]`` (int64).
    rows : numpy.ndarray
        Rows of ``live``, ascending within a key (uint32).
    first : int
        The first row of the chunk.
    """

    keys: Keys
    offsets: npt.NDArray[np.int64]
    rows: Positions
    first: int

    @classmethod
    def of_sorted(cls, keys: Keys, rows: Positions, first: int) -> Postings:
        """Postings of (key, row) pairs sorted by key, then row (a pair may repeat)."""
        if len(keys):
            repeated = (keys[1:] == keys[:-1]) & (rows[1:] == rows[:-1])
            if repeated.any():
                fresh = np.concatenate(([True], ~repeated))
                keys, rows = keys[fresh], rows[fresh]
        starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
        if not len(keys):
            starts = np.empty(0, dtype=np.int64)
        offsets = np.append(starts, len(keys)).astype(np.int64)
        return cls(keys[starts], offsets, rows, first)

    def rows_of(self, key: int) -> Positions:
        """The rows of one key (empty when the chunk has none)."""
        at = int(np.searchsorted(self.keys, np.uint64(key)))
        if at == len(self.keys) or int(self.keys[at]) != key:
            return self.rows[:0]
        return self.rows[self.offsets[at] : self.offsets[at + 1]]

    def counts(self) -> npt.NDArray[np.int64]:
        """How many rows each key has."""
        return np.diff(self.offsets)

    @property
    def nbytes(self) -> int:
        return self.keys.nbytes + self.offsets.nbytes + self.rows.nbytes


# ---------------------------------------------------------------------------------------------
# Trigrams


@dataclass(frozen=True)
class TrigramIndex:
    """Per byte trigram of a String column of ``live``, the rows whose value holds it.

    Attributes
    ----------
    column : str
        The indexed column.
    chunks : tuple of Postings
        Keys are trigram codes ``b0 << 16 | b1 << 8 | b2``.
    common : numpy.ndarray
        The trigram codes held by more than ``policy.common_share`` of the rows, ascending:
        they have no postings.
    size : int
        The rows indexed (``live.height``).
    """

    column: str
    chunks: tuple[Postings, ...]
    common: Keys
    size: int

    @classmethod
    def build(cls, column: pl.Series, policy: SelectionPolicy) -> TrigramIndex:
        """Index the values of a String series (the rows of ``live``, in order)."""
        chunk_rows = policy.index_chunk_rows
        counts: npt.NDArray[np.int64] = np.zeros(1 << 24, dtype=np.int64)
        chunks: list[Postings] = []
        for first in range(0, len(column), chunk_rows):
            codes, rows = _trigrams(column.slice(first, chunk_rows), first)
            # one sort of (trigram, row) pairs packed in 64 bits: rows stay ascending per code
            pairs = (codes.astype(np.uint64) << np.uint64(32)) | rows.astype(np.uint64)
            del codes, rows
            pairs.sort()
            chunk = Postings.of_sorted(
                pairs >> np.uint64(32), (pairs & np.uint64(0xFFFF_FFFF)).astype(np.uint32), first
            )
            del pairs
            counts[chunk.keys.astype(np.int64)] += chunk.counts()  # keys are distinct
            chunks.append(chunk)
        held_by_many = counts > policy.common_share * max(1, len(column))
        common = np.flatnonzero(held_by_many).astype(np.uint64)
        if len(common):
            chunks = [_without(chunk, common) for chunk in chunks]
        return cls(column.name, tuple(chunks), common, len(column))

    @property
    def nbytes(self) -> int:
        return sum(chunk.nbytes for chunk in self.chunks) + self.common.nbytes


def _code(trigram: bytes) -> int:
    return trigram[0] << 16 | trigram[1] << 8 | trigram[2]


def _holds(sorted_keys: Keys, key: int) -> bool:
    at = int(np.searchsorted(sorted_keys, np.uint64(key)))
    return at < len(sorted_keys) and int(sorted_keys[at]) == key


def _trigrams(column: pl.Series, first: int) -> tuple[npt.NDArray[np.uint32], Positions]:
    """Every trigram of every value (its code) and the row holding it, in row order."""
    texts = ValueTexts.of(column)
    lengths = np.diff(texts.offsets)
    if len(texts.data) < 3:
        return np.empty(0, dtype=np.uint32), np.empty(0, dtype=np.uint32)
    data = texts.data.astype(np.uint32)
    codes = data[:-2] << np.uint32(16) | data[1:-1] << np.uint32(8) | data[2:]
    del data
    # a trigram starts at a byte of a value with two more bytes of the same value after it
    owner = np.repeat(np.arange(len(lengths), dtype=np.uint32), lengths)[:-2]
    keep = np.arange(3, len(codes) + 3, dtype=np.int64) <= texts.offsets[1:][owner]
    found: npt.NDArray[np.uint32] = codes[keep]
    rows: Positions = owner[keep] + np.uint32(first)
    return found, rows


def _without(chunk: Postings, common: Keys) -> Postings:
    """A chunk without the postings of some keys."""
    dropped = np.isin(chunk.keys, common)
    if not dropped.any():
        return chunk
    sizes = chunk.counts()
    kept_rows = np.repeat(~dropped, sizes)
    offsets = np.zeros(int((~dropped).sum()) + 1, dtype=np.int64)
    np.cumsum(sizes[~dropped], out=offsets[1:])
    return Postings(chunk.keys[~dropped], offsets, chunk.rows[kept_rows], chunk.first)


# ---------------------------------------------------------------------------------------------
# Values and list elements by hash


#: The seed of the hashes (any fixed one: the index and its lookups hash alike).
_SEED = 0x6A6F62


@dataclass(frozen=True)
class HashPostings:
    """The rows of each value of a column (or each element of a list column), by hash.

    Attributes
    ----------
    column : str
        The indexed column.
    chunks : tuple of Postings
        Keys are 64-bit hashes of the values (``polars.Series.hash``).
    collision_free : bool
        No two distinct values share a hash (checked when built): a lookup's rows are then
        exactly those holding the value, with no check against the values.
    """

    column: str
    chunks: tuple[Postings, ...]
    collision_free: bool

    @classmethod
    def build(cls, column: pl.Series, policy: SelectionPolicy) -> HashPostings:
        """Index a String column or a List(String) column (its elements) of ``live``."""
        listed = isinstance(column.dtype, pl.List)
        chunks = []
        collision_free = True
        chunk_rows = policy.index_chunk_rows
        for first in range(0, len(column), chunk_rows):
            part = column.slice(first, chunk_rows)
            rows = np.arange(first, first + len(part), dtype=np.uint32)
            if listed:
                rows = np.repeat(rows, part.list.len().fill_null(0).to_numpy())
                # the elements of the lists, in order (a null list holds none)
                part = pl.Series(column.name, part.to_arrow().flatten(), dtype=pl.String)
            present = part.is_not_null().to_numpy()
            values = part.filter(pl.Series(present))
            hashes = values.hash(seed=_SEED)
            frame = pl.DataFrame({"key": hashes, "row": rows[present]})
            frame = frame.sort("key", maintain_order=True)
            keys = frame["key"].to_numpy()
            sorted_rows = frame["row"].to_numpy()
            chunk = Postings.of_sorted(keys, sorted_rows, first)
            collision_free = collision_free and len(chunk.keys) == values.n_unique()
            chunks.append(chunk)
        return cls(column.name, tuple(chunks), collision_free and not policy.assume_collisions)

    @property
    def nbytes(self) -> int:
        return sum(chunk.nbytes for chunk in self.chunks)


# ---------------------------------------------------------------------------------------------
# Per snapshot: which index a column has, and the rows a predicate keeps


def trigram_index(snapshot: Snapshot, column: str, policy: SelectionPolicy) -> TrigramIndex:
    """The trigram index of a String column of ``live`` (built on first use, then cached)."""
    return snapshot.index.lookup(
        "trigrams", column, lambda: TrigramIndex.build(snapshot.live[column], policy)
    )


def hash_postings(snapshot: Snapshot, column: str, policy: SelectionPolicy) -> HashPostings:
    """The value index of a column of ``live`` (built on first use, then cached)."""
    return snapshot.index.lookup(
        "hashes", column, lambda: HashPostings.build(snapshot.live[column], policy)
    )


@dataclass(frozen=True)
class Lookup:
    """One predicate as a lookup index answers it: the postings of the keys a matching row
    holds, found once (views of the index, nothing copied).

    A row matches only if it holds every key (``every``: the trigrams of a needle, tag pairs)
    or any of them (a list of values). Holding them is matching, unless ``check``: a needle
    longer than one trigram (or a prefix) can have all its trigrams apart, and two values can
    share a hash; the rows holding the keys are then *candidates*, each checked by the
    predicate's Polars rule on its value.

    Attributes
    ----------
    predicate : Substring, EqualsAny or TagsContain
        What is looked up.
    firsts : tuple of int
        The first row of each chunk of the index.
    postings : tuple of tuple of numpy.ndarray
        Per key, per chunk, its rows (ascending, uint32).
    every, check : bool
        See above.
    """

    predicate: Substring | EqualsAny | TagsContain
    firsts: tuple[int, ...]
    postings: tuple[tuple[Positions, ...], ...]
    every: bool
    check: bool

    def count_between(self, start: int, stop: int) -> int:
        """At most how many rows of ``start..stop`` match (exactly, when not ``check``
        and one key, or any keys): the fewest rows any key has there, or all keys' rows."""
        counts = [
            sum(int(high - low) for low, high in _bounds(views, start, stop))
            for views in self.postings
        ]
        if not counts:
            return 0
        return min(counts) if self.every else sum(counts)

    def rows_between(self, snapshot: Snapshot, start: int, stop: int) -> Rows:
        """The rows of ``start..stop`` that match, ascending.

        With ``every``, only the key with the fewest rows is gathered; each other key is
        binary-searched where it is (a key held by a third of the rows is never copied).
        """
        if self.every:
            sizes = [self._rows_of(views, start, stop) for views in self.postings]
            smallest = int(np.argmin([len(rows) for rows in sizes]))
            found = sizes[smallest]
            for index, views in enumerate(self.postings):
                if index != smallest and len(found):
                    found = found[self._held(views, found)]
        else:
            pieces = [self._rows_of(views, start, stop) for views in self.postings]
            found = np.sort(np.concatenate(pieces)) if pieces else np.empty(0, dtype=np.int64)
        if self.check and len(found):
            found = found[_satisfies(snapshot, self.predicate, found)]
        return found

    def keeps(self, snapshot: Snapshot, rows: Rows) -> npt.NDArray[np.bool_]:
        """Which of some rows (in any order) match: by the postings, or, when ``check``, by
        the predicate's rule on their values."""
        if self.check:
            return _satisfies(snapshot, self.predicate, rows)
        held = [self._held(views, rows) for views in self.postings]
        if not held:
            return np.zeros(len(rows), dtype=np.bool_)
        keep = held[0]
        for more in held[1:]:
            keep = keep & more if self.every else keep | more
        return keep

    def _rows_of(self, views: tuple[Positions, ...], start: int, stop: int) -> Rows:
        pieces = [
            view[low:high]
            for view, (low, high) in zip(views, _bounds(views, start, stop), strict=True)
        ]
        pieces = [piece for piece in pieces if len(piece)]
        if not pieces:
            return np.empty(0, dtype=np.int64)
        return np.concatenate(pieces).astype(np.int64)

    def _held(self, views: tuple[Positions, ...], rows: Rows) -> npt.NDArray[np.bool_]:
        """Which of ``rows`` (any order) are in a key's postings."""
        keep = np.zeros(len(rows), dtype=np.bool_)
        chunk = np.searchsorted(np.asarray(self.firsts), rows, side="right") - 1
        for index, view in enumerate(views):
            if not len(view):
                continue
            where = np.flatnonzero(chunk == index) if len(views) > 1 else np.arange(len(rows))
            wanted = rows[where].astype(np.uint32)
            at = np.minimum(np.searchsorted(view, wanted), len(view) - 1)
            keep[where] = view[at] == wanted
        return keep


def _bounds(views: tuple[Positions, ...], start: int, stop: int) -> list[tuple[int, int]]:
    """Where ``start..stop`` is in each of a key's per-chunk views."""
    found = []
    for view in views:
        if not len(view) or view[0] >= stop or view[-1] < start:
            found.append((0, 0))
        else:
            low, high = np.searchsorted(view, (start, stop))
            found.append((int(low), int(high)))
    return found


def _satisfies(snapshot: Snapshot, predicate: Predicate, rows: Rows) -> npt.NDArray[np.bool_]:
    """The predicate's Polars rule on some rows of ``live`` (nulls never match)."""
    column = getattr(predicate, "column")  # noqa: B009 - the three kinds a lookup answers
    frame = columns_of(snapshot.live, (column,))[rows]
    flags = frame.select(compile_predicate(predicate).fill_null(False)).to_series()
    kept: npt.NDArray[np.bool_] = flags.to_numpy()
    return kept


def lookup_for(snapshot: Snapshot, predicate: Predicate, policy: SelectionPolicy) -> Lookup | None:
    """The lookup of a predicate on a column's index (built now if it is not there yet), or
    None when no index can narrow it: a needle shorter than three bytes, or made only of
    trigrams most rows hold; a predicate of another kind.

    The caller decides which columns use indexes (those without a dictionary:
    :func:`jobquery.index_engine.select.prepare`).
    """
    match predicate:
        case Substring(column=column, needle=needle, prefix=prefix):
            wanted = needle.encode("utf-8", "surrogatepass")
            if len(wanted) < 3:
                return None
            trigrams = trigram_index(snapshot, column, policy)
            codes = sorted({_code(wanted[at : at + 3]) for at in range(len(wanted) - 2)})
            listed = [code for code in codes if not _holds(trigrams.common, code)]
            if not listed:
                return None
            one_trigram = len(wanted) == 3 and not prefix
            return _lookup(predicate, trigrams.chunks, listed, every=True, check=not one_trigram)
        case EqualsAny(column=column, values=values):
            hashes = hash_postings(snapshot, column, policy)
            keys = _hashes(values)
            return _lookup(
                predicate, hashes.chunks, keys, every=False, check=not hashes.collision_free
            )
        case TagsContain(column=column, pairs=pairs):
            hashes = hash_postings(snapshot, column, policy)
            keys = _hashes(pairs)
            return _lookup(
                predicate, hashes.chunks, keys, every=True, check=not hashes.collision_free
            )
        case TimeRange() | NumericRange() | TokenSearch() | Flag() | Visibility() | MatchNothing():
            pass  # no lookup index answers these kinds
        case _:
            assert_never(predicate)
    return None


def _hashes(values: Iterable[str]) -> list[int]:
    keys = pl.Series(list(values), dtype=pl.String).hash(seed=_SEED).unique().sort()
    return [int(key) for key in keys.to_list()]


def _lookup(
    predicate: Substring | EqualsAny | TagsContain,
    chunks: Sequence[Postings],
    keys: Sequence[int],
    *,
    every: bool,
    check: bool,
) -> Lookup:
    postings = tuple(tuple(chunk.rows_of(key) for chunk in chunks) for key in keys)
    firsts = tuple(chunk.first for chunk in chunks)
    return Lookup(predicate, firsts, postings, every, check)


def warm(snapshot: Snapshot, indexes: Iterable[tuple[str, str]], policy: SelectionPolicy) -> None:
    """Build some indexes now: ``("trigrams", column)`` or ``("hashes", column)`` pairs
    (columns not in ``live`` are skipped), so that no query pays for them."""
    for kind, column in indexes:
        if column not in snapshot.live.columns:
            continue
        if kind == "trigrams":
            trigram_index(snapshot, column, policy)
        elif kind == "hashes":
            hash_postings(snapshot, column, policy)
        else:
            raise ValueError(f"no lookup index {kind!r}")


def built(snapshot: Snapshot) -> list[tuple[str, str]]:
    """The indexes built on a snapshot so far, as :func:`warm` takes them."""
    return [key for key, _ in snapshot.index.lookups()]


def nbytes(snapshot: Snapshot) -> dict[str, int]:
    """The memory of each lookup index built on a snapshot, by cache key."""
    return {
        f"{kind}:{column}": value.nbytes
        for (kind, column), value in snapshot.index.lookups()
        if isinstance(value, TrigramIndex | HashPostings)
    }
