"""Pages: the total order of spec §3.5.8, offset pages, and late materialisation.

Filtering and ordering run on narrow index columns; full job dicts are built only for the rows
of the requested page. When nothing but the ``GmtCreateTime`` window applies and the order is by
``GmtCreateTime`` (the default listing), the page is pure arithmetic on the row range.
"""

from __future__ import annotations

from dataclasses import dataclass
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


def materialise(snapshot: Snapshot, rows: list[int]) -> list[dict[str, Any]]:
    """The stored job dicts of some rows of ``snapshot.live``, in the given order."""
    if not rows:
        return []
    texts = snapshot.live[JOB_JSON].gather(pl.Series(rows, dtype=pl.UInt32))
    return [load_job(text) for text in texts]
