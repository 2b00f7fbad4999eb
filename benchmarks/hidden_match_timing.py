"""How much slower a filter matching only hidden jobs is than one matching nothing.

Issue 15, item 5: visibility is applied after the other filters have found their rows, so a
non-admin's request whose filter matches only other users' private jobs does a little more
work than one whose filter matches nothing at all — and the answer (no jobs, TotalCount 0) is
the same. The difference is a timing side channel: with enough repetitions a caller can tell
whether hidden jobs match a name. This script measures it.

A store of ``--jobs`` synthetic jobs gets ``--hidden`` private jobs of another user whose
``DisplayName`` holds a probe word. A non-admin caller then asks, alternately (so that drift
and noise hit both alike), ``--repeat`` times each:

``hidden``   ``DisplayName=<probe>``: matches only the hidden jobs;
``absent``   ``DisplayName=<a word no job holds>``: matches nothing;

both with ``StartTime`` far back (every job in the window); then ``GetJob`` of a hidden job's
id against an id of the same shape that no job has. It prints the median and the 10th and
90th percentiles of each, in µs, and the difference of the medians. With ``--http`` the same
list requests go over loopback to a running ``jobquery serve`` (a real uvicorn).

Usage::

    flock /tmp/jobquery-heavy.lock python benchmarks/hidden_match_timing.py
    python benchmarks/hidden_match_timing.py --jobs 2000 --hidden 1 --repeat 5000 --http
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jobquery.request import Caller  # noqa: E402
from jobquery.store import JobStore  # noqa: E402
from jobquery.synth import generate_records  # noqa: E402

CALLER = Caller(user_id="probe-user", is_admin=False)
PROBE = "zq-probe-word"
ABSENT = "zq-absent-word"
EVERYTHING = "2000-01-01T00:00:00Z"


def jobs_with_hidden_matches(count: int, hidden: int) -> list[dict[str, Any]]:
    jobs = generate_records(count, seed=15)
    for index in range(hidden):
        jobs[index * (count // max(hidden, 1))].update(
            DisplayName=f"{PROBE}-{index}", Accessibility="PRIVATE", UserId="someone-else"
        )
    return jobs


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p10": ordered[len(ordered) // 10],
        "median": statistics.median(ordered),
        "p90": ordered[9 * len(ordered) // 10],
    }


def alternate(ask: Callable[[str], int], repeat: int) -> dict[str, list[float]]:
    """Time ``ask(name)`` for both probes, alternately; µs per call."""
    times: dict[str, list[float]] = {"hidden": [], "absent": []}
    for _ in range(50):  # warm-up: dictionaries, remembered tables
        ask(PROBE)
        ask(ABSENT)
    for round_ in range(repeat):
        order = (("hidden", PROBE), ("absent", ABSENT))
        for kind, name in order if round_ % 2 else order[::-1]:
            began = time.perf_counter()
            total = ask(name)
            times[kind].append((time.perf_counter() - began) * 1e6)
            assert total == 0, "the caller must see no job either way"
    return times


def in_process(store: JobStore) -> Callable[[str], int]:
    def ask(name: str) -> int:
        wire = {"DisplayName": name, "StartTime": EVERYTHING}
        return store.list_jobs(wire, caller=CALLER).total_count

    return ask


def get_in_process(store: JobStore, hidden_id: str) -> Callable[[str], int]:
    # an absent id of the same shape: comparing ids costs more the longer their common prefix
    absent_id = hidden_id[:-1] + ("0" if hidden_id[-1] != "0" else "1")

    def ask(name: str) -> int:
        job = store.get_job(hidden_id if name == PROBE else absent_id, caller=CALLER)
        return 0 if job is None else 1

    return ask


def over_loopback(dump: Path) -> tuple[Callable[[str], int], subprocess.Popen[str]]:
    program = (
        "import sys; from jobquery.server import serve, HeaderIdentity; "
        "serve([sys.argv[1]], port=0, identity=HeaderIdentity(), log=lambda line: None "
        "if line.startswith('GET') else print(line, file=sys.stderr, flush=True))"
    )
    server = subprocess.Popen(
        [sys.executable, "-c", program, str(dump)], stderr=subprocess.PIPE, text=True, cwd=ROOT
    )
    assert server.stderr is not None
    port = None
    while port is None:
        select.select([server.stderr], [], [], 120)
        line = server.stderr.readline()
        if not line:
            raise SystemExit("the server did not start")
        if found := re.search(r"127\.0\.0\.1:(\d+)/", line):
            port = int(found[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def ask(name: str) -> int:
        connection.request(
            "GET",
            f"/api/v1/jobs?DisplayName={name}&StartTime={EVERYTHING}",
            headers={"x-jobquery-user-id": str(CALLER.user_id)},
        )
        body = json.loads(connection.getresponse().read())
        return int(body["TotalCount"])

    return ask, server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--hidden", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=20_000)
    parser.add_argument("--http", action="store_true", help="also over loopback HTTP")
    arguments = parser.parse_args()

    jobs = jobs_with_hidden_matches(arguments.jobs, arguments.hidden)
    store = JobStore.from_records(jobs)
    results = {"in-process": alternate(in_process(store), arguments.repeat)}
    if arguments.hidden:
        ask_get = get_in_process(store, jobs[0]["JobId"])
        results["GetJob in-process"] = alternate(ask_get, arguments.repeat)
    if arguments.http:
        with tempfile.TemporaryDirectory() as folder:
            dump = Path(folder) / "jobs.ndjson"
            store.export(dump)
            ask, server = over_loopback(dump)
            try:
                results["loopback HTTP"] = alternate(ask, arguments.repeat // 4)
            finally:
                server.send_signal(signal.SIGINT)
                server.communicate(timeout=60)

    print(f"{arguments.jobs} jobs, {arguments.hidden} hidden match(es), non-admin caller")
    for where, times in results.items():
        hidden, absent = percentiles(times["hidden"]), percentiles(times["absent"])
        print(f"{where} ({len(times['hidden'])} requests each):")
        for kind, figures in (("hidden", hidden), ("absent", absent)):
            cells = "  ".join(f"{key} {value:8.1f} µs" for key, value in figures.items())
            print(f"  {kind:7} {cells}")
        print(f"  difference of the medians: {hidden['median'] - absent['median']:+.1f} µs")


if __name__ == "__main__":
    main()
