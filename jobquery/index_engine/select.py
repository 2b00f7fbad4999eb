"""Which rows of a snapshot a plan matches, computed on column dictionaries and numpy masks.

``list_jobs`` needs only the page's rows and a count, so it does not run the Polars pipeline
of :mod:`jobquery.polars_engine` (``query`` and ``explain`` still do). It reuses its compile
rules, on less data:

- a predicate over columns that have a dictionary (:mod:`jobquery.snapshot.derived`) is evaluated
  over the *distinct values* only, giving one flag per code; each row is then a table lookup by its
  code. The table is computed without a Polars query wherever a rule exists (one per predicate kind:
  :data:`TABLE_RULES`): substrings, prefixes, equalities and token searches by numpy on the values'
  UTF-8 bytes, flags and numeric ranges on the distinct booleans and numbers, visibility as "public
  or owned" over accessibility x user, tag and image-token lists in Python, so a first query with
  new filter values does not pay a Polars query's fixed cost of handing work to its threads per
  predicate. Other predicates are compiled by :func:`~jobquery.polars_engine.compile_predicate` and
  evaluated by Polars on the distinct values, with the same meaning;
- a predicate on a column whose values are nearly unique, which has no dictionary (``JobId``;
  on a real history ``DisplayName`` and the tag lists too), is answered by a lookup index of
  :mod:`jobquery.index_engine.lookups` where one applies: a substring from trigram postings, a
  list of values or tag pairs from per-value postings (:attr:`Step.lookup`). Selecting first, it
  fetches its rows of the window (about as many as it keeps); after other filters, it tests
  their survivors against its postings, or their values when few;
- any other predicate (times other than the row order, a needle shorter than three bytes on a
  column without dictionary...) is evaluated by Polars on the rows still selected, last.

Predicates run cheapest to start from first, each on the rows the earlier ones kept: a
tabulated predicate that keeps few rows fetches them from its dictionary's postings instead of
scanning the window, so a query scoped to one workspace or user costs in proportion to that
workspace's or user's jobs. Which goes first is the one whose fetch touches fewest rows
(:func:`_rows_to_fetch`): a few codes' postings are cut to the window by binary searches (and
counted exactly before they are taken), many codes' postings are gathered whole.

When the plan's only predicate is on one dictionary and keeps a few of its codes (``RequestGPU``
between 4 and 8: two GPU counts; three statuses), the selection is those codes' postings cut
to the window — a binary search per code, the lists left unmerged (:attr:`Selection.lists`).
Nothing is done per row of the window however many rows match: the count is the sum of the
lists' lengths, and a page in row order merges only each list's last (or first) rows.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from jobquery.index_engine import lookups
from jobquery.index_engine.policy import SelectionPolicy
from jobquery.plan.filters import REGISTRY
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
    columns_read,
)
from jobquery.plan.window import Scan
from jobquery.polars_engine import compile_predicate
from jobquery.request import NUMERIC_FIELDS
from jobquery.snapshot import Snapshot, derived, index_column
from jobquery.snapshot.derived import columns_of, dictionary, merged, recall, remember
from jobquery.snapshot.dictionary import Codes, ColumnDictionary, Rows
from jobquery.snapshot.text_bytes import Mask

#: The columns whose dictionaries a store builds before it serves a snapshot: those the
#: registry's filters read (the visibility rule's too), except JobId (all values distinct),
#: and the fields ``NumericRangeField`` names (a first range on ``RequestGPU`` built its
#: dictionary: a grouping of every row).
WARM_COLUMNS: tuple[str, ...] = tuple(
    dict.fromkeys(
        [
            *(
                row.column
                for row in REGISTRY
                if not row.column.startswith("(") and row.column != index_column("JobId")
            ),
            *NUMERIC_FIELDS,
        ]
    )
)


#: The lookup index each filter column would use if it had no dictionary: trigrams for a
#: substring, per-value postings for a list of values (``JobIds``) and for tag pairs.
LOOKUP_COLUMNS: tuple[tuple[str, str], ...] = tuple(
    dict.fromkeys(
        ("trigrams" if row.kind is Substring else "hashes", row.column)
        for row in REGISTRY
        if row.kind in (Substring, EqualsAny, TagsContain) and not row.column.startswith("(")
    )
)


def warm(snapshot: Snapshot, policy: SelectionPolicy, *, lookup_indexes: bool = True) -> None:
    """Build the structures queries on a snapshot use, so that no query pays for them.

    The dictionaries of the filter columns (:data:`WARM_COLUMNS`); for each filter column
    left without one (its values nearly unique: :data:`LOOKUP_COLUMNS`), its lookup index;
    the rank order of every sort key and the page-text reader
    (:func:`jobquery.snapshot.derived.warm_everything`). A store runs this in a background thread
    once its snapshot is ready; each structure is built once, by whichever thread asks first, so
    queries may run beside it. ``lookup_indexes=False`` leaves the lookup indexes (the
    costliest) to their first use.
    """
    for step in warm_steps(snapshot, policy, lookup_indexes=lookup_indexes):
        step()


def warm_steps(
    snapshot: Snapshot, policy: SelectionPolicy, *, lookup_indexes: bool = True
) -> list[Callable[[], Any]]:
    """:func:`warm` as steps of one structure each (a store's background warm-up stops
    between two of them when the process exits)."""
    steps = derived.warm_everything_steps(snapshot, WARM_COLUMNS, policy)
    if lookup_indexes:
        steps += [
            functools.partial(_warm_lookup, snapshot, kind, column, policy)
            for kind, column in LOOKUP_COLUMNS
        ]
    return steps


def _warm_lookup(snapshot: Snapshot, kind: str, column: str, policy: SelectionPolicy) -> None:
    """The lookup index of a filter column left without a dictionary (nearly unique)."""
    if derived.cached_dictionary(snapshot, column, policy) is None:
        lookups.warm(snapshot, [(kind, column)], policy)


@dataclass(frozen=True)
class Selection:
    """Matching rows of ``snapshot.live``: a row range, then a mask over it, a row list, or a
    few row lists (at most one of the three; none selects the whole range).

    Attributes
    ----------
    start, stop : int
        The row range the plan reads (its ``GmtCreateTime`` window).
    mask : numpy.ndarray or None
        One flag per row of the range.
    rows : numpy.ndarray or None
        The selected rows, ascending.
    lists : tuple of numpy.ndarray or None
        The selected rows as a few lists, each ascending, no row in two of them, not merged
        (the postings of a dictionary's kept codes inside the range, see :func:`select`).
    ascending : bool
        False while :func:`select` is still filtering a row list it has not sorted yet
        (sorting the survivors of every filter costs less); a selection it returns is
        always ascending.
    """

    start: int
    stop: int
    mask: Mask | None = None
    rows: Rows | None = None
    lists: tuple[Rows, ...] | None = None
    ascending: bool = True

    def count(self) -> int:
        """The number of selected rows."""
        if self.lists is not None:
            return sum(len(rows) for rows in self.lists)
        if self.rows is not None:
            return len(self.rows)
        if self.mask is not None:
            return int(np.count_nonzero(self.mask))
        return self.stop - self.start

    def to_rows(self) -> Rows:
        """The selected rows, ascending."""
        if self.lists is not None:
            return merged(self.lists)
        if self.rows is not None:
            return self.rows
        if self.mask is not None:
            return np.flatnonzero(self.mask) + self.start
        return np.arange(self.start, self.stop, dtype=np.int64)

    def nth(self, first: int, last: int, *, descending: bool, chunk_rows: int) -> Rows:
        """The selected rows number ``first`` to ``last - 1`` in row order (or reversed); a
        mask is counted ``chunk_rows`` rows at a time."""
        if self.lists is not None:
            return _nth_of_lists(self.lists, first, last, descending=descending)
        if self.rows is not None:
            return self.rows[::-1][first:last] if descending else self.rows[first:last]
        if self.mask is None:
            if descending:
                return np.arange(self.stop - 1 - first, self.stop - 1 - last, -1, dtype=np.int64)
            return np.arange(self.start + first, self.start + last, dtype=np.int64)
        # count per chunk, then list the rows of the chunks that hold the wanted ones only
        mask, total = self.mask, self.count()
        if descending:
            first, last = total - last, total - first
        edges = np.arange(0, len(mask), chunk_rows)
        before = np.concatenate(([0], np.cumsum(np.add.reduceat(mask, edges))))
        low = int(np.searchsorted(before, first, side="right")) - 1
        high = int(np.searchsorted(before, last, side="left"))
        begin, end = low * chunk_rows, min(len(mask), high * chunk_rows)
        found = np.flatnonzero(mask[begin:end]) + (self.start + begin)
        picked = found[first - int(before[low]) : last - int(before[low])]
        return picked[::-1] if descending else picked

    def contains(self, rows: Rows) -> Mask:
        """Whether each of some rows is selected (for a selection without a row list)."""
        if self.lists is not None:
            # a binary search in each list: found when the row at its place is the row itself
            found = np.zeros(len(rows), dtype=np.bool_)
            for listed in self.lists:
                at = np.minimum(np.searchsorted(listed, rows), len(listed) - 1)
                found |= listed[at] == rows
            return found
        inside = (rows >= self.start) & (rows < self.stop)
        if self.mask is not None:
            inside[inside] = self.mask[rows[inside] - self.start]
        return inside


def _nth_of_lists(lists: tuple[Rows, ...], first: int, last: int, *, descending: bool) -> Rows:
    """Rows number ``first`` to ``last - 1`` of the union of ``lists`` in row order (or reversed).

    Page 1 newest first: the wanted rows are among each list's last ``last`` rows, so those are
    merged (sorted) and the page is read off the end; oldest first, each list's first rows. A
    later page first finds where its first row falls in each list (:func:`_cuts`), then merges
    a page's worth of rows from each list from there.
    """
    total = sum(len(rows) for rows in lists)
    last = min(last, total)
    wanted = last - first
    if wanted <= 0:
        return np.empty(0, dtype=np.int64)
    if descending:
        # number ``first`` from the end is number ``total - 1 - first`` in row order: the
        # page is the last ``wanted`` rows before the cut at ``total - first``
        ends = _cuts(lists, total - first)
        pieces = [rows[max(0, end - wanted) : end] for rows, end in zip(lists, ends, strict=True)]
        merged = np.sort(np.concatenate(pieces))
        return merged[::-1][:wanted]
    begins = _cuts(lists, first)
    pieces = [rows[begin : begin + wanted] for rows, begin in zip(lists, begins, strict=True)]
    return np.sort(np.concatenate(pieces))[:wanted]


def _cuts(lists: tuple[Rows, ...], rank: int) -> list[int]:
    """Per list, how many of its rows come before the selected row number ``rank`` (in row
    order); they add up to ``rank``.

    Found by bisecting on the row number ``r``: the selected rows below ``r`` (a binary search
    per list) grow by at most one per row, so the first ``r`` with ``rank`` of them below it
    cuts every list at the right place. About 20 rounds of one search per list, for any page.
    """
    if len(lists) == 1:
        return [rank]
    if rank <= 0:
        return [0] * len(lists)
    if rank >= sum(len(rows) for rows in lists):
        return [len(rows) for rows in lists]
    low = min(int(rows[0]) for rows in lists)
    high = max(int(rows[-1]) for rows in lists) + 1
    while low < high:
        middle = (low + high) // 2
        if sum(int(np.searchsorted(rows, middle)) for rows in lists) >= rank:
            high = middle
        else:
            low = middle + 1
    return [int(np.searchsorted(rows, low)) for rows in lists]


@dataclass(frozen=True)
class Step:
    """One predicate, ready to apply: by dictionary codes (``table``), by a lookup index
    (``lookup``), or by Polars."""

    predicate: Predicate
    #: its Polars rule (None for a lookup's rows, which never need it)
    expression: pl.Expr | None
    dictionaries: tuple[ColumnDictionary, ...] = ()
    table: Mask | None = None
    #: the share of all live rows it keeps, when known from the dictionary
    share: float = 1.0
    #: how many codes the table keeps
    kept: int = 0
    #: how a lookup index answers it, and at most how many rows of the window it keeps
    lookup: lookups.Lookup | None = None
    estimate: int = 0
    #: per dictionary, a table of codes: a row is kept when any of them keeps it (visibility
    #: over many users, whose product of values is too large to tabulate)
    either: tuple[Mask, ...] | None = None

    def keeps(
        self, snapshot: Snapshot, rows: Rows | None, start: int, stop: int, few_comparisons: int
    ) -> Mask:
        """Which of ``rows`` (None: the rows of ``start..stop``) satisfy the predicate."""
        if self.lookup is not None:
            chosen = np.arange(start, stop, dtype=np.int64) if rows is None else rows
            return self.lookup.keeps(snapshot, chosen)
        if self.either is not None:
            keep = np.zeros(stop - start if rows is None else len(rows), dtype=np.bool_)
            for dictionary_, table in zip(self.dictionaries, self.either, strict=True):
                codes = dictionary_.codes[start:stop] if rows is None else dictionary_.codes[rows]
                keep |= _lookup(table, codes, few_comparisons)
            return keep
        if self.table is None:
            assert self.expression is not None
            columns = list(columns_read(self.predicate))
            frame = columns_of(snapshot.live, columns)
            frame = frame.slice(start, stop - start) if rows is None else frame[rows]
            flags = frame.select(self.expression.fill_null(False)).to_series()
            return flags.to_numpy()
        code: Codes | npt.NDArray[np.int64] | None = None
        for dictionary_ in self.dictionaries:
            codes = dictionary_.codes[start:stop] if rows is None else dictionary_.codes[rows]
            # a product of codes needs a wider type than one column's narrowest
            code = codes if code is None else code.astype(np.int64) * dictionary_.size + codes
        assert code is not None
        return _lookup(self.table, code, few_comparisons)


def _member(found: Rows, rows: Rows) -> Mask:
    """Which of ``rows`` are in ``found`` (ascending): a binary search each."""
    if not len(found):
        return np.zeros(len(rows), dtype=np.bool_)
    at = np.minimum(np.searchsorted(found, rows), len(found) - 1)
    hit: Mask = found[at] == rows
    return hit


def _lookup(table: Mask, codes: Codes | npt.NDArray[np.int64], few_comparisons: int) -> Mask:
    """``table[codes]``; a comparison per code when the table keeps or drops only a few."""
    kept = np.flatnonzero(table)
    if len(kept) <= few_comparisons:
        keep = np.zeros(len(codes), dtype=np.bool_)
        for code in kept.tolist():
            keep |= codes == code
        return keep
    dropped = np.flatnonzero(~table)
    if len(dropped) <= few_comparisons:
        keep = np.ones(len(codes), dtype=np.bool_)
        for code in dropped.tolist():
            keep &= codes != code
        return keep
    # np.take rather than indexing with an array: the faster gather for a table of codes
    found: Mask = np.take(table, codes)
    return found


def select(
    snapshot: Snapshot,
    scan: Scan,
    policy: SelectionPolicy,
    *,
    trace: list[tuple[Step, Selection]] | None = None,
) -> Selection:
    """The rows of the scan's range that satisfy all of its filters (``trace``, when given,
    receives each step applied, in order, with the selection it left: ``explain`` reads it)."""
    start, stop = scan.start, scan.stop
    if stop <= start or any(isinstance(p, MatchNothing) for p in scan.filters):
        return Selection(start, start, rows=np.empty(0, dtype=np.int64))
    steps = sorted(
        (prepare(snapshot, predicate, start, stop, policy) for predicate in scan.filters),
        key=lambda step: (
            step.table is None and (step.lookup is None or not policy.lookup_first),
            _rows_to_fetch(step, snapshot, stop - start, policy),
        ),
    )
    if len(steps) == 1:
        alone = _selected_alone(snapshot, steps[0], start, stop, policy)
        if alone is not None:
            if trace is not None:
                trace.append((steps[0], alone))
            return alone
    selection = Selection(start, stop)
    for step in steps:
        selection = _apply(snapshot, step, selection, policy)
        if trace is not None:
            trace.append((step, selection))
        if selection.count() == 0:
            break
    if not selection.ascending:
        assert selection.rows is not None
        selection = Selection(start, stop, rows=np.sort(selection.rows))
    return selection


def _selected_alone(
    snapshot: Snapshot, step: Step, start: int, stop: int, policy: SelectionPolicy
) -> Selection | None:
    """A plan's only step, when it has a shortcut: a lookup's rows of the window, or the
    unmerged postings lists of a few kept codes (None: it is applied as any step)."""
    if step.lookup is not None:
        return Selection(start, stop, rows=_lookup_rows(snapshot, step, start, stop, policy))
    lists = _postings_lists(step, start, stop, policy)
    return None if lists is None else Selection(start, stop, lists=lists)


def _rows_to_fetch(step: Step, snapshot: Snapshot, window: int, policy: SelectionPolicy) -> float:
    """About how many rows a tabulated step touches when it selects first: one keeping a few
    codes of one dictionary cuts their postings to the window (a binary search per code: its
    share of the window); one keeping more gathers all their postings, in the window or not
    (its share of every row).

    So ``Status=Running`` (one code) goes before a ``DisplayName`` substring keeping many
    names, even a smaller share of all rows: the running jobs of a 30-day window are one slice
    of one postings list, and the names are then looked up for those rows only.
    """
    if step.lookup is not None:
        return step.estimate
    if step.table is None:
        return math.inf
    if len(step.dictionaries) == 1 and step.kept <= policy.few_codes:
        return step.share * window
    return step.share * snapshot.live.height


def _postings_lists(
    step: Step, start: int, stop: int, policy: SelectionPolicy
) -> tuple[Rows, ...] | None:
    """The rows of ``start..stop`` a step keeps as its kept codes' postings in that range (one
    list per code that has rows there), when it is tabulated on one dictionary and keeps at most
    ``policy.max_lists`` codes; else None."""
    if step.table is None or len(step.dictionaries) != 1:
        return None
    kept = np.flatnonzero(step.table)
    if len(kept) > policy.max_lists:
        return None
    return tuple(step.dictionaries[0].postings_between(kept, start, stop))


def _apply(
    snapshot: Snapshot, step: Step, selection: Selection, policy: SelectionPolicy
) -> Selection:
    """The rows of ``selection`` that also satisfy ``step``: fetched from the step's postings
    when it comes first and keeps few rows, else tested on the rows still selected (a row list)
    or on every row of the window (a mask)."""
    start, stop = selection.start, selection.stop
    window = stop - start
    if step.lookup is not None:
        return _apply_lookup(snapshot, step, selection, policy)
    fetched = from_postings(snapshot, step, selection, policy)
    if fetched is not None:
        return fetched
    if (
        step.table is None
        and selection.mask is not None
        and selection.count() <= policy.polars_rows_share * window
    ):
        # Polars tests only the survivors (a gather) instead of every row of the window
        selection = Selection(start, stop, rows=selection.to_rows())
    if selection.rows is not None:
        rows = selection.rows
        kept = rows[step.keeps(snapshot, rows, start, stop, policy.few_comparisons)]
        return Selection(start, stop, rows=kept, ascending=selection.ascending)
    keep = step.keeps(snapshot, None, start, stop, policy.few_comparisons)
    mask = keep if selection.mask is None else selection.mask & keep
    if np.count_nonzero(mask) <= policy.rows_share * window:
        return Selection(start, stop, rows=np.flatnonzero(mask) + start)
    return Selection(start, stop, mask=mask)


def from_postings(
    snapshot: Snapshot, step: Step, selection: Selection, policy: SelectionPolicy
) -> Selection | None:
    """A tabulated step that selects first, its rows fetched from its dictionary's postings
    when they are at most ``policy.postings_share`` of the window (None: scanning the window
    costs less, or the step does not select first)."""
    if selection.mask is not None or selection.rows is not None:
        return None
    if step.table is None or len(step.dictionaries) != 1:
        return None
    start, stop = selection.start, selection.stop
    window = stop - start
    codes = np.flatnonzero(step.table)
    if len(codes) <= policy.few_codes:
        # their rows in the window, counted exactly by a binary search per code
        pieces = step.dictionaries[0].postings_between(codes, start, stop)
        if sum(len(piece) for piece in pieces) <= policy.postings_share * window:
            return Selection(start, stop, rows=merged(pieces))
    elif step.share * snapshot.live.height <= policy.postings_share * window:
        rows = step.dictionaries[0].unordered_rows_between(
            codes, start, stop, max_slices=policy.max_slices
        )
        return Selection(start, stop, rows=rows, ascending=False)
    return None


def _apply_lookup(
    snapshot: Snapshot, step: Step, selection: Selection, policy: SelectionPolicy
) -> Selection:
    """The rows of ``selection`` a lookup step keeps: its survivors tested against the lookup
    when they are at most ``policy.survivors_share`` of the rows it would fetch, else the
    fetched rows of the range filtered by the selection."""
    assert step.lookup is not None
    start, stop = selection.start, selection.stop
    if selection.lists is not None:
        selection = Selection(start, stop, rows=selection.to_rows())
    count = selection.count()
    if selection.mask is not None and count <= policy.survivors_share * step.estimate:
        selection = Selection(start, stop, rows=selection.to_rows())
    if selection.rows is not None and count <= policy.survivors_share * step.estimate:
        rows = selection.rows
        kept = rows[step.lookup.keeps(snapshot, rows)]
        return Selection(start, stop, rows=kept, ascending=selection.ascending)
    found = _lookup_rows(snapshot, step, start, stop, policy)
    if selection.rows is not None:
        rows = selection.rows
        if selection.ascending:
            return Selection(start, stop, rows=found[_member(rows, found)])
        return Selection(start, stop, rows=rows[_member(found, rows)], ascending=False)
    if selection.mask is not None:
        return Selection(start, stop, rows=found[selection.mask[found - start]])
    return Selection(start, stop, rows=found)


def prepare(
    snapshot: Snapshot, predicate: Predicate, start: int, stop: int, policy: SelectionPolicy
) -> Step:
    """How to apply a predicate to the rows ``start..stop``: tabulated, by a lookup index, or
    by Polars."""
    known: Step | None = recall(snapshot, predicate)
    if known is not None:
        return known
    window = stop - start
    if (
        policy.use_lookups
        and isinstance(predicate, Substring | EqualsAny | TagsContain)
        and dictionary(snapshot, predicate.column, policy) is None
    ):
        # a column of nearly unique values: its lookup index, when one narrows the predicate
        # (candidates to check must be fewer than the rows a scan would test)
        lookup = _lookup_of(snapshot, predicate, policy)
        if lookup is not None:
            estimate = lookup.count_between(start, stop)
            if not lookup.check or estimate == 0 or estimate <= policy.candidate_share * window:
                return Step(predicate, None, lookup=lookup, estimate=estimate)
    expression = compile_predicate(predicate)
    columns = columns_read(predicate)
    found = [dictionary(snapshot, column, policy) for column in columns]
    dictionaries = tuple(d for d in found if d is not None)
    size = math.prod(d.size for d in dictionaries)
    if (
        isinstance(predicate, Visibility)
        and policy.visibility_without_product
        and policy.tables_by_numpy
        and len(dictionaries) == len(found) > 1
        and (size > policy.max_table_size or size > policy.max_table_share * window)
    ):
        # public or owned, tested on each column's codes: no product of their values
        flags = _visibility_flags(predicate.user_id, columns, dictionaries)
        if flags is not None:
            step = Step(predicate, expression, dictionaries, either=tuple(flags))
            remember(snapshot, predicate, step, limit=policy.max_remembered)
            return step
    # tabulating the distinct values must cost less than testing the rows themselves
    if (
        not columns
        or len(dictionaries) < len(found)
        or size > policy.max_table_size
        or size > policy.max_table_share * window
    ):
        return Step(predicate, expression)
    table = _value_table(predicate, columns, dictionaries, policy)
    if table is None:
        values = _product(snapshot, columns, dictionaries, policy)
        table = values.select(expression.fill_null(False)).to_series().to_numpy()
    share = 1.0
    if len(dictionaries) == 1:
        share = dictionaries[0].count(table) / max(1, snapshot.live.height)
    step = Step(predicate, expression, dictionaries, table, share, int(np.count_nonzero(table)))
    # the next query with this filter skips compiling and tabulating it
    remember(snapshot, predicate, step, limit=policy.max_remembered)
    return step


def _lookup_of(
    snapshot: Snapshot, predicate: Substring | EqualsAny | TagsContain, policy: SelectionPolicy
) -> lookups.Lookup | None:
    """The lookup of a predicate (remembered: it holds views of the index, no copies)."""
    key = ("lookup", predicate)
    known: lookups.Lookup | None = recall(snapshot, key)
    if known is None:
        known = lookups.lookup_for(snapshot, predicate, policy)
        if known is not None:
            remember(snapshot, key, known, limit=policy.max_remembered)
    return known


def _lookup_rows(
    snapshot: Snapshot, step: Step, start: int, stop: int, policy: SelectionPolicy
) -> Rows:
    """A lookup step's rows of ``start..stop``, ascending (remembered per range when few)."""
    assert step.lookup is not None
    key = ("lookup rows", step.predicate, start, stop)
    known: Rows | None = recall(snapshot, key)
    if known is not None:
        return known
    rows = step.lookup.rows_between(snapshot, start, stop)
    if len(rows) <= policy.max_remembered_rows:
        remember(snapshot, key, rows, limit=policy.max_remembered)
    return rows


#: A rule computing a predicate's table from its columns' dictionaries (None from the rule:
#: no table for these values, they go to Polars).
TableRule = Callable[
    [Any, tuple[str, ...], tuple[ColumnDictionary, ...], SelectionPolicy], Mask | None
]


def _value_table(
    predicate: Predicate,
    columns: tuple[str, ...],
    dictionaries: tuple[ColumnDictionary, ...],
    policy: SelectionPolicy,
) -> Mask | None:
    """A predicate's table computed by numpy on its dictionaries' values, without a Polars
    query (None when it has no such rule: Polars tabulates it).

    Each rule of :data:`TABLE_RULES` means what :func:`~jobquery.polars_engine.compile_predicate`
    means, nulls never matching: a substring, prefix or equality is tested on the values' UTF-8
    bytes (:class:`~jobquery.snapshot.text_bytes.ValueTexts`), a flag on the two booleans, a numeric
    range on the distinct numbers, visibility as "public or owned" over accessibility x user."""
    rule = TABLE_RULES[type(predicate)]
    if rule is None or not policy.tables_by_numpy:
        return None
    return rule(predicate, columns, dictionaries, policy)


def _substring_table(
    predicate: Substring,
    columns: tuple[str, ...],
    dictionaries: tuple[ColumnDictionary, ...],
    policy: SelectionPolicy,
) -> Mask | None:
    texts = dictionaries[0].texts if len(dictionaries) == 1 else None
    if texts is None:
        return None
    needle = predicate.needle
    return texts.starts_with(needle) if predicate.prefix else texts.contains(needle)


def _equality_table(
    predicate: EqualsAny,
    columns: tuple[str, ...],
    dictionaries: tuple[ColumnDictionary, ...],
    policy: SelectionPolicy,
) -> Mask | None:
    texts = dictionaries[0].texts if len(dictionaries) == 1 else None
    if texts is None or len(predicate.values) > policy.max_numpy_values:
        return None
    return texts.equals_any(predicate.values)


def _flag_table(
    predicate: Flag,
    columns: tuple[str, ...],
    dictionaries: tuple[ColumnDictionary, ...],
    policy: SelectionPolicy,
) -> Mask | None:
    if len(dictionaries) != 1:
        return None
    flags = dictionaries[0].values.to_series()
    if flags.dtype != pl.Boolean:
        return None
    return np.array([flag is predicate.value for flag in flags.to_list()], dtype=np.bool_)


def _token_table(
    predicate: TokenSearch,
    columns: tuple[str, ...],
    dictionaries: tuple[ColumnDictionary, ...],
    policy: SelectionPolicy,
) -> Mask | None:
    if predicate.per_element:
        if not _listed(dictionaries, policy):
            return None
        wanted = [f" {token} " for token in predicate.tokens]
        return _each_list(
            dictionaries[0],
            lambda items: any(
                item is not None and all(token in item for token in wanted) for item in items
            ),
        )
    texts = dictionaries[0].texts if len(dictionaries) == 1 else None
    if texts is None:
        return None
    keep = ~texts.null
    for token in predicate.tokens:
        keep &= texts.contains(f" {token} ")
    return keep


def _tags_table(
    predicate: TagsContain,
    columns: tuple[str, ...],
    dictionaries: tuple[ColumnDictionary, ...],
    policy: SelectionPolicy,
) -> Mask | None:
    if not _listed(dictionaries, policy):
        return None
    pairs = predicate.pairs
    return _each_list(dictionaries[0], lambda items: all(p in items for p in pairs))


def _listed(dictionaries: tuple[ColumnDictionary, ...], policy: SelectionPolicy) -> bool:
    """One dictionary of a list column, small enough to test its values one by one in Python."""
    return (
        len(dictionaries) == 1
        and dictionaries[0].size <= policy.max_python_values
        and isinstance(dictionaries[0].values.dtypes[0], pl.List)
    )


def _each_list(dictionary_: ColumnDictionary, test: Callable[[list[Any]], bool]) -> Mask:
    """``test`` on each distinct list (a null list matches nothing)."""
    lists = dictionary_.values.to_series().to_list()
    return np.array([items is not None and test(items) for items in lists], dtype=np.bool_)


def _visibility_table(
    predicate: Visibility,
    columns: tuple[str, ...],
    dictionaries: tuple[ColumnDictionary, ...],
    policy: SelectionPolicy,
) -> Mask | None:
    """ "Not private, or owned by the caller" over the product of the columns' values (the last
    column varying fastest, as :func:`_product` lists them)."""
    flags = _visibility_flags(predicate.user_id, columns, dictionaries)
    if flags is None:
        return None
    table = flags[0]
    for more in flags[1:]:
        table = np.logical_or.outer(table, more).ravel()
    return table


def _visibility_flags(
    user_id: str | None, columns: tuple[str, ...], dictionaries: tuple[ColumnDictionary, ...]
) -> list[Mask] | None:
    """Per column, which of its values make a job visible: an accessibility other than
    private, the caller's own user id (a job is visible when either holds)."""
    flags: list[Mask] = []
    for column, dictionary_ in zip(columns, dictionaries, strict=True):
        texts = dictionary_.texts
        if texts is None:
            return None
        if column == "ix_Accessibility":
            flags.append(~texts.equals_any(("private",)) & ~texts.null)
        elif column == "UserId" and user_id is not None:
            flags.append(texts.equals_any((user_id,)))
        else:
            return None
    return flags


def _numeric_table(
    predicate: NumericRange,
    columns: tuple[str, ...],
    dictionaries: tuple[ColumnDictionary, ...],
    policy: SelectionPolicy,
) -> Mask | None:
    """A numeric range's table, computed by numpy on its column's distinct numbers (None
    without a dictionary of numbers).

    It means what the compile rule means — a null never matches, the bounds compare as doubles,
    NaN is above every number as in Polars (no stored number is NaN today) — without a Polars
    query, whose fixed cost of handing work to its threads would dominate a first query with a
    new range.
    """
    if len(dictionaries) != 1:
        return None
    numbers = dictionaries[0].numbers
    if numbers is None:
        return None
    values, null = numbers
    keep: Mask = ~null
    if predicate.low is not None:
        keep &= (values >= float(predicate.low)) | np.isnan(values)
    if predicate.high is not None:
        keep &= values <= float(predicate.high)
    return keep


#: The index engine's table rule of each predicate kind, keyed by kind (None: no numpy rule,
#: Polars tabulates the kind on the distinct values).
TABLE_RULES: dict[type[Predicate], TableRule | None] = {
    Substring: _substring_table,
    EqualsAny: _equality_table,
    TimeRange: None,
    NumericRange: _numeric_table,
    TagsContain: _tags_table,
    TokenSearch: _token_table,
    Flag: _flag_table,
    Visibility: _visibility_table,
    MatchNothing: None,
}


def _product(
    snapshot: Snapshot,
    columns: tuple[str, ...],
    dictionaries: tuple[ColumnDictionary, ...],
    policy: SelectionPolicy,
) -> pl.DataFrame:
    """Every combination of the distinct values, the last column varying fastest."""
    if len(dictionaries) == 1:
        return dictionaries[0].values
    key = ("product", columns)
    found: pl.DataFrame | None = recall(snapshot, key)
    if found is None:
        sizes = [d.size for d in dictionaries]
        grid = np.indices(sizes).reshape(len(sizes), -1)
        found = pl.concat(
            [d.values[index] for d, index in zip(dictionaries, grid, strict=True)],
            how="horizontal",
        )
        # every caller's visibility is a table over the same product
        remember(snapshot, key, found, limit=policy.max_remembered)
    return found
