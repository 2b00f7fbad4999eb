"""The Polars backend: one compile rule per predicate kind, and the lazy query pipeline.

``compile`` builds ``scan → filter → order → slice`` as a LazyFrame and never collects. One
rule is special: a time window on ``GmtCreateTime`` — present in almost every request, since the
window is always applied — compiles to a *row range* found by binary search, because a snapshot
keeps its rows in ``(GmtCreateTime, JobId)`` order. Only the rows inside the window are scanned.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

from jobquery.plan import Ordering, Plan
from jobquery.predicates import (
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
from jobquery.snapshot import ROW, Snapshot, rank_column, rank_key

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: The column the snapshot's rows are ordered by; a window on it becomes a row range.
ROW_ORDER_FIELD = "GmtCreateTime"


def compile_predicate(predicate: Predicate) -> pl.Expr:
    """The Polars expression of one predicate (nulls count as no match)."""
    match predicate:
        case Substring(column=column, needle=needle, prefix=prefix):
            text = pl.col(column).str
            return text.starts_with(needle) if prefix else text.contains(needle, literal=True)
        case EqualsAny(column=column, values=values):
            if len(values) == 1:
                return pl.col(column) == values[0]
            return pl.col(column).is_in(list(values))
        case TimeRange(column=column, start=start, end=end):
            return pl.col(column).is_between(pl.lit(start), pl.lit(end), closed="both")
        case NumericRange(column=column, low=low, high=high):
            bounds = [pl.col(column).is_not_null()]
            if low is not None:
                bounds.append(pl.col(column) >= float(low))
            if high is not None:
                bounds.append(pl.col(column) <= float(high))
            return functools.reduce(operator.and_, bounds)
        case TagsContain(column=column, pairs=pairs):
            return functools.reduce(
                operator.and_, [pl.col(column).list.contains(pair) for pair in pairs]
            )
        case TokenSearch(column=column, tokens=tokens, per_element=per_element):
            target = pl.element() if per_element else pl.col(column)
            every = functools.reduce(
                operator.and_,
                [target.str.contains(f" {token} ", literal=True) for token in tokens],
            )
            return pl.col(column).list.eval(every).list.any() if per_element else every
        case Flag(column=column, value=value):
            return pl.col(column) == value
        case Visibility(user_id=user_id):
            public = pl.col("ix_Accessibility") != "private"
            return public if user_id is None else public | (pl.col("UserId") == user_id)
        case MatchNothing():
            return pl.lit(False)
    raise TypeError(f"no Polars rule for {predicate!r}")  # pragma: no cover - closed set


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


def matches(
    plan: Plan, snapshot: Snapshot, scan: Scan | None = None, *, seen_by: pl.Expr | None = None
) -> pl.LazyFrame:
    """Every visible job that satisfies the plan, in snapshot order (with the plan's rank
    column when it orders by one: rank columns are computed on first use, not in ``live``).

    ``seen_by``, when given, keeps only the rows of the scan it holds for, before the plan is
    made: ``explain`` passes a non-admin caller's visibility, so that Polars' plan (the number
    and sortedness of the rows it reads) depends on nothing else.
    """
    scan = scan or plan_scan(plan, snapshot)
    rows = snapshot.live.slice(scan.start, scan.stop - scan.start)
    key = rank_key(order_column(plan.ordering))
    if key is not None:
        ranks = snapshot.rank(key)[scan.start : scan.stop]
        rows = rows.with_columns(pl.Series(rank_column(key), ranks))
    if seen_by is not None:
        rows = rows.filter(seen_by)
    frame = rows.lazy()
    if scan.filters:
        frame = frame.filter(
            functools.reduce(operator.and_, [compile_predicate(p) for p in scan.filters])
        )
    return frame


def compile(
    plan: Plan, snapshot: Snapshot, *, paged: bool = True, seen_by: pl.Expr | None = None
) -> pl.LazyFrame:
    """The whole query as a LazyFrame: filter → order → slice (``paged=False``: no slice;
    ``seen_by``: see :func:`matches`)."""
    ordered = matches(plan, snapshot, seen_by=seen_by).sort(
        order_column(plan.ordering), descending=plan.ordering.descending
    )
    return ordered.slice(plan.page.offset, plan.page.size) if paged else ordered


def _micros(moment: datetime) -> int:
    return (moment.astimezone(UTC) - _EPOCH) // timedelta(microseconds=1)
