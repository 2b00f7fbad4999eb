"""Golden cases: small dumps with a request and the answer worked out by hand.

Each file in data/fixtures/golden/ holds ``about`` (the rule it pins, with its spec section),
``now``, ``caller``, the wire ``request``, the ``expected`` JobIds and TotalCount, and the
``jobs``. Engine and reference must both give the expected answer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from jobquery import reference
from jobquery.request import Caller, parse_timestamp
from jobquery.store import JobStore

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "fixtures" / "golden"
CASES = sorted(GOLDEN.glob("*.json"))


def load(path: Path) -> dict[str, Any]:
    case: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return case


@pytest.mark.parametrize("path", CASES, ids=[path.stem for path in CASES])
def test_engine_and_reference_give_the_worked_out_answer(path: Path) -> None:
    case = load(path)
    now = parse_timestamp(case["now"])
    caller = Caller(**case["caller"]) if case["caller"] else None
    expected = case["expected"]

    engine = JobStore.from_records(case["jobs"]).list_jobs(case["request"], now=now, caller=caller)
    assert [job["JobId"] for job in engine.jobs] == expected["JobIds"]
    assert engine.total_count == expected["TotalCount"]

    oracle = reference.list_jobs(case["jobs"], case["request"], now=now, caller=caller)
    assert [job["JobId"] for job in oracle["Jobs"]] == expected["JobIds"]
    assert oracle["TotalCount"] == expected["TotalCount"]


def test_there_are_golden_cases() -> None:
    assert len(CASES) >= 10
