"""Which rows of a snapshot a plan matches, computed on column dictionaries and numpy masks.

``list_jobs`` needs only the page's rows and a count, so it does not run the Polars pipeline
of :mod:`jobquery.compile_polars` (``query`` and ``explain`` still do). It reuses its compile
rules, on less data:

- a predicate over columns that have a dictionary (:mod:`jobquery.derived`) is compiled by
  :func:`~jobquery.compile_polars.compile_predicate` and evaluated over the *distinct values*
  only, giving one flag per code; each row is then a table lookup by its code;
- any other predicate (``JobId``, times other than the row order, long-tailed columns) is
  evaluated by Polars on the rows still selected, last.

Predicates run most selective first, each on the rows the earlier ones kept: a predicate that
keeps few rows fetches them from its dictionary's postings instead of scanning the window, so
a query scoped to one workspace or user costs in proportion to that workspace's or user's jobs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from jobquery.compile_polars import Scan, compile_predicate
from jobquery.derived import ColumnDictionary, Mask, Rows, dictionary, recall, remember
from jobquery.filters import REGISTRY
from jobquery.predicates import MatchNothing, Predicate
from jobquery.snapshot import Snapshot, index_column

#: A product of distinct values up to this size is tabulated for a predicate over several
#: columns (visibility: accessibility x user).
MAX_TABLE_SIZE = 1 << 16
#: A predicate is tabulated only when its distinct values are at most this many per row of the
#: window: testing 19k distinct names costs more than testing the 7k rows of a 7-day window.
MAX_TABLE_SHARE = 1.0
#: A predicate fetches its rows from postings when they are at most this share of the window.
POSTINGS_SHARE = 0.25
#: A mask turns into a row list when at most this share of the window is still selected.
ROWS_SHARE = 0.0625
#: A predicate left to Polars tests only the rows still selected when they are at most this
#: share of the window, else every row of the window (a slice, no gather).
POLARS_ROWS_SHARE = 0.5
#: Up to this many codes kept (or dropped), a row's flag is computed by comparing its code
#: with each of them: about 0.1 ms per comparison per 500k rows, where a table lookup costs
#: about 1 ms.
FEW_COMPARISONS = 4
#: Rows per chunk when counting a mask to find the rows of a page.
CHUNK_ROWS = 1 << 14
#: The columns whose dictionaries a store builds before it serves a snapshot: those the
#: registry's filters read (the visibility rule's too), except JobId (all values distinct).
WARM_COLUMNS: tuple[str, ...] = tuple(
    dict.fromkeys(
        row.column
        for row in REGISTRY
        if not row.column.startswith("(") and row.column != index_column("JobId")
    )
)


@dataclass(frozen=True)
class Selection:
    """Matching rows of ``snapshot.live``: a row range, then a mask over it or a row list.

    Attributes
    ----------
    start, stop : int
        The row range the plan reads (its ``GmtCreateTime`` window).
    mask : numpy.ndarray or None
        One flag per row of the range; None (with ``rows`` None) selects the whole range.
    rows : numpy.ndarray or None
        The selected rows, ascending (then ``mask`` is None).
    """

    start: int
    stop: int
    mask: Mask | None = None
    rows: Rows | None = None

    def count(self) -> int:
        """The number of selected rows."""
        if self.rows is not None:
            return len(self.rows)
        if self.mask is not None:
            return int(np.count_nonzero(self.mask))
        return self.stop - self.start

    def to_rows(self) -> Rows:
        """The selected rows, ascending."""
        if self.rows is not None:
            return self.rows
        if self.mask is not None:
            return np.flatnonzero(self.mask) + self.start
        return np.arange(self.start, self.stop, dtype=np.int64)

    def nth(self, first: int, last: int, *, descending: bool) -> Rows:
        """The selected rows number ``first`` to ``last - 1`` in row order (or reversed)."""
        if self.rows is not None:
            return self.rows[::-1][first:last] if descending else self.rows[first:last]
        if self.mask is None:
            if descending:
                return np.arange(self.stop - 1 - first, self.stop - 1 - last, -1, dtype=np.int64)
            return np.arange(self.start + first, self.start + last, dtype=np.int64)
        # count per chunk, then list the rows of the chunks that hold the wanted ones only
        mask, total = self.mask, self.count()
        if descending:
            first, last = total - last, total - first
        edges = np.arange(0, len(mask), CHUNK_ROWS)
        before = np.concatenate(([0], np.cumsum(np.add.reduceat(mask, edges))))
        low = int(np.searchsorted(before, first, side="right")) - 1
        high = int(np.searchsorted(before, last, side="left"))
        begin, end = low * CHUNK_ROWS, min(len(mask), high * CHUNK_ROWS)
        found = np.flatnonzero(mask[begin:end]) + (self.start + begin)
        picked = found[first - int(before[low]) : last - int(before[low])]
        return picked[::-1] if descending else picked

    def contains(self, rows: Rows) -> Mask:
        """Whether each of some rows is selected (for a selection without a row list)."""
        inside = (rows >= self.start) & (rows < self.stop)
        if self.mask is not None:
            inside[inside] = self.mask[rows[inside] - self.start]
        return inside


@dataclass(frozen=True)
class Step:
    """One predicate, ready to apply: by dictionary codes (``table``) or by Polars."""

    predicate: Predicate
    expression: pl.Expr
    dictionaries: tuple[ColumnDictionary, ...] = ()
    table: Mask | None = None
    #: the share of all live rows it keeps, when known from the dictionary
    share: float = 1.0

    def keeps(self, snapshot: Snapshot, rows: Rows | None, start: int, stop: int) -> Mask:
        """Which of ``rows`` (None: the rows of ``start..stop``) satisfy the predicate."""
        if self.table is None:
            columns = list(dict.fromkeys(self.expression.meta.root_names()))
            frame = snapshot.live.select(columns)
            frame = frame.slice(start, stop - start) if rows is None else frame[rows]
            flags = frame.select(self.expression.fill_null(False)).to_series()
            return flags.to_numpy()
        code = None
        for dictionary_ in self.dictionaries:
            codes = dictionary_.codes[start:stop] if rows is None else dictionary_.codes[rows]
            code = codes if code is None else code * dictionary_.size + codes
        assert code is not None
        return _lookup(self.table, code)


def _lookup(table: Mask, codes: npt.NDArray[np.int32]) -> Mask:
    """``table[codes]``; a comparison per code when the table keeps or drops only a few."""
    kept = np.flatnonzero(table)
    if len(kept) <= FEW_COMPARISONS:
        keep = np.zeros(len(codes), dtype=np.bool_)
        for code in kept.tolist():
            keep |= codes == code
        return keep
    dropped = np.flatnonzero(~table)
    if len(dropped) <= FEW_COMPARISONS:
        keep = np.ones(len(codes), dtype=np.bool_)
        for code in dropped.tolist():
            keep &= codes != code
        return keep
    # np.take is twice as fast as indexing with an array
    found: Mask = np.take(table, codes)
    return found


def select(snapshot: Snapshot, scan: Scan) -> Selection:
    """The rows of the scan's range that satisfy all of its filters."""
    start, stop = scan.start, scan.stop
    if stop <= start or any(isinstance(p, MatchNothing) for p in scan.filters):
        return Selection(start, start, rows=np.empty(0, dtype=np.int64))
    steps = sorted(
        (prepare(snapshot, predicate, stop - start) for predicate in scan.filters),
        key=lambda step: (step.table is None, step.share),
    )
    selection = Selection(start, stop)
    for step in steps:
        selection = _apply(snapshot, step, selection)
        if selection.count() == 0:
            break
    return selection


def _apply(snapshot: Snapshot, step: Step, selection: Selection) -> Selection:
    """The rows of ``selection`` that also satisfy ``step``."""
    start, stop = selection.start, selection.stop
    window = stop - start
    if (
        selection.mask is None
        and selection.rows is None
        and step.table is not None
        and len(step.dictionaries) == 1
        and step.share * snapshot.live.height <= POSTINGS_SHARE * window
    ):
        rows = step.dictionaries[0].rows_between(np.flatnonzero(step.table), start, stop)
        return Selection(start, stop, rows=rows)
    if (
        step.table is None
        and selection.mask is not None
        and selection.count() <= POLARS_ROWS_SHARE * window
    ):
        # Polars tests only the survivors (a gather) instead of every row of the window
        selection = Selection(start, stop, rows=selection.to_rows())
    if selection.rows is not None:
        rows = selection.rows
        return Selection(start, stop, rows=rows[step.keeps(snapshot, rows, start, stop)])
    keep = step.keeps(snapshot, None, start, stop)
    mask = keep if selection.mask is None else selection.mask & keep
    if np.count_nonzero(mask) <= ROWS_SHARE * window:
        return Selection(start, stop, rows=np.flatnonzero(mask) + start)
    return Selection(start, stop, mask=mask)


def prepare(snapshot: Snapshot, predicate: Predicate, window: int) -> Step:
    """How to apply a predicate to a window of ``window`` rows: tabulated or by Polars."""
    known: Step | None = recall(snapshot, predicate)
    if known is not None:
        return known
    expression = compile_predicate(predicate)
    columns = expression.meta.root_names()
    found = [dictionary(snapshot, column) for column in dict.fromkeys(columns)]
    dictionaries = tuple(d for d in found if d is not None)
    size = math.prod(d.size for d in dictionaries)
    # tabulating the distinct values must cost less than testing the rows themselves
    if (
        not columns
        or len(dictionaries) < len(found)
        or size > MAX_TABLE_SIZE
        or size > MAX_TABLE_SHARE * window
    ):
        return Step(predicate, expression)
    values = _product(snapshot, tuple(dict.fromkeys(columns)), dictionaries)
    table = values.select(expression.fill_null(False)).to_series().to_numpy()
    share = 1.0
    if len(dictionaries) == 1:
        share = dictionaries[0].count(table) / max(1, snapshot.live.height)
    step = Step(predicate, expression, dictionaries, table, share)
    # the next query with this filter skips compiling and tabulating it
    remember(snapshot, predicate, step)
    return step


def _product(
    snapshot: Snapshot, columns: tuple[str, ...], dictionaries: tuple[ColumnDictionary, ...]
) -> pl.DataFrame:
    """Every combination of the distinct values, the last column varying fastest."""
    if len(dictionaries) == 1:
        return dictionaries[0].values
    key = ("product", columns)
    found: pl.DataFrame | None = recall(snapshot, key)
    if found is None:
        sizes = [d.size for d in dictionaries]
        grid = np.indices(sizes).reshape(len(sizes), -1)
        found = pl.concat(
            [d.values[index] for d, index in zip(dictionaries, grid, strict=True)],
            how="horizontal",
        )
        # every caller's visibility is a table over the same product
        remember(snapshot, key, found)
    return found
