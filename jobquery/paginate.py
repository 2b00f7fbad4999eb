"""Pages: the total order of spec §3.5.8, offset and keyset pages, and late materialisation.

Filtering and ordering run on narrow index columns; full job dicts are built only for the rows
of the requested page. When nothing but the ``GmtCreateTime`` window applies and the order is by
``GmtCreateTime`` (the default listing), the page is pure arithmetic on the row range.

The matching rows come from :func:`jobquery.selection.select`; in row order the page is the
n-th selected rows (counted in a mask, or merged from the ends of a lone filter's postings
lists), in the order of a rank column it is a walk down the rank order (many matches) or a
partition of the matches' ranks (few).

Keyset pages (the ``NextToken`` extension, :mod:`jobquery.tokens`) start after the last job
served. A token names that job by its ``GmtCreateTime`` and a hash of its ``JobId``
(:func:`find_job_row` finds its row by binary search on the row order); its *position* is its
order-column value — the row itself for ``GmtCreateTime``, its rank otherwise; both are a total
order of one snapshot. Rows past the position are a narrower row range, or the rank order from
the position on: no offset is ever skipped over.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import orjson

from jobquery.plan import Plan
from jobquery.plan.window import order_column, plan_scan
from jobquery.selection import Selection, select
from jobquery.snapshot import ROW, Snapshot, may_hold_long_integer
from jobquery.snapshot.derived import (
    Rows,
    column_array,
    job_texts,
    rank_order,
    ranks_in_order,
    recall,
    remember,
)
from jobquery.tokens import job_key

#: A rank-ordered page walks the rank order when the rows it expects to visit (``wanted`` over
#: the share of rows selected) are fewer than this many times the matches.
WALK_SHARE = 1.0


@dataclass(frozen=True)
class PageResult:
    """The rows of one page (positions in ``snapshot.live``) and the count of all matches."""

    rows: list[int]
    total_count: int


def page_rows(plan: Plan, snapshot: Snapshot) -> PageResult:
    """Find the rows of the plan's page and the total number of matches."""
    scan = plan_scan(plan, snapshot)
    ordering, page = plan.ordering, plan.page
    order_by = order_column(ordering)
    selection = select(snapshot, scan)
    total = selection.count()
    first, last = page.offset, min(page.offset + page.size, total)
    if first >= last:
        return PageResult([], total)
    descending = ordering.descending
    if order_by == ROW:
        rows = selection.nth(first, last, descending=descending)
    else:
        top = ranked(snapshot, selection, order_by, descending=descending, wanted=last)
        rows = top[first:]
    return PageResult(rows.tolist(), total)


def ranked(
    snapshot: Snapshot,
    selection: Selection,
    order_by: str,
    *,
    descending: bool,
    wanted: int,
    after: int | None = None,
) -> Rows:
    """The first ``wanted`` selected rows in the order of a rank column (past rank ``after``).

    Few matches: their ranks are gathered and partitioned. Many: the rows are visited in rank
    order (:func:`~jobquery.snapshot.derived.rank_order`) until ``wanted`` selected ones are seen,
    which for a page near the top reads about ``wanted / share of rows selected`` rows, not all
    matches.
    """
    total = selection.count()
    live_rows = snapshot.live.height
    if walks_rank_order(selection, live_rows, wanted):
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


def walks_rank_order(selection: Selection, live_rows: int, wanted: int) -> bool:
    """Whether :func:`ranked` walks the rank order (many matches: a walk that reads about
    ``wanted / share of rows selected`` rows) rather than partitioning the matches' ranks."""
    total = selection.count()
    return selection.rows is None and wanted * live_rows < WALK_SHARE * total * total


@dataclass(frozen=True)
class KeysetPage:
    """The rows of one keyset page, in order, and where the next page starts.

    Attributes
    ----------
    rows : list of int
        Positions in ``snapshot.live``.
    last_row : int or None
        The row of the page's last job, when another page follows (else None).
    total_count : int or None
        The number of matches, counted on the first page only (None after a position).
    """

    rows: list[int]
    last_row: int | None
    total_count: int | None


def keyset_rows(plan: Plan, snapshot: Snapshot, after_row: int | None) -> KeysetPage:
    """Find the ``plan.page.size`` rows that follow the job at row ``after_row`` in the plan's
    order (None: the first page).

    The page number of the plan is not used; the total is counted only when ``after_row`` is
    None.
    """
    scan = plan_scan(plan, snapshot)
    order_by = order_column(plan.ordering)
    descending = plan.ordering.descending
    size = plan.page.size
    wanted = size + 1  # one more row tells whether another page follows
    after: int | None = None
    if after_row is not None:
        after = after_row if order_by == ROW else int(column_array(snapshot, order_by)[after_row])
    if order_by == ROW and after is not None:  # past the position is a narrower row range
        if descending:
            scan = replace(scan, stop=max(scan.start, min(scan.stop, after)))
        else:
            scan = replace(scan, start=min(scan.stop, max(scan.start, after + 1)))

    selection = select(snapshot, scan)
    total = selection.count() if after is None else None
    if order_by == ROW:
        rows = selection.nth(0, min(wanted, selection.count()), descending=descending).tolist()
    else:
        found = ranked(
            snapshot, selection, order_by, descending=descending, wanted=wanted, after=after
        )
        rows = found.tolist()
    more = len(rows) > size
    return KeysetPage(
        rows=rows[:size],
        last_row=rows[size - 1] if more else None,
        total_count=total,
    )


#: When at most this many jobs share a token job's ``GmtCreateTime``, it is found among them by
#: hashing their JobIds one by one; beyond, the hashes of the tie are computed once and
#: remembered with the snapshot.
FEW_TIES = 64


def find_job_row(snapshot: Snapshot, create_time: int, key: bytes) -> int | None:
    """The row of ``snapshot.live`` whose job has this ``create_times`` value and
    :func:`~jobquery.tokens.job_key` (None when no listable job has both).

    Rows are in ``GmtCreateTime`` order, so the jobs of that time are one range, found by
    binary search; the job is then the one of the range whose JobId hashes to ``key``.
    """
    times = snapshot.create_times
    first = int(np.searchsorted(times, create_time, side="left"))
    stop = int(np.searchsorted(times, create_time, side="right"))
    if stop - first <= FEW_TIES:
        ids = snapshot.live["JobId"].slice(first, stop - first).to_list()
        for offset, job_id in enumerate(ids):
            if job_key(job_id) == key:
                return first + offset
        return None
    remembered = ("job keys of a time tie", first, stop)
    rows: dict[bytes, int] | None = recall(snapshot, remembered)
    if rows is None:
        ids = snapshot.live["JobId"].slice(first, stop - first).to_list()
        rows = {job_key(job_id): first + offset for offset, job_id in enumerate(ids)}
        remember(snapshot, remembered, rows)
    return rows.get(key)


def materialise(snapshot: Snapshot, rows: list[int]) -> list[dict[str, Any]]:
    """The stored job dicts of some rows of ``snapshot.live``, in the given order.

    Each text is parsed as :func:`~jobquery.snapshot.load_job` does: by orjson, or by the
    standard library when it may hold an integer beyond 64 bits (decided once per row).
    """
    if not rows:
        return []
    texts = job_texts(snapshot)
    taken = texts.take(rows)
    checked = texts.long_integer[rows]
    unknown = np.flatnonzero(checked == 0)
    if len(unknown):
        # one test of all of them joined by a space (no run of digits crosses it): a page
        # without 19 digits in a row anywhere, the usual case, costs one pass
        if may_hold_long_integer(b" ".join(taken[index] for index in unknown.tolist())):
            for index in unknown.tolist():
                checked[index] = 2 if may_hold_long_integer(bytes(taken[index])) else 1
        else:
            checked[unknown] = 1
        texts.long_integer[np.asarray(rows)[unknown]] = checked[unknown]
    return [
        json.loads(bytes(text)) if flag == 2 else orjson.loads(text)
        for text, flag in zip(taken, checked.tolist(), strict=True)
    ]
