"""The layout of a snapshot's rows: their order, the rank columns, and packed strings.

Rows are kept in ``(GmtCreateTime, JobId)`` order, the listable jobs first and the deleted ones
after them (:data:`ROW_ORDER`): the default listing (newest first in a time window on
``GmtCreateTime``) is a binary search and a slice, and the listable jobs are a slice of the
frame, not a copy. A rank column holds each job's position in the total order of a sort key,
so ordering a page never sorts strings. Putting a build's columns in order also packs their
strings, and lets equal values share one copy of their bytes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from jobquery.snapshot.columns import (
    JOB_JSON,
    RANKED_SORT_KEYS,
    index_column,
    rank_column,
)

#: Pieces read at once: the native reader and most of Polars' work release the GIL.
BUILD_THREADS = max(1, min(os.cpu_count() or 1, 8))


#: The columns that order a snapshot's rows: the listable jobs first (``live`` is then a slice
#: of the frame), then GmtCreateTime and JobId (spec §3.5.8 ties).
ROW_ORDER = ("IsDeleted", "GmtCreateTime", "ix_JobId", "JobId")


def rank_order_columns(sort_key: str) -> list[str]:
    """The columns whose order a rank column holds: listable jobs first, as the rows."""
    if sort_key.startswith("Gmt"):
        return ["IsDeleted", sort_key]
    return ["IsDeleted", index_column(sort_key), sort_key]


def listable_first(frame: pl.DataFrame) -> pl.DataFrame:
    """A frame in the row order of format 1 of saved snapshots (deleted jobs among the others,
    ranks over all jobs) put in today's order: listable jobs first, ranks among them."""
    is_deleted = frame["IsDeleted"].to_numpy()
    rows = np.argsort(is_deleted, kind="stable")
    ranks = []
    for key in RANKED_SORT_KEYS:
        # the old order of a key, with the listable jobs moved first: ties cannot occur
        order = np.lexsort((frame[rank_column(key)].to_numpy(), is_deleted))
        rank = np.empty(frame.height, dtype=np.uint32)
        rank[order] = np.arange(frame.height, dtype=np.uint32)
        ranks.append(pl.Series(rank_column(key), rank[rows]))
    return frame[rows].with_columns(ranks)


def index_columns_equal_to_their_field(columns: Mapping[str, pl.Series]) -> dict[str, str]:
    """The ``ix_<field>`` columns equal to ``<field>`` (ids are mostly lower case already),
    each with its field: such a column is stored as the field's column again, its buffers
    shared."""
    return {
        name: field
        for name, column in columns.items()
        if (field := name.removeprefix("ix_")) != name
        and field in columns
        and column.equals(columns[field], check_dtypes=True)
    }


def _put_in_order(unsorted: list[pl.Series]) -> pl.DataFrame:
    """The frame of the columns ``unsorted``, sorted by :data:`ROW_ORDER`, its strings packed.
    The list is emptied. (The rank columns are computed on first use: :meth:`Snapshot.rank`.)

    Columns are put in order a few at a time (one per build thread), each unsorted column let
    go as soon as its sorted copy exists, so that the build holds about one copy of the table,
    not two. They come as columns, not a frame: any operation on a frame whose columns are
    chunked differently (the job texts by build chunk, the others by piece) first rechunks
    every column, which would add to the build's peak.
    """
    by_name = {column.name: column for column in unsorted}
    rows = _row_order(*(by_name[name] for name in ROW_ORDER))
    same_as_field = {}
    if len(rows) >= _SHARING_MIN_ROWS:
        same_as_field = index_columns_equal_to_their_field(by_name)
    del by_name
    names = [column.name for column in unsorted if not column.name.startswith("ix_rank")]
    # an index column equal to its field becomes the field's sorted column again
    own = [
        column for column in unsorted if column.name in names and column.name not in same_as_field
    ]
    unsorted.clear()
    with ThreadPoolExecutor(max_workers=BUILD_THREADS) as pool:
        # the pool holds each column until its task is done, then lets it go
        sorted_columns = {
            column.name: column
            for column in pool.map(lambda column: _in_order_let_go(column, rows), _handed_over(own))
        }
    for name, field_name in same_as_field.items():
        sorted_columns[name] = sorted_columns[field_name].alias(name)
    return pl.DataFrame([sorted_columns[name] for name in names])


def _in_order_let_go(column: pl.Series, order: pl.Series) -> pl.Series:
    """:func:`_in_order`, then the memory Arrow's allocator kept from it given back: the
    repacking goes through Arrow, whose pool otherwise keeps what each column freed, and the
    build's resident memory grew by about half the snapshot's size (docs/performance.md)."""
    in_order = _in_order(column, order)
    pa.default_memory_pool().release_unused()
    return in_order


def _handed_over(columns: list[pl.Series]) -> Iterator[pl.Series]:
    """The columns of a list, emptying it as they are taken (so that none stays referenced
    by the list once its task has it)."""
    columns.reverse()
    while columns:
        yield columns.pop()


def _row_order(
    deleted: pl.Series, created: pl.Series, folded_id: pl.Series, job_id: pl.Series
) -> pl.Series:
    """The permutation that puts rows in :data:`ROW_ORDER` (missing values first).

    Sorted by the two numeric keys with numpy; only rows that tie on both (jobs created in
    the same microsecond) are sorted by their ids, with Polars: a sort of all rows by the
    four columns spent most of its time comparing ids (docs/performance.md).
    """
    is_deleted = deleted.fill_null(False).to_numpy()
    moments = created.dt.epoch("us").fill_null(np.iinfo(np.int64).min).to_numpy()
    order = np.lexsort((moments, is_deleted))
    moments, is_deleted = moments[order], is_deleted[order]
    same = (moments[1:] == moments[:-1]) & (is_deleted[1:] == is_deleted[:-1])
    if same.any():
        # runs of ties: each run's rows sorted by the ids, in place in the order
        starts = np.flatnonzero(np.concatenate([[True], ~same]))
        run = np.repeat(np.arange(len(starts)), np.diff(np.concatenate([starts, [len(order)]])))
        tied = np.flatnonzero(np.concatenate([same, [False]]) | np.concatenate([[False], same]))
        ties = pl.DataFrame(
            {
                "run": run[tied],
                "folded": folded_id.gather(order[tied]),
                "id": job_id.gather(order[tied]),
                "row": order[tied],
            }
        ).sort(["run", "folded", "id"], nulls_last=False, maintain_order=True)
        order[tied] = ties["row"].to_numpy()
    return pl.Series("rows", order, dtype=pl.UInt32 if len(order) < 2**32 else pl.UInt64)


def _rank(frame: pl.DataFrame, sort_key: str) -> np.ndarray:
    """The rank column of a sort key over a frame in row order (see :meth:`Snapshot.rank`).

    Ties on the key keep row order, which is already (GmtCreateTime, JobId): the rank is then
    the job's position in the spec's total order (§3.5.8), ascending, missing smallest, among
    the listable jobs (0 to their count - 1; the deleted ones rank after them).
    """
    permutation = frame.select(
        pl.arg_sort_by(rank_order_columns(sort_key), nulls_last=False, maintain_order=True)
    ).to_series()
    rank = np.empty(frame.height, dtype=np.uint32)
    rank[permutation.to_numpy()] = np.arange(frame.height, dtype=np.uint32)
    return rank


def _in_order(column: pl.Series, order: pl.Series) -> pl.Series:
    """A column gathered into ``order``, its strings packed (except the job texts).

    A gather leaves string data scattered, and substring scans run much slower on it (DESIGN.md).
    A string column whose values repeat is rebuilt from its distinct values (:func:`_shared`):
    every row's view points at the one copy of its value. Any other string column is repacked
    by an Arrow round trip. A column of strings of 12 bytes or fewer needs neither: an Arrow
    string view holds such a string itself, so a gather moves the data with the view. The job
    texts are never scanned, only read by row: they keep pointing into the input's buffers,
    which costs no copy of the largest column.

    The build's columns come in many chunks; gathering across chunks costs far more than
    gathering from one, and joining the chunks first costs next to nothing for strings (their
    views are copied, not the text).
    """
    inline = False
    if column.dtype == pl.String and column.name != JOB_JSON:
        longest = column.str.len_bytes().max()
        inline = not isinstance(longest, int) or longest <= _INLINE_BYTES
        shared = None if inline else _shared(column, order)
        if shared is not None:
            return shared
    column = column.rechunk().gather(order)
    if inline or column.name == JOB_JSON or column.dtype not in (pl.String, pl.List(pl.String)):
        return column
    return _repacked(column)


#: Arrow string views hold strings of up to this many bytes inline (no data buffer).
_INLINE_BYTES = 12


def _repacked(column: pl.Series) -> pl.Series:
    repacked = pl.from_arrow(column.to_arrow())
    assert isinstance(repacked, pl.Series)
    return repacked.alias(column.name)


#: Rows sampled to guess whether a column's values repeat enough to be worth sharing.
_SHARING_SAMPLE = 20_000
#: Below this many rows a column is not worth sharing: the few kilobytes saved cost more time
#: per column than they are worth (small builds, as the test suite makes, felt it).
_SHARING_MIN_ROWS = 1_000


def _shared(column: pl.Series, order: pl.Series | None = None) -> pl.Series | None:
    """A string column (gathered into ``order``) whose equal values share one copy of their
    bytes, or None when its values seldom repeat (judged on its first rows).

    Arrow string views point into data buffers, and nothing stops many views from pointing at
    the same bytes: a column of a few hundred user ids then costs its 16-byte views and the
    few hundred ids, not every row's copy. With the index columns equal to their fields shared
    too (:func:`_put_in_order`), a snapshot takes about a third less memory with compressed
    texts, in about the time the repacking took (docs/performance.md).
    """
    if len(column) < _SHARING_MIN_ROWS:
        return None
    sample = column.head(_SHARING_SAMPLE)
    if sample.n_unique() * 2 > len(sample):
        return None
    distinct, codes = dictionary_encoded(column)
    distinct = _repacked(distinct)
    # a null code gathers a null
    return distinct.gather(codes if order is None else codes.gather(order)).alias(column.name)


def dictionary_encoded(column: pl.Series) -> tuple[pl.Series, pl.Series]:
    """A string column's distinct values (no null) and each row's code into them (null for a
    null value), by Arrow's dictionary encoding: one hash pass, where ``unique()`` and a join
    took two. Gathering the distinct values by the codes copies string views, not strings."""
    encoded = pc.dictionary_encode(column.rechunk().to_arrow(compat_level=pl.CompatLevel.newest()))
    distinct = pl.Series(column.name, encoded.dictionary, dtype=column.dtype)
    return distinct, pl.Series(encoded.indices)
