"""The page step: the rows of one offset page or keyset page, and the count of all matches.

The matching rows come from :func:`jobquery.index_engine.select.select`; in row order the page
is the n-th selected rows (counted in a mask, or merged from the ends of a lone filter's
postings lists), in the order of a rank column the rows :func:`jobquery.index_engine.order.ranked`
finds. When nothing but the ``GmtCreateTime`` window applies and the order is by
``GmtCreateTime`` (the default listing), the page is pure arithmetic on the row range.

Keyset pages (the ``NextToken`` extension, :mod:`jobquery.index_engine.page_tokens`) start
after the last job served. A token names that job by its ``GmtCreateTime`` and a hash of its
``JobId`` (:func:`find_job_row` finds its row by binary search on the row order); its
*position* is its order-column value — the row itself for ``GmtCreateTime``, its rank
otherwise; both are a total order of one snapshot (spec §3.5.8). Rows past the position are a
narrower row range, or the rank order from the position on: no offset is ever skipped over.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from jobquery.index_engine.order import ranked
from jobquery.index_engine.page_tokens import job_key
from jobquery.index_engine.policy import SelectionPolicy
from jobquery.index_engine.select import select
from jobquery.plan import Plan
from jobquery.plan.window import order_column, plan_scan
from jobquery.snapshot import ROW, Snapshot
from jobquery.snapshot.derived import column_array, recall, remember


@dataclass(frozen=True)
class PageResult:
    """The rows of one page (positions in ``snapshot.live``) and the count of all matches."""

    rows: list[int]
    total_count: int


def page_rows(plan: Plan, snapshot: Snapshot, policy: SelectionPolicy) -> PageResult:
    """Find the rows of the plan's page and the total number of matches."""
    scan = plan_scan(plan, snapshot)
    ordering, page = plan.ordering, plan.page
    order_by = order_column(ordering)
    selection = select(snapshot, scan, policy)
    total = selection.count()
    first, last = page.offset, min(page.offset + page.size, total)
    if first >= last:
        return PageResult([], total)
    descending = ordering.descending
    if order_by == ROW:
        rows = selection.nth(first, last, descending=descending, chunk_rows=policy.count_chunk_rows)
    else:
        top = ranked(
            snapshot, selection, order_by, descending=descending, wanted=last, policy=policy
        )
        rows = top[first:]
    return PageResult(rows.tolist(), total)


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


def keyset_rows(
    plan: Plan, snapshot: Snapshot, after_row: int | None, policy: SelectionPolicy
) -> KeysetPage:
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

    selection = select(snapshot, scan, policy)
    total = selection.count() if after is None else None
    if order_by == ROW:
        count = min(wanted, selection.count())
        rows = selection.nth(
            0, count, descending=descending, chunk_rows=policy.count_chunk_rows
        ).tolist()
    else:
        found = ranked(
            snapshot,
            selection,
            order_by,
            descending=descending,
            wanted=wanted,
            policy=policy,
            after=after,
        )
        rows = found.tolist()
    more = len(rows) > size
    return KeysetPage(
        rows=rows[:size],
        last_row=rows[size - 1] if more else None,
        total_count=total,
    )


def find_job_row(
    snapshot: Snapshot, create_time: int, key: bytes, policy: SelectionPolicy
) -> int | None:
    """The row of ``snapshot.live`` whose job has this ``create_times`` value and
    :func:`~jobquery.index_engine.page_tokens.job_key` (None when no listable job has both).

    Rows are in ``GmtCreateTime`` order, so the jobs of that time are one range, found by
    binary search; the job is then the one of the range whose JobId hashes to ``key``.
    """
    times = snapshot.create_times
    first = int(np.searchsorted(times, create_time, side="left"))
    stop = int(np.searchsorted(times, create_time, side="right"))
    if stop - first <= policy.few_ties:
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
        remember(snapshot, remembered, rows, limit=policy.max_remembered)
    return rows.get(key)
