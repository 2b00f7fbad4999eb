"""The order step: the selected rows in the order of a sort key's rank column.

Few matches: their ranks are gathered and partitioned. Many: the rows are visited down the
rank order (:func:`~jobquery.snapshot.derived.rank_order`) until a page's worth of selected ones is
seen. Rows in ``GmtCreateTime`` order need neither: the page step reads them off the
selection itself.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from jobquery.index_engine.policy import SelectionPolicy
from jobquery.index_engine.select import Selection
from jobquery.snapshot import Snapshot
from jobquery.snapshot.derived import column_array, rank_order, ranks_in_order
from jobquery.snapshot.dictionary import Rows


def ranked(
    snapshot: Snapshot,
    selection: Selection,
    order_by: str,
    *,
    descending: bool,
    wanted: int,
    policy: SelectionPolicy,
    after: int | None = None,
) -> Rows:
    """The first ``wanted`` selected rows in the order of a rank column (past rank ``after``).

    Few matches: their ranks are gathered and partitioned. Many: the rows are visited in rank
    order (:func:`~jobquery.snapshot.derived.rank_order`) until ``wanted`` selected ones are
    seen, which for a page near the top reads about ``wanted / share of rows selected`` rows,
    not all matches.
    """
    total = selection.count()
    if walks_rank_order(snapshot, selection, wanted, policy):
        return _walk(
            snapshot,
            selection,
            order_by,
            total=total,
            descending=descending,
            wanted=wanted,
            after=after,
        )
    return _partition(
        snapshot, selection, order_by, descending=descending, wanted=wanted, after=after
    )


def walks_rank_order(
    snapshot: Snapshot, selection: Selection, wanted: int, policy: SelectionPolicy
) -> bool:
    """Whether :func:`ranked` walks the rank order rather than partitioning the matches'
    ranks: the matches are not held as a row list, and the rows the walk expects to visit,
    ``wanted`` over the share of rows selected, are fewer than ``policy.walk_share`` times the
    matches."""
    total = selection.count()
    return (
        selection.rows is None and wanted * snapshot.live.height < policy.walk_share * total * total
    )


def _walk(
    snapshot: Snapshot,
    selection: Selection,
    order_by: str,
    *,
    total: int,
    descending: bool,
    wanted: int,
    after: int | None,
) -> Rows:
    """The first ``wanted`` of the ``total`` selected rows met walking down the rank order, in
    chunks that double, the first about as long as the walk is expected to be."""
    live_rows = snapshot.live.height
    order = rank_order(snapshot, order_by)
    if after is not None:  # the rows past the position: a binary search on sorted ranks
        side: Literal["left", "right"] = "left" if descending else "right"
        cut = int(np.searchsorted(ranks_in_order(snapshot, order_by), after, side=side))
        order = order[:cut] if descending else order[cut:]
    if descending:
        order = order[::-1]
    found: list[Rows] = [np.empty(0, dtype=np.int64)]
    seen, position = 0, 0
    step = max(256, 2 * wanted * live_rows // total)
    while seen < wanted and position < len(order):
        chunk = order[position : position + step]
        hits = chunk[selection.contains(chunk)]
        found.append(hits)
        seen += len(hits)
        position += step
        step *= 2
    return np.concatenate(found)[:wanted]


def _partition(
    snapshot: Snapshot,
    selection: Selection,
    order_by: str,
    *,
    descending: bool,
    wanted: int,
    after: int | None,
) -> Rows:
    """The first ``wanted`` selected rows by rank: the matches' ranks gathered, partitioned at
    ``wanted``, and only those sorted."""
    rows = selection.to_rows()
    ranks = column_array(snapshot, order_by)[rows]
    if after is not None:
        past = ranks < after if descending else ranks > after
        rows, ranks = rows[past], ranks[past]
    if wanted < len(rows):
        cut = len(rows) - wanted if descending else wanted
        part = np.argpartition(ranks, cut)
        picked = part[cut:] if descending else part[:cut]
        rows, ranks = rows[picked], ranks[picked]
    by_rank = np.argsort(ranks)
    return rows[by_rank[::-1] if descending else by_rank]
