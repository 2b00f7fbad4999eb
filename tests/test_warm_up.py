"""Structures built on first use or in the background: once each, whole, never in the way.

A snapshot's rank columns, rank orders, column dictionaries and page-text reader are not built
before its first answer: a store builds them in a daemon thread once the snapshot is ready
(``derived.warm_everything``), and a query builds what it needs itself if the background has
not yet. ``jobquery.snapshot.lazy.Structures`` makes that safe: one builder per structure, the
others wait for it; no structure is built twice or seen half built; a process may exit while
the background runs.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from polars.testing import assert_frame_equal

from jobquery import synth
from jobquery.index_engine.select import WARM_COLUMNS
from jobquery.snapshot import RANKED_SORT_KEYS, derived, rank_column, table
from jobquery.snapshot.lazy import Structures
from jobquery.store import JobStore

ROOT = Path(__file__).resolve().parent.parent
NOW = synth.DEFAULT_END
EVERYTHING = {"StartTime": "1970-01-01T00:00:00Z", "EndTime": "2100-01-01T00:00:00Z"}


def test_a_structure_is_built_once_whoever_asks() -> None:
    structures = Structures()
    calls = Counter[str]()
    started, release = threading.Event(), threading.Event()

    def build() -> object:
        calls["built"] += 1
        started.set()
        release.wait(timeout=30)
        return object()

    found: list[object] = []
    threads = [
        threading.Thread(target=lambda: found.append(structures.get("key", build)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    assert started.wait(timeout=30)
    release.set()
    for thread in threads:
        thread.join(timeout=30)
    assert calls["built"] == 1
    assert len(found) == 8 and all(value is found[0] for value in found)
    assert structures.peek("key") is found[0]


def test_a_failed_build_publishes_nothing() -> None:
    structures = Structures()

    def fail() -> object:
        raise RuntimeError("broken")

    with pytest.raises(RuntimeError):
        structures.get("key", fail)
    assert structures.peek("key") is None
    assert structures.get("key", lambda: 5) == 5


def test_other_structures_build_while_one_is_being_built() -> None:
    structures = Structures()
    started, release = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        release.wait(timeout=30)
        return "slow"

    builder = threading.Thread(target=structures.get, args=("slow", slow))
    builder.start()
    assert started.wait(timeout=30)
    assert structures.get("fast", lambda: "fast") == "fast"  # does not wait for "slow"
    release.set()
    builder.join(timeout=30)
    assert structures.peek("slow") == "slow"


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    return synth.generate_records(2500, seed=21)


def test_nothing_is_built_before_it_is_used(records: list[dict[str, Any]]) -> None:
    store = JobStore.from_records(records, background_warm_up=False)
    current = store.snapshot
    assert current.ranks_computed() == {}
    assert "ix_rank_DisplayName" not in current.frame.columns
    store.list_jobs({**EVERYTHING, "SortBy": "DisplayName"}, now=NOW)
    assert set(current.ranks_computed()) == {"DisplayName"}


def test_the_warm_up_builds_everything_once(
    records: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = Counter[str]()
    real_rank, real_dictionary = table._rank, derived._build_dictionary

    def counted_rank(frame: Any, key: str) -> Any:
        calls[key] += 1
        return real_rank(frame, key)

    def counted_dictionary(live: Any, column: str, policy: Any) -> Any:
        calls[column] += 1
        return real_dictionary(live, column, policy)

    monkeypatch.setattr(table, "_rank", counted_rank)
    monkeypatch.setattr(derived, "_build_dictionary", counted_dictionary)
    store = JobStore.from_records(records)  # the background thread starts
    warmers = [threading.Thread(target=store.warm_up) for _ in range(4)]
    for warmer in warmers:
        warmer.start()
    store.warm_up()
    for warmer in warmers:
        warmer.join(timeout=60)
    current = store.snapshot
    assert set(current.ranks_computed()) == set(RANKED_SORT_KEYS)
    for key in RANKED_SORT_KEYS:
        assert current.index.rank_orders.peek(rank_column(key)) is not None
    for column in WARM_COLUMNS:
        assert column in current.index.dictionaries
    assert current.index.job_texts.peek() is not None
    assert set(calls.values()) == {1}, calls


def test_answers_during_the_warm_up_are_the_answers_after_it(
    records: list[dict[str, Any]],
) -> None:
    requests = [
        {**EVERYTHING, "SortBy": key, "Order": order, "PageSize": "7", "PageNumber": "3"}
        for key in RANKED_SORT_KEYS
        for order in ("asc", "desc")
    ] + [{**EVERYTHING, "Status": "Running", "SortBy": "DisplayName"}]
    warmed = JobStore.from_records(records)
    warmed.warm_up()
    expected = [warmed.list_jobs(request, now=NOW).jobs for request in requests]
    for _ in range(3):
        store = JobStore.from_records(records)  # queried while its background thread runs
        assert [store.list_jobs(request, now=NOW).jobs for request in requests] == expected


def test_a_saved_snapshot_holds_every_rank_column(
    records: list[dict[str, Any]], tmp_path: Path
) -> None:
    store = JobStore.from_records(records, background_warm_up=False)
    store.save(tmp_path / "jobs.snapshot")
    assert set(store.snapshot.ranks_computed()) == set(RANKED_SORT_KEYS)  # computed to save
    opened = JobStore.open(tmp_path / "jobs.snapshot", background_warm_up=False)
    assert set(opened.snapshot.ranks_computed()) == set(RANKED_SORT_KEYS)  # read, not computed
    for key in RANKED_SORT_KEYS:
        assert np.array_equal(opened.snapshot.rank(key), store.snapshot.rank(key))
    assert_frame_equal(opened.snapshot.frame_with_ranks(), store.snapshot.frame_with_ranks())


def _run_python(script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


def test_a_process_exiting_during_the_warm_up_waits_for_one_structure_only() -> None:
    """At exit the warm-up finishes the structure it is building, builds no other, and the
    process ends cleanly (here: the first rank order takes a while, three more are left)."""
    done = _run_python(
        """
        import atexit, threading
        ranked = []
        atexit.register(lambda: print("ranked", len(ranked)))  # runs after the warm-up stops

        from jobquery import synth
        from jobquery.snapshot import table
        from jobquery.store import JobStore

        real = table._rank
        busy = threading.Event()

        def slow(frame, key):
            busy.set()
            for _ in range(20):
                real(frame, key)
            ranked.append(key)
            return real(frame, key)

        table._rank = slow
        store = JobStore.from_records(synth.generate_records(3000, seed=1))
        assert busy.wait(timeout=60)
        print("exiting")
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["exiting", "ranked", "1"]


def test_processes_that_exit_right_after_making_a_store_end_cleanly() -> None:
    """A script that makes a store and ends at once: the warm-up thread must not be inside
    native code while the interpreter shuts down (that aborted 4 processes in 15)."""
    for _ in range(12):
        done = _run_python(
            """
            from jobquery import JobStore
            print(len(JobStore.from_path("jobquery/sample/sample_jobs.ndjson")))
            """
        )
        assert (done.returncode, done.stdout) == (0, "2000\n"), done.stderr
