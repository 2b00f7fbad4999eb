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
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

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


def _substring(predicate: Substring) -> pl.Expr:
    text = pl.col(predicate.column).str
    if predicate.prefix:
        return text.starts_with(predicate.needle)
    return text.contains(predicate.needle, literal=True)


def _equals_any(predicate: EqualsAny) -> pl.Expr:
    column, values = predicate.column, predicate.values
    if len(values) == 1:
        return pl.col(column) == values[0]
    return pl.col(column).is_in(list(values))


def _time_range(predicate: TimeRange) -> pl.Expr:
    start, end = predicate.start, predicate.end
    return pl.col(predicate.column).is_between(pl.lit(start), pl.lit(end), closed="both")


def _numeric_range(predicate: NumericRange) -> pl.Expr:
    column = pl.col(predicate.column)
    bounds = [column.is_not_null()]
    if predicate.low is not None:
        bounds.append(column >= float(predicate.low))
    if predicate.high is not None:
        bounds.append(column <= float(predicate.high))
    return functools.reduce(operator.and_, bounds)


def _tags_contain(predicate: TagsContain) -> pl.Expr:
    column = pl.col(predicate.column)
    return functools.reduce(operator.and_, [column.list.contains(p) for p in predicate.pairs])


def _token_search(predicate: TokenSearch) -> pl.Expr:
    column, per_element = predicate.column, predicate.per_element
    target = pl.element() if per_element else pl.col(column)
    every = functools.reduce(
        operator.and_,
        [target.str.contains(f" {token} ", literal=True) for token in predicate.tokens],
    )
    return pl.col(column).list.eval(every).list.any() if per_element else every


def _flag(predicate: Flag) -> pl.Expr:
    return pl.col(predicate.column) == predicate.value


def _visibility(predicate: Visibility) -> pl.Expr:
    user_id = predicate.user_id
    public = pl.col("ix_Accessibility") != "private"
    return public if user_id is None else public | (pl.col("UserId") == user_id)


def _match_nothing(_: MatchNothing) -> pl.Expr:
    return pl.lit(False)


#: The Polars rule of each predicate kind, one per kind of :data:`Predicate` (a test checks
#: that the keys are exactly the kinds). Each rule's expression is null where a value is null:
#: callers that need a flag per row fill nulls with False (no match).
RULES: Mapping[type, Callable[[Any], pl.Expr]] = MappingProxyType(
    {
        Substring: _substring,
        EqualsAny: _equals_any,
        TimeRange: _time_range,
        NumericRange: _numeric_range,
        TagsContain: _tags_contain,
        TokenSearch: _token_search,
        Flag: _flag,
        Visibility: _visibility,
        MatchNothing: _match_nothing,
    }
)


def compile_predicate(predicate: Predicate) -> pl.Expr:
    """The Polars expression of one predicate, by its kind's rule (nulls count as no match)."""
    return RULES[type(predicate)](predicate)


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
