"""The engines the benchmarks compare: jobquery, DuckDB, plain Polars and the reference.

Every engine answers a :class:`~benchmarks.workloads.Workload` with an :class:`Answer` — the
JobIds of the page, in order, and the TotalCount — after doing all the work a caller of
``ListJobs`` needs: the jobs of the page come back as parsed dicts (the stored JSON text loaded
with orjson) and the total is counted over every match.

The baselines are written the way a competent user would write them by hand, over a table of
the typed top-level job columns (the columns of ``Snapshot.export_table()``, taken from the
snapshot's own buffers without a copy) plus the two nested parts the workloads need, extracted
once (:func:`baseline_table`):

- ``Tags``: ``Settings.Tags`` as a ``MAP(VARCHAR, VARCHAR)`` (DuckDB) / ``Map(String, String)``
  (Polars);
- ``Images``: the ``JobSpecs[].Image`` strings as a list.

DuckDB runs twice: ``duckdb`` scans that Arrow table, registered without a copy; ``duckdb_table``
first copies it into a native DuckDB table (``CREATE TABLE ... AS``, not timed), which DuckDB
scans about twice as fast — the strongest hand-written baseline here.

They use no jobquery index: no casefolded columns, no precomputed order, no token texts. Each
workload is translated once into SQL (DuckDB) or expressions (Polars) by :func:`sql_query` and
:func:`polars_query`, with the matching rules of ``docs/semantics.md``:

========================  ==================================================================
substring filters         ``ILIKE '%needle%'`` / ``str.to_lowercase().str.contains(literal)``
equals-any filters        ``lower(col) IN (...)`` / ``str.to_lowercase().is_in(...)`` (``JobIds``
                          too, on ``JobId``)
time window               ``col BETWEEN start AND end`` (missing time never matches)
tags                      ``Tags['key'] = 'value'`` / ``map.get(key) == value``
``ImageSearch``           a token is a maximal run of ``[a-z0-9]`` in the lower-cased image,
                          matched by a regular expression with non-alphanumeric boundaries
order                     the sort key (lower-cased, then raw), then ``GmtCreateTime``, then
                          ``JobId`` (lower-cased, then raw), all in the requested direction,
                          missing values smallest (``NULLS FIRST`` ascending, last descending)
page and count            ``ORDER BY ... LIMIT/OFFSET``; the count is a separate query
                          (DESIGN.md: ``count(*) OVER ()`` is 5-120x slower in DuckDB)
========================  ==================================================================

Where these differ from the spec — ``lower`` is not ``casefold`` outside ASCII; a tag value
that is JSON ``null`` reads as SQL NULL (the spec says the text ``"null"``); the image regular
expression knows only ASCII letters and digits — the workloads and the synthetic data stay on
the side where both agree, and :func:`check_agreement` proves it before anything is timed.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import duckdb
import orjson
import polars as pl
import pyarrow as pa

from benchmarks.workloads import Workload
from jobquery import reference
from jobquery.snapshot import JOB_JSON, Snapshot, derived
from jobquery.snapshot.textcodec import TextCodec
from jobquery.store import JobStore

#: The fixed RequestId every engine answers with, so that nothing random is timed twice.
REQUEST_ID = "BENCHMARK"
DEFAULT_WINDOW = timedelta(days=7)
DEFAULT_PAGE_SIZE = 10
SORT_KEYS_WITH_TEXT = ("DisplayName", "JobType", "Status")


@dataclass(frozen=True)
class Answer:
    """What every engine must agree on: the page's JobIds in order, and the TotalCount."""

    job_ids: tuple[str, ...]
    total_count: int


class Engine(Protocol):
    """Something that answers a workload."""

    name: str

    def answer(self, workload: Workload) -> Answer: ...


def answer_of_jobs(jobs: Sequence[Mapping[str, Any]], total_count: int) -> Answer:
    return Answer(tuple(str(job["JobId"]) for job in jobs), total_count)


# ---------------------------------------------------------------------------------------------
# The data the baselines read


#: Rows whose plain texts the nested parts are extracted from at a time, when the snapshot keeps
#: its texts compressed (their plain texts: ~590 MB at 250k rows).
NESTED_SLICE_JOBS = 250_000

_NESTED_SQL = f"""
    SELECT
        json_transform(
            json_extract({JOB_JSON}, '$.Settings.Tags'), '"MAP(VARCHAR, VARCHAR)"'
        ) AS Tags,
        json_extract_string({JOB_JSON}, '$.JobSpecs[*].Image') AS Images
    FROM jobs
"""


def baseline_table(snapshot: Snapshot, *, slice_jobs: int = NESTED_SLICE_JOBS) -> pa.Table:
    """The public columns of a snapshot plus ``Tags`` (a map) and ``Images`` (a list).

    The public columns are those of ``snapshot.export_table()``, exported as Arrow string views
    so that they share the snapshot's buffers (``export_table`` converts to ``large_string``,
    a copy of every text: 3.5 GB at a million jobs). The nested parts are extracted from
    ``job_json`` once, by DuckDB's JSON functions, the way a user preparing a table for these
    queries would.

    When the snapshot keeps its texts compressed (``snapshot.codec``), ``job_json`` stays the
    compressed ``binary`` column here too (the engines decompress a page's texts with the same
    codec), and the nested parts are extracted ``slice_jobs`` rows at a time from their
    decompressed texts, so that the plain texts of only one slice are held.
    """
    frame = snapshot.frame
    names = [name for name in frame.columns if not name.startswith("ix_")]
    public = frame.select(names).to_arrow(compat_level=pl.CompatLevel.newest())
    parts: list[pa.Table] = []
    with duckdb.connect() as con:
        if snapshot.codec is None:
            con.register("jobs", public.select([JOB_JSON]))
            parts.append(con.sql(_NESTED_SQL).to_arrow_table())
            con.unregister("jobs")
        else:
            for begin in range(0, frame.height, slice_jobs):
                texts = snapshot.json_texts(frame.slice(begin, slice_jobs).select(JOB_JSON))
                piece = pa.table({JOB_JSON: texts.to_arrow()})
                del texts
                con.register("jobs", piece)
                parts.append(con.sql(_NESTED_SQL).to_arrow_table())
                con.unregister("jobs")
                del piece
    nested = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
    del parts
    # DuckDB keeps row order for a plain projection of one scan; the checks below rely on it
    assert nested.num_rows == public.num_rows
    return public.append_column("Tags", nested.column("Tags")).append_column(
        "Images", nested.column("Images")
    )


def page_jobs(texts: Iterable[Any], codec: TextCodec | None) -> list[dict[str, Any]]:
    """A page's ``job_json`` values parsed into dicts; compressed ones (``codec`` given) are
    decompressed first, one by one, as jobquery does for its page."""
    if codec is None:
        return [orjson.loads(text) for text in texts]
    return [orjson.loads(text) for text in codec.decompress_each(texts)]


# ---------------------------------------------------------------------------------------------
# The request, read by hand (only the parameters the workloads use; no jobquery code)


@dataclass(frozen=True)
class HandQuery:
    """A workload's request as plain values: what a user would hard-code in a query."""

    time_field: str
    start: datetime
    end: datetime
    substrings: tuple[tuple[str, str], ...]  # (column, lower-cased needle)
    equals_any: tuple[tuple[str, tuple[str, ...]], ...]  # (column, lower-cased values)
    tags: tuple[tuple[str, str], ...]
    numeric: tuple[str, float | None, float | None] | None
    image_tokens: tuple[str, ...]
    private_viewer: str | None  # a non-admin caller's user id
    any_viewer: bool  # False: a non-admin caller without user id
    sort_by: str
    descending: bool
    limit: int
    offset: int


_PLAIN = ("DisplayName", "Username", "ResourceQuotaName", "Description", "JobId")
_LISTS = ("Status", "JobType", "JobIds")
#: The column a list parameter compares with (itself unless named here).
_LIST_COLUMNS = {"JobIds": "JobId"}
_EQUALS = ("WorkspaceId", "TemplateId", "ResourceId", "Accessibility")
_HANDLED = {
    *_PLAIN,
    *_LISTS,
    *_EQUALS,
    "StartTime",
    "EndTime",
    "TimeRangeField",
    "Tags",
    "NumericRangeField",
    "NumericRangeMin",
    "NumericRangeMax",
    "ImageSearch",
    "SortBy",
    "Order",
    "PageNumber",
    "PageSize",
    "ShowOwn",
}


def hand_query(workload: Workload) -> HandQuery:
    """Read a workload's wire request the way a user writing SQL by hand would."""
    wire = dict(workload.request)
    unknown = set(wire) - _HANDLED
    if unknown:
        raise ValueError(f"the baselines do not handle {sorted(unknown)} ({workload.name})")
    if wire.get("ShowOwn", "false").lower() == "true":
        raise ValueError("the baselines do not handle ShowOwn=true")
    if wire.get("DisplayNameSearchMode", "wildcard") != "wildcard":
        raise ValueError("the baselines handle only wildcard DisplayName")
    numeric = None
    if "NumericRangeField" in wire:
        low, high = wire.get("NumericRangeMin"), wire.get("NumericRangeMax")
        numeric = (
            wire["NumericRangeField"],
            None if low is None else float(low),
            None if high is None else float(high),
        )
    caller = workload.caller
    size = int(wire.get("PageSize", DEFAULT_PAGE_SIZE))
    return HandQuery(
        time_field=wire.get("TimeRangeField", "GmtCreateTime"),
        start=_time(wire["StartTime"]) if "StartTime" in wire else workload.now - DEFAULT_WINDOW,
        end=_time(wire["EndTime"]) if "EndTime" in wire else workload.now,
        substrings=tuple((name, wire[name].lower()) for name in _PLAIN if name in wire),
        equals_any=tuple(
            (
                _LIST_COLUMNS.get(name, name),
                tuple(value.strip().lower() for value in wire[name].split(",")),
            )
            for name in (*_LISTS, *_EQUALS)
            if name in wire
        ),
        tags=tuple(orjson.loads(wire["Tags"]).items()) if "Tags" in wire else (),
        numeric=numeric,
        image_tokens=tuple(re.findall(r"[a-z0-9]+", wire.get("ImageSearch", "").lower())),
        private_viewer=None if caller is None or caller.is_admin else caller.user_id,
        any_viewer=caller is None or caller.is_admin or caller.user_id is not None,
        sort_by=wire.get("SortBy", "GmtCreateTime"),
        descending=wire.get("Order", "desc") == "desc",
        limit=size,
        offset=(int(wire.get("PageNumber", 1)) - 1) * size,
    )


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def token_pattern(token: str) -> str:
    """A regular expression for one search token inside lower-cased text."""
    return f"(^|[^a-z0-9]){re.escape(token)}([^a-z0-9]|$)"


def _like_pattern(needle: str) -> str:
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# ---------------------------------------------------------------------------------------------
# DuckDB


@dataclass(frozen=True)
class SqlQuery:
    """A count query and a page query with their parameters."""

    count_sql: str
    page_sql: str
    parameters: list[Any]


def sql_query(query: HandQuery) -> SqlQuery:
    """The SQL a user would write for a request: a WHERE clause, an ORDER BY, LIMIT/OFFSET."""
    where = ["NOT IsDeleted", f"{query.time_field} BETWEEN ? AND ?"]
    parameters: list[Any] = [query.start, query.end]
    for column, needle in query.substrings:
        where.append(f"{column} ILIKE ? ESCAPE '\\'")
        parameters.append(_like_pattern(needle))
    for column, values in query.equals_any:
        target = f"lower(coalesce({column}, 'PUBLIC'))" if column == "Accessibility" else column
        target = target if column == "Accessibility" else f"lower({column})"
        where.append(f"{target} IN ({', '.join('?' for _ in values)})")
        parameters += values
    for key, value in query.tags:
        where.append("Tags[?] = ?")
        parameters += [key, value]
    if query.numeric is not None:
        column, low, high = query.numeric
        if low is not None:
            where.append(f"{column} >= ?")
            parameters.append(low)
        if high is not None:
            where.append(f"{column} <= ?")
            parameters.append(high)
    if query.image_tokens:
        every = " AND ".join(
            f"regexp_matches(lower(image), {_sql_text(token_pattern(token))})"
            for token in query.image_tokens
        )
        where.append(f"len(list_filter(Images, lambda image: {every})) > 0")
    if query.private_viewer is not None or not query.any_viewer:
        where.append("(lower(coalesce(Accessibility, 'PUBLIC')) <> 'private' OR UserId = ?)")
        parameters.append(query.private_viewer)
    direction = "DESC NULLS LAST" if query.descending else "ASC NULLS FIRST"
    keys = _order_keys(query.sort_by, lower=lambda column: f"lower({column})")
    order = ", ".join(f"{key} {direction}" for key in keys)
    condition = " AND ".join(where)
    return SqlQuery(
        count_sql=f"SELECT count(*) FROM jobs WHERE {condition}",
        page_sql=(
            f"SELECT {JOB_JSON} FROM jobs WHERE {condition} "
            f"ORDER BY {order} LIMIT {query.limit} OFFSET {query.offset}"
        ),
        parameters=parameters,
    )


def _order_keys(sort_by: str, *, lower: Callable[[str], Any]) -> list[Any]:
    """Sort key, then GmtCreateTime, then JobId (spec §3.5.8): text keys lower-cased first."""
    keys: list[Any] = []
    if sort_by in SORT_KEYS_WITH_TEXT:
        keys += [lower(sort_by), sort_by]
    elif sort_by != "GmtCreateTime":
        keys.append(sort_by)
    keys += ["GmtCreateTime", lower("JobId"), "JobId"]
    return keys


class DuckDBEngine:
    """Hand-written SQL over the baseline table.

    Parameters
    ----------
    table : pyarrow.Table
        The baseline table.
    native : bool
        False: register the Arrow table (no copy; DuckDB scans Arrow on every query). True:
        copy it into a native DuckDB table first (engine name ``duckdb_table``).
    codec : TextCodec, optional
        The codec of a compressed ``job_json`` (``binary``): the page's texts are decompressed
        with it before they are parsed.
    memory_limit_gib : float, optional
        DuckDB's ``memory_limit`` for this connection (its default is 80% of the machine's
        memory); copying a table that does not fit then fails with
        ``duckdb.OutOfMemoryException`` instead of exhausting the machine.
    """

    def __init__(
        self,
        table: pa.Table,
        *,
        native: bool = False,
        codec: TextCodec | None = None,
        memory_limit_gib: float | None = None,
    ) -> None:
        self.name = "duckdb_table" if native else "duckdb"
        self.codec = codec
        self.connection = duckdb.connect()
        if memory_limit_gib is not None:
            self.connection.execute(f"SET memory_limit = '{memory_limit_gib * 1024:.0f}MiB'")
            # no spilling: a table partly on disk would not be the in-memory baseline
            self.connection.execute("SET temp_directory = ''")
        try:
            if native:
                self.connection.register("arrow_jobs", table)
                self.connection.execute("CREATE TABLE jobs AS SELECT * FROM arrow_jobs")
                self.connection.unregister("arrow_jobs")
            else:
                self.connection.register("jobs", table)
        except BaseException:
            self.connection.close()
            raise
        self._queries: dict[str, SqlQuery] = {}

    def prepare(self, workload: Workload) -> SqlQuery:
        key = f"{workload.name}/{workload.values}"
        if key not in self._queries:
            self._queries[key] = sql_query(hand_query(workload))
        return self._queries[key]

    def answer(self, workload: Workload) -> Answer:
        query = self.prepare(workload)
        (total,) = self.connection.execute(query.count_sql, query.parameters).fetchone() or (0,)
        rows = self.connection.execute(query.page_sql, query.parameters).fetchall()
        return answer_of_jobs(page_jobs([text for (text,) in rows], self.codec), int(total))

    def close(self) -> None:
        self.connection.close()


# ---------------------------------------------------------------------------------------------
# Plain Polars


@dataclass(frozen=True)
class PolarsQuery:
    """A filter expression and a sort specification."""

    condition: pl.Expr
    keys: list[pl.Expr]
    descending: bool
    limit: int
    offset: int


def polars_query(query: HandQuery) -> PolarsQuery:
    """Expressions a user would write: lower-case per query, filter, sort, slice."""
    conditions = [
        ~pl.col("IsDeleted"),
        pl.col(query.time_field).is_between(pl.lit(query.start), pl.lit(query.end)),
    ]
    for column, needle in query.substrings:
        conditions.append(pl.col(column).str.to_lowercase().str.contains(needle, literal=True))
    for column, values in query.equals_any:
        target = pl.col(column)
        if column == "Accessibility":
            target = target.fill_null("PUBLIC")
        conditions.append(target.str.to_lowercase().is_in(list(values)))
    for key, value in query.tags:
        conditions.append(pl.col("Tags").map.get(key) == value)
    if query.numeric is not None:
        column, low, high = query.numeric
        if low is not None:
            conditions.append(pl.col(column) >= low)
        if high is not None:
            conditions.append(pl.col(column) <= high)
    if query.image_tokens:
        image = pl.element().str.to_lowercase()
        every = functools.reduce(
            operator.and_, [image.str.contains(token_pattern(t)) for t in query.image_tokens]
        )
        conditions.append(pl.col("Images").list.eval(every).list.any())
    if query.private_viewer is not None or not query.any_viewer:
        public = pl.col("Accessibility").fill_null("PUBLIC").str.to_lowercase() != "private"
        conditions.append(public | (pl.col("UserId") == query.private_viewer).fill_null(False))
    keys = _order_keys(query.sort_by, lower=lambda column: pl.col(column).str.to_lowercase())
    return PolarsQuery(
        condition=functools.reduce(operator.and_, conditions),
        keys=[pl.col(key) if isinstance(key, str) else key for key in keys],
        descending=query.descending,
        limit=query.limit,
        offset=query.offset,
    )


class PolarsEngine:
    """Plain Polars over the baseline table: filter, sort, slice; a separate count.

    ``codec``: the codec of a compressed ``job_json``, as for :class:`DuckDBEngine`.
    """

    name = "polars"

    def __init__(self, table: pa.Table, *, codec: TextCodec | None = None) -> None:
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        self.frame = frame
        self.codec = codec
        self._queries: dict[str, PolarsQuery] = {}

    def prepare(self, workload: Workload) -> PolarsQuery:
        key = f"{workload.name}/{workload.values}"
        if key not in self._queries:
            self._queries[key] = polars_query(hand_query(workload))
        return self._queries[key]

    def answer(self, workload: Workload) -> Answer:
        query = self.prepare(workload)
        matches = self.frame.lazy().filter(query.condition)
        count, page = pl.collect_all(
            [
                matches.select(pl.len()),
                matches.sort(query.keys, descending=query.descending, nulls_last=query.descending)
                .slice(query.offset, query.limit)
                .select(JOB_JSON),
            ]
        )
        jobs = page_jobs(page[JOB_JSON], self.codec)
        return answer_of_jobs(jobs, int(count.item()))


# ---------------------------------------------------------------------------------------------
# jobquery and the reference


class JobqueryEngine:
    """``JobStore.list_jobs``: the engine under test."""

    name = "jobquery"

    def __init__(self, store: JobStore) -> None:
        self.store = store

    def answer(self, workload: Workload) -> Answer:
        response = self.store.list_jobs(
            workload.request, now=workload.now, caller=workload.caller, request_id=REQUEST_ID
        )
        return answer_of_jobs(response.jobs, response.total_count)


class ColdJobqueryEngine(JobqueryEngine):
    """``list_jobs`` with nothing remembered from earlier calls.

    jobquery remembers each filter's table of codes per snapshot (and which page texts hold
    long integers), so a repeated query skips that work; this engine forgets both before
    every call. The first-call measurement (:func:`benchmarks.suite.measure_queries`) also
    gives it values no earlier call used, so that nothing could have been remembered.
    """

    name = "jobquery_cold"

    def answer(self, workload: Workload) -> Answer:
        derived.forget_remembered(self.store.snapshot)
        return super().answer(workload)


class ReferenceEngine:
    """``jobquery.reference.list_jobs``: plain Python over a list of dicts, from the spec."""

    name = "reference"

    def __init__(self, records: Sequence[Mapping[str, Any]]) -> None:
        self.records = records

    def answer(self, workload: Workload) -> Answer:
        wire = reference.list_jobs(
            self.records,
            workload.request,
            now=workload.now,
            caller=workload.caller,
            request_id=REQUEST_ID,
        )
        return answer_of_jobs(wire["Jobs"], wire["TotalCount"])


# ---------------------------------------------------------------------------------------------
# Agreement


class DisagreementError(AssertionError):
    """A baseline's answer differs from jobquery's."""


def check_agreement(expected: Answer, got: Answer, *, engine: str, workload: str) -> None:
    """Raise :class:`DisagreementError` unless two answers are the same page and total."""
    if got == expected:
        return
    first = next(
        (
            index
            for index, (a, b) in enumerate(zip(expected.job_ids, got.job_ids, strict=False))
            if a != b
        ),
        min(len(expected.job_ids), len(got.job_ids)),
    )
    raise DisagreementError(
        f"{engine} disagrees with jobquery on {workload}: TotalCount {got.total_count} vs "
        f"{expected.total_count}; {len(got.job_ids)} vs {len(expected.job_ids)} jobs, first "
        f"difference at position {first}: "
        f"{got.job_ids[first : first + 3]} vs {expected.job_ids[first : first + 3]}"
    )
