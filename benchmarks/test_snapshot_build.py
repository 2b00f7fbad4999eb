"""Building a snapshot from JSON texts, and what it weighs (``--bench-build-sizes``).

A build needs several times the memory of the snapshot it makes, so it runs at its own sizes
(default 100k jobs), apart from the query benchmarks' data.
"""

from __future__ import annotations

from pytest_benchmark.fixture import BenchmarkFixture

from benchmarks.dataset import build_snapshot, generate_lines
from benchmarks.suite import frame_bytes


def test_snapshot_build_from_json_texts(benchmark: BenchmarkFixture, build_size: int) -> None:
    lines = generate_lines(build_size)
    json_bytes = int(lines.str.len_bytes().sum())
    snapshot = benchmark.pedantic(build_snapshot, args=(lines,), rounds=1, iterations=1)
    assert len(snapshot) == build_size
    benchmark.extra_info["jobs_per_second"] = build_size / benchmark.stats.stats.median
    benchmark.extra_info["snapshot_bytes_per_job"] = frame_bytes(snapshot.frame) / build_size
    benchmark.extra_info["json_bytes_per_job"] = json_bytes / build_size
