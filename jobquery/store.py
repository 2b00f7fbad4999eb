"""``JobStore``: holds the current snapshot and answers ListJobs over it.

The public API (pinned in DESIGN.md)::

    store = JobStore.from_path("jobs.ndjson")
    store = JobStore.from_records(records)
    store.list_jobs({"DisplayName": "mnist", "PageSize": "20"}, now=..., caller=...)
    store.query(request, now=..., caller=...)      # every match, sorted, as a DataFrame
    store.explain(request, now=...)                # the plan in words plus the Polars plan
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import polars as pl

from jobquery import compile_polars
from jobquery.errors import InternalError, JobQueryError
from jobquery.ingest import (
    Dump,
    Progress,
    read_dumps,
    records_dump,
    snapshot_from_dump,
    write_dump,
)
from jobquery.paginate import materialise, page_rows
from jobquery.plan import Plan, build_plan
from jobquery.request import Caller, ListJobsRequest
from jobquery.response import ListJobsResponse
from jobquery.snapshot import JOB_JSON, Snapshot, load_job

RequestLike = ListJobsRequest | Mapping[str, Any] | None


class JobStore:
    """A ListJobs engine over a snapshot of job records.

    Reads never block: each call works on the snapshot that was current when it started.

    Parameters
    ----------
    snapshot : Snapshot
        The jobs to answer from.
    """

    def __init__(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        self._write_lock = threading.Lock()
        self.skipped: list[Any] = []
        self.duplicates = 0

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def from_path(
        cls,
        *paths: str | os.PathLike[str],
        lenient: bool = False,
        on_progress: Progress | None = None,
    ) -> JobStore:
        """Read dump files, folders or glob patterns (see :mod:`jobquery.ingest`).

        Parameters
        ----------
        *paths : str or PathLike
            One or more files (``.json``, ``.ndjson``/``.jsonl``, ``.parquet``, ``.arrow``),
            folders, or glob patterns, read as one job set.
        lenient : bool
            Skip malformed records instead of raising; they are listed in ``store.skipped``.

        Raises
        ------
        DumpFormatError
            A malformed file or record (naming the file and line), unless ``lenient``.
        FileNotFoundError
            A path that does not exist.
        """
        return cls._from_dump(read_dumps(paths, lenient=lenient, on_progress=on_progress))

    @classmethod
    def from_records(
        cls, records: Iterable[Mapping[str, Any]], *, lenient: bool = False
    ) -> JobStore:
        """Build a store from wire-shaped job dicts (PascalCase keys)."""
        return cls._from_dump(records_dump(records, lenient=lenient))

    @classmethod
    def _from_dump(cls, dump: Dump) -> JobStore:
        store = cls(snapshot_from_dump(dump))
        store.skipped = list(dump.skipped)
        store.duplicates = dump.duplicates
        return store

    # -- reading -----------------------------------------------------------------------------

    @property
    def snapshot(self) -> Snapshot:
        """The current snapshot (immutable; hold on to it to keep reading one version)."""
        return self._snapshot

    def __len__(self) -> int:
        return len(self._snapshot)

    def list_jobs(
        self,
        request: RequestLike = None,
        *,
        now: datetime | None = None,
        caller: Caller | None = None,
        request_id: str | None = None,
    ) -> ListJobsResponse:
        """Answer ``ListJobs``.

        Parameters
        ----------
        request : ListJobsRequest or mapping of str, optional
            A typed request, or a wire mapping of strings as decoded from a query string.
        now : datetime, optional
            The clock for the default 7-day window (default: the current UTC time).
        caller : Caller, optional
            Who asks; None means administrator visibility.
        request_id : str, optional
            The ``RequestId`` to answer with (default: a fresh upper-case UUID4).

        Raises
        ------
        InvalidParameterError
            A malformed or refused parameter (HTTP 400 in the service).
        InternalError
            An unexpected failure inside the engine (HTTP 500); the cause is chained.
        """
        with _internal_errors():
            snapshot = self._snapshot
            plan = self._plan(request, now, caller)
            found = page_rows(plan, snapshot)
            jobs = materialise(snapshot, found.rows)
        if request_id is None:
            return ListJobsResponse(jobs=jobs, total_count=found.total_count)
        return ListJobsResponse(jobs=jobs, total_count=found.total_count, request_id=request_id)

    def query(
        self,
        request: RequestLike = None,
        *,
        now: datetime | None = None,
        caller: Caller | None = None,
    ) -> pl.DataFrame:
        """Every match, in the request's order, unpaged, as a DataFrame for analysis.

        The columns are the typed top-level job fields and ``job_json`` (the complete job).
        """
        with _internal_errors():
            snapshot = self._snapshot
            plan = self._plan(request, now, caller)
            public = [name for name in snapshot.live.columns if not name.startswith("ix_")]
            return compile_polars.compile(plan, snapshot, paged=False).select(public).collect()

    def explain(
        self,
        request: RequestLike = None,
        *,
        now: datetime | None = None,
        caller: Caller | None = None,
    ) -> str:
        """How a request is understood: each filter in words, the order, the page, the plan."""
        with _internal_errors():
            snapshot = self._snapshot
            plan = self._plan(request, now, caller)
            scan = compile_polars.plan_scan(plan, snapshot)
            lines = [f"- {line}" for line in plan.describe()]
            lines.append(
                f"scan: rows {scan.start}..{scan.stop} of {snapshot.live.height} listable jobs "
                "(the GmtCreateTime window is a binary search on the snapshot's row order)"
                if plan.window.column == compile_polars.ROW_ORDER_FIELD
                else f"scan: all {snapshot.live.height} listable jobs"
            )
            polars_plan = compile_polars.compile(plan, snapshot).explain()
            return "\n".join(["Plan:", *lines, "", "Polars plan:", polars_plan])

    def plan(
        self,
        request: RequestLike = None,
        *,
        now: datetime | None = None,
        caller: Caller | None = None,
    ) -> Plan:
        """The resolved plan of a request (defaults filled in), without running it."""
        return self._plan(request, now, caller)

    def get_job(self, job_id: str) -> dict[str, Any] | None:
        """The stored job with exactly this ``JobId`` (deleted jobs included), or None."""
        frame = self._snapshot.frame
        found = frame.filter(pl.col("JobId") == job_id)[JOB_JSON]
        return load_job(found[0]) if len(found) else None

    def export(self, path: str | os.PathLike[str]) -> int:
        """Write every stored job to a dump file (format by extension); returns the count."""
        return write_dump(self._snapshot, path)

    @staticmethod
    def _plan(request: RequestLike, now: datetime | None, caller: Caller | None) -> Plan:
        return build_plan(ListJobsRequest.parse(request), now=now, caller=caller)


@contextmanager
def _internal_errors() -> Iterator[None]:
    """Let jobquery's own errors through; wrap anything unexpected as InternalError (HTTP 500)."""
    try:
        yield
    except (JobQueryError, TypeError):
        raise
    except Exception as exc:
        raise InternalError() from exc
