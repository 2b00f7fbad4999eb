"""Ingest from files: jobquery next to the native NDJSON readers (``--bench-ingest-size``).

The native readers only parse the file into a table; ``JobStore.from_path`` also validates,
deduplicates and builds the indexed snapshot. Compare jobs/s in ``extra_info``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.json as pa_json
import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from benchmarks.dataset import BENCH_DATA
from benchmarks.suite import POLARS_NDJSON_MAX_JOBS, ingest_files
from jobquery.store import JobStore


@pytest.fixture(scope="module")
def ingest_paths(request: pytest.FixtureRequest) -> tuple[int, Path, Path]:
    size: int = request.config.getoption("--bench-ingest-size")
    ndjson, parquet = ingest_files(size, BENCH_DATA)
    return size, ndjson, parquet


def read(benchmark: BenchmarkFixture, reader: Callable[[Path], Any], path: Path, size: int) -> None:
    benchmark.pedantic(reader, args=(path,), rounds=3, iterations=1)
    median = benchmark.stats.stats.median
    benchmark.extra_info["jobs_per_second"] = size / median
    benchmark.extra_info["megabytes_per_second"] = path.stat().st_size / median / 1e6


def test_ingest_ndjson_with_pyarrow_read_json(
    benchmark: BenchmarkFixture, ingest_paths: tuple[int, Path, Path]
) -> None:
    size, ndjson, _ = ingest_paths
    read(benchmark, pa_json.read_json, ndjson, size)


def test_ingest_ndjson_with_polars_read_ndjson(
    benchmark: BenchmarkFixture, ingest_paths: tuple[int, Path, Path]
) -> None:
    size, ndjson, _ = ingest_paths
    if size > POLARS_NDJSON_MAX_JOBS:
        pytest.skip(
            f"polars.read_ndjson reads these jobs at < 1 MB/s: run it up to "
            f"{POLARS_NDJSON_MAX_JOBS:,} jobs (--bench-ingest-size)"
        )
    read(benchmark, lambda path: pl.read_ndjson(path, infer_schema_length=None), ndjson, size)


def test_ingest_ndjson_into_a_jobquery_store(
    benchmark: BenchmarkFixture, ingest_paths: tuple[int, Path, Path]
) -> None:
    size, ndjson, _ = ingest_paths
    read(benchmark, JobStore.from_path, ndjson, size)


def test_ingest_parquet_export_into_a_jobquery_store(
    benchmark: BenchmarkFixture, ingest_paths: tuple[int, Path, Path]
) -> None:
    size, _, parquet = ingest_paths
    read(benchmark, JobStore.from_path, parquet, size)
