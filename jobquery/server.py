"""A local ``ListJobs`` endpoint: the PAI-DLC REST API answered over HTTP from a :class:`JobStore`.

``create_app`` builds a plain ASGI application (Starlette) that answers the two read calls of the
service the way the service does, so that the official SDK — or any HTTP client — can be
pointed at it::

    GET /api/v1/jobs            ListJobs: the query parameters of spec §3, the wire body of §5
    GET /api/v1/jobs/{JobId}    GetJob: the stored job with ``RequestId`` at the top level

Errors use the service's body ``{"RequestId", "HostId", "Code", "Message"}``:

====  ====================  ==========================================================
400   ``InvalidParameter``  a refused request parameter (:class:`InvalidParameterError`)
404   ``NotFound``          an unknown path, or ``GetJob`` of a job that is not there
405   ``MethodNotAllowed``  any method but GET (and HEAD) on a known path
500   ``InternalError``     anything unexpected; logged here, never a traceback in the body
====  ====================  ==========================================================

Signature headers sent by the SDK (``Authorization``, ``x-acs-signature-*``, ``x-acs-date``,
...) are accepted and ignored: there is no authentication. Who asks is decided by a pluggable
``caller_from_request``; the default reads ``x-jobquery-user-id`` and ``x-jobquery-admin``.

``serve`` runs the app with uvicorn on loopback, logs one line per request and, on request,
reloads the dump files when they change (:class:`StoreReloader`).

Starlette and uvicorn are the optional extra ``server`` (``pip install 'jobquery[server]'``);
this module imports without them and says so when they are needed.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, MutableMapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson
import polars as pl

from jobquery.cache import SnapshotCache
from jobquery.errors import ApiError, InternalError, InvalidParameterError, JobQueryError
from jobquery.errors import new_request_id as _new_request_id
from jobquery.ingest import resolve_paths
from jobquery.request import Caller, format_timestamp
from jobquery.snapshot import newest_time
from jobquery.store import JobStore

# The optional extra ``server``: without it this module still imports (the CLI imports it), and
# create_app/serve raise ServeError saying what to install.
_MISSING_EXTRA: ImportError | None
try:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.exceptions import HTTPException
    from starlette.responses import Response
    from starlette.routing import Route
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    _MISSING_EXTRA = exc
else:
    _MISSING_EXTRA = None

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "ADMIN_HEADER",
    "LIST_JOBS_PATH",
    "USER_ID_HEADER",
    "AccessLog",
    "ServeError",
    "StoreReloader",
    "create_app",
    "default_caller",
    "serve",
]

_LOGGER = logging.getLogger(__name__)

#: The path of ``ListJobs``; ``GetJob`` is ``{LIST_JOBS_PATH}/{JobId}``.
LIST_JOBS_PATH = "/api/v1/jobs"
#: The header the default ``caller_from_request`` reads the caller's user id from.
USER_ID_HEADER = "x-jobquery-user-id"
#: The header that makes the caller an administrator (``true``/``false``, also ``1``/``0``).
ADMIN_HEADER = "x-jobquery-admin"
#: The header the service echoes the request id in.
REQUEST_ID_HEADER = "x-acs-request-id"
#: The body's media type, as the service sends it.
JSON_MEDIA_TYPE = "application/json;charset=utf-8"
#: How often ``StoreReloader`` looks at the dump files, in seconds.
RELOAD_INTERVAL = 1.0

NOT_FOUND = "NotFound"
METHOD_NOT_ALLOWED = "MethodNotAllowed"

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


def default_caller(request: Request) -> Caller | None:
    """The caller of the local stand-in, from two headers; no header means administrator.

    ``x-jobquery-user-id: 1234`` makes the call as user ``1234`` (not an administrator unless
    ``x-jobquery-admin: true`` is sent too). ``x-jobquery-admin: false`` without a user id is an
    anonymous non-administrator, who sees public jobs only. Without either header the call has
    administrator visibility (``None``), like an in-process ``list_jobs`` without a caller.

    Raises
    ------
    InvalidParameterError
        ``x-jobquery-admin`` is not ``true``/``false``/``1``/``0`` (HTTP 400).
    """
    user_id = request.headers.get(USER_ID_HEADER) or None
    admin_text = request.headers.get(ADMIN_HEADER)
    is_admin: bool | None = None
    if admin_text:
        folded = admin_text.strip().casefold()
        if folded not in ("true", "1", "false", "0"):
            raise InvalidParameterError(ADMIN_HEADER, admin_text, "expected true or false")
        is_admin = folded in ("true", "1")
    if user_id is None and is_admin is not False:
        return None
    return Caller(user_id=user_id, is_admin=bool(is_admin))


# ---------------------------------------------------------------------------------------------
# The application


def create_app(
    store: StoreSource,
    *,
    caller_from_request: CallerFromRequest = default_caller,
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
        Default: :func:`default_caller`.
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

    def json_response(body: dict[str, Any], status: int, request_id: str) -> Response:
        return Response(
            _json_bytes(body),
            status_code=status,
            media_type=JSON_MEDIA_TYPE,
            headers={REQUEST_ID_HEADER: request_id},
        )

    def error_response(
        request: Request,
        error: ApiError,
        request_id: str,
        headers: dict[str, str] | None = None,
    ) -> Response:
        body: dict[str, Any] = {"RequestId": request_id}
        host = request.headers.get("host")
        if host:
            body["HostId"] = host
        wire = error.to_wire(request_id)
        body["Code"], body["Message"] = wire["Code"], wire["Message"]
        response = json_response(body, error.status, request_id)
        response.headers.update(headers or {})
        return response

    async def answer(
        request: Request, work: Callable[[JobStore, Caller | None, str], dict[str, Any]]
    ) -> Response:
        """Run ``work`` off the event loop; turn every failure into the service's error body."""
        request_id = _new_request_id()
        try:
            caller = caller_from_request(request)
            body = await run_in_threadpool(work, current_store(), caller, request_id)
        except ApiError as exc:
            if exc.status >= 500:
                _LOGGER.error(
                    "%s %s failed (RequestId %s)",
                    request.method,
                    request.url.path,
                    request_id,
                    exc_info=exc,
                )
            return error_response(request, exc, request_id)
        except Exception:
            _LOGGER.exception(
                "%s %s failed (RequestId %s)", request.method, request.url.path, request_id
            )
            return error_response(request, InternalError(), request_id)
        return json_response(body, 200, request_id)

    async def list_jobs(request: Request) -> Response:
        # Starlette decodes the query as the SDK encodes it (UTF-8, "+" is a space); the last
        # occurrence of a repeated name wins (spec §7 Q23).
        query = dict(request.query_params.multi_items())

        def work(store: JobStore, caller: Caller | None, request_id: str) -> dict[str, Any]:
            clock = now() if now is not None else None
            wire = store.list_jobs(query, now=clock, caller=caller, request_id=request_id)
            body = wire.to_wire()
            setattr(request.state, _TOTAL_COUNT_STATE, body["TotalCount"])
            return body

        return await answer(request, work)

    async def get_job(request: Request) -> Response:
        job_id: str = request.path_params["job_id"]

        def work(store: JobStore, caller: Caller | None, request_id: str) -> dict[str, Any]:
            job = store.get_job(job_id, caller=caller)
            if job is None:
                raise _NotFoundError(f"The job {job_id} does not exist.")
            # GetJob's body is the job itself with RequestId at the top level (the SDK's
            # GetJobResponseBody); a RequestId stored with the job is replaced by this one.
            job["RequestId"] = request_id
            return job

        return await answer(request, work)

    async def http_error(request: Request, exc: Exception) -> Response:
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
        return error_response(request, error, request_id, headers)

    routes = [
        Route(LIST_JOBS_PATH, list_jobs, methods=["GET"]),
        Route(LIST_JOBS_PATH + "/{job_id}", get_job, methods=["GET"]),
    ]
    return Starlette(routes=routes, exception_handlers={HTTPException: http_error})


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
    """Holds a :class:`JobStore` read from dump files and re-reads it when the files change.

    Pass :meth:`current` to :func:`create_app`. A request takes the store that is current when
    it starts and keeps it to the end, so a swap never affects requests in flight. A reload
    that fails (a malformed or half-written file) keeps the old store and logs the error; the
    files are tried again when they change again.

    Parameters
    ----------
    paths : iterable of str
        Dump files, folders or glob patterns, as for :meth:`JobStore.from_path`.
    interval : float
        Seconds between two looks at the files' modification times and sizes.
    log : callable, optional
        Receives one line per reload or failed reload (default: the ``jobquery.server`` logger).
    compress_texts : bool
        Keep the jobs' JSON compressed in memory (:meth:`JobStore.from_path`).
    cache : SnapshotCache, optional
        Open unchanged dumps from this snapshot cache, and cache what is built
        (:mod:`jobquery.cache`).

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
    ) -> None:
        self.paths = [os.fspath(path) for path in paths]
        self.interval = interval
        self._log = log
        self._compress_texts = compress_texts
        self._cache = cache
        self._seen = self._signature()
        self._store = self._read()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def current(self) -> JobStore:
        """The store to answer the next request from."""
        return self._store

    def check(self) -> bool:
        """Look at the files once; reload if they changed. True if a new store was swapped in."""
        signature = self._signature()
        if signature == self._seen:
            return False
        self._seen = signature
        try:
            store = self._read()
        except Exception as exc:
            self._say(logging.ERROR, f"reload failed, still serving the previous jobs: {exc}")
            return False
        self._store = store  # one reference assignment: readers see the old or the new store
        self._say(logging.INFO, f"reloaded {len(store)} jobs from {', '.join(self.paths)}")
        return True

    def _read(self) -> JobStore:
        return JobStore.from_path(
            *self.paths, compress_texts=self._compress_texts, cache=self._cache or False
        )

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
        """What the dump files look like now: each file's path, mtime and size."""
        try:
            files = resolve_paths(self.paths)
            return tuple((str(path), *_stat(path)) for path in files)
        except (OSError, JobQueryError) as exc:
            return f"unreadable: {exc}"

    def _say(self, level: int, line: str) -> None:
        if self._log is not None:
            self._log(line)
        else:
            _LOGGER.log(level, line)


def _stat(path: os.PathLike[str]) -> tuple[int, int]:
    stat = os.stat(path)
    return stat.st_mtime_ns, stat.st_size


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
) -> None:
    """Serve ``ListJobs`` over the dump files at ``http://host:port/api/v1/jobs`` until Ctrl-C.

    Parameters
    ----------
    paths : list of str
        Dump files, folders or glob patterns (read as one job set).
    host : str
        The address to listen on; loopback by default. There is no authentication: think twice
        before listening on anything else.
    port : int
        The TCP port; ``0`` picks a free one (the chosen port is logged).
    reload_on_change : bool
        Watch the files (every second) and swap in a new store when they change.
    log : callable
        Receives the start line, one line per request and the reload messages
        (default: stderr).
    now : callable, optional
        The clock for the default 7-day window (default: the wall clock, as the service).
        An old dump answers ``[]`` to a request without ``StartTime`` unless it is given.
    compress_texts : bool
        Keep the jobs' JSON compressed in memory, about 8x smaller, for ~3 µs per returned job
        (:meth:`JobStore.from_path`).
    cache : SnapshotCache, optional
        Open unchanged dumps from this snapshot cache, and cache what is built (and rebuilt).

    Raises
    ------
    ServeError
        The extra is missing, or the address cannot be listened on.
    DumpFormatError, FileNotFoundError
        The dumps cannot be read.
    """
    _require_extra()
    reloader = StoreReloader(paths, log=log, compress_texts=compress_texts, cache=cache)
    app = AccessLog(create_app(reloader.current, now=now), log)
    listener = _listen(host, port)
    bound_host, bound_port = listener.getsockname()[:2]
    config = uvicorn.Config(
        app,
        lifespan="off",
        access_log=False,  # AccessLog writes the one line per request
        log_config=None,  # leave the process's logging as the caller configured it
        log_level="warning",
    )
    server = uvicorn.Server(config)
    shown_host = f"[{bound_host}]" if ":" in bound_host else bound_host
    log(
        f"jobquery: serving {len(reloader.current())} jobs from {', '.join(paths)} at "
        f"http://{shown_host}:{bound_port}{LIST_JOBS_PATH}"
        f"{' (reloading on change)' if reload_on_change else ''}; Ctrl-C to stop"
    )
    for line in time_range_lines(reloader.current(), now() if now else datetime.now(UTC)):
        log(line)
    if reload_on_change:
        reloader.start()
    try:
        server.run(sockets=[listener])
    except KeyboardInterrupt:
        # uvicorn shuts down gracefully on SIGINT, then re-raises it for the default handler.
        pass
    finally:
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
        listener.listen(128)
    except OSError as exc:
        listener.close()
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    return listener
