"""Updates: merging changed jobs into a snapshot's sorted rows and rank runs.

The unchanged rows of a snapshot are in order already, and so are their ranks: the new rows
are merged into those sorted runs (a binary search per new row, run for all new rows at once)
instead of sorting everything again.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import polars as pl

from jobquery.snapshot.layout import ROW_ORDER, rank_order_columns

_TIE = "ix_tie"  # a new row position, the last tie-break of every rank


def _merge(
    frame: pl.DataFrame, ranks: Mapping[str, np.ndarray], gone: np.ndarray, added: pl.DataFrame
) -> tuple[pl.DataFrame, dict[str, np.ndarray]]:
    """``frame`` without the rows marked ``gone``, with ``added`` merged in; and the rank
    columns given (``ranks``, by sort key) updated for it."""
    added = added.sort(list(ROW_ORDER), nulls_last=False)
    kept = np.flatnonzero(~gone)
    # where each new row goes among the kept rows, and so where every row ends up
    slots = _insertion_points(frame.select(ROW_ORDER), kept, added.select(ROW_ORDER))
    kept_rows, added_rows = _interleave(len(kept), slots)
    take = np.empty(len(kept) + added.height, dtype=np.int64)
    take[kept_rows] = kept
    take[added_rows] = frame.height + np.arange(added.height)
    merged = _stack_and_take(frame, added.select(frame.columns), take)

    new_row = np.full(frame.height, -1, dtype=np.int64)
    new_row[kept] = kept_rows
    merged_ranks = {}
    for key, old_rank in ranks.items():
        order = rank_order_columns(key)
        # the kept rows in this key's order: the old ranks sorted, minus the rows that went
        by_rank = np.empty(frame.height, dtype=np.int64)
        by_rank[old_rank] = np.arange(frame.height)
        run = by_rank[~gone[by_rank]]
        run_keys = frame.select(order).with_columns(pl.Series(_TIE, new_row))
        new_keys = added.select(order).with_columns(pl.Series(_TIE, added_rows))
        sorting = new_keys.select(pl.arg_sort_by([*order, _TIE], nulls_last=False)).to_series()
        new_keys = new_keys[sorting]
        run_slots = _insertion_points(run_keys, run, new_keys)
        in_run, in_new = _interleave(len(run), run_slots)
        rank = np.empty(merged.height, dtype=np.uint32)
        rank[new_row[run]] = in_run
        rank[new_keys[_TIE].to_numpy()] = in_new
        merged_ranks[key] = rank
    return merged, merged_ranks


#: Up to this many runs, a merge copies slices; beyond, one gather (see _stack_and_take).
_MAX_SLICES = 4096


def _stack_and_take(rows: pl.DataFrame, added: pl.DataFrame, take: np.ndarray) -> pl.DataFrame:
    """Rows ``take`` of ``rows`` stacked on ``added``, as one chunk.

    A small change leaves long runs of consecutive rows: copying those slices into one chunk
    costs less than a gather over the stacked frames. Many short runs make slicing slow, and
    then the gather is used.
    """
    edges = np.flatnonzero((np.diff(take) != 1) | (take[1:] == rows.height)) + 1
    if not len(take) or len(edges) >= _MAX_SLICES:
        return pl.concat([rows, added], rechunk=True).gather(take)
    slices = []
    for start, stop in zip([0, *edges], [*edges, len(take)], strict=True):
        first = int(take[start])
        if first < rows.height:
            slices.append(rows.slice(first, stop - start))
        else:
            slices.append(added.slice(first - rows.height, stop - start))
    return pl.concat(slices, rechunk=True)


def _interleave(run_length: int, slots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions after inserting sorted new items before run items ``slots``: (run, new)."""
    # a run item moves down by the number of new items inserted before or at its index
    moved = np.cumsum(np.bincount(slots, minlength=run_length + 1))[:run_length]
    return np.arange(run_length) + moved, slots + np.arange(len(slots))


def _insertion_points(
    run_keys: pl.DataFrame, run: np.ndarray, new_keys: pl.DataFrame
) -> np.ndarray:
    """For each new key (sorted), how many keys of the sorted run come before it.

    The run is ``run_keys`` at rows ``run``. One binary search per new key, all of them in
    lock step: each round reads the run at the middle of every open interval, with one gather.
    Keys compare column by column, missing values first; run and new keys are never equal.
    """
    low = np.zeros(new_keys.height, dtype=np.int64)
    high = np.full(new_keys.height, len(run), dtype=np.int64)
    while (open_ := np.flatnonzero(low < high)).size:
        middle = (low[open_] + high[open_]) // 2
        probes = run_keys[run[middle]]
        before = _precedes(probes, new_keys[open_])
        low[open_[before]] = middle[before] + 1
        high[open_[~before]] = middle[~before]
    return low


def _precedes(left: pl.DataFrame, right: pl.DataFrame) -> np.ndarray:
    """Row by row: does ``left`` come before ``right`` (lexicographic, missing smallest)?"""
    pairs = pl.concat([left, right.rename(lambda name: f"{name}'")], how="horizontal")
    before, undecided = pl.lit(False), pl.lit(True)
    for name in left.columns:
        a, b = pl.col(name), pl.col(f"{name}'")
        less = (a.is_null() & b.is_not_null()) | (a < b).fill_null(False)
        before = before | (undecided & less)
        undecided = undecided & a.eq_missing(b)
    return pairs.select(before).to_series().to_numpy()
