"""Job datasets against the reference: DuckDB and Spark answer ListJobs like jobquery does.

The same generated jobs, requests, clocks and callers as ``test_differential.py``
(``tests/helpers/strategies.py``), written as a dataset (:func:`jobquery.dataset.write_dataset`) and
answered by :class:`jobquery.dataset.JobDataset` on DuckDB and on Spark in local mode: the same
``Jobs`` (JSON values, types included), the same ``TotalCount``, the same
``InvalidParameterError``, and the same unpaged order as the reference.

Each example writes a dataset, so the profiles' example counts are divided (see the
``settings`` below); Spark answers a query in tens of milliseconds at best, so it gets fewer.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobquery import reference
from jobquery.dataset import JobDataset
from jobquery.dataset.format import DatasetWriter
from jobquery.store import JobStore
from tests.helpers.pages import outcome
from tests.helpers.strategies import Case, cases, typed_request


@dataclass(frozen=True)
class Layout:
    """How a case's jobs are written: in how many chunks (1: straight from one snapshot;
    more: staged and merged by DuckDB), into how many workspace buckets."""

    chunks: int
    workspace_buckets: int


#: Mostly one chunk (the cheap write); several buckets exercise the bucket pruning.
LAYOUTS = st.builds(
    Layout,
    chunks=st.sampled_from((1, 1, 1, 2)),
    workspace_buckets=st.sampled_from((1, 1, 3)),
)


def write_case(case: Case, layout: Layout, target: Path) -> None:
    size = -(-len(case.jobs) // layout.chunks) or 1
    with DatasetWriter(target, workspace_buckets=layout.workspace_buckets) as writer:
        for begin in range(0, max(len(case.jobs), 1), size):
            writer.add(JobStore.from_records(case.jobs[begin : begin + size]).snapshot)


def check_dataset_answers_like_the_reference(
    case: Case, layout: Layout, open_dataset: Callable[[Path], JobDataset], *, typed: bool
) -> None:
    """The page for the wire form (and the typed form when ``typed``), and the unpaged order."""
    forms: list[Any] = [case.wire, typed_request(case.wire)] if typed else [case.wire]
    with tempfile.TemporaryDirectory(prefix="jobquery-dataset-") as folder:
        target = Path(folder) / "jobs"
        write_case(case, layout, target)
        with open_dataset(target) as dataset:
            for request in forms:
                expected = outcome(
                    partial(
                        reference.list_jobs,
                        case.jobs,
                        request,
                        now=case.now,
                        caller=case.caller,
                        request_id="X",
                    )
                )
                actual = outcome(
                    lambda request=request: dataset.list_jobs(
                        request, now=case.now, caller=case.caller, request_id="X"
                    ).to_wire()
                )
                assert actual == expected, f"the page differs for the {type(request).__name__} form"

            def dataset_order() -> list[str]:
                frame = dataset.query(case.wire, now=case.now, caller=case.caller)
                return list(frame["JobId"].to_list())

            def reference_order() -> list[str]:
                found = reference.query(case.jobs, case.wire, now=case.now, caller=case.caller)
                return [job["JobId"] for job in found]

            assert outcome(dataset_order) == outcome(reference_order), "query order differs"


@settings(max_examples=max(10, settings().max_examples // 2))
@given(case=cases(), layout=LAYOUTS)
def test_duckdb_dataset_answers_like_the_reference(case: Case, layout: Layout) -> None:
    check_dataset_answers_like_the_reference(
        case, layout, lambda path: JobDataset.open(path, "duckdb"), typed=True
    )


@pytest.mark.xdist_group("spark")  # the one worker with a JVM (see pyproject's addopts)
@settings(
    max_examples=max(5, settings().max_examples // 10),
    suppress_health_check=[HealthCheck.too_slow],
)
@given(case=cases(), layout=LAYOUTS)
def test_spark_dataset_answers_like_the_reference(
    case: Case, layout: Layout, spark_session: Any
) -> None:
    """The wire form only: both forms are one request (``test_differential.py`` checks it),
    and every Spark query costs a job."""
    check_dataset_answers_like_the_reference(
        case,
        layout,
        lambda path: JobDataset.open(path, "spark", session=spark_session),
        typed=False,
    )
