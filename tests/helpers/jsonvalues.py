"""JSON values compared as JSON, and what the tests that write dumps share.

- ``same_json``: the one equality of JSON values in the tests, where Python's ``==`` says
  ``1 == 1.0 == True``; ``JsonValue`` wraps a value so that ``==`` means ``same_json`` (for
  the differential tests' outcomes) and ``assert_same_jobs`` compares job lists with it;
- ``fewer``: a share of the Hypothesis profile's example count, for tests that write files;
- ``SLOW``: the settings of tests whose examples are slow by nature (files, whole stores);
- ``scratch``: a fresh folder for written dumps.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings

SLOW = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def fewer(divisor: int = 1, cap: int | None = None) -> int:
    """A share of the profile's example count, for tests that write and read several files.

    ``cap`` keeps the ``dev`` and ``ci`` profiles quick; the ``long`` profile is never capped.
    """
    examples = max(5, settings.default.max_examples // divisor)
    if cap is not None and os.environ.get("JOBQUERY_HYPOTHESIS_PROFILE") != "long":
        examples = min(examples, cap)
    return examples


@contextmanager
def scratch() -> Iterator[Path]:
    """A fresh folder, in memory when the machine has /dev/shm (ingest fsyncs every export)."""
    base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix="jobquery-test-", dir=base) as folder:
        yield Path(folder)


def same_json(left: Any, right: Any) -> bool:
    """Equal as JSON values: same types, same keys (order ignored), same items in order.

    Iterative, so that jobs nested hundreds of levels deep compare without recursion.
    """
    pending = [(left, right)]
    while pending:
        a, b = pending.pop()
        if type(a) is not type(b):
            return False
        if isinstance(a, dict):
            if a.keys() != b.keys():
                return False
            pending.extend((a[key], b[key]) for key in a)
        elif isinstance(a, list):
            if len(a) != len(b):
                return False
            pending.extend(zip(a, b, strict=True))
        elif isinstance(a, float):
            if a != b or math.copysign(1.0, a) != math.copysign(1.0, b):
                return False
        elif a != b:
            return False
    return True


class JsonValue:
    """A JSON value whose ``==`` is :func:`same_json`, so that tuples and lists holding one
    compare as JSON (an assertion on them keeps pytest's and Hypothesis's reports)."""

    __slots__ = ("value",)
    __hash__ = None  # type: ignore[assignment]  # equal values need not hash alike

    def __init__(self, value: Any) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, JsonValue):
            return NotImplemented
        return same_json(self.value, other.value)

    def __repr__(self) -> str:
        return f"JsonValue({self.value!r})"


def by_id(records: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {record["JobId"]: record for record in records}


def assert_same_jobs(expected: Sequence[dict[str, Any]], found: Sequence[dict[str, Any]]) -> None:
    """The same jobs, each the same JSON value, none of them twice."""
    want, got = by_id(expected), by_id(found)
    assert len(got) == len(found), "a JobId came back twice"
    assert sorted(want) == sorted(got)
    for job_id, record in want.items():
        assert same_json(record, got[job_id]), f"{job_id!r} changed: {record!r} -> {got[job_id]!r}"
