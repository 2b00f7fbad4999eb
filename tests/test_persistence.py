"""Saved snapshots: a round trip changes nothing; a crash or a damaged file never passes as good.

``JobStore.save`` writes one Parquet file (frame with its index, manifest in the metadata)
through a temporary name, fsync and rename; ``JobStore.open`` reads it back without rebuilding
the index. A save that dies half-way leaves the previous file intact; a truncated, corrupted or
mismatched file raises ``DumpFormatError``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from polars.testing import assert_frame_equal

from jobquery import DumpFormatError
from jobquery.io import saved as persist
from jobquery.io.writing import remove_stale_temporaries
from jobquery.snapshot import RANKED_SORT_KEYS, rank_column, rank_order_columns
from jobquery.store import JobStore
from jobquery.synth import DEFAULT_END, generate_records
from tests.helpers.buffers import data_buffers
from tests.helpers.processes import dead_process_id

NOW = DEFAULT_END
REQUESTS: list[dict[str, str]] = [
    {},
    {"StartTime": "2000-01-01T00:00:00Z", "PageSize": "50"},
    {"SortBy": "DisplayName", "Order": "asc", "PageSize": "7", "PageNumber": "3"},
    {"SortBy": "GmtFinishTime", "StartTime": "2000-01-01T00:00:00Z", "Status": "Failed"},
    {"DisplayName": "train", "StartTime": "2000-01-01T00:00:00Z", "SortBy": "Status"},
]


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    return generate_records(300, seed=5, start=NOW - timedelta(days=30), end=NOW)


@pytest.fixture(params=[False, True], ids=["plain-texts", "compressed-texts"])
def store(records: list[dict[str, Any]], request: pytest.FixtureRequest) -> JobStore:
    store = JobStore.from_records(records[:250], compress_texts=request.param)
    store.apply(upserts=records[250:], deletions=[records[0]["JobId"]])
    return store


def answers(store: JobStore) -> list[dict[str, Any]]:
    return [store.list_jobs(request, now=NOW, request_id="R").to_wire() for request in REQUESTS]


def test_a_saved_snapshot_opens_equal(store: JobStore, tmp_path: Path) -> None:
    path = tmp_path / "jobs.snapshot"
    assert store.save(path) == 1
    opened = JobStore.open(path)
    assert_frame_equal(opened.snapshot.frame, store.snapshot.frame)
    assert_frame_equal(opened.snapshot.live, store.snapshot.live)
    assert opened.snapshot.records() == store.snapshot.records()
    assert answers(opened) == answers(store)
    assert opened.version == store.version


def test_an_opened_snapshot_shares_its_strings_as_the_built_one_does(
    store: JobStore, tmp_path: Path
) -> None:
    path = tmp_path / "jobs.snapshot"
    store.save(path)
    frame = JobStore.open(path).snapshot.frame
    users = frame["UserId"]
    distinct_bytes = int(users.unique().drop_nulls().str.len_bytes().sum())
    assert sum(data_buffers(users).values()) < 2 * distinct_bytes + 1024
    assert data_buffers(frame["ix_JobId"]) == data_buffers(frame["JobId"])


def test_open_reads_the_index_instead_of_rebuilding_it(
    store: JobStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.save(tmp_path / "jobs.snapshot")

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the index was rebuilt")

    monkeypatch.setattr("jobquery.snapshot.table._extract_columns", refuse)
    monkeypatch.setattr("jobquery.snapshot.native_index._extract_columns", refuse)
    monkeypatch.setattr("jobquery.snapshot.table._put_in_order", refuse)
    monkeypatch.setattr("jobquery.snapshot.table._rank", refuse)
    opened = JobStore.open(tmp_path / "jobs.snapshot")
    assert answers(opened) == answers(store)


def test_an_opened_store_takes_updates(
    store: JobStore, records: list[dict[str, Any]], tmp_path: Path
) -> None:
    store.save(tmp_path / "jobs.snapshot")
    opened = JobStore.open(tmp_path / "jobs.snapshot")
    change = [dict(records[5], Status="Stopped")]
    assert opened.upsert(change) == store.upsert(change) == 2
    assert_frame_equal(opened.snapshot.frame_with_ranks(), store.snapshot.frame_with_ranks())


def test_a_format_1_file_opens_in_todays_row_order(
    records: list[dict[str, Any]], tmp_path: Path
) -> None:
    """Format 1 kept deleted jobs among the others, ranked over all jobs."""
    marked = [dict(record, IsDeleted=index % 7 == 0) for index, record in enumerate(records)]
    store = JobStore.from_records(marked)
    frame = store.snapshot.frame
    old = frame.sort(["GmtCreateTime", "ix_JobId", "JobId"], nulls_last=False)
    old = old.with_columns(
        pl.int_range(pl.len(), dtype=pl.UInt32)
        .sort_by(rank_order_columns(key)[1:], nulls_last=False, maintain_order=True)
        .arg_sort()
        .cast(pl.UInt32)
        .alias(rank_column(key))
        for key in RANKED_SORT_KEYS
    )
    assert not old["IsDeleted"].head(frame.height // 2).not_().all(), "the case is vacuous"
    manifest = persist.Manifest(
        snapshot_version=3,
        rows=old.height,
        columns=dict((name, str(dtype)) for name, dtype in old.schema.items()),
        format_version=1,
    )
    table = old.to_arrow().replace_schema_metadata({persist.MANIFEST_KEY: manifest.to_json()})
    persist._write_table(table, tmp_path / "old.snapshot")
    opened = JobStore.open(tmp_path / "old.snapshot")
    assert_frame_equal(opened.snapshot.frame_with_ranks(), store.snapshot.frame_with_ranks())
    assert answers(opened) == answers(store)


def test_an_empty_store_round_trips(tmp_path: Path) -> None:
    store = JobStore.from_records([])
    store.save(tmp_path / "empty.snapshot")
    opened = JobStore.open(tmp_path / "empty.snapshot")
    assert len(opened) == 0
    assert opened.list_jobs({}).to_wire()["Jobs"] == []


def test_a_crash_during_a_save_keeps_the_previous_file(
    store: JobStore, records: list[dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "jobs.snapshot"
    store.save(path)
    good = path.read_bytes()
    store.upsert([dict(records[9], DisplayName="after the good save")])

    def dies_half_way(table: pa.Table, temporary: Path) -> None:
        temporary.write_bytes(good[: len(good) // 2])
        raise OSError("disk full")

    monkeypatch.setattr(persist, "_write_table", dies_half_way)
    with pytest.raises(OSError, match="disk full"):
        store.save(path)
    assert path.read_bytes() == good
    assert [entry.name for entry in tmp_path.iterdir()] == ["jobs.snapshot"]  # no leftovers
    assert JobStore.open(path).version == 1


def test_a_crash_before_the_rename_keeps_the_previous_file(
    store: JobStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "jobs.snapshot"
    store.save(path)
    good = path.read_bytes()

    def no_rename(source: Any, target: Any) -> None:
        raise KeyboardInterrupt  # the process is stopped right before the rename

    monkeypatch.setattr("jobquery.io.writing.os.replace", no_rename)
    with pytest.raises(KeyboardInterrupt):
        store.save(path)
    assert path.read_bytes() == good
    assert [entry.name for entry in tmp_path.iterdir()] == ["jobs.snapshot"]


#: A process that saves a snapshot over and over, until it is killed.
SAVING_FOREVER = """
import sys
from jobquery.store import JobStore
from jobquery.synth import generate_records

store = JobStore.from_records(generate_records(4000, seed=3))
store.save(sys.argv[1])
print("saved", flush=True)
while True:
    store.save(sys.argv[1])
"""


def killed_during_a_save(path: Path) -> list[Path]:
    """Start a process saving ``path`` again and again; SIGKILL it while its temporary file
    exists; return what it left beside the file (tried until it left something)."""
    for _attempt in range(20):
        saver = subprocess.Popen(
            [sys.executable, "-c", SAVING_FOREVER, str(path)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parents[1],
        )
        try:
            assert saver.stdout is not None and saver.stdout.readline() == "saved\n"
            deadline = time.monotonic() + 30
            while not leftovers(path) and time.monotonic() < deadline:
                time.sleep(0.002)
            saver.send_signal(signal.SIGKILL)
        finally:
            saver.kill()
            saver.communicate()
        if leftovers(path):
            return leftovers(path)
    raise AssertionError("no save was ever caught half-way")


def leftovers(path: Path) -> list[Path]:
    return sorted(entry for entry in path.parent.iterdir() if entry != path)


@pytest.mark.parametrize("then", ["open", "save"])
def test_what_a_killed_save_leaves_is_removed_by_the_next_open_or_save(
    tmp_path: Path, then: str
) -> None:
    """Issue 15, item 8: SIGKILL during a save left its temporary file behind for good."""
    path = tmp_path / "jobs.snapshot"
    left = killed_during_a_save(path)
    assert left and all(entry.name.endswith(".tmp") for entry in left)
    opened = JobStore.open(path)  # the last complete save
    if then == "save":
        opened.save(path)
    assert leftovers(path) == []
    assert len(JobStore.open(path)) == 4000


def test_a_live_writers_temporary_file_is_never_removed(
    store: JobStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "jobs.snapshot"
    store.save(path)
    writing, finish = threading.Event(), threading.Event()
    write_table = persist._write_table

    def slow_write(table: pa.Table, temporary: Path) -> None:
        write_table(table, temporary)
        writing.set()
        assert finish.wait(30)

    monkeypatch.setattr(persist, "_write_table", slow_write)
    saver = threading.Thread(target=store.save, args=(path,))
    saver.start()
    try:
        assert writing.wait(30)
        (temporary,) = leftovers(path)
        # another reader opens the file, another writer cleans up: the live one is left alone
        JobStore.open(path)
        assert remove_stale_temporaries(path) == []
        assert temporary.exists()
    finally:
        finish.set()
        saver.join()
    assert leftovers(path) == []
    assert JobStore.open(path).version == store.version


def test_only_temporaries_of_dead_processes_nobody_locks_are_removed(tmp_path: Path) -> None:
    path = tmp_path / "jobs.snapshot"
    dead = dead_process_id()
    of_the_dead = tmp_path / f".jobs.snapshot.{dead}.00ff00ff.tmp"
    # a writer of this (live) process between creating its file and locking it
    of_the_living = tmp_path / f".jobs.snapshot.{os.getpid()}.00ff00ff.tmp"
    other_target = tmp_path / f".other.snapshot.{dead}.00ff00ff.tmp"
    for entry in (of_the_dead, of_the_living, other_target):
        entry.write_bytes(b"half a snapshot")
    assert remove_stale_temporaries(path) == [of_the_dead]
    assert sorted(entry.name for entry in tmp_path.iterdir()) == sorted(
        [of_the_living.name, other_target.name]
    )


@pytest.mark.parametrize("keep", [0, 8, 100, 0.5, 0.99])
def test_a_truncated_file_is_refused(store: JobStore, tmp_path: Path, keep: float) -> None:
    path = tmp_path / "jobs.snapshot"
    store.save(path)
    data = path.read_bytes()
    path.write_bytes(data[: int(keep if keep >= 1 else len(data) * keep)])
    with pytest.raises(DumpFormatError) as caught:
        JobStore.open(path)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize("where", [0.2, 0.4, 0.6])
def test_a_corrupted_file_is_refused(store: JobStore, tmp_path: Path, where: float) -> None:
    path = tmp_path / "jobs.snapshot"
    store.save(path)
    data = bytearray(path.read_bytes())
    # in the column data: the footer holds a compressed snapshot's text dictionary twice
    # (key-value and Arrow schema); which copy is read is checked by its SHA-256 (see
    # test_a_damaged_text_dictionary_is_refused), the other is never used
    footer = pq.ParquetFile(path).metadata.serialized_size + 8
    at = int((len(data) - footer) * where)
    data[at : at + 4] = bytes(byte ^ 0x5A for byte in data[at : at + 4])
    path.write_bytes(bytes(data))
    with pytest.raises(DumpFormatError):
        JobStore.open(path)


@pytest.mark.parametrize("where", [0.2, 0.4, 0.6])
def test_a_corrupted_file_read_with_other_dumps_is_refused(
    store: JobStore, tmp_path: Path, where: float
) -> None:
    """Read among other dumps, a saved snapshot is read as a jobquery export (its job texts
    only), whose pages' checksums went unchecked: a damaged byte changed every PRIVATE job's
    visibility. Now refused, or (damage in a column not read) the same jobs."""
    path, other = tmp_path / "jobs.snapshot", tmp_path / "other.ndjson"
    store.save(path)
    other.write_text('{"JobId": "other"}\n', encoding="utf-8")
    intact = JobStore.from_path(path, other).query({"StartTime": "2000-01-01T00:00:00Z"})
    data = bytearray(path.read_bytes())
    footer = pq.ParquetFile(path).metadata.serialized_size + 8
    at = int((len(data) - footer) * where)
    data[at : at + 4] = bytes(byte ^ 0x5A for byte in data[at : at + 4])
    path.write_bytes(bytes(data))
    try:
        read = JobStore.from_path(path, other)
    except DumpFormatError as refused:
        assert "not a readable parquet file" in str(refused)
    else:
        assert_frame_equal(read.query({"StartTime": "2000-01-01T00:00:00Z"}), intact)


def _rewrite_manifest(path: Path, edit: Any) -> None:
    table = pq.read_table(path)
    manifest = json.loads(table.schema.metadata[persist.MANIFEST_KEY])
    edit(manifest)
    metadata = {**table.schema.metadata, persist.MANIFEST_KEY: json.dumps(manifest).encode()}
    pq.write_table(table.replace_schema_metadata(metadata), path)


def _with_checksum(change: Any) -> Any:
    """An edit that also fixes the checksum: only the data check can catch it."""

    def edit(manifest: dict[str, Any]) -> None:
        change(manifest)
        fields = {key: value for key, value in manifest.items() if key != "checksum"}
        manifest["checksum"] = persist._checksum(fields)

    return edit


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m.update(rows=m["rows"] + 1), "checksum"),
        (_with_checksum(lambda m: m.update(rows=m["rows"] + 1)), "promises"),
        (_with_checksum(lambda m: m["columns"].pop("job_json")), "columns"),
        (_with_checksum(lambda m: m.update(format_version=99)), "format version 99"),
        (lambda m: m.update(format="something else"), "not a jobquery snapshot"),
        (lambda m: m.pop("snapshot_version"), "checksum"),
    ],
    ids=["rows", "rows-rechecked", "columns", "format-version", "format", "field-missing"],
)
def test_a_mismatched_manifest_is_refused(
    store: JobStore, tmp_path: Path, edit: Any, message: str
) -> None:
    path = tmp_path / "jobs.snapshot"
    store.save(path)
    _rewrite_manifest(path, edit)
    with pytest.raises(DumpFormatError, match=message):
        JobStore.open(path)


@pytest.mark.parametrize("damage", ["flipped", "missing"])
def test_a_damaged_text_dictionary_is_refused(
    records: list[dict[str, Any]], tmp_path: Path, damage: str
) -> None:
    path = tmp_path / "jobs.snapshot"
    JobStore.from_records(records, compress_texts=True).save(path)
    table = pq.read_table(path)
    metadata = dict(table.schema.metadata)
    dictionary = metadata.pop(persist.DICTIONARY_KEY)
    if damage == "flipped":
        metadata[persist.DICTIONARY_KEY] = dictionary[:-1] + bytes([dictionary[-1] ^ 1])
    pq.write_table(table.replace_schema_metadata(metadata), path)
    with pytest.raises(DumpFormatError, match="dictionary of the compressed job texts"):
        JobStore.open(path)


def test_a_parquet_export_is_not_a_snapshot(store: JobStore, tmp_path: Path) -> None:
    store.export(tmp_path / "jobs.parquet")
    with pytest.raises(DumpFormatError, match="no manifest"):
        JobStore.open(tmp_path / "jobs.parquet")


def test_a_json_dump_is_not_a_snapshot(tmp_path: Path) -> None:
    (tmp_path / "jobs.json").write_text('{"Jobs": []}')
    with pytest.raises(DumpFormatError):
        JobStore.open(tmp_path / "jobs.json")


def test_a_missing_file_is_reported_as_missing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        JobStore.open(tmp_path / "nothing.snapshot")
