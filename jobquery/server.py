"""A local ``ListJobs`` endpoint: the PAI-DLC REST API answered over HTTP from a :class:`JobStore`.

``create_app`` builds a plain ASGI application (Starlette) that answers the two read calls of the
service the way the service does, so that the official SDK — or any HTTP client — can be
pointed at it::

    GET /api/v1/jobs            ListJobs: the query parameters of spec §3, the wire body of §5
    GET /api/v1/jobs/{JobId}    GetJob: the stored job with ``RequestId`` at the top level

Errors use the service's body ``{"RequestId", "HostId", "Code", "Message"}``:

====  ====================  ==========================================================
400   ``InvalidParameter``  a refused request parameter (:class:`InvalidParameterError`),
                            percent-encoding that is not UTF-8 included
400   ``BadRequest``        not HTTP, or a request head larger than the limit (``serve``)
404   ``NotFound``          an unknown path, or ``GetJob`` of a job that is not there
405   ``MethodNotAllowed``  any method but GET (and HEAD) on a known path
500   ``InternalError``     anything unexpected; logged here, never a traceback in the body
====  ====================  ==========================================================

Signature headers sent by the SDK (``Authorization``, ``x-acs-signature-*``, ``x-acs-date``,
...) are accepted and ignored: there is no authentication. Who asks is decided by a pluggable
``caller_from_request``. **The default is safe**: every request is an anonymous
non-administrator, who sees public jobs only (:func:`anonymous_caller`). Seeing more takes a
decision: :func:`administrator_caller` (a local test double that wants every job),
:class:`HeaderIdentity` (trust identity headers that a proxy in front sets from real
authentication; administrators by a list, or by a header only when told to trust it), or a
function of your own.

``serve`` runs the app with uvicorn on loopback, with limits that keep idle, half-sent and slow
connections from starving it (:class:`ConnectionLimits`), logs one line per request and, on
request, reloads the dump files when they change (:class:`StoreReloader`).

Starlette and uvicorn are the optional extra ``server`` (``pip install 'jobquery[server]'``);
this module imports without them and says so when they are needed.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import logging
import os
import resource
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import unquote_to_bytes

import numpy as np
import orjson
import polars as pl
import pyarrow as pa

from jobquery.errors import ApiError, InternalError, InvalidParameterError, JobQueryError
from jobquery.errors import new_request_id as _new_request_id
from jobquery.io.cache import Loaded, SnapshotCache, load
from jobquery.io.dumps import jobs_counted, resolve_paths, skipped_lines
from jobquery.request import Caller, format_timestamp
from jobquery.snapshot import JOB_JSON, Snapshot, newest_time
from jobquery.store import JobStore

# The optional extra ``server``: without it this module still imports (the CLI imports it), and
# create_app/serve raise ServeError saying what to install.
_MISSING_EXTRA: ImportError | None
try:
    import h11
    import uvicorn
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.exceptions import HTTPException
    from starlette.responses import Response
    from starlette.routing import Route
    from uvicorn.protocols.http.h11_impl import H11Protocol
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    _MISSING_EXTRA = exc
else:
    _MISSING_EXTRA = None

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "ADMIN_HEADER",
    "ANONYMOUS",
    "LIST_JOBS_PATH",
    "USER_ID_HEADER",
    "AccessLog",
    "ConnectionLimits",
    "HeaderIdentity",
    "ServeError",
    "StoreReloader",
    "administrator_caller",
    "anonymous_caller",
    "create_app",
    "serve",
]

_LOGGER = logging.getLogger(__name__)

#: The path of ``ListJobs``; ``GetJob`` is ``{LIST_JOBS_PATH}/{JobId}``.
LIST_JOBS_PATH = "/api/v1/jobs"
#: The header :class:`HeaderIdentity` reads the caller's user id from.
USER_ID_HEADER = "x-jobquery-user-id"
#: The header that makes the caller an administrator (``true``/``false``, also ``1``/``0``),
#: when a :class:`HeaderIdentity` is told to trust it.
ADMIN_HEADER = "x-jobquery-admin"
#: The header the service echoes the request id in.
REQUEST_ID_HEADER = "x-acs-request-id"
#: The body's media type, as the service sends it.
JSON_MEDIA_TYPE = "application/json;charset=utf-8"
#: How often ``StoreReloader`` looks at the dump files, in seconds.
RELOAD_INTERVAL = 1.0

NOT_FOUND = "NotFound"
METHOD_NOT_ALLOWED = "MethodNotAllowed"
BAD_REQUEST = "BadRequest"

#: Where an endpoint leaves ``TotalCount`` for :class:`AccessLog` (``scope["state"]``).
_TOTAL_COUNT_STATE = "jobquery_total_count"

StoreSource = JobStore | Callable[[], JobStore]
CallerFromRequest = Callable[["Request"], Caller | None]
Clock = Callable[[], datetime]


class ServeError(JobQueryError):
    """The local endpoint cannot be built or started (missing extra, address not available)."""


class _NotFoundError(ApiError):
    status = 404
    code = NOT_FOUND


class _MethodNotAllowedError(ApiError):
    status = 405
    code = METHOD_NOT_ALLOWED


def _require_extra() -> None:
    """Say clearly what to install when the ``server`` extra is missing."""
    if _MISSING_EXTRA is not None:
        raise ServeError(
            "jobquery's HTTP server needs the optional extra 'server' "
            f"({_MISSING_EXTRA.name or _MISSING_EXTRA} is missing): pip install 'jobquery[server]'"
        ) from _MISSING_EXTRA


# ---------------------------------------------------------------------------------------------
# Who asks


#: Who asks when nothing says otherwise: an anonymous non-administrator (public jobs only).
ANONYMOUS = Caller(user_id=None, is_admin=False)


def anonymous_caller(request: Request) -> Caller:
    """The default: every request is anonymous and sees public jobs only.

    Nothing a client sends changes that. Identity headers are refused (400) rather than
    ignored, so that a client expecting its own private jobs learns why it does not get them.

    Raises
    ------
    InvalidParameterError
        The request carries a non-empty ``x-jobquery-user-id`` or ``x-jobquery-admin: true``.
    """
    _refuse_untrusted(request, USER_ID_HEADER, trusted_by=_TRUSTS_USERS)
    _refuse_untrusted(request, ADMIN_HEADER, trusted_by=_TRUSTS_ADMINS)
    return ANONYMOUS


_TRUSTS_USERS = "HeaderIdentity(), or jobquery serve --identity headers"
_TRUSTS_ADMINS = (
    "HeaderIdentity(trust_admin_header=True), or jobquery serve --identity headers "
    "--trust-admin-header"
)


def administrator_caller(request: Request) -> None:
    """Every request has the administrator view (``None``): every job, private ones included.

    For a local test double that wants everything, on a machine where every client is
    trusted (``serve --identity admin``).
    """
    return None


@dataclass(frozen=True)
class HeaderIdentity:
    """Who asks, from identity headers the server trusts: ``x-jobquery-user-id`` names the
    caller (no or an empty header: anonymous, public jobs only).

    Use it behind a proxy that authenticates clients and sets the header itself (removing any
    the client sent), or on a machine where every client is trusted: anyone who can reach the
    port can otherwise claim any user id.

    Parameters
    ----------
    admin_users : frozenset of str
        User ids that get the administrator view.
    trust_admin_header : bool
        Also take ``x-jobquery-admin: true`` as the administrator view (for a proxy that sets
        it). Without it, a request claiming it is refused (400).
    """

    admin_users: frozenset[str] = frozenset()
    trust_admin_header: bool = False

    def __call__(self, request: Request) -> Caller:
        """The caller of one request.

        Raises
        ------
        InvalidParameterError
            ``x-jobquery-admin`` is not ``true``/``false``/``1``/``0``, or claims the
            administrator view without being trusted (HTTP 400).
        """
        user_id = request.headers.get(USER_ID_HEADER) or None
        if not self.trust_admin_header:
            _refuse_untrusted(request, ADMIN_HEADER, trusted_by=_TRUSTS_ADMINS)
        claimed = self.trust_admin_header and _admin_header(request)
        return Caller(user_id=user_id, is_admin=claimed or user_id in self.admin_users)


def _admin_header(request: Request) -> bool:
    text = request.headers.get(ADMIN_HEADER)
    if not text:
        return False
    folded = text.strip().casefold()
    if folded not in ("true", "1", "false", "0"):
        raise InvalidParameterError(ADMIN_HEADER, text, "expected true or false")
    return folded in ("true", "1")


def _refuse_untrusted(request: Request, header: str, *, trusted_by: str) -> None:
    """A header claiming an identity the server was not told to trust is a 400, not ignored."""
    claimed = _admin_header(request) if header == ADMIN_HEADER else request.headers.get(header)
    if claimed:
        raise InvalidParameterError(
            header,
            request.headers.get(header),
            f"this server does not take the caller's identity from {header} (it would need "
            f"{trusted_by}); requests here are answered as anonymous: public jobs only",
        )


# ---------------------------------------------------------------------------------------------
# The application


def create_app(
    store: StoreSource,
    *,
    caller_from_request: CallerFromRequest = anonymous_caller,
    now: Clock | None = None,
) -> Starlette:
    """A Starlette app answering ``GET /api/v1/jobs`` (ListJobs) and ``/api/v1/jobs/{JobId}``.

    Parameters
    ----------
    store : JobStore or callable returning a JobStore
        What to answer from. A callable is asked once per request, so a reloader can swap in a
        new store atomically (each request keeps the store it started with).
    caller_from_request : callable, optional
        ``request -> Caller | None``: who asks (``None`` = administrator visibility). It runs on
        the event loop, so it must not block; it may raise :class:`InvalidParameterError`.
        Default: :func:`anonymous_caller` (public jobs only, whatever the request says); see
        :func:`administrator_caller` and :class:`HeaderIdentity`.
    now : callable, optional
        The clock for the default 7-day window (default: the current UTC time per request).

    Returns
    -------
    starlette.applications.Starlette
        A plain ASGI app; mount it anywhere (``app.mount("/dlc", create_app(store))``).

    Raises
    ------
    ServeError
        Starlette is not installed.
    """
    _require_extra()

    current_store: Callable[[], JobStore] = (
        (lambda: store) if isinstance(store, JobStore) else store
    )
    endpoints = _Endpoints(current_store, caller_from_request, now)
    routes = [
        Route(LIST_JOBS_PATH, endpoints.list_jobs, methods=["GET"]),
        Route(LIST_JOBS_PATH + "/{job_id}", endpoints.get_job, methods=["GET"]),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
    # Starlette would answer "/api/v1/jobs/" with a 307 to a URL built from the Host header
    # (Host: evil.example -> http://evil.example/api/v1/jobs); the service has no such path
    app.router.redirect_slashes = False
    return app


#: What answers one request off the event loop: (store, caller, RequestId) -> the wire body.
_Work = Callable[[JobStore, Caller | None, str], dict[str, Any]]


@dataclass(frozen=True)
class _Endpoints:
    """The handlers of one app: what it answers from, who asks, and the clock."""

    current_store: Callable[[], JobStore]
    caller_from_request: CallerFromRequest
    now: Clock | None

    async def answer(self, request: Request, work: _Work) -> Response:
        """Run ``work`` off the event loop; turn every failure into the service's error body."""
        request_id = _new_request_id()
        try:
            caller = self.caller_from_request(request)
            body = await run_in_threadpool(work, self.current_store(), caller, request_id)
        except ApiError as exc:
            if exc.status >= 500:
                _LOGGER.error(
                    "%s %s failed (RequestId %s)",
                    request.method,
                    request.url.path,
                    request_id,
                    exc_info=exc,
                )
            return _error_response(request, exc, request_id)
        except Exception:
            _LOGGER.exception(
                "%s %s failed (RequestId %s)", request.method, request.url.path, request_id
            )
            return _error_response(request, InternalError(), request_id)
        return _json_response(body, 200, request_id)

    async def list_jobs(self, request: Request) -> Response:
        return await self.answer(request, functools.partial(_list_jobs_body, request, self.now))

    async def get_job(self, request: Request) -> Response:
        return await self.answer(request, functools.partial(_get_job_body, request))


def _list_jobs_body(
    request: Request, now: Clock | None, store: JobStore, caller: Caller | None, request_id: str
) -> dict[str, Any]:
    """ListJobs: the wire body of the page the query string asks for."""
    query = decoded_query(request.scope.get("query_string", b""))
    clock = now() if now is not None else None
    wire = store.list_jobs(query, now=clock, caller=caller, request_id=request_id)
    body = wire.to_wire()
    setattr(request.state, _TOTAL_COUNT_STATE, body["TotalCount"])
    return body


def _get_job_body(
    request: Request, store: JobStore, caller: Caller | None, request_id: str
) -> dict[str, Any]:
    """GetJob: the job of the path, or NotFound."""
    job_id = _strict_text("JobId", _raw_job_id(request), plus_is_space=False)
    job = store.get_job(job_id, caller=caller)
    if job is None:
        raise _NotFoundError(f"The job {job_id} does not exist.")
    # GetJob's body is the job itself with RequestId at the top level (the SDK's
    # GetJobResponseBody); a RequestId stored with the job is replaced by this one.
    job["RequestId"] = request_id
    return job


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (no such path, a method other than GET) as the service's body."""
    request_id = _new_request_id()
    status = getattr(exc, "status_code", 500)
    headers = dict(getattr(exc, "headers", None) or {})
    error: ApiError
    if status == 405:
        # Starlette lists the methods of a route in set order; answer in a stable one.
        allowed = ", ".join(sorted(headers.get("Allow", "GET").split(", ")))
        headers["Allow"] = allowed
        error = _MethodNotAllowedError(
            f"The method {request.method} is not allowed on {request.url.path} "
            f"(allowed: {allowed})."
        )
    elif status == 404:
        error = _NotFoundError(
            f"No API at {request.method} {request.url.path} "
            f"(this endpoint serves GET {LIST_JOBS_PATH} and GET {LIST_JOBS_PATH}/{{JobId}})."
        )
    else:
        error = ApiError(str(getattr(exc, "detail", "")) or "The request failed.")
        error.status, error.code = status, f"Http{status}"
    return _error_response(request, error, request_id, headers)


def _json_response(body: dict[str, Any], status: int, request_id: str) -> Response:
    return Response(
        _json_bytes(body),
        status_code=status,
        media_type=JSON_MEDIA_TYPE,
        headers={REQUEST_ID_HEADER: request_id},
    )


def _error_response(
    request: Request,
    error: ApiError,
    request_id: str,
    headers: dict[str, str] | None = None,
) -> Response:
    """The service's error body ``{RequestId, HostId, Code, Message}`` with the error's status."""
    body: dict[str, Any] = {"RequestId": request_id}
    host = request.headers.get("host")
    if host:
        body["HostId"] = host
    wire = error.to_wire(request_id)
    body["Code"], body["Message"] = wire["Code"], wire["Message"]
    response = _json_response(body, error.status, request_id)
    response.headers.update(headers or {})
    return response


def decoded_query(raw: bytes) -> dict[str, str]:
    """A query string as the SDK encodes it: ``&``-separated ``name=value`` pairs,
    percent-encoded UTF-8, ``+`` for a space; the last of a repeated name wins (spec §7 Q23).

    Raises
    ------
    InvalidParameterError
        A name or value whose percent-encoding is not UTF-8 (``%ff``, ``%c3%28``), naming it;
        Starlette would have read it as U+FFFD and answered.
    """
    query: dict[str, str] = {}
    for pair in raw.split(b"&"):
        if not pair:
            continue
        name_bytes, _, value_bytes = pair.partition(b"=")
        name = _strict_text(None, name_bytes)
        query[name] = _strict_text(name, value_bytes)
    return query


def _strict_text(parameter: str | None, raw: bytes, *, plus_is_space: bool = True) -> str:
    """Percent-decode ``raw`` as UTF-8 (in a query ``+`` is a space), refusing anything else."""
    decoded = unquote_to_bytes(raw.replace(b"+", b" ") if plus_is_space else raw)
    try:
        return decoded.decode("utf-8")
    except UnicodeDecodeError:
        shown = raw.decode("ascii", "backslashreplace")
        raise InvalidParameterError(
            parameter or shown,
            shown,
            "the percent-encoded bytes are not UTF-8" + ("" if parameter else " (in its name)"),
        ) from None


def _raw_job_id(request: Request) -> bytes:
    """The JobId segment of a GetJob path as sent (still percent-encoded)."""
    raw = request.scope.get("raw_path") or request.url.path.encode()
    return bytes(raw).rsplit(b"/", 1)[-1]


def _json_bytes(body: dict[str, Any]) -> bytes:
    """The body as compact UTF-8 JSON: orjson, or the stdlib where orjson refuses a value."""
    try:
        return orjson.dumps(body)
    except orjson.JSONEncodeError:
        # orjson refuses integers beyond 64 bits, which a losslessly stored job may carry.
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


# ---------------------------------------------------------------------------------------------
# One line per request


class AccessLog:
    """ASGI middleware: one log line per HTTP request.

    ``GET /api/v1/jobs?PageSize=5 200 3.1ms TotalCount=42`` — method, path and query as sent
    (still percent-encoded, so a line never breaks), status, duration, and ``TotalCount`` for
    ListJobs answers (``-`` otherwise).

    Parameters
    ----------
    app : ASGI app
        Usually the app of :func:`create_app`.
    log : callable
        Receives each line.
    """

    def __init__(self, app: ASGIApp, log: Callable[[str], None]) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state: MutableMapping[str, Any] = scope.setdefault("state", {})
        status = 500  # if the app fails before it answers

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            raw_path = scope.get("raw_path") or scope["path"].encode()
            target = raw_path.decode("ascii", "backslashreplace")
            if scope.get("query_string"):
                target += "?" + scope["query_string"].decode("ascii", "backslashreplace")
            total = state.get(_TOTAL_COUNT_STATE)
            self.log(
                f"{scope['method']} {target} {status} {elapsed_ms:.1f}ms "
                f"TotalCount={'-' if total is None else total}"
            )


# ---------------------------------------------------------------------------------------------
# Reloading the dumps when they change


class StoreReloader:
    """Holds a :class:`JobStore` read from dump files and reloads it when the files change.

    Pass :meth:`current` to :func:`create_app`. The files are looked at every ``interval``
    seconds (modification and change times, sizes, inodes); when they changed, they are read
    again and:

    - if they hold the same job set as before (a ``touch``, a rewrite with the same content:
      compared by a digest of the job texts), nothing happens: page tokens keep working;
    - otherwise the new job set is published as the next version of the **same** store
      (:meth:`JobStore.replace`): requests in flight finish on the version they started
      with, page tokens keep walking theirs while it is held (``keep_versions``,
      ``keep_seconds``), then are refused with "the job list changed".

    A reload that fails (a malformed or half-written file) keeps the current jobs and logs the
    error; the files are tried again when they change again.

    Parameters
    ----------
    paths : iterable of str
        Dump files, folders or glob patterns, as for :meth:`JobStore.from_path`.
    interval : float
        Seconds between two looks at the files' modification and change times, sizes and inodes.
    log : callable, optional
        Receives one line per reload or failed reload (default: the ``jobquery.server`` logger).
    compress_texts : bool
        Keep the jobs' JSON compressed in memory (:meth:`JobStore.from_path`).
    cache : SnapshotCache, optional
        Open unchanged dumps from this snapshot cache, and cache what is built
        (:mod:`jobquery.io.cache`).
    lenient : bool
        Skip malformed records (``store.skipped`` lists them) instead of refusing the files.

    Raises
    ------
    DumpFormatError, FileNotFoundError
        The first read fails (there is no old store to keep).
    """

    def __init__(
        self,
        paths: Iterable[str | os.PathLike[str]],
        *,
        interval: float = RELOAD_INTERVAL,
        log: Callable[[str], None] | None = None,
        compress_texts: bool = False,
        cache: SnapshotCache | None = None,
        lenient: bool = False,
    ) -> None:
        self.paths = [os.fspath(path) for path in paths]
        self.interval = interval
        self._log = log
        self._compress_texts = compress_texts
        self._cache = cache
        self._lenient = lenient
        self._seen = self._signature()
        loaded = self._load()
        self._digest = job_set_digest(loaded.snapshot)
        self._store = JobStore.from_loaded(loaded)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def current(self) -> JobStore:
        """The store to answer the next request from (always the same one)."""
        return self._store

    def check(self) -> bool:
        """Look at the files once; reload if they changed. True if a new version was published."""
        signature = self._signature()
        if signature == self._seen:
            return False
        self._seen = signature
        try:
            loaded = self._load()
            digest = job_set_digest(loaded.snapshot)
            if digest == self._digest:
                self._say(logging.INFO, f"{', '.join(self.paths)} touched; the jobs are the same")
                return False
        except Exception as exc:
            self._say(logging.ERROR, f"reload failed, still serving the previous jobs: {exc}")
            return False
        snapshot = loaded.snapshot
        version = self._store.replace(snapshot)
        self._store.skipped, self._store.duplicates = list(loaded.skipped), loaded.duplicates
        self._digest = digest
        skipped = sum(not record.whole_file for record in loaded.skipped)
        self._say(
            logging.INFO,
            f"reloaded {jobs_counted(len(snapshot))} from {', '.join(self.paths)} "
            f"(version {version}"
            f"{f'; {skipped} malformed record(s) skipped' if skipped else ''})",
        )
        return True

    def _load(self) -> Loaded:
        """The files' snapshot: from the cache when they are unchanged, else built (and
        cached)."""
        loaded = load(
            self.paths,
            lenient=self._lenient,
            compress_texts=self._compress_texts,
            cache=self._cache,
        )
        if loaded.pending is not None:
            loaded.pending.write()
        return loaded

    def start(self) -> None:
        """Watch the files in a daemon thread until :meth:`stop`."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._watch, name="jobquery-reload", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching (waits for the thread)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> StoreReloader:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception:  # the watcher must survive anything; the old store stays
                _LOGGER.exception("watching %s failed", self.paths)

    def _signature(self) -> object:
        """What the dump files look like now: each file's path, times, size and inode."""
        try:
            files = resolve_paths(self.paths)
            return tuple((str(path), *_stat(path)) for path in files)
        except (OSError, JobQueryError) as exc:
            return f"unreadable: {exc}"

    def _say(self, level: int, line: str) -> None:
        if self._log is not None:
            self._log(f"jobquery: {line}")  # as the server's other lines
        else:
            _LOGGER.log(level, line)


def job_set_digest(snapshot: Snapshot) -> bytes:
    """A SHA-256 of the snapshot's job texts, in its order (a reload compares it to tell a
    ``touch`` from a change). Hashes Arrow's buffers, not a Python string per job; compressed
    texts are hashed as stored."""
    digest = hashlib.sha256()
    texts = snapshot.frame[JOB_JSON].to_arrow().cast(pa.large_binary())
    chunks = texts.chunks if isinstance(texts, pa.ChunkedArray) else [texts]
    for chunk in chunks:
        if not len(chunk):
            continue
        _validity, offsets_buffer, data = chunk.buffers()
        offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[
            chunk.offset : chunk.offset + len(chunk) + 1
        ]
        digest.update(np.diff(offsets).tobytes())
        digest.update(memoryview(data)[int(offsets[0]) : int(offsets[-1])])
    return digest.digest()


def _stat(path: os.PathLike[str]) -> tuple[int, int, int, int, int]:
    """What tells a changed file, as the snapshot cache's key: a file rewritten with its size
    and modification time put back still gets a new change time (or inode, when replaced)."""
    stat = os.stat(path)
    return stat.st_mtime_ns, stat.st_size, stat.st_ctime_ns, stat.st_ino, stat.st_dev


# ---------------------------------------------------------------------------------------------
# Connections: idle, half-sent and slow clients must not starve the server


@dataclass(frozen=True)
class ConnectionLimits:
    """What one client connection may hold, and for how long (:func:`serve`).

    uvicorn times out a connection only between two requests (``keep_alive_timeout``): one
    that never sends a complete request head — idle, half-sent, a byte every few seconds —
    stays open for ever, and enough of them use up the process's file descriptors. So:

    Attributes
    ----------
    max_connections : int
        Open connections at most. One more arriving closes the connection idle the longest
        (no request in progress: waiting for a request head, or between requests); when every
        connection has a request in progress, the new one is closed at once. Lowered to fit
        the process's descriptor limit (``RLIMIT_NOFILE``, see :meth:`connection_cap`).
    header_timeout : float
        Seconds a connection has to send a complete request head, from when it opened or its
        last response ended (sending slowly does not extend it).
    request_timeout : float
        Seconds from a request head to the end of its response (a client that does not read
        its response holds it no longer).
    keep_alive_timeout : int
        Seconds an idle connection is kept between requests when nothing arrives (uvicorn's).
    max_head_bytes : int
        The largest request line plus headers; a larger one is answered 400 ``BadRequest``.
    log_interval : float
        A repeated warning (a refused connection, a malformed request, an accept error) is
        logged once per this many seconds, with the count of the ones left out.
    """

    max_connections: int = 500
    header_timeout: float = 10.0
    request_timeout: float = 60.0
    keep_alive_timeout: int = 5
    max_head_bytes: int = 256 * 1024
    log_interval: float = 10.0

    def connection_cap(self) -> int:
        """``max_connections``, lowered to fit the descriptor limit.

        Connections the cap does not count yet, or no longer, hold descriptors too. asyncio
        accepts up to a backlog of them per wake-up and hands each to its protocol two
        wake-ups later, and a connection closed for the cap lets go of its descriptor one
        wake-up after that: up to three backlogs at once. The process needs some of its own.
        """
        soft = _descriptor_limit()
        if soft is None:
            return self.max_connections
        room = soft - BATCHES_IN_FLIGHT * listen_backlog() - SPARE_DESCRIPTORS
        return max(1, min(self.max_connections, room))


def listen_backlog() -> int:
    """Connections the kernel queues until accepted (asyncio also accepts up to this many per
    wake-up): :data:`LISTEN_BACKLOG`, lowered under a small descriptor limit so that the
    connection cap still has room (:meth:`ConnectionLimits.connection_cap`)."""
    soft = _descriptor_limit()
    if soft is None:
        return LISTEN_BACKLOG
    return max(1, min(LISTEN_BACKLOG, (soft - SPARE_DESCRIPTORS) // (2 * BATCHES_IN_FLIGHT)))


def _descriptor_limit() -> int | None:
    """The process's soft limit on open descriptors, or None when there is none."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY else soft


class OncePerInterval(logging.Filter):
    """Lets the first of the same warning through, then one per interval with a count.

    A flood of connections makes uvicorn and asyncio log a traceback per attempt, enough to
    fill a disk; this keeps one line per message per ``interval`` seconds.
    """

    def __init__(self, interval: float) -> None:
        super().__init__()
        self.interval = interval
        self._last: dict[tuple[str, object], float] = {}
        self._left_out: dict[tuple[str, object], int] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key = (record.name, record.msg)
        moment = time.monotonic()
        with self._lock:
            last = self._last.get(key)
            if last is not None and moment - last < self.interval:
                self._left_out[key] = self._left_out.get(key, 0) + 1
                return False
            self._last[key] = moment
            left_out = self._left_out.pop(key, 0)
        if left_out:
            record.msg = f"{record.msg} ({left_out} more like it in the last {self.interval:g} s)"
        if record.exc_info and last is not None:
            record.exc_info = None  # one traceback is enough to know what it is
        return True


class _Connections:
    """The connections of one server that wait for a request head, the longest waiting first."""

    def __init__(self, limits: ConnectionLimits) -> None:
        self.limits = limits
        self.cap = limits.connection_cap()
        self.waiting: dict[Any, None] = {}
        self.logger = logging.getLogger("jobquery.server.connections")


if _MISSING_EXTRA is None:  # uvicorn's protocol exists only with the extra

    class _GuardedH11Protocol(H11Protocol):
        """Adds a header deadline, a request deadline and the connection cap to uvicorn's
        HTTP/1.1 protocol, and answers a malformed request in the service's error shape.

        ``_limits`` and ``_pool`` (the connections waiting for a request head) belong to one
        server: :func:`_guarded_protocol` makes a subclass per server that sets them."""

        _limits: ClassVar[ConnectionLimits]
        _pool: ClassVar[_Connections]

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._deadline: asyncio.TimerHandle | None = None
            self._refused = False

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if len(self.connections) > self._pool.cap:
                longest = next(iter(self._pool.waiting), None)
                if longest is None:
                    self._pool.logger.warning(
                        "closed a new connection: all %d connections have a request in progress",
                        self._pool.cap,
                    )
                    transport.abort()
                    return
                longest.close_now()
                self._pool.logger.warning(
                    "closed the connection idle the longest: %d connections open",
                    self._pool.cap,
                )
            self._wait_for_a_request()

        def connection_lost(self, exc: Exception | None) -> None:
            self._pool.waiting.pop(self, None)
            self._disarm()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self._refused:
                return  # the rest of a refused request: read and dropped (see send_400_response)
            before = self.cycle
            super().data_received(data)
            self._follow(before)

        def on_response_complete(self) -> None:
            before = self.cycle
            super().on_response_complete()
            if not self.transport.is_closing():
                self._follow(before, answered=True)

        def send_400_response(self, msg: str) -> None:
            request_id = _new_request_id()
            error = ApiError(
                "The request is not valid HTTP/1.1, or its request line and headers are "
                f"longer than {self._limits.max_head_bytes} bytes."
            )
            error.status, error.code = 400, BAD_REQUEST
            body = _json_bytes(error.to_wire(request_id))
            headers = [
                (b"content-type", JSON_MEDIA_TYPE.encode()),
                (b"connection", b"close"),
                (REQUEST_ID_HEADER.encode(), request_id.encode()),
            ]
            try:
                for event in (
                    h11.Response(status_code=400, headers=headers, reason=b"Bad Request"),
                    h11.Data(data=body),
                    h11.EndOfMessage(),
                ):
                    self.transport.write(self.conn.send(event))
            except h11.LocalProtocolError:  # a response was already under way
                self.close_now()
                return
            # Closing with the rest of the request unread would reset the connection, and the
            # client could lose the answer: stop sending, drop what still arrives, close soon.
            self._refused = True
            self._pool.waiting.pop(self, None)
            if self.transport.can_write_eof():
                self.transport.write_eof()
            self._arm(LINGER_SECONDS)

        def close_now(self) -> None:
            """Close at once, whatever is buffered (a client that reads nothing holds
            nothing)."""
            self._pool.waiting.pop(self, None)
            self._disarm()
            self.transport.abort()

        def _follow(self, before: Any, *, answered: bool = False) -> None:
            """A request head arrived (a new cycle): its deadline runs; an answer ended and no
            request follows yet: the head deadline runs again."""
            started = self.cycle is not before and self.cycle is not None
            if started and not self.cycle.response_complete:
                self._pool.waiting.pop(self, None)
                self._arm(self._limits.request_timeout)
                return
            if answered:
                self._wait_for_a_request()

        def _wait_for_a_request(self) -> None:
            self._pool.waiting.pop(self, None)
            self._pool.waiting[self] = None
            self._arm(self._limits.header_timeout)

        def _arm(self, seconds: float) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(seconds, self.close_now)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None


def _guarded_protocol(limits: ConnectionLimits) -> type[asyncio.Protocol]:
    """uvicorn's h11 protocol with the limits of ``limits`` (one class per server)."""
    attributes = {"_limits": limits, "_pool": _Connections(limits)}
    return type("GuardedH11Protocol", (_GuardedH11Protocol,), attributes)


# ---------------------------------------------------------------------------------------------
# Running it


def _print_to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def serve(
    paths: list[str],
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    reload_on_change: bool = False,
    log: Callable[[str], None] = _print_to_stderr,
    now: Clock | None = None,
    compress_texts: bool = False,
    cache: SnapshotCache | None = None,
    identity: CallerFromRequest = anonymous_caller,
    limits: ConnectionLimits | None = None,
    lenient: bool = False,
) -> None:
    """Serve ``ListJobs`` over the dump files at ``http://host:port/api/v1/jobs`` until Ctrl-C.

    Parameters
    ----------
    paths : list of str
        Dump files, folders or glob patterns (read as one job set).
    host : str
        The address to listen on; loopback by default. There is no authentication: put a
        proxy that authenticates in front before listening on anything else (docs/server.md).
    port : int
        The TCP port; ``0`` picks a free one (the chosen port is logged).
    reload_on_change : bool
        Watch the files (every second) and publish a new version when their jobs change.
    log : callable
        Receives the start line, one line per request and the reload messages
        (default: stderr).
    now : callable, optional
        The clock for the default 7-day window (default: the wall clock, as the service).
        An old dump answers ``[]`` to a request without ``StartTime`` unless it is given.
    compress_texts : bool
        Keep the jobs' JSON compressed in memory: much less memory for a little time per
        returned job (:meth:`JobStore.from_path`; figures in docs/performance.md).
    cache : SnapshotCache, optional
        Open unchanged dumps from this snapshot cache, and cache what is built (and rebuilt).
    identity : callable, optional
        Who asks (``caller_from_request`` of :func:`create_app`). Default:
        :func:`anonymous_caller`, public jobs only.
    limits : ConnectionLimits, optional
        Connection cap and timeouts (default: :class:`ConnectionLimits`).
    lenient : bool
        Skip malformed records instead of refusing the dumps; the start-up log lists them,
        and a reload's line counts them.

    Raises
    ------
    ServeError
        The extra is missing, or the address cannot be listened on.
    DumpFormatError, FileNotFoundError
        The dumps cannot be read.
    """
    _require_extra()
    limits = limits or ConnectionLimits()
    reloader = StoreReloader(
        paths, log=log, compress_texts=compress_texts, cache=cache, lenient=lenient
    )
    app = AccessLog(create_app(reloader.current, caller_from_request=identity, now=now), log)
    listener = _listen(host, port)
    bound_host, bound_port = listener.getsockname()[:2]
    config = uvicorn.Config(
        app,
        http=_guarded_protocol(limits),
        lifespan="off",
        access_log=False,  # AccessLog writes the one line per request
        log_config=None,  # leave the process's logging as the caller configured it
        log_level="warning",
        timeout_keep_alive=limits.keep_alive_timeout,
        h11_max_incomplete_event_size=limits.max_head_bytes,
        backlog=listen_backlog(),
    )
    server = uvicorn.Server(config)
    shown_host = f"[{bound_host}]" if ":" in bound_host else bound_host
    log(
        f"jobquery: serving {jobs_counted(len(reloader.current()))} from {', '.join(paths)} at "
        f"http://{shown_host}:{bound_port}{LIST_JOBS_PATH}"
        f"{' (reloading on change)' if reload_on_change else ''}; Ctrl-C to stop"
    )
    for line in time_range_lines(reloader.current(), now() if now else datetime.now(UTC)):
        log(line)
    records = [record for record in reloader.current().skipped if not record.whole_file]
    for line in skipped_lines(records):
        log(f"jobquery: {line}" if not line.startswith(" ") else line)
    if reload_on_change:
        reloader.start()
    repeats = OncePerInterval(limits.log_interval)
    loggers = [logging.getLogger(name) for name in _NOISY_LOGGERS]
    for logger in loggers:
        logger.addFilter(repeats)
    try:
        server.run(sockets=[listener])
    except KeyboardInterrupt:
        # uvicorn shuts down gracefully on SIGINT, then re-raises it for the default handler.
        pass
    finally:
        for logger in loggers:
            logger.removeFilter(repeats)
        reloader.stop()
        listener.close()
    log("jobquery: stopped")


def time_range_lines(store: JobStore, now: datetime) -> list[str]:
    """What the start-up log says about the jobs' creation times, with a warning when the
    default window (the 7 days up to ``now``) holds none: an old dump then answers every
    request without ``StartTime`` with an empty page, which looks like a broken server."""
    created = store.snapshot.live.select(
        pl.col("GmtCreateTime").min().alias("oldest"), pl.col("GmtCreateTime").max().alias("newest")
    ).row(0)
    oldest, newest = (
        value.astimezone(UTC) if isinstance(value, datetime) else None for value in created
    )
    if oldest is None or newest is None:
        return [
            "jobquery: warning: no listable job has a GmtCreateTime; every ListJobs page is empty"
        ]
    lines = [
        f"jobquery: jobs created from {format_timestamp(oldest)} to {format_timestamp(newest)}"
    ]
    if store.list_jobs({"PageSize": "1"}, now=now).total_count == 0:
        # the clock the command line's list would use: the newest job time in the dump
        suggested = newest_time(store.snapshot) or newest
        lines.append(
            f"jobquery: warning: no job was created in the default window (the 7 days up to "
            f"{format_timestamp(now.replace(microsecond=0))}, the server's clock): a request "
            f"without StartTime gets an empty page; send StartTime and EndTime, or serve with "
            f"a fixed clock (--now {format_timestamp(suggested)})"
        )
    return lines


#: The loggers that warn once per event a client can cause (accept errors, bad requests,
#: closed connections): rate-limited while serving.
_NOISY_LOGGERS = ("asyncio", "uvicorn.error", "jobquery.server.connections")
#: Connections waiting to be accepted; also how many asyncio accepts per wake-up.
LISTEN_BACKLOG = 128
#: Accept batches whose descriptors the connection cap cannot count (see ``connection_cap``).
BATCHES_IN_FLIGHT = 3
#: Descriptors left for the process itself (dump files, pipes, the thread pool's needs).
SPARE_DESCRIPTORS = 64
#: Seconds a connection refused with 400 stays open to drain what its client still sends.
LINGER_SECONDS = 2.0


def _listen(host: str, port: int) -> socket.socket:
    """Bind the listening socket here, so a busy port is a clear error, not a uvicorn exit."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        listener = socket.socket(family, kind, proto)
    except OSError as exc:
        raise ServeError(f"cannot listen on {host}:{port}: {exc}") from exc
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(listen_backlog())
    except OSError as exc:
        listener.close()
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    return listener
