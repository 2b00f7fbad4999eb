"""``JobDataset``: ListJobs over a job dataset, answered by DuckDB or Spark.

The request goes through the same pipeline as :class:`~jobquery.store.JobStore`'s —
:meth:`ListJobsRequest.parse` validates it, :func:`~jobquery.plan.build_plan` resolves every
default into predicates, an ordering and a page — and :mod:`jobquery.dataset.sql` compiles the
plan to SQL that the engine (:mod:`jobquery.dataset.engines`) runs: a count query for
``TotalCount``, then the page (skipped when it lies past the last match). The answer is the
same :class:`~jobquery.response.ListJobsResponse` a store gives for the same jobs.

Offset pages only: a request with ``NextToken`` (keyset pages, an extension of the in-memory
store) is refused with :class:`~jobquery.errors.InvalidParameterError`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import polars as pl
import pyarrow as pa
from sqlglot import exp

from jobquery.dataset import sql
from jobquery.dataset.engines import ENGINES, DuckDBEngine, Engine, SparkEngine
from jobquery.dataset.format import Manifest, read_manifest
from jobquery.errors import DatasetError, InternalError, InvalidParameterError, JobQueryError
from jobquery.plan import Plan, build_plan
from jobquery.plan.predicates import Visibility
from jobquery.request import TIME_FIELDS, Caller, ListJobsRequest
from jobquery.response import ListJobsResponse
from jobquery.snapshot import JOB_JSON, load_job

RequestLike = ListJobsRequest | Mapping[str, Any] | None
EngineName = Literal["duckdb", "spark"]


class JobDataset:
    """A job dataset opened on an engine; answers ListJobs like :class:`JobStore`.

    Use :meth:`open`. The dataset is read, never changed; close it (or use ``with``) to drop
    the engine's view and, when it made them, its connection or local Spark session.
    """

    def __init__(self, directory: Path, manifest: Manifest, engine: Engine) -> None:
        self.directory = directory
        self.manifest = manifest
        self.engine = engine
        self._rows_per_partition: dict[tuple[int, int], int] = {}
        self._values_per_key: dict[tuple[str, Visibility | None], int] = {}
        self._pruning_per_rule: dict[Visibility, sql.Pruning] = {}
        for item in manifest.files:
            place = (item.month, item.bucket)
            self._rows_per_partition[place] = self._rows_per_partition.get(place, 0) + item.rows

    @classmethod
    def open(
        cls,
        directory: str | os.PathLike[str],
        engine: EngineName = "duckdb",
        *,
        session: Any = None,
    ) -> JobDataset:
        """Open a dataset written by :func:`~jobquery.dataset.write_dataset`.

        Parameters
        ----------
        directory : str or PathLike
            The dataset folder. For Spark on a cluster, a path every executor reads
            (``hdfs://``, ``s3a://``, a shared mount); the manifest is read from this
            process, so it must be readable here too.
        engine : {"duckdb", "spark"}
            Who runs the queries.
        session : optional
            ``engine="duckdb"``: a ``duckdb.DuckDBPyConnection`` to work on (its settings
            apply); ``engine="spark"``: a ``pyspark.sql.SparkSession`` (local, on a cluster,
            or Spark Connect). Default: a new in-memory DuckDB database; for Spark the active
            session (as under ``spark-submit``), else a quiet local one (``local[2]``) that
            :meth:`close` stops.

        Raises
        ------
        DumpFormatError
            The folder is not a complete jobquery dataset.
        DatasetError
            An unknown engine, or its package is not installed.
        FileNotFoundError
            No such folder.
        """
        if engine not in ENGINES:
            raise DatasetError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
        path = Path(directory)
        try:
            runner: Engine
            if engine == "duckdb":
                manifest = read_manifest(path)
                runner = DuckDBEngine(path.resolve(), manifest, session)
            elif _is_uri(directory):  # a folder of a cluster's storage: Spark reads the manifest
                spark = SparkEngine(os.fspath(directory).rstrip("/"), None, session)
                runner, manifest = spark, spark.manifest
            else:
                manifest = read_manifest(path)
                runner = SparkEngine(str(path.resolve()), manifest, session)
        except (JobQueryError, OSError):
            raise
        except Exception as exc:
            raise DatasetError(f"the {engine} engine cannot read {directory}: {exc}") from exc
        return cls(path, manifest, runner)

    def __enter__(self) -> JobDataset:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Drop the engine's view; stop what it started (its connection, its Spark session)."""
        self.engine.close()

    def __len__(self) -> int:
        """Every stored job, deleted ones included."""
        return self.manifest.job_count

    def newest_time(self, *, caller: Caller | None = None) -> datetime | None:
        """The newest ``Gmt*Time`` of the jobs the caller can see (deleted ones included, as
        :meth:`JobStore.newest_time`); None when there is none.

        For an admin (or no caller) it is the manifest's; for anyone else it is asked of the
        engine, so that a default window never ends at the time of a job hidden from them.

        Raises
        ------
        InternalError
            The engine failed (the cause is chained).
        """
        if caller is None or caller.is_admin:
            return self.manifest.newest_time
        with _internal_errors():
            return self._pruning_of_rule(Visibility(caller.user_id)).newest

    def _pruning_of_rule(self, visible: Visibility) -> sql.Pruning:
        """The newest job time among the jobs a visibility rule lets through, and the months
        that hold them: asked of the engine once per rule (the dataset never changes)."""
        if visible not in self._pruning_per_rule:
            if len(self._pruning_per_rule) >= REMEMBERED_PER_RULE:
                del self._pruning_per_rule[next(iter(self._pruning_per_rule))]
            rows = self._run(sql.visible_months_query(self.engine.table, visible, TIME_FIELDS))
            found = [int(value) for row in rows for value in row[1:] if value is not None]
            self._pruning_per_rule[visible] = sql.Pruning(
                sql.from_micros(max(found)) if found else None, tuple(int(row[0]) for row in rows)
            )
        return self._pruning_per_rule[visible]

    def plan(
        self,
        request: RequestLike = None,
        *,
        now: datetime | None = None,
        caller: Caller | None = None,
    ) -> Plan:
        """The resolved plan of a request (defaults filled in), without running it."""
        parsed = ListJobsRequest.parse(request)
        if parsed.next_token is not None:
            raise InvalidParameterError(
                "NextToken",
                parsed.next_token,
                "keyset pages are not available on a job dataset; page with PageNumber and "
                "PageSize instead",
            )
        return build_plan(parsed, now=now, caller=caller)

    def list_jobs(
        self,
        request: RequestLike = None,
        *,
        now: datetime | None = None,
        caller: Caller | None = None,
        request_id: str | None = None,
    ) -> ListJobsResponse:
        """Answer ``ListJobs``, as :meth:`JobStore.list_jobs` does (offset pages only).

        Raises
        ------
        InvalidParameterError
            A malformed or refused parameter, or ``NextToken``.
        InternalError
            The engine failed (the cause is chained).
        """
        with _internal_errors():
            plan = self.plan(request, now=now, caller=caller)
            total, keys = self._page_keys(plan)
            texts = self._texts(keys)
            jobs = [load_job(text) for text in texts]
        if request_id is None:
            return ListJobsResponse(jobs=jobs, total_count=total)
        return ListJobsResponse(jobs=jobs, total_count=total, request_id=request_id)

    def page_frame(
        self,
        request: RequestLike = None,
        *,
        now: datetime | None = None,
        caller: Caller | None = None,
    ) -> tuple[pl.DataFrame, int]:
        """The page of :meth:`list_jobs` as a frame of the typed top-level columns and
        ``job_json`` (in page order), and ``TotalCount``: for tables and CSV."""
        with _internal_errors():
            plan = self.plan(request, now=now, caller=caller)
            total, keys = self._page_keys(plan)
            columns = self.public_columns()
            if not keys:
                return self._empty_frame(columns), total
            lookups = lookups_of_page(keys, self._rows_per_partition)
            found = _frame(self.engine.arrow(self._texts_sql(lookups, columns)), columns)
            order = pl.DataFrame(
                {"JobId": [key.job_id for key in keys]}, schema={"JobId": pl.String}
            )
            return order.join(found, on="JobId", how="left", maintain_order="left"), total

    def _texts_sql(
        self, lookups: list[sql.Lookup], columns: Sequence[str] = ("JobId", JOB_JSON)
    ) -> str:
        engine = self.engine
        return sql.texts_sql(engine.table, lookups, engine.name, columns, engine.partition_files)

    def _empty_frame(self, columns: list[str]) -> pl.DataFrame:
        """No rows, the columns typed as :meth:`query` types them."""
        kinds = dict(self.manifest.columns)
        return pl.DataFrame(schema={name: _POLARS_TYPES[kinds[name]] for name in columns})

    def _run(self, query: Any) -> list[tuple[Any, ...]]:
        return self.engine.rows(sql.render(query, self.engine.name))

    def _page_keys(self, plan: Plan) -> tuple[int, list[PageKey]]:
        """``TotalCount`` and where the jobs of the page are, in page order.

        A request naming a few JobIds (:data:`NAMED_JOBS_MAX`) has few matches: their keys
        are read at once, and counted. Ordered by a time, the matches are first counted per
        day of it; ordered by a text with few values (:data:`VALUE_COUNTS_MAX`), per value of
        its casefolded column. The page is then looked for in the days (values) that hold
        it only, at its offset among them: the engine sorts those matches, and skips the
        other jobs' columns.
        """
        table, page = self.engine.table, plan.page
        buckets, pruning = self.manifest.workspace_buckets, self._pruning_for(plan)
        restriction = None
        offset = page.offset
        if _few_named_jobs(plan) is not None:
            query = sql.keys_query(
                plan, table, offset=0, buckets=buckets, pruning=pruning, paged=False
            )
            every = self._keys(query)
            return len(every), every[offset : offset + page.size]
        if sql.is_time_key(plan.ordering.key):
            count = sql.bucket_count_query(plan, table, buckets, pruning)
            days = [Day(*row) for row in self._run(count)]
            total = sum(day.matches for day in days)
            if offset >= total:
                return total, []
            before, chosen = _days_of_page(days, plan)
            offset -= before
            timed = [day for day in chosen if day.day is not None]
            restriction = sql.time_slice(
                plan,
                min((day.first_us for day in timed if day.first_us is not None), default=None),
                max((day.last_us for day in timed if day.last_us is not None), default=None),
                missing=len(timed) < len(chosen),
            )
        elif self._few_values(plan):
            ranked = [
                Value(*row)
                for row in self._run(sql.value_count_query(plan, table, buckets, pruning))
            ]
            total = ranked[0].total if ranked else 0
            if offset >= total:
                return total, []
            held = [value for value in ranked if value.holds(page.offset, page.size)]
            offset -= min(value.before for value in held)
            restriction = sql.value_slice(
                plan,
                [value.value for value in held if value.value is not None],
                missing=any(value.value is None for value in held),
            )
        else:
            total = int(self._run(sql.count_query(plan, table, buckets, pruning))[0][0])
            if offset >= total:
                return total, []
        keys = sql.keys_query(
            plan, table, offset=offset, restriction=restriction, buckets=buckets, pruning=pruning
        )
        return total, self._keys(keys)

    def _keys(self, query: exp.Select) -> list[PageKey]:
        """The rows of a :func:`~jobquery.dataset.sql.keys_query` as page keys."""
        return [
            PageKey(int(month), int(bucket), created, str(job_id))
            for month, bucket, created, job_id in self._run(query)
        ]

    def _few_values(self, plan: Plan) -> bool:
        """Whether the sort key's first order column has few enough values, among the jobs
        the caller can see, to count the matches per value
        (:func:`~jobquery.dataset.sql.value_count_query`); asked of the engine once per key
        and caller."""
        visible = _visibility(plan)
        asked = (plan.ordering.key, visible)
        if asked not in self._values_per_key:
            if len(self._values_per_key) >= REMEMBERED_PER_RULE:
                del self._values_per_key[next(iter(self._values_per_key))]
            query = sql.distinct_values_query(plan, self.engine.table, visible)
            self._values_per_key[asked] = int(self._run(query)[0][0] or 0)
        return self._values_per_key[asked] <= VALUE_COUNTS_MAX

    def _pruning_for(self, plan: Plan) -> sql.Pruning:
        """What the SQL of a plan may prune with (:class:`sql.Pruning`): the manifest's newest
        time, which covers every job, for an administrator; for anyone else, the newest time
        of the jobs they can see and the months that hold them (the SQL lets through no other
        job), so that the SQL they run, what it reads, and what they see in :meth:`explain`
        never depend on jobs hidden from them."""
        visible = _visibility(plan)
        if visible is None:
            return sql.Pruning(self.manifest.newest_time)
        return self._pruning_of_rule(visible)

    def _texts(self, keys: list[PageKey]) -> list[str]:
        """The job texts of the page, in page order."""
        if not keys:
            return []
        lookups = lookups_of_page(keys, self._rows_per_partition)
        found = dict(self.engine.rows(self._texts_sql(lookups)))
        return [found[key.job_id] for key in keys]

    def query(
        self,
        request: RequestLike = None,
        *,
        now: datetime | None = None,
        caller: Caller | None = None,
    ) -> pl.DataFrame:
        """Every match, in the request's order, unpaged: the typed top-level columns and
        ``job_json`` (as :meth:`JobStore.query`)."""
        with _internal_errors():
            plan = self.plan(request, now=now, caller=caller)
            columns = self.public_columns()
            manifest = self.manifest
            query = sql.matches_query(
                plan,
                self.engine.table,
                columns,
                manifest.workspace_buckets,
                self._pruning_for(plan),
            )
            table = self.engine.arrow(sql.render(query, self.engine.name))
            return _frame(table, columns)

    def explain(
        self,
        request: RequestLike = None,
        *,
        now: datetime | None = None,
        caller: Caller | None = None,
    ) -> str:
        """The plan in words, and the SQL the engine runs: the count, the page's keys, the
        page's job texts (for a request naming a few JobIds, the keys of every match instead
        of the first two). Nothing is run (but, once per text sort key and caller, the
        estimate of its values that picks the count's form, and once per caller who is not an
        administrator, the newest time of their jobs and the months that hold them).

        To a caller who is not an administrator the dataset's layout, which follows the
        number of every job, shows as placeholders: the number of files, and the workspace
        buckets a ``WorkspaceId`` filter reads (the condition on them is run only when the
        dataset has several)."""
        with _internal_errors():
            plan = self.plan(request, now=now, caller=caller)
            table, name = self.engine.table, self.engine.name
            lines = [f"- {line}" for line in plan.describe()]
            buckets, pruning = self.manifest.workspace_buckets, self._pruning_for(plan)
            scoped = _visibility(plan) is not None
            if scoped:  # the layout follows the count of every job: shown as placeholders
                buckets = sql.UNSHOWN_BUCKETS
            source = self.engine.source(counted=not scoped)
            head = ["Plan:", *lines, "", f"Table: {source}", ""]
            named = _few_named_jobs(plan)
            if named is not None:
                steps: list[str] = []
                keys = sql.keys_query(
                    plan, table, offset=0, buckets=buckets, pruning=pruning, paged=False
                )
                keys_title = (
                    f"1-2. The keys of every match, in order (the request names {named} "
                    "JobIds): TotalCount is their number, the page is cut from them:"
                )
            else:
                count, count_title, keys_title = self._count_step(plan, buckets, pruning)
                steps = [count_title, sql.render(count, name, pretty=True), ""]
                keys = sql.keys_query(
                    plan, table, offset=plan.page.offset, buckets=buckets, pruning=pruning
                )
            # an example of no partition of this dataset: explain shows no stored data
            lookup = sql.Lookup(202611, 0, 1795305600000000, 1795305600000000, ("<JobId>",))
            files = None
            if isinstance(self.engine, DuckDBEngine):
                files = sql.parquet_files(["<the partition's files, from the manifest>"])
            example = sql.render(sql.lookup_query(table, lookup, files=files), name, pretty=True)
            return "\n".join(
                [
                    *head,
                    *steps,
                    keys_title,
                    sql.render(keys, name, pretty=True),
                    "",
                    "3. The page's job texts: lookups by partition, creation time and JobId "
                    "(jobs created close together share one), joined by UNION ALL, e.g.:",
                    example,
                ]
            )

    def _count_step(
        self, plan: Plan, buckets: int, pruning: sql.Pruning
    ) -> tuple[exp.Select, str, str]:
        """The count query :meth:`_page_keys` runs for a plan, its title in :meth:`explain`
        and the title of the keys query after it."""
        table, key = self.engine.table, plan.ordering.key
        if sql.is_time_key(key):
            return (
                sql.bucket_count_query(plan, table, buckets, pruning),
                f"1. TotalCount, as matches per day of {key} (the sum):",
                "2. The page's keys, among the days that hold the page (found by 1: a "
                f"condition on {key} is added, and the offset is counted from the first of "
                "those days):",
            )
        if self._few_values(plan):
            return (
                sql.value_count_query(plan, table, buckets, pruning),
                f"1. TotalCount, as matches per value of {key} (casefolded), for the values "
                "that hold the page:",
                "2. The page's keys, among the values that hold the page (found by 1: a "
                f"condition on {key} is added, and the offset is counted from the first of "
                "those values):",
            )
        return (
            sql.count_query(plan, table, buckets, pruning),
            "1. TotalCount:",
            "2. The page's keys (skipped when the page starts past the end):",
        )

    def public_columns(self) -> list[str]:
        """The typed top-level columns and ``job_json``, in the order of the files."""
        return [name for name, _ in self.manifest.columns if not name.startswith("ix_")]


@dataclass(frozen=True)
class PageKey:
    """Where one job of a page is: its partition (month, workspace bucket), GmtCreateTime in
    µs, and JobId."""

    month: int
    bucket: int
    created_us: int | None
    job_id: str


@dataclass(frozen=True)
class Day:
    """One row of :func:`~jobquery.dataset.sql.bucket_count_query`: the matches of one day of
    the sort key (None: without the time), and their first and last time in µs."""

    day: int | None
    matches: int
    first_us: int | None
    last_us: int | None


@dataclass(frozen=True)
class Value:
    """One row of :func:`~jobquery.dataset.sql.value_count_query`: a value of the sort key's
    first order column (None: missing), its matches, the matches ahead of it, and every match."""

    value: str | None
    matches: int
    before: int
    total: int

    def holds(self, offset: int, size: int) -> bool:
        """Whether some of its matches are on the page of ``size`` from ``offset``."""
        return self.before < offset + size and self.before + self.matches > offset


#: A request naming at most this many JobIds (``JobIds``) reads the keys of every match and
#: counts them, without a count query of its own (:meth:`JobDataset._page_keys`).
NAMED_JOBS_MAX = 100


def _visibility(plan: Plan) -> Visibility | None:
    """The plan's visibility rule: None for an administrator (or no caller)."""
    return next((p for p in plan.predicates if isinstance(p, Visibility)), None)


def _few_named_jobs(plan: Plan) -> int | None:
    """How many JobIds the plan names, when it names at most :data:`NAMED_JOBS_MAX`."""
    named = sql.named_job_ids(plan)
    return named if named is not None and named <= NAMED_JOBS_MAX else None


#: Ordered by a text, the matches are counted per value of it when the jobs the caller can see
#: hold at most this many values (about): more, and the engine keeps a top-N heap of the page
#: instead.
VALUE_COUNTS_MAX = 1_000_000
#: The value counts (per sort key and visibility rule) and what the SQL prunes with (newest
#: time and months, per visibility rule) kept; the oldest goes first.
REMEMBERED_PER_RULE = 1024

#: A lookup of page texts covers a time range expected to hold at most this many rows of the
#: dataset (decompressing a few thousand job texts costs about what one more lookup does).
LOOKUP_ROWS = 4096


def lookups_of_page(
    keys: list[PageKey], rows_per_partition: Mapping[tuple[int, int], int]
) -> list[sql.Lookup]:
    """The page's jobs as few lookups: jobs of one partition whose creation times are close
    enough (by the partition's row density) that reading the range costs little, share one."""
    lookups: list[sql.Lookup] = []
    untimed: dict[tuple[int, int], list[str]] = {}
    for key in keys:
        if key.created_us is None:
            untimed.setdefault((key.month, key.bucket), []).append(key.job_id)
    timed = sorted(
        (key for key in keys if key.created_us is not None),
        key=lambda key: (key.month, key.bucket, key.created_us),
    )
    group: list[PageKey] = []
    for key in timed:
        if group and (
            (key.month, key.bucket) != (group[0].month, group[0].bucket)
            or _rows_in(group[0], key, rows_per_partition) > LOOKUP_ROWS
        ):
            lookups.append(_lookup(group))
            group = []
        group.append(key)
    if group:
        lookups.append(_lookup(group))
    lookups += [
        sql.Lookup(month, bucket, None, None, tuple(ids))
        for (month, bucket), ids in untimed.items()
    ]
    return lookups


def _lookup(group: list[PageKey]) -> sql.Lookup:
    first, last = group[0], group[-1]
    ids = tuple(key.job_id for key in group)
    return sql.Lookup(first.month, first.bucket, first.created_us, last.created_us, ids)


_MONTH_MICROS = 31 * 86_400_000_000


def _rows_in(
    first: PageKey, last: PageKey, rows_per_partition: Mapping[tuple[int, int], int]
) -> float:
    """About how many rows of a partition were created between two of its jobs."""
    assert first.created_us is not None and last.created_us is not None
    rows = rows_per_partition.get((first.month, first.bucket), 0)
    return (last.created_us - first.created_us + 1) * rows / _MONTH_MICROS


def _days_of_page(days: list[Day], plan: Plan) -> tuple[int, list[Day]]:
    """The matches before the days that hold the page, and those days (in page order)."""
    descending = plan.ordering.descending
    # missing times are the smallest: first ascending, last descending
    ordered = sorted(days, key=lambda day: (day.day is not None, day.day or 0), reverse=descending)
    first, last = plan.page.offset, plan.page.offset + plan.page.size
    before, seen, chosen = 0, 0, []
    for day in ordered:
        if seen >= last:
            break
        if seen + day.matches <= first:
            before += day.matches
        else:
            chosen.append(day)
        seen += day.matches
    return before, chosen


_POLARS_TYPES: dict[str, pl.DataType] = {
    "string": pl.String(),
    "timestamp": pl.Datetime("us", "UTC"),
    "double": pl.Float64(),
    "boolean": pl.Boolean(),
    "array<string>": pl.List(pl.String()),
}


def _frame(table: pa.Table, columns: list[str]) -> pl.DataFrame:
    """An engine's rows as a frame typed like the store's: timestamps in UTC."""
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    frame = frame.rename(dict(zip(frame.columns, columns, strict=True)))
    return frame.with_columns(
        pl.col(name).dt.convert_time_zone("UTC")
        for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.Datetime)
    ).with_columns(pl.col(JOB_JSON).cast(pl.String))


def _is_uri(directory: str | os.PathLike[str]) -> bool:
    """A location of a cluster's storage (``s3a://``, ``hdfs://``, ``file://``), not a path."""
    return "://" in os.fspath(directory)


@contextmanager
def _internal_errors() -> Iterator[None]:
    """Let jobquery's own errors through; wrap an engine's failure as InternalError."""
    try:
        yield
    except (JobQueryError, TypeError):
        raise
    except Exception as exc:
        raise InternalError() from exc
