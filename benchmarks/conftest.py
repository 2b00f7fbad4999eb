"""Fixtures of the pytest-benchmark suite (``pytest benchmarks/ --benchmark-only``).

Sizes come from ``--bench-sizes`` or ``JOBQUERY_BENCH_SIZES`` (default 100k and 1M jobs), the
synthetic profiles from ``--bench-profiles`` (default both). The data of one size and profile
is built once per session (and cached on disk under ``bench-data/``); pytest finishes every
test of one size before it builds the next, so only one data set is held at a time.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from benchmarks import dataset
from benchmarks.baselines import Answer, Engine
from benchmarks.dataset import BenchData
from benchmarks.suite import engines_for
from benchmarks.workloads import PROFILES, Workload, specs_for, workloads_for


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """In-process, whatever ``-n auto`` (pyproject's addopts) says: a timing taken beside
    other workers measures them too, and pytest-benchmark turns itself off under xdist."""
    return 0


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--bench-sizes",
        default=None,
        help="comma-separated job counts, e.g. 100000,1000000,10000000 "
        "(default: $JOBQUERY_BENCH_SIZES or 100000,1000000)",
    )
    parser.addoption(
        "--bench-profiles",
        default=",".join(PROFILES),
        help=f"comma-separated synthetic profiles (default {','.join(PROFILES)})",
    )
    parser.addoption(
        "--bench-build-sizes",
        default="100000",
        help="comma-separated job counts of the snapshot build benchmark (default 100000)",
    )
    parser.addoption(
        "--bench-ingest-size",
        type=int,
        default=100_000,
        help="job count of the ingest files (default 100000)",
    )


def size_id(size: int) -> str:
    for unit, name in ((1_000_000, "M"), (1_000, "k")):
        if size >= unit and size % unit == 0:
            return f"{size // unit}{name}"
    return str(size)


def _sizes(text: str) -> tuple[int, ...]:
    return tuple(int(part.replace("_", "")) for part in text.split(",") if part.strip())


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "size" in metafunc.fixturenames:
        option = metafunc.config.getoption("--bench-sizes")
        sizes = _sizes(option) if option else dataset.sizes_from_env()
        metafunc.parametrize("size", sizes, ids=size_id, scope="session")
    if "profile" in metafunc.fixturenames:
        profiles = [p for p in metafunc.config.getoption("--bench-profiles").split(",") if p]
        if "workload_name" in metafunc.fixturenames:
            # each workload only on the profiles it runs on (a value it needs may not exist
            # elsewhere)
            pairs = [(profile, spec.name) for profile in profiles for spec in specs_for(profile)]
            metafunc.parametrize(("profile", "workload_name"), pairs, scope="session")
        else:
            metafunc.parametrize("profile", profiles, scope="session")
    if "build_size" in metafunc.fixturenames:
        sizes = _sizes(metafunc.config.getoption("--bench-build-sizes"))
        metafunc.parametrize("build_size", sizes, ids=size_id)


@pytest.fixture(scope="session")
def bench_data(size: int, profile: str) -> Iterator[BenchData]:
    yield dataset.load(size, profile=profile)


@pytest.fixture(scope="session")
def workloads(bench_data: BenchData) -> tuple[Workload, ...]:
    """The repeated request of every workload of the data's profile (values from its data)."""
    return workloads_for(bench_data.sample())


@pytest.fixture(scope="session")
def engines(bench_data: BenchData) -> Iterator[dict[str, Engine]]:
    chosen = {engine.name: engine for engine in engines_for(bench_data)}
    yield chosen
    for engine in chosen.values():
        close = getattr(engine, "close", None)
        if close is not None:
            close()


@pytest.fixture(scope="session")
def expected_answers(bench_data: BenchData) -> dict[str, Answer]:
    """jobquery's answer per workload, filled as the tests go (baselines are checked on it)."""
    return {}
