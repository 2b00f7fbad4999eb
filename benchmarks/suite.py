"""The measurements behind ``python -m benchmarks.report``: one function per kind of result.

- :func:`measure_queries`: every workload on every engine over the same data, in this process;
  each baseline's answer is first checked against jobquery's (same JobIds, same order, same
  TotalCount), then each call is timed (medians after warm-up, :mod:`benchmarks.timing`).
  First, before any repeated call, each workload's *first calls*: requests with values no
  earlier call used, one call each on jobquery (with nothing remembered) and on DuckDB's own
  table, every answer checked equal.
- :func:`measure_build`: the snapshot build from JSON texts, its size in memory per job.
- :func:`measure_ingest`: ``JobStore.from_path`` on NDJSON and Parquet (the build) next to
  ``pyarrow.json.read_json`` of the same file with an explicit schema of the fields the index
  reads (the reader to beat), with inference, and ``polars.read_ndjson``.
- :func:`measure_updates`: ``list_jobs`` latency while another thread updates the store
  (only when ``JobStore.upsert`` exists).
"""

from __future__ import annotations

import functools
import gc
import resource
import statistics
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import orjson
import polars as pl
import pyarrow as pa
import pyarrow.json as pa_json

from benchmarks.baselines import (
    Answer,
    ColdJobqueryEngine,
    DuckDBEngine,
    Engine,
    JobqueryEngine,
    PolarsEngine,
    ReferenceEngine,
    check_agreement,
)
from benchmarks.dataset import (
    BENCH_DATA,
    BenchData,
    build_snapshot,
    build_streamed,
    cache_key,
    compressed_for,
    generate_lines,
    save_frame,
)
from benchmarks.memory_guard import available_gib
from benchmarks.timing import Timing, measure
from benchmarks.workloads import Workload
from jobquery import synth
from jobquery.io.writing import write_dump
from jobquery.snapshot import INDEX_FIELDS, Snapshot
from jobquery.snapshot.native_read import HISTORY_KEYS, SETTINGS_KEYS
from jobquery.store import JobStore

ENGINES = ("jobquery", "duckdb", "duckdb_table", "polars", "reference")
#: The engine of a first call (:class:`ColdJobqueryEngine`), and the baseline that answers the
#: same first-call requests (DuckDB's own table, or DuckDB over Arrow when it is left out).
FIRST_CALL_ENGINE = "jobquery_cold"
FIRST_CALL_BASELINES = ("duckdb_table", "duckdb")
#: First calls per workload (each with values no earlier call used).
FIRST_CALLS = 12


@dataclass(frozen=True)
class Budget:
    """How long to time one (engine, workload) pair: warm-up runs, minimum runs, seconds."""

    warmup: int = 2
    min_runs: int = 5
    seconds: float = 1.0


#: The reference takes about a second per query at 100k jobs: fewer, longer runs.
BUDGETS: dict[str, Budget] = {
    "jobquery": Budget(warmup=3, min_runs=20, seconds=1.0),
    "duckdb": Budget(warmup=2, min_runs=5, seconds=2.0),
    "duckdb_table": Budget(warmup=2, min_runs=5, seconds=2.0),
    "polars": Budget(warmup=2, min_runs=5, seconds=2.0),
    "reference": Budget(warmup=1, min_runs=3, seconds=0.0),
}


@dataclass(frozen=True)
class QueryResult:
    """One engine on one workload at one size and profile.

    ``first_calls``: the timing is of one call per first-call request (each with values no
    earlier call used), and ``total_count`` their median; otherwise of the repeated request.
    ``cpu``: for jobquery's first calls, the CPU time the process spent in each call (its
    threads included): on a busy machine the wall time also holds the waits for a core.
    """

    workload: str
    engine: str
    size: int
    total_count: int
    page_jobs: int
    timing: Timing
    profile: str = "default"
    first_calls: bool = False
    cpu: Timing | None = None


#: Memory DuckDB may use beyond the native table's copy, and what is left to everything else
#: (the queries of the other engines, the page cache the memory-mapped snapshot reads from).
NATIVE_COPY_HEADROOM_GIB = 3.0


def _native_table_room(data: BenchData) -> tuple[float | None, str | None]:
    """DuckDB's memory limit for the native copy of ``data.table``, or why it cannot be made.

    The copy holds about the table's bytes again (an in-memory DuckDB table is not
    compressed). It is tried only when that and :data:`NATIVE_COPY_HEADROOM_GIB` fit in the
    memory available now; DuckDB is then limited to what is available less the headroom
    (spilling off: a table partly on disk would not be the in-memory baseline), so a copy
    larger than estimated fails inside DuckDB instead of exhausting the machine.
    """
    available = available_gib()
    if available is None:
        return None, None
    # the pages of a memory-mapped snapshot count as available (page cache) but are the
    # data the other engines read: evicting them would time the disk, not the engines
    mapped = _status_kib("RssFile") / 2**20
    needed = data.table.nbytes / 2**30
    room = available - mapped - NATIVE_COPY_HEADROOM_GIB
    if needed > room:
        return None, (
            f"duckdb_table left out at {data.size:,} jobs: its native copy of the baseline "
            f"table needs about {needed:.1f} GiB; {available:.1f} GiB of memory was available, "
            f"{mapped:.1f} GiB of it the memory-mapped snapshot the other engines read, and "
            f"{NATIVE_COPY_HEADROOM_GIB:.0f} GiB are kept for the queries"
        )
    return room, None


def _status_kib(key: str) -> int:
    """A line of /proc/self/status in KiB (0 where there is none)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        return 0
    return 0


def engines_for(
    data: BenchData, names: Sequence[str] = ENGINES, *, notes: list[str] | None = None
) -> list[Engine]:
    """The engines over one data set, jobquery first (the others are checked against it).

    An engine that cannot be made within the machine's memory (only ``duckdb_table``, the
    native copy, at the largest sizes) is left out, and why is appended to ``notes``.
    """
    codec = data.codec
    engines: list[Engine] = [JobqueryEngine(data.store)]
    if "duckdb" in names:
        engines.append(DuckDBEngine(data.table, codec=codec))
    if "duckdb_table" in names:
        limit, refused = _native_table_room(data)
        if refused is None:
            try:
                engines.append(
                    DuckDBEngine(data.table, native=True, codec=codec, memory_limit_gib=limit)
                )
            except duckdb.OutOfMemoryException as error:
                refused = (
                    f"duckdb_table left out at {data.size:,} jobs: copying the baseline table "
                    f"into DuckDB ran out of its memory limit ({limit:.1f} GiB): "
                    f"{str(error).splitlines()[0]}"
                )
                gc.collect()
        if refused is not None:
            print(f"   {refused}", flush=True)
            if notes is not None:
                notes.append(refused)
    if "polars" in names:
        engines.append(PolarsEngine(data.table, codec=codec))
    if "reference" in names and data.records is not None:
        engines.append(ReferenceEngine(data.records))
    return engines


def answers_agree(engines: Sequence[Engine], workload: Workload) -> Answer:
    """Every engine's answer to a workload, checked against jobquery's; returns jobquery's."""
    expected = engines[0].answer(workload)
    for engine in engines[1:]:
        check_agreement(
            expected, engine.answer(workload), engine=engine.name, workload=workload.name
        )
    return expected


def measure_queries(
    data: BenchData,
    *,
    workloads: Sequence[Workload],
    first_calls: dict[str, list[Workload]] | None = None,
    engines: Sequence[str] = ENGINES,
    budgets: dict[str, Budget] | None = None,
    log: Callable[[str], None] = print,
    notes: list[str] | None = None,
) -> list[QueryResult]:
    """Check, then time, every workload on every engine over one data set (an engine left
    out for lack of memory is named in ``notes``).

    The first calls of every workload (``first_calls``, by workload name) run first, on a
    store no query has touched yet, so that only what the store built before it serves
    (:class:`~jobquery.store.JobStore` warms its structures) can help them.
    """
    budgets = budgets or BUDGETS
    chosen = engines_for(data, engines, notes=notes)
    results: list[QueryResult] = []
    for requests in (first_calls or {}).values():
        if requests:
            results += _measure_first_calls(data, chosen, requests, log)
    for workload in workloads:
        expected = answers_agree(chosen, workload)
        for engine in chosen:
            budget = budgets[engine.name]
            timing = measure(
                functools.partial(engine.answer, workload),
                warmup=budget.warmup,
                min_runs=budget.min_runs,
                budget=budget.seconds,
            )
            results.append(
                QueryResult(
                    workload.name,
                    engine.name,
                    data.size,
                    expected.total_count,
                    len(expected.job_ids),
                    timing,
                    data.profile,
                )
            )
            log(
                f"  {workload.name:<30} {engine.name:<10} {timing.median * 1e3:10.3f} ms "
                f"({timing.runs} runs, {expected.total_count} matches)"
            )
    for engine in chosen:
        close = getattr(engine, "close", None)
        if close is not None:
            close()
    return results


def _measure_first_calls(
    data: BenchData,
    chosen: Sequence[Engine],
    requests: Sequence[Workload],
    log: Callable[[str], None],
) -> list[QueryResult]:
    """One call per request on jobquery with nothing remembered (each request's values are
    new to the store), then on the first-call baseline, whose answer must be the same. The
    garbage collector is paused during jobquery's call, as :func:`measure` pauses it."""
    cold = ColdJobqueryEngine(data.store)
    by_name = {engine.name: engine for engine in chosen}
    baseline = next((by_name[name] for name in FIRST_CALL_BASELINES if name in by_name), None)
    mine: list[float] = []
    mine_cpu: list[float] = []
    theirs: list[float] = []
    counts: list[int] = []
    enabled = gc.isenabled()
    for request in requests:
        # as benchmarks.timing.measure does: no collection of earlier garbage inside the call
        gc.collect()
        gc.disable()
        try:
            began, began_cpu = time.perf_counter(), time.process_time()
            answer = cold.answer(request)
            mine.append(time.perf_counter() - began)
            mine_cpu.append(time.process_time() - began_cpu)
        finally:
            if enabled:
                gc.enable()
        counts.append(answer.total_count)
        if baseline is not None:
            began = time.perf_counter()
            check_agreement(
                answer, baseline.answer(request), engine=baseline.name, workload=request.values
            )
            theirs.append(time.perf_counter() - began)
    name = requests[0].name
    results = [
        replace(_first_call_result(data, name, cold.name, mine, counts), cpu=_timing(mine_cpu))
    ]
    if baseline is not None:
        results.append(_first_call_result(data, name, baseline.name, theirs, counts))
    log(
        f"  {name:<30} first calls: jobquery median {statistics.median(mine) * 1e3:.3f} ms, "
        f"worst {max(mine) * 1e3:.3f} ms"
        + (f"; {baseline.name} {statistics.median(theirs) * 1e3:.3f} ms" if theirs else "")
        + f" ({len(mine)} requests)"
    )
    return results


def _timing(seconds: list[float]) -> Timing:
    return Timing(statistics.median(seconds), min(seconds), max(seconds), len(seconds))


def _first_call_result(
    data: BenchData, workload: str, engine: str, seconds: list[float], counts: list[int]
) -> QueryResult:
    total = int(statistics.median(counts))
    return QueryResult(workload, engine, data.size, total, 0, _timing(seconds), data.profile, True)


# ---------------------------------------------------------------------------------------------
# Snapshot build and memory


@dataclass(frozen=True)
class BuildResult:
    """Building a snapshot of ``size`` jobs from their JSON texts, and what it holds."""

    size: int
    seconds: float
    frame_bytes: int
    json_bytes: int
    peak_rss_bytes: int
    rss_before_bytes: int
    #: Texts kept compressed, built a chunk at a time from the generator (``seconds`` then
    #: excludes the waits for the generator, not its threads' work meanwhile;
    #: ``rss_before_bytes`` holds no texts yet).
    compressed: bool = False
    generate_seconds: float | None = None
    profile: str = "default"

    @property
    def jobs_per_second(self) -> float:
        return self.size / self.seconds

    @property
    def build_memory_bytes(self) -> int:
        """How far the build took the process's memory above where it started."""
        return self.peak_rss_bytes - self.rss_before_bytes

    @property
    def frame_bytes_per_job(self) -> float:
        return self.frame_bytes / self.size

    @property
    def json_bytes_per_job(self) -> float:
        return self.json_bytes / self.size


def frame_bytes(frame: pl.DataFrame) -> int:
    """The size of a frame's buffers (Polars' own accounting, no conversion)."""
    return int(frame.estimated_size())


def buffer_bytes(frame: pl.DataFrame) -> int:
    """The distinct Arrow buffers a frame holds, each counted once: what its memory is.

    ``estimated_size`` counts the bytes each string view points at, as if no two views shared
    them, and not the whole buffers they point into: before repeated strings were shared, a
    compressed snapshot held 1,809 bytes per job in buffers against an estimate of 1,146.
    """
    sizes: dict[int, int] = {}
    for name in frame.columns:
        exported = frame[name].to_arrow(compat_level=pl.CompatLevel.newest())
        stack = list(getattr(exported, "chunks", [exported]))
        while stack:
            array = stack.pop()
            for buffer in array.buffers():
                if buffer is not None:
                    sizes[buffer.address] = max(sizes.get(buffer.address, 0), buffer.size)
            if pa.types.is_list(array.type) or pa.types.is_large_list(array.type):
                stack.append(array.values)
    return sum(sizes.values())


def structure_bytes(snapshot: Snapshot) -> int:
    """The memory of what a snapshot derived from its columns and keeps (``snapshot.index``:
    column dictionaries and their value texts, rank orders, column arrays, lookup indexes):
    every numpy array and Polars object reachable from it, each buffer counted once.

    Remembered filter tables are left out (at most a few hundred small arrays, dropped by
    :func:`jobquery.snapshot.derived.forget_remembered`), and so is the page-text reader
    (views of the frame's own buffers).
    """
    seen: dict[int, int] = {}
    for value in snapshot.index.kept():
        _count_buffers(value, seen)
    return sum(seen.values())


def _count_buffers(value: Any, seen: dict[int, int]) -> None:
    """Record in ``seen`` (address or id → bytes) every numpy array and Polars object that
    ``value`` holds: a numpy view counts as the array it views."""
    if isinstance(value, np.ndarray):
        owner = value.base if isinstance(value.base, np.ndarray) else value
        seen[owner.ctypes.data] = max(seen.get(owner.ctypes.data, 0), owner.nbytes)
    elif isinstance(value, pl.DataFrame | pl.Series):
        seen[id(value)] = int(value.estimated_size())
    else:
        for item in _held_values(value):
            _count_buffers(item, seen)


def _held_values(value: Any) -> Iterable[Any]:
    """The values a dict, list, tuple or plain object holds (nothing for anything else)."""
    if isinstance(value, dict):
        return value.values()
    if isinstance(value, list | tuple):
        return value
    if hasattr(value, "__dict__"):
        return vars(value).values()
    return ()


def peak_rss_bytes() -> int:
    """The most memory this process has held so far (``ru_maxrss``)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def rss_bytes() -> int:
    """The memory this process holds now (``VmRSS``)."""
    return _status_kib("VmRSS") * 1024


def restart_peak_rss() -> bool:
    """Start the kernel's mark of this process's peak memory (``VmHWM``) afresh, so that
    :func:`peak_rss_since_restart` sees only what comes next; False where it cannot (not
    Linux). ``ru_maxrss`` cannot be restarted: the second build of a report would otherwise
    report the peak of the first profile's queries as its own."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_rss_since_restart() -> int:
    """The most memory this process held since :func:`restart_peak_rss` (``VmHWM``)."""
    return _status_kib("VmHWM") * 1024


def measure_build(
    size: int, *, profile: str = "default", log: Callable[[str], None] = print
) -> BuildResult:
    """Build a snapshot of ``size`` synthetic jobs from their JSON texts, once, and time it.

    The snapshot is saved to the disk cache (when not there yet), so that :func:`dataset.load`
    reads it instead of building it again. ``snapshot.live`` (the jobs not deleted) is not
    counted in the frame's bytes: it shares the frame's string buffers.

    A size whose texts are kept compressed (:func:`dataset.compressed_for`) is built a chunk
    at a time as the generator yields them (:func:`dataset.build_streamed`): the time spent
    waiting for the generator is measured apart and left out of ``seconds`` (its threads
    still generate the next chunks meanwhile, on the same cores), and the memory before the build
    holds no texts.
    """
    compressed = compressed_for(size)
    generate_seconds: float | None = None
    gc.collect()
    if compressed:
        before = rss_bytes()
        restarted = restart_peak_rss()
        streamed = build_streamed(size, profile=profile)
        snapshot, json_bytes = streamed.snapshot, streamed.json_bytes
        seconds, generate_seconds = streamed.build_seconds, streamed.generate_seconds
        del streamed
    else:
        lines = generate_lines(size, profile=profile)
        json_bytes = int(lines.str.len_bytes().sum())
        gc.collect()
        before = rss_bytes()
        restarted = restart_peak_rss()
        began = time.perf_counter()
        snapshot = build_snapshot(lines)
        seconds = time.perf_counter() - began
        del lines
    peak = peak_rss_since_restart() if restarted else peak_rss_bytes()
    result = BuildResult(
        size,
        seconds,
        frame_bytes(snapshot.frame),
        json_bytes,
        peak,
        before,
        compressed,
        generate_seconds,
        profile,
    )
    path = BENCH_DATA / cache_key(size, compressed=compressed, profile=profile)
    if not path.exists():
        save_frame(snapshot, path, json_bytes=json_bytes if compressed else None)
    del snapshot
    gc.collect()
    generated = "" if generate_seconds is None else f" (+{generate_seconds:.1f} s generating)"
    log(
        f"   built in {seconds:.1f} s{generated}; process peak RSS "
        f"{result.peak_rss_bytes / 2**30:.1f} GiB"
    )
    return result


# ---------------------------------------------------------------------------------------------
# Ingest


@dataclass(frozen=True)
class IngestResult:
    """One reader on one file."""

    reader: str
    path: str
    size: int
    file_bytes: int
    json_bytes: int
    seconds: float

    @property
    def jobs_per_second(self) -> float:
        return self.size / self.seconds

    @property
    def megabytes_per_second(self) -> float:
        """MB of the file read per second."""
        return self.file_bytes / self.seconds / 1e6

    @property
    def json_megabytes_per_second(self) -> float:
        """MB of the jobs' JSON text per second: comparable across file formats."""
        return self.json_bytes / self.seconds / 1e6


def ingest_files(size: int, folder: Path) -> tuple[Path, Path]:
    """An NDJSON file of ``size`` realistic full job records and the same jobs as Parquet."""
    folder.mkdir(parents=True, exist_ok=True)
    ndjson = folder / f"ingest-{size}.ndjson"
    parquet = folder / f"ingest-{size}.parquet"
    if not ndjson.exists():
        partial = ndjson.with_suffix(".partial")
        synth.write_ndjson(partial, size, seed=1)
        partial.replace(ndjson)
    if not parquet.exists():
        store = JobStore.from_path(ndjson)
        write_dump(store.snapshot, parquet)
        del store
    return ndjson, parquet


def _time_once(call: Callable[[], Any], runs: int) -> float:
    samples = []
    for _ in range(runs):
        gc.collect()
        began = time.perf_counter()
        result = call()
        samples.append(time.perf_counter() - began)
        del result
    samples.sort()
    return samples[len(samples) // 2]


#: ``polars.read_ndjson`` needs a schema inferred from every line here (the first lines have
#: ``null`` where later ones have objects) and then reads these jobs at well under 1 MB/s, so it
#: runs only on files up to this many jobs.
POLARS_NDJSON_MAX_JOBS = 20_000


#: The explicit-schema pyarrow read: the block size the build's target was set against.
EXPLICIT_SCHEMA_BLOCK = 16 << 20
EXPLICIT_SCHEMA_READER = "pyarrow.json.read_json (explicit schema: the index fields)"


def index_fields_schema(ndjson: Path) -> pa.Schema:
    """The explicit schema of the fields the build reads, each numeric field typed as the
    file's first jobs send it (pyarrow reads a field as one JSON type)."""
    with ndjson.open("rb") as lines:
        first = [orjson.loads(line) for _, line in zip(range(64), lines, strict=False)]
    string = pa.string_view()

    def number_type(name: str) -> pa.DataType:
        values = [job.get(name) for job in first if isinstance(job, dict)]
        numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
        return pa.float64() if numbers and not any(isinstance(v, str) for v in values) else string

    role = pa.struct(
        [
            ("Image", string),
            ("UseSpotInstance", pa.bool_()),
            ("OversoldType", string),
            ("AssignNodeSpec", pa.struct([("EnableAssignNode", pa.bool_())])),
        ]
    )
    fields = INDEX_FIELDS
    return pa.schema(
        [
            *((name, string) for name in (*fields.strings, *fields.times)),
            *((name, number_type(name)) for name in fields.numbers),
            *((name, pa.bool_()) for name in fields.booleans),
            (
                "Settings",
                pa.struct([*((key, string) for key in SETTINGS_KEYS), ("Tags", pa.struct([]))]),
            ),
            ("JobSpecs", pa.list_(role)),
            ("StatusHistory", pa.list_(pa.struct([(key, pa.string()) for key in HISTORY_KEYS]))),
        ]
    )


def read_index_fields(ndjson: Path, schema: pa.Schema) -> pa.Table:
    """``pyarrow.json.read_json`` of the index fields alone, on every core."""
    return pa_json.read_json(
        ndjson,
        read_options=pa_json.ReadOptions(block_size=EXPLICIT_SCHEMA_BLOCK),
        parse_options=pa_json.ParseOptions(
            explicit_schema=schema, unexpected_field_behavior="ignore"
        ),
    )


def measure_ingest(
    size: int, folder: Path, *, runs: int = 3, log: Callable[[str], None] = print
) -> list[IngestResult]:
    """Read the same jobs with jobquery (NDJSON, Parquet), pyarrow.json and polars.

    The build (``JobStore.from_path``) is timed to a store ready for its first answer: the
    background warm-up is off, so that it does not run into the next measurement.
    """
    ndjson, parquet = ingest_files(size, folder)
    schema = index_fields_schema(ndjson)
    readers: list[tuple[str, Path, Callable[[], Any]]] = [
        (EXPLICIT_SCHEMA_READER, ndjson, lambda: read_index_fields(ndjson, schema)),
        ("pyarrow.json.read_json (inferred schema)", ndjson, lambda: pa_json.read_json(ndjson)),
    ]
    if size <= POLARS_NDJSON_MAX_JOBS:
        readers.append(
            (
                "polars.read_ndjson (infer_schema_length=None)",
                ndjson,
                lambda: pl.read_ndjson(ndjson, infer_schema_length=None),
            )
        )
    readers += [
        (
            "jobquery JobStore.from_path (NDJSON)",
            ndjson,
            lambda: JobStore.from_path(ndjson, background_warm_up=False),
        ),
        (
            "jobquery JobStore.from_path (Parquet)",
            parquet,
            lambda: JobStore.from_path(parquet, background_warm_up=False),
        ),
    ]
    json_bytes = ndjson.stat().st_size
    results = []
    for reader, path, call in readers:
        seconds = _time_once(call, runs)
        results.append(
            IngestResult(reader, path.name, size, path.stat().st_size, json_bytes, seconds)
        )
        log(f"  {reader:<46} {seconds:8.2f} s  {json_bytes / seconds / 1e6:8.1f} MB/s of JSON")
    return results


# ---------------------------------------------------------------------------------------------
# Reads during updates


@dataclass(frozen=True)
class UpdateResult:
    """``list_jobs`` latency on one workload while a writer upserts jobs in batches."""

    workload: str
    size: int
    idle: Timing
    during_updates: Timing
    upserts: int
    batch: int
    upsert_median: float
    profile: str = "default"


def measure_updates(
    data: BenchData,
    workload: Workload,
    *,
    batch: int = 1000,
    seconds: float = 3.0,
    min_upserts: int = 3,
) -> UpdateResult | None:
    """Time a workload idle, then while another thread upserts batches of changed jobs.

    Reads go on for at least ``seconds`` and until the writer has finished ``min_upserts``
    upserts. The store under update is a fresh one over the same snapshot, keeping one version
    only. Returns None when there is no ``JobStore.upsert``.
    """
    if not hasattr(JobStore, "upsert"):
        return None
    store = JobStore(data.store.snapshot, keep_versions=1)  # type: ignore[call-arg]
    engine = JobqueryEngine(store)
    idle = measure(lambda: engine.answer(workload), min_runs=20, budget=1.0)
    tail = store.snapshot.frame.tail(batch)
    changed = [orjson.loads(text) for text in store.snapshot.json_texts(tail)]
    stop = threading.Event()
    upsert_seconds: list[float] = []

    def writer() -> None:
        while not stop.is_set():
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            for job in changed:
                job["GmtModifiedTime"] = stamp
            began = time.perf_counter()
            store.upsert(changed)
            upsert_seconds.append(time.perf_counter() - began)

    thread = threading.Thread(target=writer, daemon=True)
    samples: list[float] = []
    thread.start()
    try:
        started = time.perf_counter()
        while time.perf_counter() - started < seconds or len(upsert_seconds) < min_upserts:
            began = time.perf_counter()
            engine.answer(workload)
            samples.append(time.perf_counter() - began)
    finally:
        stop.set()
        thread.join()
    busy = Timing(statistics.median(samples), min(samples), max(samples), len(samples))
    return UpdateResult(
        workload.name,
        data.size,
        idle,
        busy,
        len(upsert_seconds),
        batch,
        statistics.median(upsert_seconds),
        data.profile,
    )
