"""Pages: the total order of spec §3.5.8, offset and keyset pages, and late materialisation.

Filtering and ordering run on narrow index columns; full job dicts are built only for the rows
of the requested page. When nothing but the ``GmtCreateTime`` window applies and the order is by
``GmtCreateTime`` (the default listing), the page is pure arithmetic on the row range.

Keyset pages (the ``NextToken`` extension, :mod:`jobquery.tokens`) start after a *position*:
the order-column value of the last job served — a row of ``live`` for ``GmtCreateTime``, a
rank otherwise; both are a total order of one snapshot. Rows past the position are a narrower
row range, or a filter on the rank, followed by a top-k: no offset is ever skipped over.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import polars as pl

from jobquery.compile_polars import matches, order_column, plan_scan
from jobquery.plan import Plan
from jobquery.snapshot import JOB_JSON, ROW, Snapshot, load_job


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
    if not scan.filters and order_by == ROW:
        total = scan.stop - scan.start
        first, last = page.offset, min(page.offset + page.size, total)
        if first >= last:
            return PageResult([], total)
        if ordering.descending:
            return PageResult(list(range(scan.stop - 1 - first, scan.stop - 1 - last, -1)), total)
        return PageResult(list(range(scan.start + first, scan.start + last)), total)

    columns = [ROW] if order_by == ROW else [ROW, order_by]
    found = matches(plan, snapshot, scan).select(columns).collect()
    total = found.height
    if page.offset >= total:
        return PageResult([], total)
    wanted = page.offset + page.size
    if order_by == ROW:  # already in row order
        keys = found[ROW]
        rows = keys.reverse().head(wanted) if ordering.descending else keys.head(wanted)
    else:
        top = (
            found.top_k(wanted, by=order_by)
            if ordering.descending
            else found.bottom_k(wanted, by=order_by)
        )
        rows = top.sort(order_by, descending=ordering.descending)[ROW]
    return PageResult(rows.slice(page.offset, page.size).to_list(), total)


@dataclass(frozen=True)
class KeysetPage:
    """The rows of one keyset page, in order, and where the next page starts.

    Attributes
    ----------
    rows : list of int
        Positions in ``snapshot.live``.
    last_position : int or None
        The order-column value of the last row, when another page follows (else None).
    total_count : int or None
        The number of matches, counted on the first page only (None after a position).
    """

    rows: list[int]
    last_position: int | None
    total_count: int | None


def keyset_rows(plan: Plan, snapshot: Snapshot, after: int | None) -> KeysetPage:
    """Find the ``plan.page.size`` rows that follow position ``after`` (None: the first page).

    The page number of the plan is not used; the total is counted only when ``after`` is None.
    """
    scan = plan_scan(plan, snapshot)
    order_by = order_column(plan.ordering)
    descending = plan.ordering.descending
    size = plan.page.size
    wanted = size + 1  # one more row tells whether another page follows
    if order_by == ROW and after is not None:  # past the position is a narrower row range
        if descending:
            scan = replace(scan, stop=max(scan.start, min(scan.stop, after)))
        else:
            scan = replace(scan, start=min(scan.stop, max(scan.start, after + 1)))

    total: int | None = None
    if order_by == ROW and not scan.filters:
        total = scan.stop - scan.start
        if descending:
            positions = list(range(scan.stop - 1, max(scan.start, scan.stop - wanted) - 1, -1))
        else:
            positions = list(range(scan.start, min(scan.stop, scan.start + wanted)))
        rows = positions
    else:
        columns = list(dict.fromkeys([ROW, order_by]))
        found = matches(plan, snapshot, scan).select(columns)
        if after is not None and order_by != ROW:
            found = found.filter(
                pl.col(order_by) < after if descending else pl.col(order_by) > after
            )
        if after is None:
            collected = found.collect()
            total, found = collected.height, collected.lazy()
        top = (
            found.top_k(wanted, by=order_by) if descending else found.bottom_k(wanted, by=order_by)
        )
        picked = top.sort(order_by, descending=descending).collect()
        rows, positions = picked[ROW].to_list(), picked[order_by].to_list()
    more = len(rows) > size
    return KeysetPage(
        rows=rows[:size],
        last_position=positions[size - 1] if more else None,
        total_count=total if after is None else None,
    )


def materialise(snapshot: Snapshot, rows: list[int]) -> list[dict[str, Any]]:
    """The stored job dicts of some rows of ``snapshot.live``, in the given order."""
    if not rows:
        return []
    texts = snapshot.live[JOB_JSON].gather(pl.Series(rows, dtype=pl.UInt32))
    return [load_job(text) for text in texts]
