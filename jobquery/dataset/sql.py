"""The SQL backend: one compile rule per predicate kind, as sqlglot expressions.

A plan (:mod:`jobquery.plan`) becomes queries over a table of the dataset's columns
(:mod:`jobquery.dataset.format`): the count of every match (:func:`count_query`, or per day of
the sort key when it is a time: :func:`bucket_count_query`, or per value when it is a text of
few values: :func:`value_count_query`), the page's keys
(:func:`keys_query`), the page's job texts (:func:`lookup_query`, :func:`texts_sql`), and every
match unpaged (:func:`matches_query`). They are sqlglot expression trees, rendered per engine by
:func:`render` — never SQL pasted together from values, so a value from a request is always one
quoted literal of the engine's own dialect.

The rules compare values the snapshot build computed (casefolded texts, token texts, tag
pairs, labels): the matching rules live there, not here.

========================  ==================================================================
``Substring``             ``contains(ix_col, needle)`` / ``starts_with(...)``: literal, never
                          a ``LIKE`` pattern, so ``%``, ``_`` and ``\\`` are plain characters
``EqualsAny``             ``ix_col = v`` / ``ix_col IN (...)``
``TimeRange``             ``col BETWEEN start AND end`` (typed UTC timestamps); on
                          ``GmtCreateTime`` also ``create_month BETWEEN ...``: whole
                          partitions are skipped, and the months the window covers whole
                          are read without the time condition (:func:`source`)
``NumericRange``          ``col >= low AND col <= high`` as doubles
``TagsContain``           ``contains(ix_tags_text, needle)`` per pair: the pairs as one text,
                          each between separators (:func:`~jobquery.dataset.format.tag_needle`)
``TokenSearch``           ``contains(ix_tokens, ' tok ')`` per token; per role image: some
                          element holds every token (``size(filter(...)) > 0``)
``Flag``                  ``col = TRUE/FALSE``
``Visibility``            ``ix_Accessibility <> 'private' OR UserId = caller``
``MatchNothing``          ``FALSE``
========================  ==================================================================

A missing value is SQL NULL: a comparison with it is NULL, which ``WHERE`` drops, so a job
without the value never matches — the rule of docs/semantics.md. Deleted jobs are dropped by
``IsDeleted = FALSE``. The order is the total order of spec §3.5.8 as the snapshot's rank
columns hold it: the sort key (for a text key: casefolded, then the raw value), then
``GmtCreateTime``, then ``ix_JobId`` and ``JobId``; missing values smallest, every key in the
requested direction. Texts compare by code point in DuckDB, Spark and Polars alike.
"""

from __future__ import annotations

import calendar
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import assert_never

from sqlglot import exp
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.dialects.spark import Spark

from jobquery.dataset.format import (
    BUCKET,
    NO_MONTH,
    PARTITION,
    TAGS_TEXT,
    month_of_time,
    tag_needle,
    workspace_bucket,
)
from jobquery.plan import Ordering, Plan
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
from jobquery.snapshot import JOB_JSON, index_column

#: The column a dataset is partitioned by the month of (a window on it prunes partitions).
PARTITIONED_TIME = "GmtCreateTime"
#: The column whose bucket is a partition (an equality filter on it prunes partitions).
WORKSPACE_COLUMN = index_column("WorkspaceId")
#: The bucket count of :func:`bucket_filter` that shows the buckets as a placeholder.
UNSHOWN_BUCKETS = -1


def column(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def text(value: str) -> exp.Literal:
    return exp.Literal.string(value)


def timestamp(moment: datetime) -> exp.Expression:
    """A UTC instant as a typed literal (``TIMESTAMPTZ`` in DuckDB, ``TIMESTAMP`` in Spark)."""
    utc = moment.astimezone(UTC)
    spelled = (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d} "
        f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}.{utc.microsecond:06d}+00:00"
    )
    return exp.cast(text(spelled), exp.DataType.Type.TIMESTAMPTZ)


def double(value: float) -> exp.Expression:
    """A double exactly: the shortest text that reads back as the same IEEE-754 value."""
    return exp.cast(text(repr(float(value))), exp.DataType.Type.DOUBLE)


def compile_predicate(predicate: Predicate) -> exp.Expression:  # noqa: C901, PLR0911, PLR0912 - a rule per kind
    """The SQL condition of one predicate."""
    match predicate:
        case Substring(column=name, needle=needle, prefix=prefix):
            if prefix:
                return exp.StartsWith(this=column(name), expression=text(needle))
            return exp.Contains(this=column(name), expression=text(needle))
        case EqualsAny(column=name, values=values):
            if len(values) == 1:
                return exp.EQ(this=column(name), expression=text(values[0]))
            return exp.In(this=column(name), expressions=[text(value) for value in values])
        case TimeRange(column=name, start=start, end=end):
            return exp.Between(this=column(name), low=timestamp(start), high=timestamp(end))
        case NumericRange(column=name, low=low, high=high):
            bounds: list[exp.Expression] = [
                exp.Not(this=exp.Is(this=column(name), expression=exp.null()))
            ]
            if low is not None:
                bounds.append(exp.GTE(this=column(name), expression=double(low)))
            if high is not None:
                bounds.append(exp.LTE(this=column(name), expression=double(high)))
            return _all(bounds)
        case TagsContain(pairs=pairs):
            tags = column(TAGS_TEXT)
            return _all([exp.Contains(this=tags, expression=text(tag_needle(p))) for p in pairs])
        case TokenSearch(column=name, tokens=tokens, per_element=per_element):
            if not per_element:
                return _all([_has_token(column(name), token) for token in tokens])
            element = exp.to_identifier("image")
            every = _all([_has_token(element.copy(), token) for token in tokens])
            holding = exp.ArrayFilter(
                this=column(name), expression=exp.Lambda(this=every, expressions=[element])
            )
            return exp.GT(this=exp.ArraySize(this=holding), expression=exp.Literal.number(0))
        case Flag(column=name, value=value):
            return exp.EQ(this=column(name), expression=exp.Boolean(this=value))
        case Visibility(user_id=user_id):
            public = exp.NEQ(this=column("ix_Accessibility"), expression=text("private"))
            if user_id is None:
                return public
            owned = exp.EQ(this=column("UserId"), expression=text(user_id))
            return exp.Paren(this=exp.Or(this=public, expression=owned))
        case MatchNothing():
            return exp.false()
        case _:
            assert_never(predicate)


def _has_token(target: exp.Expression, token: str) -> exp.Expression:
    # token texts are " a b c ": a token is a word when found with a space on each side
    return exp.Contains(this=target, expression=text(f" {token} "))


def _all(conditions: Sequence[exp.Expression]) -> exp.Expression:
    return functools.reduce(lambda left, right: exp.And(this=left, expression=right), conditions)


@dataclass(frozen=True)
class Pruning:
    """What the SQL may skip partitions by: the newest job time (None: unknown) and, for a
    caller who is not an administrator, the months that hold jobs they can see (None: any).
    A month holding only jobs hidden from the caller is then never read: the time a request
    takes does not tell which months hold them."""

    newest: datetime | None = None
    months: tuple[int, ...] | None = None


NO_PRUNING = Pruning()


def window_months(plan: Plan) -> tuple[int, int] | None:
    """The first and last month a window on ``GmtCreateTime`` touches (None: another column)."""
    window = plan.window
    if window.column != PARTITIONED_TIME:
        return None
    return month_of_time(window.start), month_of_time(window.end)


def partition_filter(plan: Plan) -> exp.Expression | None:
    """``create_month BETWEEN ...`` for a window on ``GmtCreateTime``: the months it touches."""
    months = window_months(plan)
    return None if months is None else _months(*months)


def covered_months(plan: Plan, newest: datetime | None) -> tuple[int, int] | None:
    """The months (first, last) each of whose jobs lies in a window on ``GmtCreateTime``, or
    None: from the month the window starts at its first instant to the month it ends at its
    last, or after ``newest`` (the manifest's newest time: no job was created later).

    The jobs of those months need no time condition: an engine does not read
    ``GmtCreateTime`` for them, often most of the window's cost.
    """
    months = window_months(plan)
    if months is None:
        return None
    window = plan.window
    first, last = months
    if window.start > _month_start(first):
        first = _next_month(first)
    ends_after_newest = newest is not None and newest <= window.end
    if not ends_after_newest and window.end < _month_end(last):
        last = _previous_month(last)
    return (first, last) if first <= last else None


def _month_start(month: int) -> datetime:
    return datetime(month // 100, month % 100, 1, tzinfo=UTC)


def _month_end(month: int) -> datetime:
    """The last µs of a month."""
    year, number = divmod(month, 100)
    days = calendar.monthrange(year, number)[1]
    return datetime(year, number, days, 23, 59, 59, 999_999, tzinfo=UTC)


def _next_month(month: int) -> int:
    return month + 89 if month % 100 == 12 else month + 1


def _previous_month(month: int) -> int:
    return month - 89 if month % 100 == 1 else month - 1


def _months(first: int, last: int) -> exp.Expression:
    return exp.Between(
        this=column(PARTITION), low=exp.Literal.number(first), high=exp.Literal.number(last)
    )


def source(plan: Plan, table: str, pruning: Pruning = NO_PRUNING) -> exp.Expression:
    """What the queries of a plan read: the table; or, when the window covers some of the
    months it touches but not all (:func:`covered_months`), the covered months without a time
    condition ``UNION ALL`` the other months with it (engines push the outer conditions into
    both)."""
    months, covered = window_months(plan), covered_months(plan, pruning.newest)
    if months is None or covered is None or covered == months:
        return exp.to_table(table)
    inside = exp.select("*").from_(table).where(_months(*covered))
    edges = (
        exp.select("*")
        .from_(table)
        .where(
            _all(
                [
                    _months(*months),
                    exp.Not(this=exp.Paren(this=_months(*covered))),
                    compile_predicate(plan.window),
                ]
            )
        )
    )
    return exp.union(inside, edges, distinct=False).subquery("windowed")


def bucket_filter(plan: Plan, buckets: int) -> exp.Expression | None:
    """``workspace_bucket IN (...)`` for a ``WorkspaceId`` filter: the buckets of its values
    (:data:`UNSHOWN_BUCKETS`: a placeholder for them, as explained to a caller who must not
    learn the dataset's size from its bucket count)."""
    if buckets <= 1 and buckets != UNSHOWN_BUCKETS:
        return None
    for predicate in plan.predicates:
        if isinstance(predicate, EqualsAny) and predicate.column == WORKSPACE_COLUMN:
            if buckets == UNSHOWN_BUCKETS:
                chosen: list[exp.Expression] = [
                    exp.Var(this="<the buckets of these WorkspaceIds, when there are several>")
                ]
            else:
                numbers = sorted({workspace_bucket(value, buckets) for value in predicate.values})
                chosen = [exp.Literal.number(number) for number in numbers]
            return exp.In(this=column(BUCKET), expressions=chosen)
    return None


def _visible_months(pruning: Pruning) -> exp.Expression | None:
    """``create_month IN (...)``: the months of :attr:`Pruning.months` (FALSE for none)."""
    if pruning.months is None:
        return None
    if not pruning.months:
        return exp.false()
    return exp.In(
        this=column(PARTITION), expressions=[exp.Literal.number(m) for m in pruning.months]
    )


def visible_months_query(table: str, visible: Visibility, columns: Sequence[str]) -> exp.Select:
    """Per month (partition) that holds a job a caller can see, deleted ones included: the
    month, then the newest value (in µs) of each time column among those jobs. One scan."""
    newest = [exp.UnixMicros(this=exp.Max(this=column(name))).as_(name) for name in columns]
    return (
        exp.select(column(PARTITION), *newest)
        .from_(table)
        .where(compile_predicate(visible))
        .group_by(column(PARTITION))
        .order_by(column(PARTITION))
    )


def where(plan: Plan, buckets: int = 1, pruning: Pruning = NO_PRUNING) -> exp.Expression:
    """Every condition of the plan over :func:`source`, deleted jobs left out, partitions
    pruned (``buckets``: the dataset's workspace bucket count; ``pruning``: its newest time
    and the months a caller's jobs are in).

    The partitions and the window come first, for the reader of the SQL (engines order the
    conditions themselves). When the window covers every month it touches
    (:func:`covered_months`), it is those months; when it covers some, :func:`source` holds it.
    """
    window = plan.window
    months, covered = window_months(plan), covered_months(plan, pruning.newest)
    month_filter = partition_filter(plan)
    in_window = [compile_predicate(window)]
    if covered is not None:
        in_window = []  # the months hold it (covered == months), or source() does
        if covered != months:
            month_filter = None
    partitions = [
        condition
        for condition in (month_filter, _visible_months(pruning), bucket_filter(plan, buckets))
        if condition is not None
    ]
    conditions = [
        *partitions,
        *in_window,
        exp.EQ(this=column("IsDeleted"), expression=exp.false()),
        *(compile_predicate(p) for p in plan.predicates if p is not window),
    ]
    return _all(conditions)


def order_columns(sort_key: str) -> list[str]:
    """The columns of the total order for a sort key (spec §3.5.8; see ``rank_order_columns``)."""
    ties = ["GmtCreateTime", index_column("JobId"), "JobId"]
    if sort_key == "GmtCreateTime":
        return ties
    if sort_key.startswith("Gmt"):
        return [sort_key, *ties]
    return [index_column(sort_key), sort_key, *ties]


def order_by(ordering: Ordering) -> list[exp.Ordered]:
    """Every key in the requested direction, missing values smallest."""
    descending = ordering.descending
    return [
        exp.Ordered(this=column(name), desc=descending, nulls_first=not descending)
        for name in order_columns(ordering.key)
    ]


def count_query(
    plan: Plan, table: str, buckets: int = 1, pruning: Pruning = NO_PRUNING
) -> exp.Select:
    """The number of matches (``TotalCount``): a query of its own, no window function."""
    count = exp.Count(this=exp.Star()).as_("total_count")
    return (
        exp.select(count).from_(source(plan, table, pruning)).where(where(plan, buckets, pruning))
    )


#: The width of a bucket of :func:`bucket_count_query`: a day, in microseconds.
BUCKET_MICROS = 86_400_000_000


def is_time_key(sort_key: str) -> bool:
    """Whether the order's first key is a time (its matches can be counted by day)."""
    return sort_key.startswith("Gmt")


def bucket_count_query(
    plan: Plan, table: str, buckets: int = 1, pruning: Pruning = NO_PRUNING
) -> exp.Select:
    """The matches per day of the sort key (a time): bucket, count, first and last µs.

    The counts add up to ``TotalCount`` and tell which days hold the page, so that the page
    query reads those days only (:func:`keys_query`). A bucket's bounds are taken from the
    data, so the bucket function only has to keep the time order (days by truncating
    division); jobs without the time are the bucket NULL.
    """
    micros = exp.UnixMicros(this=column(plan.ordering.key))
    bucket = exp.IntDiv(this=micros, expression=exp.Literal.number(BUCKET_MICROS))
    return (
        exp.select(
            bucket.as_("bucket"),
            exp.Count(this=exp.Star()).as_("matches"),
            exp.Min(this=micros.copy()).as_("first_us"),
            exp.Max(this=micros.copy()).as_("last_us"),
        )
        .from_(source(plan, table, pruning))
        .where(where(plan, buckets, pruning))
        .group_by(exp.column("bucket"))
    )


def value_count_query(
    plan: Plan, table: str, buckets: int = 1, pruning: Pruning = NO_PRUNING
) -> exp.Select:
    """The matches per value of the sort key's first order column (a casefolded text):
    ``value``, ``matches``, ``before`` (the matches of the values ahead of it in the page
    order) and ``total`` (``TotalCount``), for the values that hold the page and the first
    value (which brings ``total`` back when the page lies past the end).

    The page query then reads those values only (:func:`value_slice`, :func:`keys_query`):
    an engine sorts the jobs of a few names, not every match, and skips the other jobs'
    columns. The running sum is over distinct values, so its window's default frame (the
    values up to this one) counts each value once.
    """
    key = order_columns(plan.ordering.key)[0]
    descending = plan.ordering.descending
    value, matches = exp.column("value"), exp.column("matches")
    per_value = (
        exp.select(column(key).as_("value"), exp.Count(this=exp.Star()).as_("matches"))
        .from_(source(plan, table, pruning))
        .where(where(plan, buckets, pruning))
        .group_by(column(key))
    )
    in_order = exp.Order(
        expressions=[exp.Ordered(this=value.copy(), desc=descending, nulls_first=not descending)]
    )
    through = exp.Window(this=exp.Sum(this=matches.copy()), order=in_order)
    ranked = exp.select(
        value.copy(),
        matches.copy(),
        exp.Sub(this=through, expression=matches.copy()).as_("before"),
        exp.Window(this=exp.Sum(this=matches.copy())).as_("total"),
    ).from_(per_value.subquery("per_value"))
    page = plan.page
    before = exp.column("before")
    holds_page = exp.And(
        this=exp.LT(this=before.copy(), expression=exp.Literal.number(page.offset + page.size)),
        expression=exp.GT(
            this=exp.Add(this=before.copy(), expression=matches.copy()),
            expression=exp.Literal.number(page.offset),
        ),
    )
    first = exp.EQ(this=before.copy(), expression=exp.Literal.number(0))
    return (
        exp.select(value.copy(), matches.copy(), before.copy(), exp.column("total"))
        .from_(ranked.subquery("ranked"))
        .where(exp.Or(this=exp.Paren(this=holds_page), expression=first))
    )


def value_slice(plan: Plan, values: Sequence[str], *, missing: bool) -> exp.Expression:
    """The matches whose sort key's first order column (a casefolded text) is one of
    ``values`` or (``missing``) is missing."""
    key = column(order_columns(plan.ordering.key)[0])
    parts: list[exp.Expression] = []
    if len(values) == 1:
        parts.append(exp.EQ(this=key, expression=text(values[0])))
    elif values:
        parts.append(exp.In(this=key, expressions=[text(value) for value in values]))
    if missing:
        parts.append(exp.Is(this=key.copy(), expression=exp.null()))
    return _any(parts)


def distinct_values_query(plan: Plan, table: str, visible: Visibility | None) -> exp.Select:
    """About how many values the sort key's first order column has among the jobs a caller
    can see (``visible``; None: every job)."""
    key = order_columns(plan.ordering.key)[0]
    query = exp.select(exp.ApproxDistinct(this=column(key)).as_("value_count")).from_(table)
    return query if visible is None else query.where(compile_predicate(visible))


def time_slice(
    plan: Plan, low_us: int | None, high_us: int | None, *, missing: bool
) -> exp.Expression:
    """The matches whose sort key (a time) lies in ``[low_us, high_us]`` or (``missing``)
    is missing; on ``GmtCreateTime`` also the months that holds, so partitions are skipped."""
    key = plan.ordering.key
    parts: list[exp.Expression] = []
    months: list[exp.Expression] = []
    if low_us is not None and high_us is not None:
        low, high = from_micros(low_us), from_micros(high_us)
        parts.append(exp.Between(this=column(key), low=timestamp(low), high=timestamp(high)))
        months.append(
            exp.Between(
                this=column(PARTITION),
                low=exp.Literal.number(month_of_time(low)),
                high=exp.Literal.number(month_of_time(high)),
            )
        )
    if missing:
        parts.append(exp.Is(this=column(key), expression=exp.null()))
        months.append(exp.EQ(this=column(PARTITION), expression=exp.Literal.number(NO_MONTH)))
    condition = _any(parts)
    if key == PARTITIONED_TIME:
        condition = exp.And(this=_any(months), expression=condition)
    return condition


def keys_query(
    plan: Plan,
    table: str,
    *,
    offset: int,
    restriction: exp.Expression | None = None,
    buckets: int = 1,
    pruning: Pruning = NO_PRUNING,
    paged: bool = True,
) -> exp.Select:
    """Where the jobs of the page are (month, bucket, GmtCreateTime in µs, JobId), in order.

    The page is ``plan.page.size`` matches from ``offset`` among the matches that also meet
    ``restriction`` (a :func:`time_slice`); every match when not ``paged``. The job texts are
    read afterwards, by :func:`texts_sql`: an engine sorting the matches then carries narrow
    keys, not texts.
    """
    condition = where(plan, buckets, pruning)
    if restriction is not None:
        condition = exp.And(this=condition, expression=exp.Paren(this=restriction))
    keys = (
        exp.select(
            column(PARTITION),
            column(BUCKET),
            exp.UnixMicros(this=column(PARTITIONED_TIME)).as_("create_us"),
            column("JobId"),
        )
        .from_(source(plan, table, pruning))
        .where(condition)
        .order_by(*order_by(plan.ordering))
    )
    return keys.limit(plan.page.size).offset(offset) if paged else keys


@dataclass(frozen=True)
class Lookup:
    """Jobs to read the texts of: some JobIds of one partition (month and workspace bucket),
    created within ``[low_us, high_us]`` (both None: jobs without a creation time)."""

    month: int
    bucket: int
    low_us: int | None
    high_us: int | None
    job_ids: tuple[str, ...]


def lookup_query(
    table: str,
    lookup: Lookup,
    columns: Sequence[str] = ("JobId", JOB_JSON),
    files: exp.Expression | None = None,
) -> exp.Select:
    """``columns`` of the jobs of one lookup.

    It names the partition (or reads ``files``, the partition's own, instead of ``table``)
    and the creation times, on which the files are sorted, so an engine reads the row groups
    (or pages) of those times only, not the month's job texts.
    """
    created = column(PARTITIONED_TIME)
    if lookup.low_us is None or lookup.high_us is None:
        when: exp.Expression = exp.Is(this=created, expression=exp.null())
    elif lookup.low_us == lookup.high_us:
        when = exp.EQ(this=created, expression=timestamp(from_micros(lookup.low_us)))
    else:
        when = exp.Between(
            this=created,
            low=timestamp(from_micros(lookup.low_us)),
            high=timestamp(from_micros(lookup.high_us)),
        )
    ids = [text(job_id) for job_id in lookup.job_ids]
    which = (
        exp.EQ(this=column("JobId"), expression=ids[0])
        if len(ids) == 1
        else exp.In(this=column("JobId"), expressions=ids)
    )
    select = exp.select(*(column(name) for name in columns))
    if files is not None:
        return select.from_(files).where(_all([when, which]))
    month = exp.EQ(this=column(PARTITION), expression=exp.Literal.number(lookup.month))
    bucket = exp.EQ(this=column(BUCKET), expression=exp.Literal.number(lookup.bucket))
    return select.from_(table).where(_all([month, bucket, when, which]))


#: The table of one partition's files, given its month and bucket (None: none of its own).
PartitionFiles = Callable[[int, int], exp.Expression | None]


def texts_sql(
    table: str,
    lookups: Sequence[Lookup],
    engine: str,
    columns: Sequence[str] = ("JobId", JOB_JSON),
    partition_files: PartitionFiles | None = None,
) -> str:
    """Every lookup's query, rendered, joined by ``UNION ALL`` (one statement, which the
    engine runs in parallel). Each part is rendered alone: sqlglot renders a long chain of
    unions several times slower than its parts."""
    return "\nUNION ALL\n".join(
        render(
            lookup_query(
                table,
                lookup,
                columns,
                None if partition_files is None else partition_files(lookup.month, lookup.bucket),
            ),
            engine,
        )
        for lookup in lookups
    )


def parquet_files(paths: Sequence[str]) -> exp.Table:
    """DuckDB's ``read_parquet([paths])`` as a table."""
    listed = exp.Array(expressions=[text(path) for path in paths])
    return exp.Table(this=exp.Anonymous(this="read_parquet", expressions=[listed]))


def _any(conditions: Sequence[exp.Expression]) -> exp.Expression:
    if len(conditions) == 1:
        return conditions[0]
    return exp.Paren(
        this=functools.reduce(lambda left, right: exp.Or(this=left, expression=right), conditions)
    )


def from_micros(micros: int) -> datetime:
    """A UTC time from µs since the epoch."""
    return _EPOCH + timedelta(microseconds=micros)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def page_query(
    plan: Plan,
    table: str,
    columns: Sequence[str] = (JOB_JSON,),
    buckets: int = 1,
    pruning: Pruning = NO_PRUNING,
) -> exp.Select:
    """The jobs of the plan's page, in order, in one query (what a user would write by hand;
    :class:`~jobquery.dataset.JobDataset` runs :func:`keys_query` and :func:`texts_sql`)."""
    page = plan.page
    return (
        exp.select(*(column(name) for name in columns))
        .from_(source(plan, table, pruning))
        .where(where(plan, buckets, pruning))
        .order_by(*order_by(plan.ordering))
        .limit(page.size)
        .offset(page.offset)
    )


def named_job_ids(plan: Plan) -> int | None:
    """How many JobIds the plan's ``JobIds`` filter names; None without one. Its matches are
    those jobs: one per id, or a few when JobIds differ by case only (``ix_JobId`` is
    casefolded)."""
    job_id = index_column("JobId")
    for predicate in plan.predicates:
        if isinstance(predicate, EqualsAny) and predicate.column == job_id:
            return len(predicate.values)
    return None


def matches_query(
    plan: Plan,
    table: str,
    columns: Sequence[str],
    buckets: int = 1,
    pruning: Pruning = NO_PRUNING,
) -> exp.Select:
    """Every match, in order, unpaged."""
    return (
        exp.select(*(column(name) for name in columns))
        .from_(source(plan, table, pruning))
        .where(where(plan, buckets, pruning))
        .order_by(*order_by(plan.ordering))
    )


class _ExplicitNulls:
    """A generator mixin: every ``ORDER BY`` key says ``NULLS FIRST``/``LAST``.

    sqlglot leaves the clause out where it is the dialect's default, but a session may change
    the default (DuckDB's ``default_null_order``); the total order must not depend on it.
    """

    def ordered_sql(self, expression: exp.Ordered) -> str:
        rendered: str = super().ordered_sql(expression)  # type: ignore[misc]
        if rendered.endswith((" NULLS FIRST", " NULLS LAST")):
            return rendered
        return rendered + (" NULLS FIRST" if expression.args.get("nulls_first") else " NULLS LAST")


class DuckDBDialect(DuckDB):
    """DuckDB's dialect with explicit null ordering."""

    class Generator(_ExplicitNulls, DuckDB.Generator):  # type: ignore[misc,valid-type]
        pass


class SparkDialect(Spark):
    """Spark SQL's dialect with explicit null ordering."""

    class Generator(_ExplicitNulls, Spark.Generator):  # type: ignore[misc,valid-type]
        pass


DIALECTS = {"duckdb": DuckDBDialect, "spark": SparkDialect}


def render(query: exp.Expression, engine: str, *, pretty: bool = False) -> str:
    """The SQL text of a query in an engine's dialect."""
    return query.sql(dialect=DIALECTS[engine], pretty=pretty)
