"""ListJobs latency per workload, engine, size and profile (``pytest benchmarks/
--benchmark-only``).

Each test times one workload of :mod:`benchmarks.workloads` on one engine; before timing, the
engine's answer is checked against jobquery's (same JobIds in the same order, same TotalCount).
Each workload is parametrized on the profiles it runs on (``benchmarks/conftest.py``). Group
the output by workload with ``--benchmark-group-by=func,param:size``.
"""

from __future__ import annotations

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from benchmarks.baselines import Answer, Engine, check_agreement
from benchmarks.dataset import REFERENCE_LIMIT
from benchmarks.suite import ENGINES
from benchmarks.workloads import Workload


@pytest.mark.parametrize("engine_name", ENGINES)
def test_listjobs_call(
    benchmark: BenchmarkFixture,
    *,
    engines: dict[str, Engine],
    expected_answers: dict[str, Answer],
    workloads: tuple[Workload, ...],
    engine_name: str,
    workload_name: str,
) -> None:
    if engine_name not in engines:
        pytest.skip(f"the reference runs only up to {REFERENCE_LIMIT:,} jobs")
    (workload,) = [workload for workload in workloads if workload.name == workload_name]
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
