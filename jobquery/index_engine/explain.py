"""What ``list_jobs`` does for a plan, in words, as the index engine decides it.

Nothing here decides anything: the selection is run by :func:`jobquery.index_engine.select.select`
(which reports each step it applies), each step is what :func:`jobquery.index_engine.select.prepare`
made of its predicate, a postings fetch is asked of
:func:`jobquery.index_engine.select.from_postings`, and the walk-or-partition choice of a
rank-ordered page of :func:`jobquery.index_engine.order.walks_rank_order` — the functions
``list_jobs`` calls, with the store's :class:`~jobquery.index_engine.policy.SelectionPolicy`. Those
choices and their row counts depend on every row of the snapshot, other users' private jobs
included, so a caller who is not an administrator is told the steps without them
(:func:`steps_unseen`).
"""

from __future__ import annotations

from jobquery.index_engine.order import walks_rank_order
from jobquery.index_engine.policy import SelectionPolicy
from jobquery.index_engine.select import Selection, Step, from_postings, select
from jobquery.plan import Plan
from jobquery.plan.predicates import Predicate, Substring, Visibility
from jobquery.plan.window import ROW_ORDER_FIELD, Scan, order_column, plan_scan
from jobquery.snapshot import ROW, Snapshot

HEADER = "list_jobs (the index engine), step by step:"


def steps_seen(
    plan: Plan, snapshot: Snapshot, policy: SelectionPolicy, *, keyset: bool
) -> list[str]:
    """The steps ``list_jobs`` takes for ``plan`` (its first page, for ``keyset``), with the
    path each one takes and the rows it keeps: for an administrator only."""
    scan = plan_scan(plan, snapshot)
    trace: list[tuple[Step, Selection]] = []
    selection = select(snapshot, scan, policy, trace=trace)
    lines = [HEADER, *_selection_lines(snapshot, scan, trace, policy)]
    total = selection.count()
    size = plan.page.size
    first, last = (0, min(size + 1, total)) if keyset else _page_range(plan, total)
    lines.append(f"order: {_order(plan, snapshot, selection, (first, last), policy)}")
    lines.append(f"page: {_page(plan, keyset)}")
    return lines


def steps_unseen(plan: Plan, *, keyset: bool) -> list[str]:
    """The steps ``list_jobs`` takes for ``plan``, without any choice or count that depends
    on the snapshot's rows: what a caller who is not an administrator is told."""
    lines = [HEADER]
    by_rows = plan.window.column == ROW_ORDER_FIELD
    filters = [p for p in plan.predicates if p is not plan.window or not by_rows]
    if filters:
        lines.append(
            "select: each filter is applied by a lookup index, a table of its column's distinct "
            "values or Polars on the rows, keeping a mask, a row list or postings lists; the "
            "order of the steps and their paths depend on every job, so they are chosen at run "
            "time (shown to administrators):"
        )
        lines += [f"  - {_name(predicate)}" for predicate in filters]
    else:
        lines.append("select: no filter besides the window: every row of the window")
    if order_column(plan.ordering) == ROW:
        order = "the snapshot's row order itself: the page's rows are found by position"
    else:
        order = (
            f"the rank column of {plan.ordering.key}: a walk down the rank order or a partition "
            "of the matches' ranks, chosen at run time (shown to administrators)"
        )
    return [*lines, f"order: {order}", f"page: {_page(plan, keyset)}"]


def _selection_lines(
    snapshot: Snapshot,
    scan: Scan,
    trace: list[tuple[Step, Selection]],
    policy: SelectionPolicy,
) -> list[str]:
    window = scan.stop - scan.start
    if window <= 0:
        return ["select: the window holds no row: nothing to select"]
    if not trace:
        if scan.filters:
            return ["select: a filter matches no job: nothing to select"]
        return [f"select: no filter besides the window: its {window} rows"]
    lines = [f"select, {len(trace)} of {len(scan.filters)} step(s), cheapest first:"]
    before = Selection(scan.start, scan.stop)
    for number, (step, after) in enumerate(trace, 1):
        fetched = step.lookup is None and from_postings(snapshot, step, before, policy) is not None
        lines.append(
            f"  {number}. {_name(step.predicate)}: {_test(snapshot, step)} -> "
            f"{_form(after, fetched=fetched)}: {after.count()} rows"
        )
        before = after
    if len(trace) < len(scan.filters):
        lines.append("  (no row left: the other steps are not run)")
    return lines


def _name(predicate: Predicate) -> str:
    if isinstance(predicate, Visibility):
        return "visibility"
    column = getattr(predicate, "column", None)
    return predicate.parameter if column is None else f"{predicate.parameter} ({column})"


def _test(snapshot: Snapshot, step: Step) -> str:
    """How a step tests a row: a lookup index, a table by code, or Polars."""
    if step.lookup is not None:
        kind = "trigrams" if isinstance(step.predicate, Substring) else "per-value hashes"
        return f"lookup index ({kind}), at most {step.estimate} rows of the window"
    sizes = " x ".join(str(d.size) for d in step.dictionaries)
    if step.either is not None:
        return f"each column's codes tested apart ({sizes} distinct values; no product table)"
    if step.table is None:
        return "Polars rule on the rows (no table of distinct values)"
    estimate = round(step.share * snapshot.live.height)
    about = f", about {estimate} rows of all" if len(step.dictionaries) == 1 else ""
    return f"table over {sizes} distinct values by code ({step.kept} kept{about})"


def _form(selection: Selection, *, fetched: bool) -> str:
    """The form of a selection: unmerged postings lists, a row list, a mask, the window."""
    if selection.lists is not None:
        count = len(selection.lists)
        return (
            f"its kept codes' postings in the window, unmerged ({count} list{'s' * (count != 1)})"
        )
    if selection.rows is not None:
        return "row list fetched from the postings" if fetched else "row list"
    if selection.mask is not None:
        return "mask over the window"
    return "the whole window"


def _page_range(plan: Plan, total: int) -> tuple[int, int]:
    first = plan.page.offset
    return first, min(first + plan.page.size, total)


def _order(
    plan: Plan,
    snapshot: Snapshot,
    selection: Selection,
    rows: tuple[int, int],
    policy: SelectionPolicy,
) -> str:
    """How the page's rows (selected rows number ``first..last``) are put in the plan's
    order, as :mod:`jobquery.index_engine.order` does."""
    first, last = rows
    if first >= last:
        return "no match on this page: nothing to order"
    if order_column(plan.ordering) == ROW:
        return f"the row order itself: selected rows number {first}..{last - 1}, {_nth(selection)}"
    if walks_rank_order(snapshot, selection, last, policy):
        return (
            f"rank walk: the rank order of {plan.ordering.key} visited until {last} selected "
            "rows are seen"
        )
    return (
        f"partition: the ranks of {plan.ordering.key} of the {selection.count()} matches "
        f"partitioned, the first {last} sorted"
    )


def _nth(selection: Selection) -> str:
    if selection.lists is not None:
        return "merged from each list's end"
    if selection.rows is not None:
        return "sliced from the row list"
    if selection.mask is not None:
        return "counted in the mask chunk by chunk"
    return "arithmetic on the row range"


def _page(plan: Plan, keyset: bool) -> str:
    size = plan.page.size
    if keyset:
        return (
            f"keyset (NextToken): the {size} rows past the token's job (one more tells whether "
            "another page follows), the total counted on the first page only; the jobs are "
            "parsed from their stored texts for those rows only"
        )
    return (
        f"offset {plan.page.offset}, {size} rows; the jobs are parsed from their stored texts "
        "for those rows only"
    )
