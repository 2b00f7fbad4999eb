"""ListJobs latency per workload, engine and size (``pytest benchmarks/ --benchmark-only``).

Each test times one workload of :mod:`benchmarks.workloads` on one engine; before timing, the
engine's answer is checked against jobquery's (same JobIds in the same order, same TotalCount).
Group the output by workload with ``--benchmark-group-by=func,param:size``.
"""

from __future__ import annotations

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from benchmarks.baselines import Answer, Engine, check_agreement
from benchmarks.dataset import REFERENCE_LIMIT
from benchmarks.suite import ENGINES
from benchmarks.workloads import by_name

pytestmark = pytest.mark.parametrize("engine_name", ENGINES)


def run(
    benchmark: BenchmarkFixture,
    engines: dict[str, Engine],
    expected_answers: dict[str, Answer],
    engine_name: str,
    workload_name: str,
) -> None:
    if engine_name not in engines:
        pytest.skip(f"the reference runs only up to {REFERENCE_LIMIT:,} jobs")
    workload = by_name(workload_name)
    engine = engines[engine_name]
    if workload_name not in expected_answers:
        expected_answers[workload_name] = engines["jobquery"].answer(workload)
    expected = expected_answers[workload_name]
    check_agreement(expected, engine.answer(workload), engine=engine_name, workload=workload_name)
    benchmark.extra_info["total_count"] = expected.total_count
    if engine_name == "reference":
        benchmark.pedantic(engine.answer, args=(workload,), rounds=3, warmup_rounds=1)
    else:
        benchmark(engine.answer, workload)


def test_default_listing_newest_first_in_7_day_window(
    benchmark: BenchmarkFixture,
    engines: dict[str, Engine],
    expected_answers: dict[str, Answer],
    engine_name: str,
) -> None:
    run(benchmark, engines, expected_answers, engine_name, "default_listing")


def test_fuzzy_name_of_running_jobs_in_30_day_window(
    benchmark: BenchmarkFixture,
    engines: dict[str, Engine],
    expected_answers: dict[str, Answer],
    engine_name: str,
) -> None:
    run(benchmark, engines, expected_answers, engine_name, "fuzzy_name_running_30d")


def test_user_in_workspace_with_tag_sorted_by_name(
    benchmark: BenchmarkFixture,
    engines: dict[str, Engine],
    expected_answers: dict[str, Answer],
    engine_name: str,
) -> None:
    run(benchmark, engines, expected_answers, engine_name, "user_in_workspace_with_tag")


def test_page_1000_oldest_first_in_180_day_window(
    benchmark: BenchmarkFixture,
    engines: dict[str, Engine],
    expected_answers: dict[str, Answer],
    engine_name: str,
) -> None:
    run(benchmark, engines, expected_answers, engine_name, "deep_page")


def test_ended_jobs_by_finish_time_newest_first(
    benchmark: BenchmarkFixture,
    engines: dict[str, Engine],
    expected_answers: dict[str, Answer],
    engine_name: str,
) -> None:
    run(benchmark, engines, expected_answers, engine_name, "status_list_sorted_by_finish")


def test_gpu_request_between_4_and_8_in_90_day_window(
    benchmark: BenchmarkFixture,
    engines: dict[str, Engine],
    expected_answers: dict[str, Answer],
    engine_name: str,
) -> None:
    run(benchmark, engines, expected_answers, engine_name, "numeric_gpu_range")


def test_image_token_search_in_30_day_window(
    benchmark: BenchmarkFixture,
    engines: dict[str, Engine],
    expected_answers: dict[str, Answer],
    engine_name: str,
) -> None:
    run(benchmark, engines, expected_answers, engine_name, "full_text_image_search")


def test_non_admin_caller_sees_public_and_own_private_jobs(
    benchmark: BenchmarkFixture,
    engines: dict[str, Engine],
    expected_answers: dict[str, Answer],
    engine_name: str,
) -> None:
    run(benchmark, engines, expected_answers, engine_name, "private_caller_view")
