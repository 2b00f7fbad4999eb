"""The benchmarks, run once at a small size, so that they cannot rot.

Every workload of ``benchmarks/workloads.py`` runs once on every engine (jobquery, DuckDB,
plain Polars, the reference) over 2,000 synthetic jobs of each profile created in the last 45
days (so that the workloads' windows hold jobs), and the answers must agree: the same JobIds
in the same order and the same TotalCount; so must the first calls (requests with new
values). The report is rendered from a one-run measurement. Nothing here asserts a timing.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from jobquery import JobStore, synth

try:
    import benchmarks  # noqa: F401  (importable when pytest runs from the repository root)
except ImportError:  # `pytest` started elsewhere: the benchmarks live beside `tests/`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import dataset, first_answer, mapped_open, report
from benchmarks.baselines import Answer, Engine
from benchmarks.dataset import BenchData
from benchmarks.suite import (
    ENGINES,
    FIRST_CALL_ENGINE,
    Budget,
    answers_agree,
    engines_for,
    measure_queries,
    structure_bytes,
)
from benchmarks.workloads import (
    HIGH,
    NOW,
    PROFILES,
    SPECS,
    Workload,
    first_calls,
    specs_for,
    workloads_for,
)

SMOKE_JOBS = 2_000
START = NOW - timedelta(days=45)


@pytest.fixture(scope="module", params=PROFILES)
def smoke_data(request: pytest.FixtureRequest) -> BenchData:
    return dataset.load(SMOKE_JOBS, disk_cache=False, start=START, profile=request.param)


@pytest.fixture(scope="module")
def engines(smoke_data: BenchData) -> list[Engine]:
    return engines_for(smoke_data)


@pytest.fixture(scope="module")
def workloads(smoke_data: BenchData) -> tuple[Workload, ...]:
    return workloads_for(smoke_data.sample())


def test_every_engine_takes_part(engines: list[Engine]) -> None:
    assert [engine.name for engine in engines] == list(ENGINES)


def test_every_workload_runs_on_its_profiles(
    smoke_data: BenchData, workloads: tuple[Workload, ...]
) -> None:
    assert [w.name for w in workloads] == [s.name for s in specs_for(smoke_data.profile)]
    assert ("experiment_and_run_id_by_name" in [w.name for w in workloads]) == (
        smoke_data.profile == HIGH
    )
    assert {s.name for s in SPECS} == {s.name for p in PROFILES for s in specs_for(p)}


def test_every_engine_gives_jobquerys_answer(
    engines: list[Engine], workloads: tuple[Workload, ...]
) -> None:
    for workload in workloads:
        answer = answers_agree(engines, workload)  # raises DisagreementError naming the engine
        assert answer.total_count > 0, f"{workload.name} matches nothing in this data"


def test_first_calls_have_new_values_and_get_jobquerys_answer(
    smoke_data: BenchData, engines: list[Engine], workloads: tuple[Workload, ...]
) -> None:
    fresh = first_calls(smoke_data.sample(), 4)
    assert set(fresh) == {w.name for w in workloads}
    for workload in workloads:
        requests = fresh[workload.name]
        assert requests, f"{workload.name} has no first calls"
        keys = [(tuple(sorted(w.request.items())), w.caller) for w in [workload, *requests]]
        assert len(set(keys)) == len(keys), f"{workload.name} repeats its values"
        for request in requests:
            answers_agree(engines, request)


def test_the_workloads_fill_pages_and_reach_past_the_end(
    engines: list[Engine], workloads: tuple[Workload, ...]
) -> None:
    answers: dict[str, Answer] = {w.name: engines[0].answer(w) for w in workloads}
    assert len(answers["default_listing"].job_ids) == 50
    assert answers["deep_page"].job_ids == ()  # 2,000 jobs end long before page 1000
    assert sum(len(a.job_ids) == 50 for a in answers.values()) >= 4


def test_the_report_renders_a_one_run_measurement(
    smoke_data: BenchData, workloads: tuple[Workload, ...]
) -> None:
    once = Budget(warmup=0, min_runs=1, seconds=0.0)
    results = report.Results(command="smoke", started="now", machine=report.machine())
    results.queries = measure_queries(
        smoke_data,
        workloads=workloads[:2],
        first_calls={w.name: first_calls(smoke_data.sample(), 2)[w.name] for w in workloads[:2]},
        budgets=dict.fromkeys(ENGINES, once),
        log=lambda _: None,
    )
    assert {r.engine for r in results.queries if r.first_calls} == {
        FIRST_CALL_ENGINE,
        "duckdb_table",
    }
    markdown = report.render(results)
    assert markdown.startswith(report.BEGIN) and markdown.endswith(report.END)
    assert f"`default_listing` | {smoke_data.profile} | 2,000 |" in markdown
    assert "duckdb / jobquery" in markdown and "first calls: baseline / jobquery" in markdown
    assert structure_bytes(smoke_data.store.snapshot) > 0


def test_structure_bytes_counts_every_kept_structure() -> None:
    """Not only the lookup indexes: ranks, dictionaries, rank orders and arrays count too."""
    snapshot = JobStore.from_records([{"JobId": f"j{i}"} for i in range(10)]).snapshot
    before = structure_bytes(snapshot)
    index = snapshot.index
    index.ranks.put("a", np.zeros(1_000, dtype=np.uint32))
    index.rank_orders.put("b", np.zeros(2_000, dtype=np.int64))
    index.ranks_in_order.put("c", np.zeros(3_000, dtype=np.uint32))
    index.arrays.put("d", np.zeros(4_000, dtype=np.float64))
    assert structure_bytes(snapshot) - before == 4_000 + 16_000 + 12_000 + 32_000


@pytest.fixture(scope="module")
def compressed_data(smoke_data: BenchData) -> BenchData:
    return dataset.load(
        SMOKE_JOBS, disk_cache=False, start=START, compressed=True, profile=smoke_data.profile
    )


def test_compressed_texts_give_every_engine_jobquerys_answer(
    compressed_data: BenchData, smoke_data: BenchData, workloads: tuple[Workload, ...]
) -> None:
    assert compressed_data.compressed and compressed_data.codec is not None
    assert compressed_data.table.schema.field("job_json").type in (pa.binary(), pa.binary_view())
    assert compressed_data.json_bytes == smoke_data.json_bytes  # counted while streaming
    engines = engines_for(compressed_data)
    assert [engine.name for engine in engines] == list(ENGINES)
    plain = engines_for(smoke_data, ("jobquery",))[0]
    for workload in workloads:
        answer = answers_agree(engines, workload)
        assert answer == plain.answer(workload)  # the same jobs as the plain snapshot's


def test_a_compressed_snapshot_round_trips_the_disk_cache(
    compressed_data: BenchData, tmp_path: Path
) -> None:
    snapshot = compressed_data.store.snapshot
    path = tmp_path / "snapshot.arrow"
    dataset.save_frame(snapshot, path, json_bytes=compressed_data.json_bytes)
    saved = dataset.read_saved(path)
    assert saved.codec is not None and saved.codec.dictionary == snapshot.codec.dictionary
    assert saved.json_bytes == compressed_data.json_bytes
    again = dataset.read_snapshot(path)
    assert again.json_texts().equals(snapshot.json_texts())


def test_time_to_first_answer_runs_and_agrees_with_duckdb(tmp_path: Path) -> None:
    # every way answers the same page and count, or measure_size raises
    measured = first_answer.measure_size(2_000, warm_runs=1, duckdb_runs=1, data=tmp_path)
    assert set(measured.runs) == set(first_answer.WAYS)
    assert measured.cache_entry_bytes > 0
    assert measured.runs["jobquery cold"][0].total_count > 0
    assert len(first_answer.table([measured])) == 2 + len(first_answer.WAYS)


def test_the_mapped_open_comparison_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dump = tmp_path / "jobs.ndjson"
    synth.write_ndjson(dump, 500, seed=1)
    mapped_open.main(["--dump", str(dump)])
    printed = capsys.readouterr().out
    assert "| string_view, memory map + from_arrow |" in printed
    assert "reading it back with a CRC-32" in printed
