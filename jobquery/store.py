"""``JobStore``: holds the current snapshot and answers ListJobs over it.

The public API (pinned in DESIGN.md)::

    store = JobStore.from_path("jobs.ndjson")
    store = JobStore.from_records(records)
    store.list_jobs({"DisplayName": "mnist", "PageSize": "20"}, now=..., caller=...)
    store.query(request, now=..., caller=...)      # every match, sorted, as a DataFrame
    store.explain(request, now=...)                # the plan in words, list_jobs' steps,
                                                   # the Polars plan of query()

Live updates, keyset pages and saved snapshots (``docs/embedding.md``)::

    store.upsert(records); store.delete(job_ids)   # a new snapshot version, swapped in
    store.list_jobs({"NextToken": "*"})             # keyset pages over one pinned version
    store.save("jobs.snapshot"); JobStore.open("jobs.snapshot")

Thread safety: writers take a lock and build the next snapshot aside, then publish it with one
reference assignment; readers never lock — each call reads the current snapshot once, at its
start, and uses only that immutable object, so it sees one version, whole.
"""

from __future__ import annotations

import atexit
import os
import secrets
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypedDict, Unpack

import polars as pl

from jobquery import polars_engine
from jobquery.errors import InternalError, InvalidParameterError, JobQueryError, PageTokenError
from jobquery.index_engine import explain, lookups
from jobquery.index_engine.materialise import materialise
from jobquery.index_engine.page import find_job_row, keyset_rows, page_rows
from jobquery.index_engine.page_tokens import (
    FIRST_PAGE,
    LAST_PAGE,
    RESTART,
    PageToken,
    PageTokenCodec,
    job_key,
    new_snapshot_identity,
    request_digest,
)
from jobquery.index_engine.policy import DEFAULT_POLICY, SelectionPolicy
from jobquery.index_engine.select import warm, warm_steps
from jobquery.io.cache import Loaded, SnapshotCache
from jobquery.io.cache import load as load_snapshots
from jobquery.io.dumps import Dump, Progress, records_dump, snapshot_from_dump
from jobquery.io.saved import load_snapshot, save_snapshot
from jobquery.io.writing import remove_stale_temporaries, write_dump
from jobquery.plan import Plan, build_plan
from jobquery.plan.predicates import Visibility
from jobquery.plan.window import ROW_ORDER_FIELD, plan_scan
from jobquery.request import Caller, ListJobsRequest, checked_caller
from jobquery.response import ListJobsResponse
from jobquery.snapshot import Snapshot, derived, load_job, newest_time

RequestLike = ListJobsRequest | Mapping[str, Any] | None

#: Defaults of the version retention: how many versions a store holds (the current one
#: included) and how long a replaced version stays readable for the page tokens that pin it.
KEEP_VERSIONS = 8
KEEP_SECONDS = 600.0
#: How many identities of dropped versions a store remembers, to tell a token of a version it
#: no longer holds ("the job list changed") from one it never held (another store or process).
REMEMBERED_DROPPED = 4096


class StoreOptions(TypedDict, total=False):
    """Options of a store's live behaviour (keyword arguments of every constructor).

    Attributes
    ----------
    token_key : bytes
        The secret page tokens are sealed with (at least 16 bytes; see
        :mod:`jobquery.index_engine.page_tokens`; default: 32 random bytes from
        :func:`secrets.token_bytes`, so tokens are valid only in this process). Processes that
        serve one client's pages in turn must share it.
    keep_versions : int
        The most snapshot versions held at once, the current one included (at least 1).
    keep_seconds : float
        How long a replaced version stays readable by the page tokens that pin it.
    background_warm_up : bool
        Build the structures later queries use (rank orders of every sort key, column
        dictionaries, the lookup indexes of nearly unique columns; see
        :func:`jobquery.index_engine.select.warm`) in a background thread once the snapshot is ready
        (default True). The first answers never wait for it: a query builds what it needs
        itself if the background has not yet, and a structure is never built twice. False
        leaves each to its first use (a one-shot command).
    policy : SelectionPolicy
        The thresholds of the index engine's choices (default
        :data:`~jobquery.index_engine.policy.DEFAULT_POLICY`): which way ``list_jobs``
        computes its rows, never which rows it finds.
    """

    token_key: bytes
    keep_versions: int
    keep_seconds: float
    background_warm_up: bool
    policy: SelectionPolicy


@dataclass(frozen=True)
class _Held:
    """A version kept for page tokens: its snapshot, its identity (what tokens name it by),
    and when (``time.monotonic``) it was replaced."""

    snapshot: Snapshot
    identity: bytes
    replaced_at: float | None = None


@dataclass(frozen=True)
class _Versions:
    """The versions a store holds, by number and by identity, which one is current, and the
    identities of the ones it dropped (the latest :data:`REMEMBERED_DROPPED`). Replaced whole
    on every publish, so a reader sees one consistent set."""

    current: int
    held: dict[int, _Held]
    by_identity: dict[bytes, int]
    dropped: frozenset[bytes] = frozenset()
    dropped_order: tuple[bytes, ...] = ()

    @property
    def snapshot(self) -> Snapshot:
        """The current snapshot."""
        return self.held[self.current].snapshot

    @classmethod
    def of(cls, snapshot: Snapshot, identity: bytes) -> _Versions:
        """A store's first version."""
        version = snapshot.version
        return cls(version, {version: _Held(snapshot, identity)}, {identity: version})


class JobStore:
    """A ListJobs engine over a snapshot of job records.

    Reads never block: each call works on the snapshot that was current when it started.
    Updates (:meth:`upsert`, :meth:`delete`, :meth:`apply`) build a new snapshot version and
    swap it in; replaced versions are kept for a while (``keep_versions``, ``keep_seconds``)
    so that page tokens (``NextToken``) keep walking the version they started on.

    Parameters
    ----------
    snapshot : Snapshot
        The jobs to answer from.
    **options
        ``token_key``, ``keep_versions``, ``keep_seconds``, ``background_warm_up``,
        ``policy``: see :class:`StoreOptions`.
    """

    def __init__(self, snapshot: Snapshot, **options: Unpack[StoreOptions]) -> None:
        keep_versions = options.get("keep_versions", KEEP_VERSIONS)
        keep_seconds = options.get("keep_seconds", KEEP_SECONDS)
        if keep_versions < 1:
            raise ValueError("keep_versions must be at least 1 (the current version)")
        if keep_seconds < 0:
            raise ValueError("keep_seconds must not be negative")
        self._versions = _Versions.of(snapshot, new_snapshot_identity())
        self._write_lock = threading.Lock()
        self._keep_versions = keep_versions
        self._keep_seconds = float(keep_seconds)
        self._policy = options.get("policy", DEFAULT_POLICY)
        self._tokens = PageTokenCodec(options.get("token_key") or secrets.token_bytes(32))
        self.skipped: list[Any] = []
        self.duplicates = 0
        self._warming: threading.Thread | None = None
        if options.get("background_warm_up", True):
            self._warming = _start_warm_up(snapshot, self._policy)

    def warm_up(self) -> None:
        """Build every structure the current snapshot's queries may use, now (waiting for the
        background warm-up's share of it), so that no later first call pays for one."""
        warm(self._snapshot, self._policy)

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def from_path(
        cls,
        *paths: str | os.PathLike[str],
        lenient: bool = False,
        on_progress: Progress | None = None,
        compress_texts: bool = False,
        cache: bool | SnapshotCache = False,
        **options: Unpack[StoreOptions],
    ) -> JobStore:
        """Read dump files, folders or glob patterns (see :mod:`jobquery.io.dumps`).

        Parameters
        ----------
        *paths : str or PathLike
            One or more files (``.json``, ``.ndjson``/``.jsonl``, ``.parquet``, ``.arrow``),
            folders, or glob patterns, read as one job set. A lone file written by
            :meth:`save` (whatever its name) or a cache entry is opened without rebuilding its
            index; among other dumps, their jobs are read as a dump's.
        lenient : bool
            Skip malformed records instead of raising; they are listed in ``store.skipped``.
        compress_texts : bool
            Keep each job's JSON zstd-compressed in memory (about 8x smaller; see
            :meth:`Snapshot.from_texts`). The files are still read whole first.
        cache : bool or SnapshotCache
            Reuse the snapshot cached for these files when they are unchanged, opened
            memory-mapped; otherwise build it and cache it before returning (see
            :mod:`jobquery.io.cache`). True: the cache of ``$JOBQUERY_CACHE_DIR`` (or the user
            cache folder).

        Raises
        ------
        DumpFormatError
            A malformed file or record (naming the file and line), unless ``lenient``.
        FileNotFoundError
            A path that does not exist.
        TypeError
            No path, or a ``cache`` that is neither a bool nor a SnapshotCache.
        """
        if not paths:
            raise TypeError("from_path needs at least one path (a file, folder or pattern)")
        if not isinstance(cache, bool | SnapshotCache):
            raise TypeError(f"cache is a bool or a SnapshotCache, not {type(cache).__name__}")
        chosen = SnapshotCache.from_environment() if cache is True else cache or None
        loaded = load_snapshots(
            paths,
            lenient=lenient,
            compress_texts=compress_texts,
            cache=chosen,
            on_progress=on_progress,
        )
        if loaded.pending is not None:
            loaded.pending.write()
        return cls.from_loaded(loaded, **options)

    @classmethod
    def from_loaded(cls, loaded: Loaded, **options: Unpack[StoreOptions]) -> JobStore:
        """A store over a snapshot of :func:`jobquery.io.cache.load`, with what its build
        skipped and how many duplicates it resolved."""
        store = cls(loaded.snapshot, **options)
        store.skipped = list(loaded.skipped)
        store.duplicates = loaded.duplicates
        return store

    @classmethod
    def from_records(
        cls,
        records: Iterable[Mapping[str, Any]],
        *,
        lenient: bool = False,
        compress_texts: bool = False,
        **options: Unpack[StoreOptions],
    ) -> JobStore:
        """Build a store from wire-shaped job dicts (PascalCase keys); options as for
        :meth:`from_path`."""
        return cls._from_dump(records_dump(records, lenient=lenient), compress_texts, **options)

    @classmethod
    def _from_dump(
        cls, dump: Dump, compress_texts: bool, **options: Unpack[StoreOptions]
    ) -> JobStore:
        store = cls(snapshot_from_dump(dump, compress_texts=compress_texts), **options)
        store.skipped = list(dump.skipped)
        store.duplicates = dump.duplicates
        return store

    @classmethod
    def open(cls, path: str | os.PathLike[str], **options: Unpack[StoreOptions]) -> JobStore:
        """Open a snapshot written by :meth:`save`; the index is read, not rebuilt.

        The store continues the saved version under its saved identity, so page tokens
        issued for that version before a restart stay valid after it when the token key is
        the same. Versions that were never saved are unknown to it: their tokens are refused.

        Raises
        ------
        DumpFormatError
            A truncated, corrupted or mismatched file, or one that is not a jobquery snapshot.
        FileNotFoundError
            No such file.
        """
        snapshot, manifest = load_snapshot(path)
        # what a save killed half-way left beside the file (a save removes it too)
        remove_stale_temporaries(Path(path))
        store = cls(snapshot, **options)
        if manifest.snapshot_identity is not None:
            store._versions = _Versions.of(snapshot, bytes.fromhex(manifest.snapshot_identity))
        return store

    # -- reading -----------------------------------------------------------------------------

    @property
    def snapshot(self) -> Snapshot:
        """The current snapshot (immutable; hold on to it to keep reading one version)."""
        return self._versions.snapshot

    @property
    def _snapshot(self) -> Snapshot:
        return self._versions.snapshot

    @property
    def version(self) -> int:
        """The version of the current snapshot."""
        return self._snapshot.version

    def versions(self) -> list[int]:
        """The versions held (readable by page tokens and ``version=``), oldest first."""
        held = self._versions.held
        return sorted(v for v in held if self._readable(held, v))

    def snapshot_at(self, version: int) -> Snapshot:
        """The snapshot of a version still held.

        Raises
        ------
        LookupError
            The version was dropped (see ``keep_versions``/``keep_seconds``) or never existed.
        """
        held = self._versions.held
        if not self._readable(held, version):
            raise LookupError(f"snapshot version {version} is not held (held: {self.versions()})")
        return held[version].snapshot

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
            versions = self._versions
            snapshot = versions.snapshot
            parsed = ListJobsRequest.parse(request)
            if parsed.next_token is not None:
                jobs, total, next_token = self._keyset_page(versions, parsed, now, caller)
            else:
                plan = build_plan(parsed, now=now, caller=caller)
                found = page_rows(plan, snapshot, self._policy)
                jobs, total, next_token = materialise(snapshot, found.rows), found.total_count, None
        if request_id is None:
            return ListJobsResponse(jobs=jobs, total_count=total, next_token=next_token)
        return ListJobsResponse(
            jobs=jobs, total_count=total, request_id=request_id, next_token=next_token
        )

    def _keyset_page(
        self,
        versions: _Versions,
        request: ListJobsRequest,
        now: datetime | None,
        caller: Caller | None,
    ) -> tuple[list[dict[str, Any]], int, str]:
        """One keyset page: (jobs, TotalCount, NextToken); see
        :mod:`jobquery.index_engine.page_tokens`."""
        if request.page_number not in (None, 1):
            raise InvalidParameterError(
                "PageNumber",
                request.page_number,
                "cannot be combined with NextToken: keyset pages follow the token",
            )
        token_text = request.next_token or FIRST_PAGE
        digest = request_digest(request, caller)
        if token_text == FIRST_PAGE:
            snapshot, after_row, total = versions.snapshot, None, None
            identity = versions.held[versions.current].identity
        else:
            token, snapshot, after_row = self._resume(versions, token_text, digest)
            identity, total, now = token.snapshot, token.total_count, token.now
        plan = build_plan(request, now=now, caller=caller)
        page = keyset_rows(plan, snapshot, after_row, self._policy)
        total = page.total_count if total is None else total
        assert total is not None  # counted on the first page, carried by the token after it
        next_token = LAST_PAGE
        if page.last_row is not None:
            last = page.last_row
            next_token = self._tokens.encode(
                PageToken(
                    snapshot=identity,
                    now=plan.now,
                    last_create_time=int(snapshot.create_times[last]),
                    last_job=job_key(snapshot.live["JobId"][last]),
                    total_count=total,
                    request_digest=digest,
                )
            )
        return materialise(snapshot, page.rows), total, next_token

    def _resume(
        self, versions: _Versions, token_text: str, digest: bytes
    ) -> tuple[PageToken, Snapshot, int]:
        """Where a token's walk stands: the token, the snapshot it walks, and the row of the
        last job it served; or the reason the walk cannot go on."""
        token = self._tokens.decode(token_text)
        snapshot = self._pinned(versions, token, token_text)
        if token.request_digest != digest:
            raise PageTokenError(
                token_text,
                "the page token continues another request: repeat the filters, order and "
                f"caller of its first page (only PageSize may change), or {RESTART}",
            )
        after_row = find_job_row(snapshot, token.last_create_time, token.last_job, self._policy)
        if after_row is None:  # sealed by this store's key, yet not a job it served
            raise PageTokenError(
                token_text, f"the page token does not match its job list; {RESTART}"
            )
        return token, snapshot, after_row

    def _pinned(self, versions: _Versions, token: PageToken, token_text: str) -> Snapshot:
        """The snapshot a token walks, or the reason it cannot be walked any more."""
        version = versions.by_identity.get(token.snapshot)
        if version is not None and self._readable(versions.held, version):
            return versions.held[version].snapshot
        if version is not None or token.snapshot in versions.dropped:
            raise PageTokenError(
                token_text,
                "the job list changed since the first page and the page token expired (the "
                f"version it walked is no longer kept); {RESTART}",
            )
        raise PageTokenError(
            token_text,
            "the page token is for a job list this store does not hold: issued by another job "
            "store, or by a process that ended without saving that version (or dropped it "
            f"before saving); {RESTART}",
        )

    def query(
        self,
        request: RequestLike = None,
        *,
        now: datetime | None = None,
        caller: Caller | None = None,
        version: int | None = None,
    ) -> pl.DataFrame:
        """Every match, in the request's order, unpaged, as a DataFrame for analysis.

        The columns are the typed top-level job fields and ``job_json`` (the complete job).
        ``version`` reads a held older version instead of the current one (``LookupError``
        when it is not held); paging parameters, ``NextToken`` included, are ignored.
        """
        snapshot = self._snapshot if version is None else self.snapshot_at(version)
        with _internal_errors():
            plan = self._plan(request, now, caller)
            public = [name for name in snapshot.live.columns if not name.startswith("ix_")]
            found = polars_engine.compile(plan, snapshot, paged=False).select(public).collect()
            return snapshot.with_json_texts(found)

    def explain(
        self,
        request: RequestLike = None,
        *,
        now: datetime | None = None,
        caller: Caller | None = None,
    ) -> str:
        """How a request is understood and answered: each filter in words, the order, the
        page; the steps ``list_jobs`` takes for it (:mod:`jobquery.index_engine.explain`);
        then the Polars plan :meth:`query` runs (``list_jobs`` does not run it).

        Every count in it is of the jobs the caller can see: for a non-admin caller, the rows
        of the scan are told as visible jobs, not as row numbers among everyone's jobs, and
        the index engine's steps without the paths and row counts it would choose, since
        those depend on every job (they are shown to administrators).
        """
        with _internal_errors():
            snapshot = self._snapshot
            request = ListJobsRequest.parse(request)
            plan = build_plan(request, now=now, caller=caller)
            keyset = request.next_token is not None
            lines = [f"- {line}" for line in plan.describe()]
            visibility: pl.Expr | None = None
            if caller is None or caller.is_admin:
                lines.append(_admin_scan_line(plan, snapshot))
                steps = explain.steps_seen(plan, snapshot, self._policy, keyset=keyset)
            else:
                # Polars' plan depends on the rows it reads (their number, their sortedness):
                # it is made over the rows of the scan this caller can see
                visibility = polars_engine.compile_predicate(Visibility(caller.user_id))
                lines.append(_visible_scan_line(plan, snapshot, visibility))
                steps = explain.steps_unseen(plan, keyset=keyset)
            unpaged = polars_engine.compile(plan, snapshot, paged=False, seen_by=visibility)
            public = [name for name in snapshot.live.columns if not name.startswith("ix_")]
            polars_plan = unpaged.select(public).explain()
            return "\n".join(
                [
                    "Plan:",
                    *lines,
                    "",
                    *steps,
                    "",
                    "Polars plan: what JobStore.query() runs (every match, sorted, unpaged; "
                    "list_jobs does not run it):",
                    polars_plan,
                ]
            )

    def plan(
        self,
        request: RequestLike = None,
        *,
        now: datetime | None = None,
        caller: Caller | None = None,
    ) -> Plan:
        """The resolved plan of a request (defaults filled in), without running it."""
        return self._plan(request, now, caller)

    def newest_time(self, *, caller: Caller | None = None) -> datetime | None:
        """The newest ``Gmt*Time`` of the stored jobs the caller can see (deleted ones
        included, as :meth:`get_job` returns them); None when there is none.

        The command line ends its default window there: for a non-admin caller it must not be
        the time of a job only others may see.
        """
        snapshot = self._snapshot
        if caller is None or caller.is_admin:
            return newest_time(snapshot)
        return newest_time(snapshot, polars_engine.compile_predicate(Visibility(caller.user_id)))

    def listed_values(self, column: str, *, caller: Caller | None = None) -> list[Any]:
        """The distinct values (no null, sorted) of a top-level field among the jobs
        ``list_jobs`` may return to the caller: deleted jobs left out, and for a non-admin
        caller another user's ``PRIVATE`` jobs too. The command line's hints list them."""
        live = _visible_to(self._snapshot.live, caller)
        return live[column].drop_nulls().unique().sort().to_list()

    def listed_without(self, column: str, *, caller: Caller | None = None) -> int:
        """How many of the jobs ``list_jobs`` may return to the caller (as
        :meth:`listed_values`) have no value of a top-level field, or one that is not read
        (a time that is not RFC 3339). A window on that field never lists them."""
        live = self._snapshot.live
        if not live[column].null_count():  # known without a pass: the usual case, at once
            return 0
        return int(_visible_to(live, caller)[column].null_count())

    def get_job(self, job_id: str, *, caller: Caller | None = None) -> dict[str, Any] | None:
        """The stored job with exactly this ``JobId`` (deleted jobs included), or None.

        With a non-admin ``caller``, another user's ``PRIVATE`` job is None too, by the same
        visibility rule as ``list_jobs``.
        """
        if not isinstance(job_id, str):
            raise TypeError(f"a JobId is a str, not {type(job_id).__name__}")
        caller = checked_caller(caller)
        frame = self._snapshot.frame
        rows = (frame["JobId"] == job_id).arg_true()  # JobIds are unique: none or one
        # the rule is asked of one row either way (an unknown id: the first row, then
        # dropped), so a hidden job's id takes the time an unknown id takes
        shown = _visible_to(frame.slice(rows[0] if len(rows) else 0, 1), caller)
        if not len(rows) or not len(shown):
            return None
        return load_job(self._snapshot.json_texts(shown)[0])

    def export(self, path: str | os.PathLike[str]) -> int:
        """Write every stored job to a dump file (format by extension); returns the count."""
        return write_dump(self._snapshot, path)

    @staticmethod
    def _plan(request: RequestLike, now: datetime | None, caller: Caller | None) -> Plan:
        return build_plan(ListJobsRequest.parse(request), now=now, caller=caller)

    # -- updates -----------------------------------------------------------------------------

    def upsert(self, records: Iterable[Mapping[str, Any]]) -> int:
        """Insert jobs, or replace the stored jobs with the same ``JobId``; returns the version.

        Records are checked like ingested ones (a JSON object with a non-empty string
        ``JobId``); when one ``JobId`` occurs twice, the latest ``GmtModifiedTime`` wins. A
        stored job is replaced whatever its own ``GmtModifiedTime``.

        Raises
        ------
        DumpFormatError
            A malformed record (naming its index); the store is left unchanged.
        """
        return self.apply(upserts=records)

    def delete(self, job_ids: Iterable[str]) -> int:
        """Remove jobs by exact ``JobId`` (unknown ones are ignored); returns the version.

        Raises
        ------
        TypeError
            ``job_ids`` is one string, or holds something that is not a string.
        """
        return self.apply(deletions=job_ids)

    def apply(
        self,
        upserts: Iterable[Mapping[str, Any]] = (),
        deletions: Iterable[str] = (),
    ) -> int:
        """Delete and upsert in one new version (deletions first); returns the version.

        The new snapshot is built aside, from the changed jobs only (see
        :meth:`Snapshot.with_changes`), then published with one reference assignment:
        readers never see half an update. Writers are serialised. A call that changes
        nothing (no upserts, no known JobId to delete) keeps the current version.
        """
        if isinstance(deletions, str):
            raise TypeError("deletions are a collection of JobIds, not one string")
        removals = list(deletions)
        if not all(isinstance(job_id, str) for job_id in removals):
            raise TypeError("a JobId to delete must be a string")
        dump = records_dump(upserts)
        with self._write_lock:
            current = self._snapshot
            if not dump.jobs and not current.frame["JobId"].is_in(removals).any():
                return current.version
            with _internal_errors():
                latest = current.with_changes(
                    dump.jobs, dump.texts, removals, version=current.version + 1
                )
            self._publish(latest)
            return latest.version

    def replace(self, snapshot: Snapshot) -> int:
        """Publish another job set (re-read dumps, for instance) as the next version.

        Like an update, the replaced version stays readable for the page tokens that walk it
        (``keep_versions``, ``keep_seconds``); after that they are refused with "the job list
        changed". Returns the new version.
        """
        with self._write_lock:
            version = self._snapshot.version + 1
            latest = Snapshot(snapshot.frame, version=version, codec=snapshot.codec)
            self._publish(latest)
            return latest.version

    def _publish(self, latest: Snapshot) -> None:
        """Make ``latest`` current and drop the versions no longer kept (under the lock)."""
        # build before the swap the dictionaries the replaced version's queries used, so that
        # readers never wait for them (and no others: an update stays as cheap as it can)
        derived.warm(latest, derived.used_columns(self._snapshot), self._policy, in_use=True)
        lookups.warm(latest, lookups.built(self._snapshot), self._policy)
        moment = time.monotonic()
        before = self._versions
        held = {
            version: entry
            if entry.replaced_at is not None
            else _Held(entry.snapshot, entry.identity, moment)
            for version, entry in before.held.items()
        }
        held[latest.version] = _Held(latest, new_snapshot_identity())
        readable = sorted(version for version in held if self._readable(held, version))
        kept = readable[-self._keep_versions :]
        gone = tuple(held[version].identity for version in held.keys() - set(kept))
        dropped_order = (before.dropped_order + gone)[-REMEMBERED_DROPPED:]
        # copy-on-write: a reader holds the old set or the new one, never a half-edited one
        self._versions = _Versions(
            current=latest.version,
            held={version: held[version] for version in kept},
            by_identity={held[version].identity: version for version in kept},
            dropped=frozenset(dropped_order) if gone else before.dropped,
            dropped_order=dropped_order,
        )

    def _readable(self, held: dict[int, _Held], version: int) -> bool:
        entry = held.get(version)
        if entry is None:
            return False
        return entry.replaced_at is None or time.monotonic() - entry.replaced_at <= (
            self._keep_seconds
        )

    # -- persistence -------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> int:
        """Save the current snapshot to one file (atomically); returns its version.

        The file holds the index too, so :meth:`open` rebuilds nothing. A crash during the
        save leaves the previous file intact; the temporary file it leaves beside it is
        removed by the next save or open of that path. See :mod:`jobquery.io.saved`.
        """
        versions = self._versions
        snapshot = versions.snapshot
        identity = versions.held[versions.current].identity
        save_snapshot(snapshot, path, snapshot_identity=identity.hex())
        return snapshot.version


def _admin_scan_line(plan: Plan, snapshot: Snapshot) -> str:
    """The rows a plan reads, as row numbers among every listable job."""
    if plan.window.column != ROW_ORDER_FIELD:
        return f"scan: all {snapshot.live.height} listable jobs"
    scan = plan_scan(plan, snapshot)
    return (
        f"scan: rows {scan.start}..{scan.stop} of {snapshot.live.height} listable jobs (the "
        "GmtCreateTime window is a binary search on the snapshot's row order)"
    )


def _visible_scan_line(plan: Plan, snapshot: Snapshot, visibility: pl.Expr) -> str:
    """The rows a plan reads, counted among the jobs a caller can see only."""
    visible = snapshot.live.lazy().filter(visibility).select(pl.len()).collect().item()
    if plan.window.column != ROW_ORDER_FIELD:
        return f"scan: all {visible} listable jobs this caller can see"
    scan = plan_scan(plan, snapshot)
    rows = snapshot.live.slice(scan.start, scan.stop - scan.start).filter(visibility)
    return (
        f"scan: {rows.height} of the {visible} listable jobs this caller can see lie in the "
        "GmtCreateTime window (a binary search on the snapshot's row order)"
    )


@contextmanager
def _internal_errors() -> Iterator[None]:
    """Let jobquery's own errors through; wrap anything unexpected as InternalError (HTTP 500)."""
    try:
        yield
    except (JobQueryError, TypeError):
        raise
    except Exception as exc:
        raise InternalError() from exc


# ---------------------------------------------------------------------------------------------
# The background warm-up, stopped when the process exits


#: Set when the interpreter exits: every warm-up stops after the structure it is building.
_EXITING = threading.Event()
_WARM_UPS: set[threading.Thread] = set()
_WARM_UPS_LOCK = threading.Lock()


def _start_warm_up(snapshot: Snapshot, policy: SelectionPolicy) -> threading.Thread:
    """Build the snapshot's structures (:func:`jobquery.index_engine.select.warm_steps`) in a daemon
    thread, one at a time. A process may exit while it runs: at exit the thread finishes the
    structure it is on and stops (:func:`_stop_warm_ups`), because native code still running
    in a daemon thread while the interpreter shuts down can abort the process."""

    def run() -> None:
        try:
            for step in warm_steps(snapshot, policy):
                if _EXITING.is_set():
                    return
                step()
        finally:
            with _WARM_UPS_LOCK:
                _WARM_UPS.discard(thread)

    thread = threading.Thread(target=run, name="jobquery-warm-up", daemon=True)
    with _WARM_UPS_LOCK:
        _WARM_UPS.add(thread)
    thread.start()
    return thread


@atexit.register
def _stop_warm_ups() -> None:
    _EXITING.set()
    with _WARM_UPS_LOCK:
        running = list(_WARM_UPS)
    for thread in running:
        thread.join()


def _visible_to(frame: pl.DataFrame, caller: Caller | None) -> pl.DataFrame:
    """The rows of ``frame`` the caller may see: all for an administrator (or no caller),
    for anyone else not another user's ``PRIVATE`` jobs (``list_jobs``' visibility rule)."""
    if caller is None or caller.is_admin:
        return frame
    return frame.filter(polars_engine.compile_predicate(Visibility(caller.user_id)))
