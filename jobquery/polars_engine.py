"""The Polars engine of ``JobStore.query``: one compile rule per predicate kind, and the lazy
pipeline.

``compile`` builds ``scan → filter → order → slice`` as a LazyFrame and never collects. The scan
is the plan's window (:func:`jobquery.plan.window.plan_scan`: a window on ``GmtCreateTime`` is a
row range found by binary search), so only the rows inside it are read. ``list_jobs`` does not
run this pipeline (its engine is :mod:`jobquery.index_engine`); its selection falls back to
these rules for predicates it has no faster path for.
"""

from __future__ import annotations

import functools
import operator

import polars as pl

from jobquery.plan import Plan
from jobquery.plan.predicates import (
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
from jobquery.plan.window import Scan, order_column, plan_scan
from jobquery.snapshot import Snapshot, rank_column, rank_key


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
