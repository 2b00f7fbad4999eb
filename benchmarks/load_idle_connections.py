"""Normal requests against ``jobquery serve`` while other clients hold connections open.

Issue 15, item 6: 20,400 idle or half-sent connections used up the server's descriptors, and
normal requests timed out. This script starts the real server (``jobquery.server.serve``, its
default ``ConnectionLimits``) on 127.0.0.1 in one process, keeps it under load from a second
process, and times ordinary ListJobs requests from this one:

``idle``
    connections that send nothing;
``half-sent``
    connections that send part of a request head, then nothing;
``slow``
    connections that send a request head one byte every ``--slow-interval`` seconds.

The load process reopens every connection the server closes, so the pressure lasts for the
whole measurement. Each normal request opens its own connection (it must get through the same
accept queue as the load) and is timed from ``connect`` to the last byte of the response.

It runs a baseline first (the same requests, no load), then the loaded run, and prints the
median, p90, p99 and maximum of each, their ratio, and the failures. Bounded: ``--requests``
requests per phase, the load capped at ``--idle + --half-sent + --slow`` connections.

Usage (the numbers to report are taken under the shared lock)::

    flock /tmp/jobquery-heavy.lock python benchmarks/load_idle_connections.py
    python benchmarks/load_idle_connections.py --idle 300 --half-sent 100 --slow 50 --requests 200
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import re
import resource
import select
import selectors
import signal
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
STARTED = re.compile(r"at http://127\.0\.0\.1:(\d+)/api/v1/jobs")
QUERY = "/api/v1/jobs?PageSize=10&StartTime=2000-01-01T00:00:00Z"
HALF_HEAD = b"GET /api/v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


def raise_descriptor_limit() -> int:
    """As many descriptors as the hard limit allows (the load needs thousands)."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def start_server(dump: Path) -> tuple[subprocess.Popen[str], int]:
    program = (
        "import sys; from jobquery.server import serve, administrator_caller; "
        "serve([sys.argv[1]], port=0, identity=administrator_caller, log=lambda line: None"
        " if line.startswith('GET') else print(line, file=sys.stderr, flush=True))"
    )
    server = subprocess.Popen(
        [sys.executable, "-c", program, str(dump)], stderr=subprocess.PIPE, text=True, cwd=ROOT
    )
    assert server.stderr is not None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([server.stderr], [], [], 1)
        if ready:
            line = server.stderr.readline()
            if not line:
                break
            if found := STARTED.search(line):
                return server, int(found[1])
    server.kill()
    raise SystemExit(f"the server did not start: {server.communicate()[1][-2000:]}")


class _HeldConnections:
    """Connections held open on purpose, each of a kind; one that the server closes is opened
    again, so the load stays the same."""

    def __init__(self, port: int, opened: Any) -> None:
        self.port, self.opened = port, opened
        self.watched = selectors.DefaultSelector()  # epoll: select() stops at descriptor 1024
        self.held: dict[socket.socket, str] = {}

    def open_one(self, kind: str) -> None:
        try:
            connection = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        except OSError:
            return
        connection.setblocking(False)
        if kind == "half-sent":
            connection.send(HALF_HEAD)
        self.held[connection] = kind
        self.watched.register(connection, selectors.EVENT_READ)
        self.opened.value += 1

    def reopen(self, connection: socket.socket) -> None:
        kind = self.held.pop(connection)
        self.watched.unregister(connection)
        connection.close()
        self.open_one(kind)

    def reopen_closed(self) -> None:
        """Wait a moment for the server to close some; open them again."""
        for key, _events in self.watched.select(timeout=0.05):
            connection = key.fileobj
            assert isinstance(connection, socket.socket)
            try:  # only a close (or an error answer) arrives
                data = connection.recv(65536)
            except OSError:
                data = b""
            if not data:
                self.reopen(connection)

    def drip(self) -> None:
        """One more byte on each slow connection."""
        for connection, kind in list(self.held.items()):
            if kind == "slow":
                try:
                    connection.send(b"x")
                except OSError:
                    self.reopen(connection)

    def close(self) -> None:
        for connection in self.held:
            connection.close()


def load(
    port: int, counts: dict[str, int], *, slow_interval: float, ready: Any, stop: Any, opened: Any
) -> None:
    """Keep ``counts`` connections of each kind open until ``stop`` is set (a process).

    ``opened`` (a shared counter) counts every connection opened, reopenings included."""
    raise_descriptor_limit()
    connections = _HeldConnections(port, opened)
    for kind, count in counts.items():
        for _ in range(count):
            connections.open_one(kind)
    ready.set()
    last_drip = time.monotonic()
    while not stop.is_set():
        connections.reopen_closed()
        if time.monotonic() - last_drip >= slow_interval:
            last_drip = time.monotonic()
            connections.drip()
    connections.close()


def timed_requests(port: int, count: int) -> tuple[list[float], list[str]]:
    """``count`` requests, each on a new connection: latencies in ms, and the failures."""
    latencies, failures = [], []
    for _ in range(count):
        began = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            connection.request("GET", QUERY)
            response = connection.getresponse()
            body = response.read()
            if response.status != 200 or b'"Jobs"' not in body:
                failures.append(f"status {response.status}")
            else:
                latencies.append((time.perf_counter() - began) * 1000)
        except OSError as error:
            failures.append(f"{type(error).__name__}: {error}")
        finally:
            connection.close()
    return latencies, failures


def summary(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    if not ordered:
        return {}

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]

    return {
        "median": statistics.median(ordered),
        "p90": at(0.90),
        "p99": at(0.99),
        "max": ordered[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--idle", type=int, default=2000)
    parser.add_argument("--half-sent", type=int, default=1000)
    parser.add_argument("--slow", type=int, default=300)
    parser.add_argument("--slow-interval", type=float, default=0.5)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--settle", type=float, default=3.0, help="seconds of load before timing")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    arguments = parser.parse_args()
    descriptors = raise_descriptor_limit()

    sample = ROOT / "jobquery" / "sample" / "sample_jobs.ndjson"
    server, port = start_server(sample)
    try:
        timed_requests(port, 50)  # warm-up: imports, first queries
        baseline, baseline_failures = timed_requests(port, arguments.requests)

        counts = {"idle": arguments.idle, "half-sent": arguments.half_sent, "slow": arguments.slow}
        ready, stop = multiprocessing.Event(), multiprocessing.Event()
        opened = multiprocessing.Value("q", 0)
        loader = multiprocessing.Process(
            target=load,
            args=(port, counts),
            kwargs={
                "slow_interval": arguments.slow_interval,
                "ready": ready,
                "stop": stop,
                "opened": opened,
            },
        )
        loader.start()
        if not ready.wait(300):
            raise SystemExit("the load did not open its connections")
        time.sleep(arguments.settle)
        opened_before = opened.value
        loaded, loaded_failures = timed_requests(port, arguments.requests)
        if not loader.is_alive():
            raise SystemExit("the load process died during the measurement: no figures")
        reopened_during = opened.value - opened_before
        stop.set()
        loader.join(60)
    finally:
        server.send_signal(signal.SIGINT)
        _, log = server.communicate(timeout=60)

    figures = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "descriptor_limit_of_the_load": descriptors,
        "load": counts,
        "requests": arguments.requests,
        "baseline_ms": summary(baseline),
        "loaded_ms": summary(loaded),
        "baseline_failures": len(baseline_failures),
        "loaded_failures": len(loaded_failures),
        "failure_kinds": sorted(set(loaded_failures))[:5],
        "load_connections_opened_during_the_loaded_run": reopened_during,
        "server_log_lines": len(log.splitlines()),
    }
    print(f"load: {counts}; {arguments.requests} timed requests per phase (new connection each)")
    print(f"{'':10}{'median':>10}{'p90':>10}{'p99':>10}{'max':>10}  failures")
    for name, values, failed in (
        ("baseline", figures["baseline_ms"], baseline_failures),
        ("loaded", figures["loaded_ms"], loaded_failures),
    ):
        cells = "".join(
            f"{values.get(key, float('nan')):>8.2f}ms" for key in ("median", "p90", "p99", "max")
        )
        print(f"{name:10}{cells}  {len(failed)}")
    if baseline and loaded:
        ratio = figures["loaded_ms"]["p99"] / figures["baseline_ms"]["p99"]
        print(f"p99 loaded / baseline: {ratio:.2f}")
    print(f"the load reopened {reopened_during} connections the server closed during the run")
    print(f"server log: {figures['server_log_lines']} lines after start")
    print("\n".join(log.splitlines()[-8:]))
    if arguments.json:
        arguments.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
