"""Measure live updates and reader throughput on a large store (issue 7).

Run::

    python benchmarks/measure_live.py --jobs 1000000 --snapshot /tmp/jobs-1m.snapshot

1. **Update cost**: ``JobStore.upsert`` of 1, 1,000 and 100,000 changed jobs (existing jobs with
   a new status and name), and ``JobStore.delete`` of as many; for comparison, the full
   re-sort and re-rank an update cost before merging (``_put_in_order`` and every ``_rank`` of the
   whole frame).
2. **Memory per held version**: resident memory added by each version a store keeps.
3. **Throughput**: reader threads run a mix of ListJobs requests (default listing, a filtered
   one, a DisplayName order, keyset walks) for a while, without a writer and then with a writer
   upserting 100 jobs at a time; requests/s and updates/s are printed.

The store is built once from ``jobquery.synth`` jobs, 100,000 at a time (merged in, so memory
stays bounded), and saved; later runs open the saved snapshot.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from jobquery import synth
from jobquery.index_engine.page_tokens import FIRST_PAGE
from jobquery.snapshot import Snapshot
from jobquery.snapshot.layout import _put_in_order
from jobquery.store import JobStore

NOW = synth.DEFAULT_END


def timed(label: str, work: Callable[[], Any]) -> Any:
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    print(
        f"{label:<48} wall {time.perf_counter() - wall:8.2f} s   "
        f"cpu {time.process_time() - cpu:8.2f} s",
        flush=True,
    )
    return result


def build(count: int, path: Path) -> JobStore:
    if path.exists():
        return timed(f"open saved snapshot ({path.name})", lambda: JobStore.open(path))
    snapshot: Snapshot | None = None
    for number, chunk in enumerate(synth.iter_line_chunks(count, seed=7, chunk_size=100_000)):
        texts = chunk.to_list()
        jobs = [orjson.loads(text) for text in texts]
        if snapshot is None:
            snapshot = Snapshot.from_parsed(jobs, texts)
        else:
            snapshot = snapshot.with_changes(jobs, texts, [], version=number)
        print(f"built {snapshot.frame.height} jobs", flush=True)
    assert snapshot is not None
    store = JobStore(Snapshot.from_frame(snapshot.frame))
    timed("save snapshot", lambda: store.save(path))
    return store


def stored_jobs(store: JobStore, ids: list[str]) -> list[dict[str, Any]]:
    """The stored jobs with these ids, read at once (``get_job`` scans once per id)."""
    frame = store.snapshot.frame
    return [orjson.loads(text) for text in frame.filter(frame["JobId"].is_in(ids))["job_json"]]


def measure_updates(store: JobStore, sizes: list[int]) -> None:
    rng = random.Random(0)
    ids = store.snapshot.frame["JobId"].to_list()
    for size in sizes:
        chosen = rng.sample(ids, size)
        jobs = stored_jobs(store, chosen)
        for job in jobs:
            job["Status"] = rng.choice(["Running", "Failed", "Stopped"])
            job["DisplayName"] = f"renamed-{rng.randrange(10**6)}"
        timed(f"upsert {size:>7,} changed jobs", lambda jobs=jobs: store.upsert(jobs))
        timed(f"delete {size:>7,} jobs", lambda chosen=chosen: store.delete(chosen))
        timed(f"upsert {size:>7,} new jobs (the deleted ones back)", lambda j=jobs: store.upsert(j))
    frame = store.snapshot.frame
    timed(
        "reference: full re-sort + repack + re-rank",
        lambda: Snapshot(_put_in_order(frame.get_columns())).frame_with_ranks(),
    )


def rss_gb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e9


def measure_version_memory(store: JobStore, versions: int = 3) -> None:
    """Resident memory added by each held version (one job changed per version)."""
    held = JobStore(store.snapshot, keep_versions=versions + 1)
    ids = store.snapshot.frame["JobId"].sample(versions, seed=3).to_list()
    before = rss_gb()
    for job in stored_jobs(store, ids):
        held.upsert([dict(job, Status="Stopped")])
    print(f"memory per held version: {(rss_gb() - before) / versions:.2f} GB", flush=True)


REQUESTS: list[dict[str, str]] = [
    {},
    {"Status": "Running,Failed", "PageSize": "20"},
    {"SortBy": "DisplayName", "Order": "asc", "StartTime": "2026-06-01T00:00:00Z"},
    {"DisplayName": "train", "PageNumber": "5"},
]


def keyset_walk(store: JobStore, pages: int) -> int:
    """Follow page tokens from the first page for at most ``pages`` pages; how many were read."""
    token = FIRST_PAGE
    for read in range(1, pages + 1):
        response = store.list_jobs({"NextToken": token}, now=NOW)
        token = response.next_token or ""
        if not token:
            return read
    return pages


def measure_throughput(store: JobStore, seconds: float, readers: int, writer: bool) -> None:
    stop = threading.Event()
    counts = [0] * readers
    updates = [0]
    ids = store.snapshot.frame["JobId"].sample(10_000, seed=1).to_list()

    def read(slot: int) -> None:
        rng = random.Random(slot)
        while not stop.is_set():
            if rng.random() < 0.25:
                counts[slot] += keyset_walk(store, pages=5)
            else:
                store.list_jobs(rng.choice(REQUESTS), now=NOW)
                counts[slot] += 1

    def write() -> None:
        rng = random.Random(9)
        while not stop.is_set():
            jobs = stored_jobs(store, rng.sample(ids, 100))
            store.upsert([dict(job, Status=rng.choice(["Failed", "Running"])) for job in jobs])
            updates[0] += 1

    threads = [threading.Thread(target=read, args=(slot,)) for slot in range(readers)]
    if writer:
        threads.append(threading.Thread(target=write))
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    label = "with a writer" if writer else "no writer"
    print(
        f"throughput, {readers} readers, {label:<13}: {sum(counts) / elapsed:8.1f} requests/s"
        + (f", {updates[0] / elapsed:.2f} updates/s (100 jobs each)" if writer else ""),
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--snapshot", type=Path, default=Path("/tmp/jobquery-live.snapshot"))
    parser.add_argument("--sizes", type=int, nargs="*", default=[1, 1_000, 100_000])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--readers", type=int, default=2)
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()}", flush=True)
    store = build(args.jobs, args.snapshot)
    store = JobStore(store.snapshot, keep_versions=2)
    print(f"store: {len(store):,} jobs", flush=True)
    measure_updates(store, args.sizes)
    measure_version_memory(store)
    measure_throughput(store, args.seconds, args.readers, writer=False)
    measure_throughput(store, args.seconds, args.readers, writer=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(f"peak RSS {peak:.1f} GB; load average {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
