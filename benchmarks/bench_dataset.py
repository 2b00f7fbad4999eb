"""Job datasets measured: writing one, and every workload answered by DuckDB and Spark.

Two steps, each in a process of its own so that its peak memory is its own::

    # write N synthetic jobs (the benchmark's seed) as a dataset, a chunk at a time
    python -m benchmarks.bench_dataset write --jobs 30000000 --out /work/bench-data/dataset-30m

    # every workload of benchmarks/workloads.py (default profile) on one engine; --check-store
    # compares every answer with JobStore over the same jobs (built in this process: only
    # where it fits) and times JobStore too
    python -m benchmarks.bench_dataset query --dataset /work/bench-data/dataset-1m --engine duckdb \
        --check-store

    # one workload (or a few) alone, while working on it
    python -m benchmarks.bench_dataset query --dataset /work/bench-data/dataset-30m \
        --workloads deep_page_by_name,two_tags_by_name

    # the tables of docs/performance.md from the results
    python -m benchmarks.bench_dataset report

Each step appends one JSON document per line to ``--results`` (default
``bench-data/dataset-results.jsonl`` in the checkout), read by docs/performance.md's tables:

- ``write``: jobs, JSON bytes generated, seconds (total, and waiting for the generator), jobs/s
  and JSON MB/s, size on disk (bytes per job), peak RSS;
- ``query``: per workload the TotalCount, the page size, the median/best/worst seconds and
  the CPU seconds per call (user + system, all threads: on a busy machine the wall clock
  overstates a query, the CPU time does not), and the process's peak RSS.

Heavy runs go under the shared lock: ``flock /tmp/jobquery-heavy.lock python -m ...``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from benchmarks.baselines import REQUEST_ID, Answer, answer_of_jobs, check_agreement
from benchmarks.dataset import SEED
from benchmarks.timing import format_seconds
from benchmarks.workloads import DEFAULT, Workload, sample_of, workloads_for
from jobquery import synth
from jobquery.dataset import JobDataset, WriteProgress, write_dataset_from_texts

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench-data" / "dataset-results.jsonl"
CHUNK_JOBS = 100_000


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def record(results: Path, document: dict[str, Any]) -> None:
    document = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {os.cpu_count()} cores",
        "load_average": os.getloadavg(),
        **document,
    }
    results.parent.mkdir(parents=True, exist_ok=True)
    with results.open("a") as out:
        out.write(json.dumps(document) + "\n")
    print(json.dumps(document, indent=1))


# -- write ------------------------------------------------------------------------------------


def write(jobs: int, out: Path, results: Path, chunk_jobs: int) -> None:
    """Generate ``jobs`` synthetic jobs a chunk at a time and write them as a dataset."""
    waited = [0.0]
    json_bytes = [0]
    began = time.perf_counter()

    def chunks() -> Iterator[pl.Series]:
        source = synth.iter_line_chunks(jobs, seed=SEED, chunk_size=chunk_jobs)
        while True:
            start = time.perf_counter()
            chunk = next(source, None)
            waited[0] += time.perf_counter() - start
            if chunk is None:
                return
            json_bytes[0] += int(chunk.str.len_bytes().sum())
            yield chunk

    def progress(step: WriteProgress) -> None:
        elapsed = time.perf_counter() - began
        total = f"/{step.total:,}" if step.total is not None else ""
        print(f"{elapsed:8.1f} s  {step.step} {step.done:,}{total}", file=sys.stderr, flush=True)

    manifest = write_dataset_from_texts(chunks(), out, overwrite=True, on_progress=progress)
    seconds = time.perf_counter() - began
    size = folder_bytes(out)
    record(
        results,
        {
            "step": "write",
            "jobs": manifest.job_count,
            "files": len(manifest.files),
            "json_bytes": json_bytes[0],
            "seconds": seconds,
            "generator_wait_seconds": waited[0],
            "cpu_seconds": cpu_seconds(),
            "jobs_per_second": manifest.job_count / seconds,
            "json_mb_per_second": json_bytes[0] / seconds / 1e6,
            "disk_bytes": size,
            "disk_bytes_per_job": size / max(manifest.job_count, 1),
            "peak_rss_bytes": peak_rss_bytes(),
            "dataset": str(out),
        },
    )


# -- query ------------------------------------------------------------------------------------


def dataset_workloads(names: Sequence[str] | None = None) -> tuple[Workload, ...]:
    """The repeated request of every workload of the default profile (or of those named), its
    values drawn from the first jobs of the benchmark's seed: jobs every dataset ``write`` makes
    holds.

    Raises
    ------
    SystemExit
        A name that is no workload's.
    """
    every = workloads_for(sample_of(DEFAULT, seed=SEED))
    if names is None:
        return every
    known = {workload.name for workload in every}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise SystemExit(
            f"no such workload: {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    return tuple(workload for workload in every if workload.name in names)


def dataset_answer(dataset: JobDataset, workload: Workload) -> Answer:
    response = dataset.list_jobs(
        workload.request, now=workload.now, caller=workload.caller, request_id=REQUEST_ID
    )
    return answer_of_jobs(response.jobs, response.total_count)


def timed(
    answer_of: Callable[[Workload], Answer], workload: Workload, runs: int, warmup: int
) -> dict[str, Any]:
    """Median, best and worst wall seconds of ``runs`` calls, and their mean CPU seconds (of
    this process: its threads, and DuckDB's; a Spark session's JVM is another process, its
    CPU time is not counted)."""
    for _ in range(warmup):
        answer_of(workload)
    walls: list[float] = []
    cpu_before = cpu_seconds()
    for _ in range(runs):
        start = time.perf_counter()
        answer = answer_of(workload)
        walls.append(time.perf_counter() - start)
    cpu = (cpu_seconds() - cpu_before) / runs
    return {
        "workload": workload.name,
        "total_count": answer.total_count,
        "page_jobs": len(answer.job_ids),
        "median_seconds": statistics.median(walls),
        "best_seconds": min(walls),
        "worst_seconds": max(walls),
        "runs": runs,
        "cpu_seconds_per_call": cpu,
    }


def query(
    folder: Path,
    engine: str,
    results: Path,
    *,
    check_store: bool,
    runs: int,
    warmup: int,
    disk_cache: bool = True,
    names: Sequence[str] | None = None,
) -> None:
    """Every workload (or those named) on one engine; with ``check_store``, each answer equal
    to JobStore's."""
    workloads = dataset_workloads(names)
    opened = time.perf_counter()
    dataset = JobDataset.open(folder, engine)  # type: ignore[arg-type]
    open_seconds = time.perf_counter() - opened
    checked = False
    store_timings: list[dict[str, Any]] = []
    if check_store:
        from benchmarks.baselines import JobqueryEngine  # noqa: PLC0415
        from benchmarks.dataset import load  # noqa: PLC0415

        jobs = dataset.manifest.job_count
        store = JobqueryEngine(load(jobs, with_records=False, disk_cache=disk_cache).store)
        for workload in workloads:
            check_agreement(
                store.answer(workload),
                dataset_answer(dataset, workload),
                engine=f"dataset on {engine}",
                workload=workload.name,
            )
        checked = True
        store_timings = [timed(store.answer, workload, 20, 3) for workload in workloads]
        del store
    timings = [
        timed(lambda w: dataset_answer(dataset, w), workload, runs, warmup)
        for workload in workloads
    ]
    dataset.close()
    record(
        results,
        {
            "step": "query",
            "engine": engine,
            "jobs": dataset.manifest.job_count,
            "dataset": str(folder),
            "open_seconds": open_seconds,
            "agrees_with_store": checked,
            "only_workloads": list(names) if names is not None else None,
            "workloads": timings,
            "store_workloads": store_timings,
            "peak_rss_bytes": peak_rss_bytes(),
        },
    )


# -- report -----------------------------------------------------------------------------------


def seconds_text(seconds: float) -> str:
    return format_seconds(seconds)


def when(document: dict[str, Any]) -> str:
    """When a step ended, and the machine's load average (1, 5, 15 minutes) then."""
    load = ", ".join(f"{value:.1f}" for value in document["load_average"])
    return f"{document['at']}, load average {load}"


def report(results: Path) -> None:
    """Markdown tables of the latest write and query results per size and engine, and the
    engines side by side at a size both ran."""
    documents = [json.loads(line) for line in results.read_text().splitlines() if line.strip()]
    writes = {d["jobs"]: d for d in documents if d["step"] == "write"}
    queries = {
        (d["jobs"], d["engine"]): d
        for d in documents
        if d["step"] == "query" and not d.get("only_workloads")
    }
    print("| jobs | JSON | seconds | jobs/s | JSON MB/s | on disk | bytes/job | peak RSS | ended |")
    print("|---|---|---|---|---|---|---|---|---|")
    for jobs, d in sorted(writes.items()):
        print(
            f"| {jobs:,} | {d['json_bytes'] / 1e9:.1f} GB | {d['seconds']:,.0f} | "
            f"{d['jobs_per_second']:,.0f} | {d['json_mb_per_second']:.1f} | "
            f"{d['disk_bytes'] / 2**30:.2f} GiB | {d['disk_bytes_per_job']:.0f} | "
            f"{d['peak_rss_bytes'] / 2**30:.2f} GiB | {when(d)} |"
        )
    print()
    for (jobs, engine), d in sorted(queries.items()):
        store = {w["workload"]: w for w in d.get("store_workloads", [])}
        print(
            f"{engine} at {jobs:,} jobs (open {seconds_text(d['open_seconds'])}, peak RSS "
            f"{d['peak_rss_bytes'] / 2**30:.2f} GiB, answers equal to JobStore's: "
            f"{'yes' if d['agrees_with_store'] else 'not checked'}; ended {when(d)})"
        )
        print()
        extra = " | JobStore median" if store else ""
        print(f"| workload | matches | median | best | worst | CPU s per call{extra} |")
        print("|---|---|---|---|---|---|" + ("---|" if store else ""))
        for w in d["workloads"]:
            line = (
                f"| `{w['workload']}` | {w['total_count']:,} | "
                f"{seconds_text(w['median_seconds'])} | {seconds_text(w['best_seconds'])} | "
                f"{seconds_text(w['worst_seconds'])} | {w['cpu_seconds_per_call']:.3f}"
            )
            if store:
                line += f" | {seconds_text(store[w['workload']]['median_seconds'])}"
            print(line + " |")
        print()
    for jobs in sorted({jobs for jobs, _ in queries}):
        if (jobs, "duckdb") in queries and (jobs, "spark") in queries:
            side_by_side(jobs, queries[jobs, "duckdb"], queries[jobs, "spark"])


def side_by_side(jobs: int, duckdb: dict[str, Any], spark: dict[str, Any]) -> None:
    """Both engines' medians (and DuckDB's CPU seconds) per workload at one size."""
    spark_runs = {w["workload"]: w for w in spark["workloads"]}
    print(f"DuckDB and Spark (local mode) at {jobs:,} jobs")
    print()
    print("| workload | DuckDB median | DuckDB CPU s | Spark median | Spark / DuckDB |")
    print("|---|---|---|---|---|")
    for w in duckdb["workloads"]:
        other = spark_runs[w["workload"]]
        print(
            f"| `{w['workload']}` | {seconds_text(w['median_seconds'])} | "
            f"{w['cpu_seconds_per_call']:.3f} | {seconds_text(other['median_seconds'])} | "
            f"{other['median_seconds'] / w['median_seconds']:.1f}x |"
        )
    print()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS)
    steps = parser.add_subparsers(dest="step", required=True)
    writing = steps.add_parser("write", help="write a synthetic dataset")
    writing.add_argument("--jobs", type=int, required=True)
    writing.add_argument("--out", type=Path, required=True)
    writing.add_argument("--chunk-jobs", type=int, default=CHUNK_JOBS)
    querying = steps.add_parser("query", help="time every workload on an engine")
    querying.add_argument("--dataset", type=Path, required=True)
    querying.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb")
    querying.add_argument("--check-store", action="store_true")
    querying.add_argument("--runs", type=int, default=5)
    querying.add_argument("--warmup", type=int, default=1)
    querying.add_argument(
        "--workloads",
        type=lambda text: [name.strip() for name in text.split(",") if name.strip()],
        default=None,
        help="comma-separated workload names (default: every workload)",
    )
    steps.add_parser("report", help="print the tables of the results")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.step == "write":
        write(args.jobs, args.out, args.results, args.chunk_jobs)
    elif args.step == "report":
        report(args.results)
    else:
        query(
            args.dataset,
            args.engine,
            args.results,
            check_store=args.check_store,
            runs=args.runs,
            warmup=args.warmup,
            names=args.workloads,
        )


if __name__ == "__main__":
    main()
