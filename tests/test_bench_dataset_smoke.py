"""The dataset benchmark, run once at a small size, so that it cannot rot.

Writes 2,000 synthetic jobs as a dataset a chunk at a time, answers every workload on DuckDB
with each answer checked against JobStore's over the same jobs, and renders the tables.
Nothing here asserts a timing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

try:
    import benchmarks  # noqa: F401  (importable when pytest runs from the repository root)
except ImportError:  # `pytest` started elsewhere: the benchmarks live beside `tests/`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import bench_dataset


def test_write_query_and_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = tmp_path / "results.jsonl"
    bench_dataset.write(2_000, tmp_path / "ds", results, chunk_jobs=700)
    bench_dataset.query(
        tmp_path / "ds", "duckdb", results, check_store=True, runs=1, warmup=0, disk_cache=False
    )
    written, queried = (json.loads(line) for line in results.read_text().splitlines())
    assert written["jobs"] == 2_000 and written["disk_bytes_per_job"] > 0
    assert queried["agrees_with_store"] is True
    assert [w["workload"] for w in queried["workloads"]] == [
        w.name for w in bench_dataset.dataset_workloads()
    ]
    assert sum(w["total_count"] > 0 for w in queried["workloads"]) >= 6
    capsys.readouterr()
    bench_dataset.report(results)
    tables = capsys.readouterr().out
    assert "| 2,000 |" in tables and "`deep_page`" in tables
