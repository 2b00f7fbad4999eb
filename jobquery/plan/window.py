"""The window and order both engines share: which rows a plan reads, and what sorts them.

A snapshot keeps its rows in ``(GmtCreateTime, JobId)`` order, so a time window on
``GmtCreateTime`` — present in almost every request, since the window is always applied — is a
*row range* found by binary search (:func:`plan_scan`); only the rows inside it are read. The
plan's total order is the row order itself for ``GmtCreateTime``, else a rank column
(:func:`order_column`). The index engine (``list_jobs``) and the Polars engine (``query``) both
start from these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from jobquery.plan.build import Ordering, Plan
from jobquery.plan.predicates import Predicate
from jobquery.snapshot import ROW, Snapshot, rank_column

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: The column the snapshot's rows are ordered by; a window on it becomes a row range.
ROW_ORDER_FIELD = "GmtCreateTime"


@dataclass(frozen=True)
class Scan:
    """The rows a plan reads: a row range of ``snapshot.live`` and the filters left to apply."""

    start: int
    stop: int
    filters: tuple[Predicate, ...]


def plan_scan(plan: Plan, snapshot: Snapshot) -> Scan:
    """Turn a window on the row-order field into a row range; keep every other predicate."""
    window = plan.window
    rest = tuple(p for p in plan.predicates if p is not window)
    if window.column != ROW_ORDER_FIELD:
        return Scan(0, snapshot.live.height, plan.predicates)
    if window.start > window.end:
        return Scan(0, 0, rest)
    times = snapshot.create_times
    start = int(np.searchsorted(times, _micros(window.start), side="left"))
    stop = int(np.searchsorted(times, _micros(window.end), side="right"))
    return Scan(start, stop, rest)


def order_column(ordering: Ordering) -> str:
    """The column that sorts rows in the plan's total order (row order for GmtCreateTime)."""
    return ROW if ordering.key == ROW_ORDER_FIELD else rank_column(ordering.key)


def _micros(moment: datetime) -> int:
    return (moment.astimezone(UTC) - _EPOCH) // timedelta(microseconds=1)
