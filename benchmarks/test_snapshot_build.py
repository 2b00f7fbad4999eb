"""Building a snapshot from JSON texts, and what it weighs (``--bench-build-sizes``).

A build needs several times the memory of the snapshot it makes, so it runs at its own sizes
(default 100k jobs), apart from the query benchmarks' data. Both entry points of the native
build are timed: the jobs' texts (``Snapshot.from_texts``, what ingest calls) and an Arrow
table with a ``job_json`` column (``Snapshot.from_arrow``, jobquery's export format).
"""

from __future__ import annotations

import polars as pl
from pytest_benchmark.fixture import BenchmarkFixture

from benchmarks.dataset import generate_lines
from benchmarks.suite import frame_bytes
from jobquery.snapshot import JOB_JSON, Snapshot


def test_snapshot_build_from_json_texts(benchmark: BenchmarkFixture, build_size: int) -> None:
    lines = generate_lines(build_size)
    json_bytes = int(lines.str.len_bytes().sum())
    snapshot = benchmark.pedantic(Snapshot.from_texts, args=(lines,), rounds=1, iterations=1)
    assert len(snapshot) == build_size
    benchmark.extra_info["jobs_per_second"] = build_size / benchmark.stats.stats.median
    benchmark.extra_info["snapshot_bytes_per_job"] = frame_bytes(snapshot.frame) / build_size
    benchmark.extra_info["json_bytes_per_job"] = json_bytes / build_size


def test_snapshot_build_from_arrow_table(benchmark: BenchmarkFixture, build_size: int) -> None:
    table = pl.DataFrame({JOB_JSON: generate_lines(build_size)}).to_arrow()
    snapshot = benchmark.pedantic(Snapshot.from_arrow, args=(table,), rounds=1, iterations=1)
    assert len(snapshot) == build_size
    benchmark.extra_info["jobs_per_second"] = build_size / benchmark.stats.stats.median
