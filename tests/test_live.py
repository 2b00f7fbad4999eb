"""Live snapshots: updates build a new version aside and swap it in; readers never notice.

- An update merged into a snapshot equals the snapshot built from scratch from the same jobs
  (rows, index columns and ranks alike).
- Readers in flight keep their version; held versions are bounded in count and age.
- Under a writer applying random upserts and deletes, every token walk lists exactly its pinned
  version's full result, and every offset page is the page of one version.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from jobquery import DumpFormatError
from jobquery.index_engine.page_tokens import FIRST_PAGE, PageTokenCodec
from jobquery.snapshot import RANKED_SORT_KEYS, Snapshot
from jobquery.store import JobStore
from jobquery.synth import DEFAULT_END, generate_records
from tests.helpers.strategies import job_records

NOW = DEFAULT_END
EVERYTHING = {"StartTime": "2000-01-01T00:00:00Z"}
KEY = b"live-test-key-32-bytes----------"


def capped(cap: int) -> int:
    """The profile's example count, at most ``cap`` except in the ``long`` profile."""
    examples = settings.default.max_examples
    if os.environ.get("JOBQUERY_HYPOTHESIS_PROFILE") == "long":
        return examples
    return min(examples, cap)


def built(
    records: list[dict[str, Any]], version: int = 0, *, compress_texts: bool = False
) -> Snapshot:
    texts = [orjson.dumps(record).decode() for record in records]
    if compress_texts:
        return Snapshot.from_texts(texts, version=version, compress_texts=True)
    return Snapshot.from_parsed(records, texts, version=version)


def assert_same_snapshot(actual: Snapshot, expected: Snapshot) -> None:
    """Equal frames with every rank column, the job texts compared as text (compressed ones
    by their codecs)."""
    assert_frame_equal(
        actual.with_json_texts(actual.frame_with_ranks()),
        expected.with_json_texts(expected.frame_with_ranks()),
    )
    assert_frame_equal(actual.with_json_texts(actual.live), expected.with_json_texts(expected.live))


def changed(
    snapshot: Snapshot,
    upserts: list[dict[str, Any]],
    deletions: list[str],
    *,
    ranked: Sequence[str] = RANKED_SORT_KEYS,
) -> Snapshot:
    """The snapshot after an update; the rank columns of ``ranked`` computed before it (they
    are merged by the update, the others computed after it on first use)."""
    for key in ranked:
        snapshot.rank(key)
    texts = [orjson.dumps(record).decode() for record in upserts]
    latest = snapshot.with_changes(upserts, texts, deletions, version=snapshot.version + 1)
    assert set(latest.ranks_computed()) == set(ranked)
    return latest


def after_changes(
    records: list[dict[str, Any]], upserts: list[dict[str, Any]], deletions: list[str]
) -> list[dict[str, Any]]:
    final = {record["JobId"]: record for record in records if record["JobId"] not in deletions}
    final.update((record["JobId"], record) for record in upserts)
    return list(final.values())


# ---------------------------------------------------------------------------------------------
# Merged updates equal full builds


@settings(max_examples=capped(100))
@given(before=job_records(), upserts=job_records(), data=st.data())
def test_an_update_equals_a_snapshot_built_from_scratch(
    before: list[dict[str, Any]], upserts: list[dict[str, Any]], data: st.DataObject
) -> None:
    ids = [record["JobId"] for record in before] + ["never-stored"]
    deletions = data.draw(st.lists(st.sampled_from(ids), unique=True), label="deletions")
    compress_texts = data.draw(st.booleans(), label="compress_texts")
    ranked = data.draw(st.lists(st.sampled_from(RANKED_SORT_KEYS), unique=True), label="ranked")
    snapshot = built(before, compress_texts=compress_texts)
    merged = changed(snapshot, upserts, deletions, ranked=ranked)
    assert (merged.codec is not None) == compress_texts
    expected = built(after_changes(before, upserts, deletions), version=1)
    assert_same_snapshot(merged, expected)
    assert merged.version == 1


@pytest.mark.parametrize("changes", [1, 40, 700])
@pytest.mark.parametrize("by", ["slices", "gather"])
def test_a_large_update_with_time_ties_equals_a_full_build(
    changes: int, by: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if by == "gather":  # the path of changes too scattered to copy slice by slice
        monkeypatch.setattr("jobquery.snapshot.merge._MAX_SLICES", 0)
    records = generate_records(1500, seed=4)
    rng = random.Random(changes)
    stamps = [record["GmtCreateTime"] for record in rng.sample(records, 20)]
    upserts = [
        # moved to a creation second shared with other jobs, renamed, re-statused
        dict(record, GmtCreateTime=rng.choice(stamps), DisplayName=f"Job-{rng.randrange(9)}")
        | ({"Status": "Failed"} if rng.random() < 0.5 else {})
        for record in rng.sample(records, changes)
    ]
    upserts += generate_records(changes, seed=99)  # new jobs
    deletions = [record["JobId"] for record in rng.sample(records, changes // 2 + 1)]
    merged = changed(built(records), upserts, deletions)
    assert_frame_equal(merged.frame, built(after_changes(records, upserts, deletions), 1).frame)


def test_an_update_of_an_empty_snapshot() -> None:
    records = generate_records(30, seed=1)
    assert_frame_equal(changed(built([]), records, []).frame, built(records, 1).frame)
    assert changed(built(records), [], [r["JobId"] for r in records]).frame.height == 0


def test_the_same_job_twice_in_one_change_is_refused() -> None:
    record = generate_records(1, seed=1)[0]
    with pytest.raises(DumpFormatError, match="twice"):
        changed(built([]), [record, record], [])


# ---------------------------------------------------------------------------------------------
# The store: versions, readers in flight, refusals


@pytest.fixture
def records() -> list[dict[str, Any]]:
    return generate_records(120, seed=8, start=NOW - timedelta(days=20), end=NOW)


def listed(store: JobStore, wire: Mapping[str, str] = EVERYTHING) -> list[str]:
    return [job["JobId"] for job in store.list_jobs({**wire, "PageSize": "100"}, now=NOW).jobs]


def test_upsert_inserts_and_replaces_and_delete_removes(records: list[dict[str, Any]]) -> None:
    store = JobStore.from_records(records[:100])
    assert store.version == 0
    newer = dict(records[0], DisplayName="renamed", GmtModifiedTime="2000-01-01T00:00:00Z")
    assert store.upsert([newer, *records[100:]]) == 1
    assert len(store) == 120
    # replaced whatever the stored job's GmtModifiedTime: an update is a command
    assert store.get_job(records[0]["JobId"]) == newer
    assert store.delete([records[1]["JobId"], "unknown"]) == 2
    assert store.get_job(records[1]["JobId"]) is None
    assert len(store) == 119


def test_a_change_that_changes_nothing_keeps_the_version(records: list[dict[str, Any]]) -> None:
    store = JobStore.from_records(records)
    assert store.delete(["unknown"]) == 0
    assert store.upsert([]) == 0
    assert store.apply() == 0


def test_deletions_apply_before_upserts(records: list[dict[str, Any]]) -> None:
    store = JobStore.from_records(records)
    job_id = records[0]["JobId"]
    store.apply(upserts=[records[0]], deletions=[job_id, records[1]["JobId"]])
    assert store.get_job(job_id) == records[0]
    assert store.get_job(records[1]["JobId"]) is None


def test_delete_takes_a_collection_of_job_ids(records: list[dict[str, Any]]) -> None:
    store = JobStore.from_records(records)
    with pytest.raises(TypeError, match="not one string"):
        store.delete(records[0]["JobId"])
    with pytest.raises(TypeError, match="must be a string"):
        store.delete([1])  # type: ignore[list-item]
    assert store.version == 0


def test_an_upserted_deleted_job_is_stored_but_not_listed(records: list[dict[str, Any]]) -> None:
    store = JobStore.from_records(records)
    store.upsert([dict(records[0], IsDeleted=True)])
    assert store.get_job(records[0]["JobId"]) is not None
    assert records[0]["JobId"] not in store.query(EVERYTHING, now=NOW)["JobId"].to_list()


def test_a_malformed_upsert_changes_nothing(records: list[dict[str, Any]]) -> None:
    store = JobStore.from_records(records)
    before = store.snapshot
    with pytest.raises(DumpFormatError, match="record 1"):
        store.upsert([records[0], {"DisplayName": "no id"}])
    assert store.snapshot is before


def test_readers_in_flight_keep_their_version(records: list[dict[str, Any]]) -> None:
    store = JobStore.from_records(records[:100])
    pinned = store.snapshot
    answer = listed(store)
    store.apply(upserts=records[100:], deletions=answer[:10])
    assert listed(JobStore(pinned)) == answer
    assert store.query(EVERYTHING, now=NOW, version=0)["JobId"].to_list() == answer
    assert listed(store) != answer


def test_held_versions_are_bounded_in_number(records: list[dict[str, Any]]) -> None:
    store = JobStore.from_records(records, keep_versions=3)
    for record in records[:5]:
        store.delete([record["JobId"]])
    assert store.versions() == [3, 4, 5]
    with pytest.raises(LookupError, match="version 1 is not held"):
        store.snapshot_at(1)
    with pytest.raises(LookupError):
        store.query(EVERYTHING, version=2)
    assert store.snapshot_at(5) is store.snapshot


@pytest.mark.parametrize("options", [{"keep_versions": 0}, {"keep_seconds": -1.0}])
def test_retention_options_are_checked(options: Any) -> None:
    with pytest.raises(ValueError):
        JobStore(built([]), **options)


# ---------------------------------------------------------------------------------------------
# Readers and a writer at the same time

#: How long the readers and the writer run together (the test stays well under 15 s).
CONCURRENT_SECONDS = 4.0
#: The readers go on until the writer has published this many versions (within the deadline):
#: with four reader threads busy in Python, an update waits for the GIL at every one of its
#: many small native steps and took 1.7-2.3 s at 400 jobs (66 ms alone), longer on a loaded
#: machine; a fixed duration then sometimes ended before the first update.
MIN_UPDATES = 3
CONCURRENT_DEADLINE_SECONDS = 120.0


def _random_request(rng: random.Random) -> dict[str, str]:
    wire = {
        **EVERYTHING,
        "SortBy": rng.choice(["GmtCreateTime", "DisplayName", "Status", "GmtFinishTime"]),
        "Order": rng.choice(["asc", "desc"]),
        "PageSize": str(rng.choice([3, 10, 25])),
    }
    if rng.random() < 0.3:
        wire["Status"] = rng.choice(["Running", "Failed,Succeeded", "Stopped"])
    return wire


Walk = tuple[dict[str, str], int, int, list[str], set[bytes]]
Page = tuple[dict[str, str], int, int, list[str], int]


class _Updates:
    """One writer updating a store while two token walkers and two offset readers read it.

    Each reader records what it asked, the store versions before and after, and what it got;
    the first failure in any thread stops them all.
    """

    def __init__(self, store: JobStore, fresh: list[dict[str, Any]]) -> None:
        self.store, self.fresh = store, fresh
        self.codec = PageTokenCodec(KEY)
        self.stop = threading.Event()
        self.failures: list[BaseException] = []
        self.walks: list[Walk] = []
        self.pages: list[Page] = []

    def run(self) -> None:
        """Run the threads for CONCURRENT_SECONDS, longer if the writer has not published
        MIN_UPDATES versions yet (a loaded machine), never past the deadline."""
        threads = [threading.Thread(target=self.guarded(self.write))]
        threads += [
            threading.Thread(target=self.guarded(lambda s=s: self.walk_with_tokens(s)))
            for s in (1, 2)
        ]
        threads += [
            threading.Thread(target=self.guarded(lambda s=s: self.page_by_offset(s)))
            for s in (3, 4)
        ]
        for thread in threads:
            thread.start()
        began = time.monotonic()
        self.stop.wait(CONCURRENT_SECONDS)
        while self.store.version <= MIN_UPDATES and not self.stop.is_set():
            if time.monotonic() - began > CONCURRENT_DEADLINE_SECONDS:
                break
            self.stop.wait(0.05)
        self.stop.set()
        for thread in threads:
            thread.join(timeout=30)

    def guarded(self, work: Any) -> Any:
        def run() -> None:
            try:
                work()
            except BaseException as failure:  # reported by the main thread
                self.failures.append(failure)
                self.stop.set()

        return run

    def write(self) -> None:
        store, rng = self.store, random.Random(1)
        while not self.stop.is_set():
            stored = store.snapshot.frame["JobId"].to_list()
            victims = rng.sample(stored, min(len(stored), rng.randrange(0, 4)))
            edits = [
                dict(job, Status=rng.choice(["Running", "Failed"]), DisplayName=f"n{rng.random()}")
                for job in map(store.get_job, rng.sample(stored, min(len(stored), 3)))
                if job is not None
            ]
            upserts = edits + rng.sample(self.fresh, rng.randrange(0, 3))
            store.apply(upserts=upserts, deletions=victims)
            time.sleep(0.005)

    def walk_with_tokens(self, seed: int) -> None:
        store, rng = self.store, random.Random(seed)
        while not self.stop.is_set():
            wire, token, ids, versions = _random_request(rng), FIRST_PAGE, [], set()
            before = store.version
            totals = set()
            while token is not None and token != "":
                response = store.list_jobs({**wire, "NextToken": token}, now=NOW)
                ids += [job["JobId"] for job in response.jobs]
                totals.add(response.total_count)
                token = response.next_token
                if token:
                    versions.add(self.codec.decode(token).snapshot)
            assert len(totals) == 1
            self.walks.append((wire, before, store.version, ids, versions))

    def page_by_offset(self, seed: int) -> None:
        store, rng = self.store, random.Random(seed)
        while not self.stop.is_set():
            wire = {**_random_request(rng), "PageNumber": str(rng.randrange(1, 6))}
            before = store.version
            response = store.list_jobs(wire, now=NOW)
            ids = [job["JobId"] for job in response.jobs]
            self.pages.append((wire, before, store.version, ids, response.total_count))


def test_readers_page_consistently_while_a_writer_updates() -> None:
    records = generate_records(400, seed=21, start=NOW - timedelta(days=20), end=NOW)
    fresh = generate_records(300, seed=22, start=NOW - timedelta(days=20), end=NOW)
    store = JobStore.from_records(records, token_key=KEY, keep_versions=100_000)
    updates = _Updates(store, fresh)
    updates.run()
    assert not updates.failures, updates.failures
    assert store.version > MIN_UPDATES, f"the writer published {store.version - 1} versions"
    assert updates.walks and updates.pages

    spanning = 0
    for wire, before, after, ids, versions in updates.walks:
        assert len(versions) <= 1, "a walk left its version"
        # the version the walk started on was current at some moment during its first page
        candidates = range(before, after + 1)
        full = [store.query(wire, now=NOW, version=v)["JobId"].to_list() for v in candidates]
        assert ids in full, "a token walk skipped or repeated jobs"
        spanning += after > before
    assert spanning, "no walk overlapped an update"
    for wire, before, after, ids, total in updates.pages:
        answers = []
        for version in range(before, after + 1):
            response = JobStore(store.snapshot_at(version)).list_jobs(wire, now=NOW)
            answers.append(([job["JobId"] for job in response.jobs], response.total_count))
        assert (ids, total) in answers, "an offset page mixed versions"


@settings(max_examples=capped(10))
@given(seed=st.integers(0, 2**16))
def test_old_snapshots_are_unchanged_by_later_updates(seed: int) -> None:
    rng = random.Random(seed)
    records = generate_records(60, seed=seed)
    store = JobStore.from_records(records)
    frames = [store.snapshot.frame.clone()]
    snapshots = [store.snapshot]
    for _ in range(4):
        victims = [r["JobId"] for r in rng.sample(records, 3)]
        store.apply(upserts=[dict(rng.choice(records), Status="Stopped")], deletions=victims)
        frames.append(store.snapshot.frame.clone())
        snapshots.append(store.snapshot)
    for snapshot, frame in zip(snapshots, frames, strict=True):
        assert_frame_equal(snapshot.frame, frame)
