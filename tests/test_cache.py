"""The snapshot cache: a hit answers as the build does, and a cache never gives a wrong answer.

Each promise of ``jobquery/cache.py`` has a test here: a cached snapshot is the built one,
memory-mapped; a changed dump is rebuilt; a damaged entry is rebuilt with a notice, never used;
two processes filling one entry leave one whole entry; a folder that cannot be written means
working without the cache; the least recently used entries make room; a saved snapshot is a
dump. The command line's side (``--no-cache``, ``jobquery cache``, the fill after the answer,
progress bars) is tested at the end.
"""

from __future__ import annotations

import errno
import fcntl
import io
import mmap
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

import orjson
import polars as pl
import pytest
from click.testing import CliRunner, Result
from polars.testing import assert_frame_equal

from jobquery import DumpFormatError
from jobquery.cli.app import cli
from jobquery.cli.progress import ProgressBar
from jobquery.io import cache as snapshot_cache
from jobquery.io.cache import (
    ENTRY_SUFFIX,
    Loaded,
    SnapshotCache,
    code_files,
    key_of,
    load,
    parse_size,
)
from jobquery.io.dumps import resolve_paths
from jobquery.io.writing import DirectWrites
from jobquery.server import StoreReloader
from jobquery.snapshot import RANKED_SORT_KEYS, native_index
from jobquery.store import JobStore
from jobquery.synth import DEFAULT_END, generate_records
from tests.helpers.processes import dead_process_id

NOW = DEFAULT_END
REQUESTS: list[dict[str, str]] = [
    {},
    {"StartTime": "2000-01-01T00:00:00Z", "PageSize": "50"},
    {"SortBy": "DisplayName", "Order": "asc", "PageSize": "7", "PageNumber": "3"},
    {"Status": "Failed,Running", "StartTime": "2000-01-01T00:00:00Z", "SortBy": "Status"},
    {"DisplayName": "train", "StartTime": "2000-01-01T00:00:00Z", "Tags": '{"team":"rec"}'},
]


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    return generate_records(400, seed=11, start=NOW - timedelta(days=20), end=NOW)


def write_ndjson(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(record) + b"\n" for record in records))
    return path


@pytest.fixture
def dump(tmp_path: Path, records: list[dict[str, Any]]) -> Path:
    return write_ndjson(tmp_path / "jobs.ndjson", records)


def notices() -> tuple[list[str], Any]:
    said: list[str] = []
    return said, said.append


def quick_cache(folder: Path, notice: Any = None, **settings: Any) -> SnapshotCache:
    """A cache that takes dumps written a moment ago (the tests write them just before)."""
    settings.setdefault("settle_seconds", 0.0)
    if notice is not None:
        settings["notice"] = notice
    return SnapshotCache(folder, **settings)


def filled(cache: SnapshotCache, *paths: Path, **options: Any) -> Loaded:
    """Load some dumps through the cache, and write the entry a miss owes."""
    loaded = load(paths, cache=cache, **options)
    if loaded.pending is not None:
        assert loaded.pending.write() is not None
    return loaded


def answers(store: JobStore) -> list[dict[str, Any]]:
    return [store.list_jobs(request, now=NOW, request_id="R").to_wire() for request in REQUESTS]


def entries_in(folder: Path) -> list[Path]:
    return sorted(folder.glob(f"*{ENTRY_SUFFIX}"))


# ---------------------------------------------------------------------------------------------
# A hit is the built snapshot


@pytest.mark.parametrize("compress_texts", [False, True], ids=["plain-texts", "compressed-texts"])
def test_a_cached_snapshot_answers_as_the_built_one(
    dump: Path, tmp_path: Path, compress_texts: bool
) -> None:
    cache = quick_cache(tmp_path / "cache")
    built = filled(cache, dump, compress_texts=compress_texts)
    assert built.origin == "dumps"
    hit = load([dump], cache=cache, compress_texts=compress_texts)
    assert hit.origin == "cache"
    assert hit.pending is None
    assert_frame_equal(hit.snapshot.frame, built.snapshot.frame)
    assert (hit.snapshot.codec is None) == (not compress_texts)
    cached, fresh = JobStore.from_loaded(hit), JobStore.from_loaded(built)
    assert answers(cached) == answers(fresh)
    request = {"StartTime": "2000-01-01T00:00:00Z", "Status": "Failed"}
    assert_frame_equal(cached.query(request, now=NOW), fresh.query(request, now=NOW))
    job_id = built.snapshot.frame["JobId"][7]
    assert cached.get_job(job_id) == fresh.get_job(job_id)


def test_an_entry_holds_every_rank_column_computed_before_it_is_written(
    dump: Path, tmp_path: Path
) -> None:
    # a build leaves the rank columns to first use; the entry is written with all of them, so
    # that an opened entry sorts by any key without computing a rank
    cache = quick_cache(tmp_path / "cache")
    built = load([dump], cache=cache)
    assert built.snapshot.ranks_computed() == {}
    assert built.pending is not None
    assert built.pending.write() is not None
    assert set(built.snapshot.ranks_computed()) == set(RANKED_SORT_KEYS)
    hit = load([dump], cache=cache)
    assert hit.origin == "cache"
    assert set(hit.snapshot.ranks_computed()) == set(RANKED_SORT_KEYS)  # read, not computed
    for key in RANKED_SORT_KEYS:
        assert hit.snapshot.rank(key).tolist() == built.snapshot.rank(key).tolist()
    assert_frame_equal(hit.snapshot.frame_with_ranks(), built.snapshot.frame_with_ranks())
    cached = JobStore.from_loaded(hit, background_warm_up=False)
    fresh = JobStore.from_loaded(load([dump]), background_warm_up=False)
    for key in RANKED_SORT_KEYS:
        for order in ("asc", "desc"):
            request = {"StartTime": "2000-01-01T00:00:00Z", "SortBy": key, "Order": order}
            page = {**request, "PageSize": "9", "PageNumber": "2"}
            assert cached.list_jobs(page, now=NOW).jobs == fresh.list_jobs(page, now=NOW).jobs


def test_a_cached_store_takes_updates(dump: Path, tmp_path: Path, records: list[Any]) -> None:
    # the mapped buffers are read-only: an update must build its new version aside
    cache = quick_cache(tmp_path / "cache")
    filled(cache, dump)
    store = JobStore.from_path(dump, cache=cache)
    changed = {**records[3], "DisplayName": "renamed-after-caching"}
    store.apply(upserts=[changed], deletions=[records[4]["JobId"]])
    reference = JobStore.from_records(records)
    reference.apply(upserts=[changed], deletions=[records[4]["JobId"]])
    assert answers(store) == answers(reference)


def test_a_hit_maps_the_entry_instead_of_reading_it(dump: Path, tmp_path: Path) -> None:
    cache = quick_cache(tmp_path / "cache")
    filled(cache, dump)
    hit = load([dump], cache=cache)
    (entry,) = entries_in(tmp_path / "cache")
    mapped = [
        tuple(int(bound, 16) for bound in line.split()[0].split("-"))
        for line in Path("/proc/self/maps").read_text().splitlines()
        if line.endswith(str(entry))
    ]
    assert mapped, "the entry is not mapped into memory"
    texts = hit.snapshot.frame["job_json"].to_arrow(compat_level=pl.CompatLevel.newest())
    for buffer in texts.buffers()[1:]:  # the views and the texts themselves
        assert any(start <= buffer.address < end for start, end in mapped)


def test_from_path_with_the_cache_on_fills_then_hits(
    dump: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = quick_cache(tmp_path / "cache")
    first = JobStore.from_path(dump, cache=cache)
    assert len(entries_in(tmp_path / "cache")) == 1

    def no_build(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a hit must not build the snapshot")

    monkeypatch.setattr(snapshot_cache, "snapshot_from_dump", no_build)
    second = JobStore.from_path(dump, cache=cache)
    assert answers(second) == answers(first)


def test_cache_true_uses_the_folder_of_the_environment(
    dump: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOBQUERY_CACHE_DIR", str(tmp_path / "from-env"))
    monkeypatch.setenv("JOBQUERY_CACHE_MAX_SIZE", "3GiB")
    assert SnapshotCache.from_environment().folder == tmp_path / "from-env"
    assert SnapshotCache.from_environment().max_bytes == 3 * 2**30
    os.utime(dump, ns=(time.time_ns() - 10**10,) * 2)
    time.sleep(snapshot_cache.SETTLE_SECONDS)  # the change of times must settle too
    JobStore.from_path(dump, cache=True)
    assert len(entries_in(tmp_path / "from-env")) == 1


# ---------------------------------------------------------------------------------------------
# The key: what changes the snapshot changes the entry


def test_a_changed_dump_is_rebuilt(dump: Path, tmp_path: Path, records: list[Any]) -> None:
    cache = quick_cache(tmp_path / "cache")
    filled(cache, dump)
    # the same size, written in place (same inode), its modification time put back
    before = dump.stat()
    text = dump.read_bytes()
    old_name = records[0]["DisplayName"].encode()
    new_name = old_name[::-1] if old_name[::-1] != old_name else old_name.upper()
    key = key_of(resolve_paths([dump]), lenient=False, compress_texts=False)
    while True:
        with dump.open("r+b") as handle:
            handle.write(text.replace(old_name, new_name, 1))
        os.utime(dump, ns=(before.st_atime_ns, before.st_mtime_ns))
        if key_of(resolve_paths([dump]), lenient=False, compress_texts=False) != key:
            break
        time.sleep(0.01)  # the same timestamp tick: write again
    assert dump.stat().st_size == before.st_size
    assert dump.stat().st_mtime_ns == before.st_mtime_ns
    again = load([dump], cache=cache)
    assert again.origin == "dumps"
    names = again.snapshot.frame["DisplayName"].to_list()
    assert new_name.decode() in names


def test_entries_are_keyed_on_every_source_of_the_package() -> None:
    # a change to the build (jobquery/snapshot) or to a matching rule must start fresh entries
    sources = {path.relative_to(snapshot_cache.PACKAGE).as_posix() for path in code_files()}
    package = Path(snapshot_cache.__file__).resolve().parents[1]
    assert sources == {path.relative_to(package).as_posix() for path in package.rglob("*.py")}
    assert {"snapshot/native_index.py", "plan/filters.py", "io/cache.py", "request.py"} <= sources


def test_the_entry_of_a_dump_before_it_changed_is_removed(
    dump: Path, tmp_path: Path, records: list[Any]
) -> None:
    cache = quick_cache(tmp_path / "cache")
    filled(cache, dump)
    filled(cache, dump, lenient=True)  # other options: another entry, kept
    lenient_entry = cache.entry_path(
        key_of(resolve_paths([dump]), lenient=True, compress_texts=False)
    )
    other = tmp_path / "other.ndjson"
    write_ndjson(other, records[:10])
    filled(cache, other)  # other files: kept
    before = set(entries_in(tmp_path / "cache"))
    assert len(before) == 3
    write_ndjson(dump, records[:-1])  # the dump changes
    rebuilt = filled(cache, dump)
    assert rebuilt.origin == "dumps"
    after = set(entries_in(tmp_path / "cache"))
    new_entry = cache.entry_path(key_of(resolve_paths([dump]), lenient=False, compress_texts=False))
    assert after - before == {new_entry}
    assert len(before - after) == 1  # only the entry of the dump as it was
    assert lenient_entry in after  # until a lenient read rebuilds it
    assert load([other], cache=cache).origin == "cache"
    filled(cache, dump, lenient=True)
    assert lenient_entry not in set(entries_in(tmp_path / "cache"))
    assert len(entries_in(tmp_path / "cache")) == 3


@pytest.mark.parametrize(
    "options",
    [{"lenient": True}, {"compress_texts": True}],
    ids=["lenient", "compress_texts"],
)
def test_an_option_that_changes_the_snapshot_is_another_entry(
    dump: Path, tmp_path: Path, options: dict[str, bool]
) -> None:
    cache = quick_cache(tmp_path / "cache")
    filled(cache, dump)
    assert load([dump], cache=cache, **options).origin == "dumps"
    filled(cache, dump, **options)
    assert len(entries_in(tmp_path / "cache")) == 2
    assert load([dump], cache=cache, **options).origin == "cache"


def test_a_folder_is_keyed_on_the_files_it_holds(tmp_path: Path, records: list[Any]) -> None:
    folder = tmp_path / "dumps"
    folder.mkdir()
    write_ndjson(folder / "a.ndjson", records[:200])
    cache = quick_cache(tmp_path / "cache")
    filled(cache, folder)
    assert load([folder], cache=cache).origin == "cache"
    write_ndjson(folder / "b.ndjson", records[200:])
    grown = load([folder], cache=cache)
    assert grown.origin == "dumps"
    assert len(grown.snapshot) == len(records)


def test_a_dump_changed_just_before_it_was_read_is_not_cached(dump: Path, tmp_path: Path) -> None:
    # a second write within the same timestamp tick would leave the times as they are
    cache = SnapshotCache(tmp_path / "cache")  # the default settling time
    loaded = load([dump], cache=cache)
    assert loaded.pending is not None
    assert loaded.pending.write() is None
    assert entries_in(tmp_path / "cache") == []


def test_a_dump_changed_while_it_was_read_is_not_cached(
    dump: Path, tmp_path: Path, records: list[Any]
) -> None:
    cache = quick_cache(tmp_path / "cache")
    loaded = load([dump], cache=cache)
    write_ndjson(dump, records[:10])
    assert loaded.pending is not None
    assert loaded.pending.write() is None
    assert entries_in(tmp_path / "cache") == []


# ---------------------------------------------------------------------------------------------
# A damaged entry is rebuilt, with a notice, never used


def _truncate(entry: Path) -> None:
    data = entry.read_bytes()
    entry.write_bytes(data[: len(data) // 2])


def _flip_a_data_byte(entry: Path) -> None:
    data = bytearray(entry.read_bytes())
    data[len(data) // 3] ^= 0x20
    entry.write_bytes(bytes(data))


def _damage_the_trailer(entry: Path) -> None:
    data = bytearray(entry.read_bytes())
    data[-40] ^= 0x01
    entry.write_bytes(bytes(data))


def _replace_with_garbage(entry: Path) -> None:
    entry.write_bytes(b"not a snapshot at all" * 100)


def _append_a_byte(entry: Path) -> None:
    with entry.open("ab") as handle:
        handle.write(b"\0")


DAMAGES = {
    "truncated": _truncate,
    "a flipped data byte": _flip_a_data_byte,
    "a damaged trailer": _damage_the_trailer,
    "garbage": _replace_with_garbage,
    "a byte appended": _append_a_byte,
}


@pytest.mark.parametrize("damage", list(DAMAGES), ids=list(DAMAGES))
def test_a_damaged_entry_is_rebuilt_with_a_notice(dump: Path, tmp_path: Path, damage: str) -> None:
    said, notice = notices()
    cache = quick_cache(tmp_path / "cache", notice)
    built = filled(cache, dump)
    (entry,) = entries_in(tmp_path / "cache")
    DAMAGES[damage](entry)
    again = load([dump], cache=cache)
    assert again.origin == "dumps"
    assert_frame_equal(again.snapshot.frame, built.snapshot.frame)
    assert len(said) == 1
    assert said[0].startswith(f"note: the cached snapshot {entry.name} is damaged (")
    assert said[0].endswith("); rebuilding it")
    assert "\n" not in said[0]
    assert not entry.exists()
    assert again.pending is not None
    again.pending.write()
    assert load([dump], cache=cache).origin == "cache"


def test_an_entry_of_other_dumps_under_this_name_is_not_used(
    tmp_path: Path, records: list[Any]
) -> None:
    said, notice = notices()
    cache = quick_cache(tmp_path / "cache", notice)
    first = write_ndjson(tmp_path / "first.ndjson", records[:100])
    second = write_ndjson(tmp_path / "second.ndjson", records[100:])
    filled(cache, first)
    key = key_of(resolve_paths([second]), lenient=False, compress_texts=False)
    (entry,) = entries_in(tmp_path / "cache")
    entry.rename(cache.entry_path(key))
    loaded = load([second], cache=cache)
    assert loaded.origin == "dumps"
    assert len(loaded.snapshot) == len(records) - 100
    assert "written for other dumps" in said[0]


@pytest.mark.parametrize("where", ["first", "last"])
def test_a_large_entry_always_checks_its_first_and_last_blocks(
    dump: Path, tmp_path: Path, where: str
) -> None:
    said, notice = notices()
    cache = quick_cache(tmp_path / "cache", notice, full_check_bytes=0)
    filled(cache, dump)
    (entry,) = entries_in(tmp_path / "cache")
    trailer = snapshot_cache._read_trailer(entry)
    data = bytearray(entry.read_bytes())
    # inside the IPC data: a byte of the schema block, or of the footer block
    position = 100 if where == "first" else trailer["ipc_bytes"] - 20
    data[position] ^= 0x01
    entry.write_bytes(bytes(data))
    assert load([dump], cache=cache).origin == "dumps"
    assert "fails its checksum" in said[0] or "unreadable" in said[0]


def test_the_columns_deciding_who_sees_a_job_are_checked_on_every_open(
    dump: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A damaged byte the sample missed in an entry's visibility column showed a user another
    user's private job (`private` read as `prjvate`) until a later open sampled its block."""
    said, notice = notices()
    cache = quick_cache(tmp_path / "cache", notice, full_check_bytes=0, block_bytes=4096)
    filled(cache, dump)
    (entry,) = entries_in(tmp_path / "cache")
    data = bytearray(entry.read_bytes())
    inline = b"\x07\x00\x00\x00private"  # a string view holding its text: ix_Accessibility
    found = [at for at in range(len(data)) if data.startswith(inline, at)]
    assert found
    at = found[len(found) // 2]
    data[at + 6] = ord("j")
    entry.write_bytes(bytes(data))
    monkeypatch.setattr(snapshot_cache, "SAMPLED_BLOCKS", 0)  # the first and last blocks only
    assert load([dump], cache=cache).origin == "dumps"
    assert f"block {at // 4096} fails its checksum" in said[0]


def test_verify_checks_every_block(dump: Path, tmp_path: Path) -> None:
    cache = quick_cache(tmp_path / "cache", full_check_bytes=0, block_bytes=4096)
    filled(cache, dump)
    (entry,) = entries_in(tmp_path / "cache")
    trailer = snapshot_cache._read_trailer(entry)
    blocks = len(trailer["block_crc32"])
    assert blocks > 100
    data = bytearray(entry.read_bytes())
    damaged_block = blocks // 2  # opening samples it only by chance
    data[damaged_block * 4096 + 10] ^= 0x01
    entry.write_bytes(bytes(data))
    damaged = cache.verify()
    assert [path for path, _ in damaged] == [entry]
    assert f"block {damaged_block} fails its checksum" in damaged[0][1]
    assert not entry.exists()


def test_a_cache_entry_named_as_a_dump_is_opened(dump: Path, tmp_path: Path) -> None:
    cache = quick_cache(tmp_path / "cache")
    built = filled(cache, dump)
    (entry,) = entries_in(tmp_path / "cache")
    # the store maps the entry, which is then rewritten in place: no background warm-up may
    # be reading the mapping meanwhile (a mapped file truncated under a reader stops the
    # process with SIGBUS; the cache itself only ever replaces entries whole)
    opened = JobStore.from_path(entry, background_warm_up=False)
    assert_frame_equal(opened.snapshot.frame, built.snapshot.frame)
    _flip_a_data_byte(entry)
    with pytest.raises(DumpFormatError, match="damaged snapshot cache entry"):
        JobStore.from_path(entry)


@pytest.mark.parametrize("compress_texts", [False, True], ids=["plain-texts", "compressed-texts"])
def test_a_cache_entry_named_with_other_dumps_is_read_as_a_dump(
    tmp_path: Path, records: list[dict[str, Any]], compress_texts: bool
) -> None:
    first = write_ndjson(tmp_path / "first.ndjson", records[:300])
    second = write_ndjson(tmp_path / "second.ndjson", records[250:])
    filled(quick_cache(tmp_path / "cache"), first, compress_texts=compress_texts)
    (entry,) = entries_in(tmp_path / "cache")
    both = JobStore.from_path(first, second, background_warm_up=False)
    from_entry = JobStore.from_path(entry, second, background_warm_up=False)
    assert answers(from_entry) == answers(both)
    _flip_a_data_byte(entry)
    with pytest.raises(DumpFormatError, match="damaged snapshot cache entry"):
        JobStore.from_path(entry, second)


# ---------------------------------------------------------------------------------------------
# Two processes filling one entry


FILLER = """
import sys, time
from pathlib import Path
from jobquery.io.cache import SnapshotCache, load
dump, folder, ready, name = sys.argv[1:5]
cache = SnapshotCache(Path(folder), settle_seconds=0.0)
loaded = load([dump], cache=cache)
Path(ready, name).touch()
while len(list(Path(ready).iterdir())) < 2:  # both built: write at the same moment
    time.sleep(0.001)
assert loaded.pending.write() is not None
print(loaded.snapshot.frame.height)
"""


def test_two_processes_filling_one_entry_leave_one_whole_entry(dump: Path, tmp_path: Path) -> None:
    folder, ready = tmp_path / "cache", tmp_path / "ready"
    ready.mkdir()
    fillers = [
        subprocess.Popen(
            [sys.executable, "-c", FILLER, str(dump), str(folder), str(ready), name],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    for filler in fillers:
        out, err = filler.communicate(timeout=300)
        assert filler.returncode == 0, err
        assert out.strip() == "400"
    assert [path.name for path in folder.iterdir()] == [entries_in(folder)[0].name]
    said, notice = notices()
    cache = quick_cache(folder, notice, full_check_bytes=None)
    assert cache.verify() == []
    hit = load([dump], cache=cache)
    assert hit.origin == "cache"
    assert said == []
    assert answers(JobStore.from_loaded(hit)) == answers(JobStore.from_path(dump))


# ---------------------------------------------------------------------------------------------
# An entry is written past the page cache where the file system allows it

#: A staging buffer of two pages, so that small writes cross its bounds.
STAGE = 8192


def _recorded_writes(monkeypatch: pytest.MonkeyPatch, *, refuse_direct: bool) -> list[bool]:
    """Record, for each ``os.write``, whether the file was open for direct writes (refused
    with EINVAL when ``refuse_direct``, as a file system that takes the flag but not the
    write would)."""
    real_write = os.write
    direct_flags: list[bool] = []

    def write(descriptor: int, data: Any) -> int:
        direct = bool(fcntl.fcntl(descriptor, fcntl.F_GETFL) & getattr(os, "O_DIRECT", 0))
        if direct and refuse_direct:
            raise OSError(errno.EINVAL, "direct writes refused")
        direct_flags.append(direct)
        if direct:
            assert len(data) == STAGE, "a direct write is one whole staging buffer"
        return real_write(descriptor, data)

    monkeypatch.setattr(os, "write", write)
    return direct_flags


def _takes_direct_writes(folder: Path) -> bool:
    """Whether the file system of ``folder`` writes a page-aligned page with ``O_DIRECT``."""
    if not hasattr(os, "O_DIRECT"):
        return False
    try:
        descriptor = os.open(folder / "probe", os.O_WRONLY | os.O_CREAT | os.O_DIRECT)
    except OSError:
        return False
    page = mmap.mmap(-1, STAGE)
    try:
        with memoryview(page) as view:
            os.write(descriptor, view)
    except OSError:
        return False
    finally:
        os.close(descriptor)
        page.close()
        (folder / "probe").unlink()
    return True


@pytest.mark.parametrize("refuse_direct", [False, True], ids=["allowed", "refused-midway"])
@pytest.mark.parametrize("sizes", [[0], [1, STAGE - 1, 1], [STAGE * 3 + 5, 7], [5000] * 9])
def test_an_entry_is_written_past_the_page_cache_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sizes: list[int], refuse_direct: bool
) -> None:
    data = os.urandom(sum(sizes))
    target = tmp_path / "entry"
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    try:
        out = DirectWrites(descriptor, stage_bytes=STAGE)
        allowed = out.direct  # what the file system of tmp_path says
        direct_flags = _recorded_writes(monkeypatch, refuse_direct=refuse_direct)
        at = 0
        for size in sizes:
            out.write(memoryview(data)[at : at + size])
            at += size
        out.finish()
        out.write(memoryview(b"trailer"))  # after finish: as usual
        monkeypatch.undo()
    finally:
        os.close(descriptor)
    assert target.read_bytes() == data + b"trailer"
    assert not out.direct
    assert allowed == _takes_direct_writes(tmp_path)
    whole_stages = 0 if refuse_direct or not allowed else len(data) // STAGE
    assert direct_flags.count(True) == whole_stages
    assert not any(direct_flags[whole_stages:]), "only whole stages go past the page cache"


# ---------------------------------------------------------------------------------------------
# A folder that cannot be written: work without the cache


def test_a_cache_folder_that_is_not_a_folder_means_working_without_it(
    dump: Path, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    said, notice = notices()
    cache = quick_cache(blocker / "cache", notice)
    loaded = load([dump], cache=cache)
    assert loaded.pending is not None
    assert loaded.pending.write() is None
    assert len(loaded.snapshot) == 400
    assert len(said) == 1
    assert said[0].startswith(f"note: the snapshot cache {blocker / 'cache'} cannot be written")
    assert said[0].endswith("working without it")


@pytest.mark.parametrize("kind", ["file", "dangling link"])
def test_a_cache_folder_that_is_a_file_or_a_dangling_link_is_named_so(
    dump: Path, tmp_path: Path, kind: str
) -> None:
    """It said "cannot be written (File exists)"."""
    folder = tmp_path / "cache"
    if kind == "file":
        folder.write_text("not a folder")
    else:
        folder.symlink_to(tmp_path / "nowhere")
    said, notice = notices()
    loaded = load([dump], cache=quick_cache(folder, notice))
    assert loaded.pending is not None and loaded.pending.write() is None
    reason = "a file has its name" if kind == "file" else "a link to nothing"
    assert said == [
        f"note: the snapshot cache {folder} is not a folder ({reason}); working without it"
    ]


def _unprivileged() -> list[str]:
    """A prefix that runs a command as a user file permissions apply to (root ignores them):
    util-linux's ``setpriv`` as ``nobody`` when the tests run as root."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    assert setpriv is not None, "running as root, the read-only test needs setpriv"
    return [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]


@pytest.fixture
def shared_folder() -> Iterator[Path]:
    """A temporary folder another user may read (pytest's own are private to their owner)."""
    folder = Path(tempfile.mkdtemp(prefix="jobquery-cache-test-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        for path in [folder, *folder.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        shutil.rmtree(folder)


def run_cli_process(
    *args: str, env: dict[str, str], prefix: Sequence[str] = (), **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, sys.executable, "-m", "jobquery", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=300,
        check=False,
        **kwargs,
    )


def test_a_read_only_cache_folder_means_working_without_it_but_reading_it(
    shared_folder: Path, records: list[Any]
) -> None:
    dump = write_ndjson(shared_folder / "jobs.ndjson", records)
    dump.chmod(0o644)
    os.utime(dump, ns=(time.time_ns() - 10**10,) * 2)
    time.sleep(snapshot_cache.SETTLE_SECONDS)
    folder = shared_folder / "cache"
    folder.mkdir()
    args = ("list", str(dump), "--start-time", "2000-01-01T00:00:00Z", "--format", "json")
    env = {"JOBQUERY_CACHE_DIR": str(folder)}
    folder.chmod(0o555)
    refused = run_cli_process(*args, env=env, prefix=_unprivileged())
    assert refused.returncode == 0, refused.stderr
    assert f"note: the snapshot cache {folder} cannot be written" in refused.stderr
    assert "working without it" in refused.stderr
    assert entries_in(folder) == []
    # an entry put there before the folder became read-only is still used
    folder.chmod(0o755)
    filled(SnapshotCache(folder), dump)
    (entry,) = entries_in(folder)
    entry.chmod(0o444)
    folder.chmod(0o555)
    reading = run_cli_process(*args, env=env, prefix=_unprivileged())
    assert reading.returncode == 0, reading.stderr
    assert "snapshot cache" not in reading.stderr
    assert orjson.loads(reading.stdout)["Jobs"] == orjson.loads(refused.stdout)["Jobs"]


def _limit_file_size() -> None:
    # writes beyond 1 MiB fail with EFBIG, as on a full disk (the signal would kill instead)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (2**20, 2**20))


def test_a_full_cache_folder_means_working_without_it(dump: Path, tmp_path: Path) -> None:
    os.utime(dump, ns=(time.time_ns() - 10**10,) * 2)
    time.sleep(snapshot_cache.SETTLE_SECONDS)
    folder = tmp_path / "cache"
    args = ("list", str(dump), *LIST)
    full = run_cli_process(
        *args, env={"JOBQUERY_CACHE_DIR": str(folder)}, preexec_fn=_limit_file_size
    )
    assert full.returncode == 0, full.stderr
    assert full.stdout == cli_run(*args, "--no-cache").stdout
    assert f"note: the snapshot cache {folder} is full (" in full.stderr
    assert list(folder.iterdir()) == []  # no temporary file left behind


# ---------------------------------------------------------------------------------------------
# Room: a cap, least recently used entries first


def test_the_least_recently_used_entries_make_room(tmp_path: Path, records: list[Any]) -> None:
    dumps = [
        write_ndjson(tmp_path / f"{n}.ndjson", records[n * 100 : n * 100 + 100]) for n in range(3)
    ]
    probe = quick_cache(tmp_path / "probe")
    filled(probe, dumps[0])
    size = entries_in(tmp_path / "probe")[0].stat().st_size
    # room for two entries, not three
    cache = quick_cache(tmp_path / "cache", max_bytes=int(size * 2.5))
    filled(cache, dumps[0])
    time.sleep(0.02)
    filled(cache, dumps[1])
    time.sleep(0.02)
    assert load([dumps[0]], cache=cache).origin == "cache"  # used: now the most recent
    time.sleep(0.02)
    filled(cache, dumps[2])
    assert load([dumps[1]], cache=cache).origin == "dumps"  # the least recently used went
    assert load([dumps[0]], cache=cache).origin == "cache"
    assert load([dumps[2]], cache=cache).origin == "cache"
    assert sum(path.stat().st_size for path in entries_in(tmp_path / "cache")) <= cache.max_bytes


def test_a_snapshot_larger_than_the_cap_is_not_cached(dump: Path, tmp_path: Path) -> None:
    said, notice = notices()
    cache = quick_cache(tmp_path / "cache", notice, max_bytes=10_000)
    loaded = load([dump], cache=cache)
    assert loaded.pending is not None
    assert loaded.pending.write() is None
    assert entries_in(tmp_path / "cache") == []
    assert "larger than the cache's cap" in said[0]


def test_a_hit_names_skipped_records_files_as_its_caller_spelled_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """They were named as the command that filled the entry spelled them (``bad.ndjson`` for
    a later ``nd/bad.ndjson``)."""
    folder = tmp_path / "nd"
    folder.mkdir()
    (folder / "bad.ndjson").write_text('{"JobId": "a"}\n{bad\n', encoding="utf-8")
    cache = quick_cache(tmp_path / "cache")
    monkeypatch.chdir(folder)
    assert [s.path for s in filled(cache, Path("bad.ndjson"), lenient=True).skipped] == [
        "bad.ndjson"
    ]
    monkeypatch.chdir(tmp_path)
    hit = load([Path("nd") / "bad.ndjson"], cache=cache, lenient=True)
    assert hit.origin == "cache"
    assert [(s.path, s.line) for s in hit.skipped] == [(str(Path("nd") / "bad.ndjson"), 2)]


def test_a_dump_dated_in_the_future_is_not_cached_and_says_why(dump: Path, tmp_path: Path) -> None:
    """It is never settled: every command read it again, and nothing said why."""
    later = time.time_ns() + 86_400 * 10**9
    os.utime(dump, ns=(later, later))
    said, notice = notices()
    loaded = load([dump], cache=quick_cache(tmp_path / "cache", notice))
    assert loaded.pending is not None and loaded.pending.write() is None
    assert said == [
        f"note: {dump.resolve()} is dated in the future; its snapshot is not cached until then"
    ]
    assert entries_in(tmp_path / "cache") == []


def test_a_fill_killed_on_the_way_leaves_nothing_the_next_fill_keeps(
    dump: Path, tmp_path: Path, records: list[Any]
) -> None:
    """A fill killed by SIGTERM or SIGKILL left its temporary file, which nothing counted and
    only a fill an hour later removed. Its writer's process id is in its name now: the next
    fill removes it at once, and never one a live writer holds. Entries are the user's alone."""
    folder = tmp_path / "cache"
    folder.mkdir()
    dead = dead_process_id()
    abandoned = folder / f".{'0' * 40}{ENTRY_SUFFIX}.{dead}.0badf00d.tmp"
    abandoned.write_bytes(b"x" * 1000)
    alive = folder / f".{'1' * 40}{ENTRY_SUFFIX}.{os.getpid()}.0badf00d.tmp"
    alive.write_bytes(b"y")
    holder = os.open(alive, os.O_RDONLY)
    fcntl.flock(holder, fcntl.LOCK_EX)
    try:
        filled(quick_cache(folder), dump)
    finally:
        os.close(holder)
    assert not abandoned.exists() and alive.exists()
    (entry,) = entries_in(folder)
    assert entry.stat().st_mode & 0o777 == 0o600


def test_a_fifo_named_like_an_entry_blocks_nothing(dump: Path, tmp_path: Path) -> None:
    """Listing, verifying and filling opened it, and waited for a writer for ever."""
    folder = tmp_path / "cache"
    folder.mkdir()
    os.mkfifo(folder / f"zz{ENTRY_SUFFIX}")
    cache = quick_cache(folder)
    filled(cache, dump)
    assert [entry.path for entry in cache.entries()] == entries_in(folder)[:1]
    assert cache.verify() == []


def test_clear_removes_every_entry(dump: Path, tmp_path: Path, records: list[Any]) -> None:
    cache = quick_cache(tmp_path / "cache")
    filled(cache, dump)
    filled(cache, dump, lenient=True)
    stale = tmp_path / "cache" / ".fill-abandoned"
    stale.write_bytes(b"x" * 10)
    count, freed = cache.clear()
    assert count == 2
    assert freed > 10
    assert list((tmp_path / "cache").iterdir()) == []


@pytest.mark.parametrize(
    ("text", "size"),
    [("5GiB", 5 * 2**30), ("500 MB", 500 * 10**6), ("1048576", 2**20), ("1.5kib", 1536)],
)
def test_sizes_are_read_as_people_write_them(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "big", "5 GiBs", "-1", "iB"])
def test_a_size_that_is_not_one_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a size"):
        parse_size(text)


# ---------------------------------------------------------------------------------------------
# Saved snapshots are dumps


@pytest.mark.parametrize("compress_texts", [False, True], ids=["plain-texts", "compressed-texts"])
@pytest.mark.parametrize("name", ["jobs.snapshot", "jobs.parquet", "jobs-without-extension"])
def test_a_saved_snapshot_is_opened_as_a_dump_without_a_rebuild(
    records: list[Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    compress_texts: bool,
) -> None:
    saved = JobStore.from_records(records, compress_texts=compress_texts)
    saved.save(tmp_path / name)

    def no_build(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a saved snapshot must not be rebuilt")

    monkeypatch.setattr(snapshot_cache, "snapshot_from_dump", no_build)
    opened = JobStore.from_path(tmp_path / name)
    assert_frame_equal(opened.snapshot.frame, saved.snapshot.frame)
    assert answers(opened) == answers(saved)


@pytest.mark.parametrize("compress_texts", [False, True], ids=["plain-texts", "compressed-texts"])
def test_a_saved_snapshot_is_read_with_other_dumps(
    records: list[Any], tmp_path: Path, compress_texts: bool
) -> None:
    JobStore.from_records(records[:300], compress_texts=compress_texts).save(
        tmp_path / "a.snapshot"
    )
    more = write_ndjson(tmp_path / "more.ndjson", records[250:])
    both = JobStore.from_path(tmp_path / "a.snapshot", more)
    assert answers(both) == answers(JobStore.from_records(records))
    assert both.duplicates == 50


def test_a_saved_snapshot_is_cached_like_a_dump(records: list[Any], tmp_path: Path) -> None:
    saved = JobStore.from_records(records)
    path = tmp_path / "jobs.snapshot"
    saved.save(path)
    cache = quick_cache(tmp_path / "cache")
    assert filled(cache, path).origin == "saved"
    hit = load([path], cache=cache)
    assert hit.origin == "cache"
    assert answers(JobStore.from_loaded(hit)) == answers(saved)


# ---------------------------------------------------------------------------------------------
# The command line


def cli_run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(arg) for arg in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def settled_dump(tmp_path_factory: pytest.TempPathFactory, records: list[Any]) -> Path:
    """A dump old enough for the command line's cache to take it (only read by the tests)."""
    dump = write_ndjson(tmp_path_factory.mktemp("settled") / "jobs.ndjson", records)
    time.sleep(snapshot_cache.SETTLE_SECONDS)
    return dump


@pytest.fixture
def cache_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cli-cache"
    monkeypatch.setenv("JOBQUERY_CACHE_DIR", str(folder))
    return folder


LIST = ("--start-time", "2000-01-01T00:00:00Z", "--format", "json", "--request-id", "R")


@pytest.mark.parametrize(
    "command",
    [
        ["list", *LIST],
        ["stats", "--by", "status", "--format", "json", "--start-time", "2000-01-01T00:00:00Z"],
        ["explain", "--display-name", "train"],
    ],
    ids=["list", "stats", "explain"],
)
def test_a_command_answers_the_same_from_the_cache(
    settled_dump: Path,
    cache_folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    command: list[str],
) -> None:
    name, *options = command
    first = cli_run(name, settled_dump, *options)
    assert first.exit_code == 0, first.stderr
    assert len(entries_in(cache_folder)) == 1

    def no_build(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the second run must read the cache")

    monkeypatch.setattr(snapshot_cache, "snapshot_from_dump", no_build)
    second = cli_run(name, settled_dump, *options)
    assert second.exit_code == 0, second.stderr
    assert without_uuids(second.stdout) == without_uuids(first.stdout)
    assert second.stderr == first.stderr


def without_uuids(text: str) -> str:
    """Polars names a plan's dynamic predicate with a fresh UUID each time."""
    return re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "UUID", text)


def test_get_and_convert_use_the_cache(
    settled_dump: Path, cache_folder: Path, tmp_path: Path, records: list[Any]
) -> None:
    job_id = records[5]["JobId"]
    assert cli_run("get", settled_dump, job_id).exit_code == 0
    assert len(entries_in(cache_folder)) == 1
    converted = cli_run("convert", settled_dump, tmp_path / "out.parquet")
    assert converted.exit_code == 0, converted.stderr
    assert len(entries_in(cache_folder)) == 1  # the same dump, the same entry
    assert len(JobStore.from_path(tmp_path / "out.parquet")) == 400


@pytest.mark.parametrize("command", ["list", "stats", "explain", "get", "convert"])
def test_no_cache_neither_reads_nor_writes_the_cache(
    settled_dump: Path, cache_folder: Path, tmp_path: Path, command: str
) -> None:
    arguments = {
        "list": [settled_dump],
        "stats": [settled_dump],
        "explain": [settled_dump],
        "get": [settled_dump, "no-such-job"],
        "convert": [settled_dump, tmp_path / "out.ndjson"],
    }[command]
    cli_run(command, *arguments, "--no-cache")
    assert not cache_folder.exists()
    assert cli_run("list", settled_dump).exit_code == 0
    (entry,) = entries_in(cache_folder)
    _flip_a_data_byte(entry)
    result = cli_run(command, *arguments, "--no-cache")
    assert "damaged" not in result.stderr  # the entry was not even opened
    assert entry.exists()


def test_serve_takes_no_cache() -> None:
    assert "--no-cache" in cli_run("serve", "--help").stdout


def test_a_damaged_entry_is_one_line_on_stderr(settled_dump: Path, cache_folder: Path) -> None:
    first = cli_run("list", settled_dump, *LIST)
    (entry,) = entries_in(cache_folder)
    _truncate(entry)
    again = cli_run("list", settled_dump, *LIST)
    assert again.exit_code == 0
    assert again.stdout == first.stdout
    damaged = [line for line in again.stderr.splitlines() if "damaged" in line]
    assert len(damaged) == 1
    assert damaged[0].startswith(f"note: the cached snapshot {entry.name} is damaged (")
    assert damaged[0].endswith("); rebuilding it")
    assert again.stderr.replace(damaged[0] + "\n", "") == first.stderr


def test_the_cache_commands_list_and_clear_entries(settled_dump: Path, cache_folder: Path) -> None:
    cli_run("list", settled_dump)
    listed = cli_run("cache", "list", "--format", "json")
    assert listed.exit_code == 0, listed.stderr
    (row,) = orjson.loads(listed.stdout)
    assert row["dumps"] == [str(settled_dump.resolve())]
    assert row["jobs"] == 400
    assert row["bytes"] == entries_in(cache_folder)[0].stat().st_size
    table = cli_run("cache", "list", "--format", "table")
    assert "1 cached snapshot(s)" in table.stdout
    assert str(settled_dump.resolve()) in table.stdout
    info = cli_run("cache", "info")
    assert f"folder: {cache_folder} ($JOBQUERY_CACHE_DIR)" in info.stdout
    assert "snapshots: 1," in info.stdout
    assert cli_run("cache", "verify").stdout == "checked 1 cached snapshot(s): 1 intact\n"
    cleared = cli_run("cache", "clear")
    assert cleared.stdout.startswith("removed 1 cached snapshot(s), ")
    assert entries_in(cache_folder) == []


def test_a_bad_cache_size_is_one_line(settled_dump: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBQUERY_CACHE_MAX_SIZE", "lots")
    result = cli_run("list", settled_dump)
    assert result.exit_code == 2
    assert result.stderr == (
        "error: environment: JOBQUERY_CACHE_MAX_SIZE: not a size: 'lots' "
        "(expected bytes, or a number with MB, GiB, ...)\n"
    )


def test_the_cache_is_written_after_the_answer(
    settled_dump: Path, cache_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    original = snapshot_cache.PendingFill.write

    def write(pending: snapshot_cache.PendingFill, **kwargs: Any) -> Path | None:
        sys.stdout.flush()
        answer = sys.stdout.buffer.getvalue()  # what the command printed so far
        events.append(f"write after {len(answer)} bytes of answer")
        return original(pending, **kwargs)

    monkeypatch.setattr(snapshot_cache.PendingFill, "write", write)
    monkeypatch.setattr("jobquery.cli.session._release_stdout", lambda: events.append("release"))
    result = cli_run("list", settled_dump, *LIST)
    assert result.exit_code == 0
    assert events == ["release", f"write after {len(result.stdout_bytes)} bytes of answer"]
    assert len(entries_in(cache_folder)) == 1


RELEASE = """
import sys, time
from jobquery.cli.session import _release_stdout
print("the answer")
_release_stdout()
print("never seen")
sys.stderr.write("released\\n")
sys.stderr.flush()
time.sleep(30)
"""


def test_releasing_stdout_ends_the_answer_for_the_reader_of_a_pipe() -> None:
    with subprocess.Popen(
        [sys.executable, "-c", RELEASE], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        try:
            assert process.stdout.read() == b"the answer\n"  # end of file: the pipe is closed
            assert process.poll() is None  # while the process goes on
            assert process.stderr.readline() == b"released\n"
        finally:
            process.kill()


# ---------------------------------------------------------------------------------------------
# Progress bars


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_bar_shows_on_a_terminal_when_the_work_lasts() -> None:
    screen = Terminal()
    with ProgressBar(True, "reading", 100, in_bytes=True, delay=0.0, stream=screen) as bar:
        deadline = time.monotonic() + 10
        while not bar.shown and time.monotonic() < deadline:
            time.sleep(0.01)
        bar.advance(50)
        bar.phase("indexing")
        time.sleep(0.2)
    assert bar.shown
    assert "reading" in screen.getvalue()


def test_no_bar_for_quick_work_or_off_a_terminal() -> None:
    screen = Terminal()
    with ProgressBar(True, "reading", 100, delay=60.0, stream=screen) as bar:
        bar.advance(100)
    assert not bar.shown
    assert screen.getvalue() == ""
    with ProgressBar(False, "reading", 100, delay=0.0, stream=screen) as bar:
        time.sleep(0.1)
    assert not bar.shown
    assert screen.getvalue() == ""


def test_a_step_of_unknown_length_shows_no_count_until_it_counts() -> None:
    screen = Terminal()
    with ProgressBar(True, "writing jobs.parquet", None, delay=0.0, stream=screen) as bar:
        deadline = time.monotonic() + 10
        while not bar.shown and time.monotonic() < deadline:
            time.sleep(0.01)
        assert bar._amount() == ""
        bar.advance(3)
        assert bar._amount() == "3"


def test_an_ndjson_dump_reports_its_progress_piece_by_piece(
    tmp_path: Path, records: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(native_index, "_MIN_PIECE_BYTES", 1 << 14)
    path = write_ndjson(tmp_path / "jobs.ndjson", records)
    told: list[int] = []
    JobStore.from_path(path, on_progress=told.append, background_warm_up=False)
    assert len(told) > 2 and sum(told) == path.stat().st_size


class RecordingBar:
    """Stands in for the command line's progress bar; records what it is told."""

    made: ClassVar[list[RecordingBar]] = []

    def __init__(self, enabled: bool, description: str, total: float | None, **_: Any) -> None:
        self.enabled = enabled
        self.events: list[tuple[str, Any]] = [("start", description), ("total", total)]
        RecordingBar.made.append(self)

    def __enter__(self) -> RecordingBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.events.append(("end", None))

    def advance(self, amount: float) -> None:
        self.events.append(("advance", amount))

    def update(self, completed: float) -> None:
        self.events.append(("update", completed))

    def phase(self, description: str, total: float | None = None, **_: Any) -> None:
        self.events.append(("phase", description))


@pytest.mark.parametrize("terminal", [True, False], ids=["terminal", "pipe"])
def test_reading_and_caching_report_progress_on_a_terminal_only(
    settled_dump: Path, cache_folder: Path, monkeypatch: pytest.MonkeyPatch, terminal: bool
) -> None:
    RecordingBar.made = []
    monkeypatch.setattr("jobquery.cli.session.ProgressBar", RecordingBar)
    monkeypatch.setattr(
        "jobquery.cli.session._is_terminal", lambda stream: terminal and stream is sys.stderr
    )
    assert cli_run("list", settled_dump).exit_code == 0
    reading, caching = RecordingBar.made
    assert reading.enabled is terminal and caching.enabled is terminal
    size = settled_dump.stat().st_size
    assert reading.events[:2] == [("start", "reading"), ("total", size if terminal else 0)]
    assert ("advance", size) in reading.events
    assert ("phase", "indexing 400 jobs") in reading.events
    assert caching.events[0] == ("start", "caching the snapshot")
    (entry,) = entries_in(cache_folder)
    trailer = snapshot_cache._read_trailer(entry)
    written = sum(amount for event, amount in caching.events if event == "advance")
    assert written == trailer["ipc_bytes"]
    RecordingBar.made = []
    assert cli_run("list", settled_dump).exit_code == 0  # from the cache: nothing to show
    (hit,) = RecordingBar.made
    assert [event for event, _ in hit.events] == ["start", "total", "end"]


def test_serve_reads_and_fills_the_cache(
    dump: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = quick_cache(tmp_path / "cache")
    first = StoreReloader([str(dump)], cache=cache).current()
    assert len(entries_in(tmp_path / "cache")) == 1

    def no_build(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the second server must read the cache")

    monkeypatch.setattr(snapshot_cache, "snapshot_from_dump", no_build)
    second = StoreReloader([str(dump)], cache=cache).current()
    assert answers(second) == answers(first)


@pytest.mark.parametrize("export", ["jobs.parquet", "jobs.arrow"])
def test_an_export_under_another_name_is_read_by_its_content(
    records: list[Any], tmp_path: Path, export: str
) -> None:
    store = JobStore.from_records(records)
    store.export(tmp_path / export)
    renamed = (tmp_path / export).rename(tmp_path / "jobs.dump")
    assert answers(JobStore.from_path(renamed)) == answers(store)


@pytest.mark.skipif(sys.platform != "linux", reason="the XDG folders are Linux's")
def test_without_the_variable_the_cache_is_in_the_user_cache_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JOBQUERY_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert snapshot_cache.default_folder() == tmp_path / "xdg" / "jobquery" / "snapshots"
    monkeypatch.setenv("JOBQUERY_CACHE_DIR", "~/elsewhere")
    assert snapshot_cache.default_folder() == Path.home() / "elsewhere"


#: A command whose opening of a cache entry checks no block (as checks that missed the
#: damaged one: in this small entry the visibility columns share its block); the full check
#: after a failure still checks every block.
SAMPLE_MISSING_IT = """
import sys
from jobquery.io import cache
from jobquery.cli.app import main

checked = cache._check_blocks


def sampled(data, fields, full=None, *, blocks=None):
    if full is None and blocks is None:  # the full check only: the others missed the damage
        checked(data, fields)


cache._check_blocks = sampled
sys.argv = ["jobquery", *sys.argv[1:]]
main()
"""


def test_a_command_failing_on_damage_the_sample_missed_removes_the_entry(
    settled_dump: Path, cache_folder: Path
) -> None:
    """Opening a large entry checks a sample of its blocks. A byte damaged in a job text the
    sample missed (not UTF-8) makes Polars panic, which it reports itself; the command then
    checks the entry in full, removes it and says why, instead of ending in a traceback of
    its own, and the next command reads the dumps again and answers right."""
    every = ("--all", "--start-time", "2000-01-01T00:00:00Z", "--format", "ndjson")
    expected = cli_run("list", settled_dump, "--no-cache", *every).stdout
    cli_run("list", settled_dump, *every)
    (entry,) = entries_in(cache_folder)
    data = bytearray(entry.read_bytes())
    inside_a_text = data.index(b'"GmtCreateTime"', len(data) // 2) + 3
    data[inside_a_text : inside_a_text + 2] = b"\xff\xfe"
    entry.write_bytes(bytes(data))
    failed = subprocess.run(
        [sys.executable, "-c", SAMPLE_MISSING_IT, "list", str(settled_dump), *every],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "RUST_BACKTRACE": "0"},
    )
    assert failed.returncode == 1, failed.stderr
    assert "error: internal error (PanicException" in failed.stderr.splitlines()[-1]
    damage = r"note: the cached snapshot \w+\.jqsnap is damaged \(block \d+ fails its checksum\)"
    assert re.search(damage + ": removed it", failed.stderr), failed.stderr
    assert failed.stdout == "" and not entry.exists()
    again = cli_run("list", settled_dump, *every)
    assert again.exit_code == 0 and again.stdout == expected
