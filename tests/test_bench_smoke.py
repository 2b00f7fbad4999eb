"""The benchmarks, run once at a small size, so that they cannot rot.

Every workload of ``benchmarks/workloads.py`` runs once on every engine (jobquery, DuckDB,
plain Polars, the reference) over 2,000 synthetic jobs created in the last 45 days (so that
the workloads' windows hold jobs), and the answers must agree: the same JobIds in the same
order and the same TotalCount. The report is rendered from a one-run measurement. Nothing
here asserts a timing.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from jobquery import synth

try:
    import benchmarks  # noqa: F401  (importable when pytest runs from the repository root)
except ImportError:  # `pytest` started elsewhere: the benchmarks live beside `tests/`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import dataset, first_answer, mapped_open, report
from benchmarks.baselines import Answer, Engine
from benchmarks.dataset import BenchData
from benchmarks.suite import ENGINES, Budget, answers_agree, engines_for, measure_queries
from benchmarks.workloads import NOW, WORKLOADS, Workload

SMOKE_JOBS = 2_000


@pytest.fixture(scope="module")
def smoke_data() -> BenchData:
    return dataset.load(SMOKE_JOBS, disk_cache=False, start=NOW - timedelta(days=45))


@pytest.fixture(scope="module")
def engines(smoke_data: BenchData) -> list[Engine]:
    return engines_for(smoke_data)


def test_every_engine_takes_part(engines: list[Engine]) -> None:
    assert [engine.name for engine in engines] == list(ENGINES)


@pytest.mark.parametrize("workload", WORKLOADS, ids=[w.name for w in WORKLOADS])
def test_every_engine_gives_jobquerys_answer(engines: list[Engine], workload: Workload) -> None:
    answer = answers_agree(engines, workload)  # raises DisagreementError naming the engine
    assert answer.total_count > 0, "the workload matches nothing: its values no longer fit synth"


def test_the_workloads_fill_pages_and_reach_past_the_end(engines: list[Engine]) -> None:
    answers: dict[str, Answer] = {w.name: engines[0].answer(w) for w in WORKLOADS}
    assert len(answers["default_listing"].job_ids) == 50
    assert answers["deep_page"].job_ids == ()  # 2,000 jobs end long before page 1000
    assert sum(len(a.job_ids) == 50 for a in answers.values()) >= 4


def test_the_report_renders_a_one_run_measurement(smoke_data: BenchData) -> None:
    once = Budget(warmup=0, min_runs=1, seconds=0.0)
    results = report.Results(command="smoke", started="now", machine=report.machine())
    results.queries = measure_queries(
        smoke_data,
        workloads=WORKLOADS[:2],
        budgets=dict.fromkeys(ENGINES, once),
        log=lambda _: None,
    )
    markdown = report.render(results)
    assert markdown.startswith(report.BEGIN) and markdown.endswith(report.END)
    assert "`default_listing` | 2,000 |" in markdown
    assert "duckdb / jobquery" in markdown


@pytest.fixture(scope="module")
def compressed_data() -> BenchData:
    return dataset.load(
        SMOKE_JOBS, disk_cache=False, start=NOW - timedelta(days=45), compressed=True
    )


def test_compressed_texts_give_every_engine_jobquerys_answer(
    compressed_data: BenchData, smoke_data: BenchData
) -> None:
    assert compressed_data.compressed and compressed_data.codec is not None
    assert compressed_data.table.schema.field("job_json").type in (pa.binary(), pa.binary_view())
    assert compressed_data.json_bytes == smoke_data.json_bytes  # counted while streaming
    engines = engines_for(compressed_data)
    assert [engine.name for engine in engines] == list(ENGINES)
    plain = engines_for(smoke_data, ("jobquery",))[0]
    for workload in WORKLOADS:
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
