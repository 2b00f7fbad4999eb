"""The snapshot cache: a dump read once is opened memory-mapped the next time.

Every command of the command line that reads dumps, and ``JobStore.from_path(..., cache=True)``,
look here before building a snapshot, and leave the snapshot they built here for the next
time. An entry is one file, ``<key>.jqsnap``, in the cache folder: ``$JOBQUERY_CACHE_DIR`` when
that variable is set, else the platform's user cache folder (``platformdirs``).

The key
-------
A digest of everything that decides what the snapshot holds (:class:`CacheKey`): each input
file — after folders and glob patterns are resolved to files, in reading order — by its
resolved path, size, modification and change times (nanoseconds), inode and device; the options
that change the snapshot (``lenient``, ``compress_texts``); the formats of the entry and of
saved snapshots; and the versions of jobquery's code (a digest of its sources), Polars and
pyarrow. A dump that changes in any way a ``stat`` can see gets a new key, so it is rebuilt; an
entry nobody asks for any more ages out (below). A file modified less than
:data:`SETTLE_SECONDS` before it was read is not cached: it may still be being written, and a
second write within the same timestamp tick would leave its times unchanged.

An entry's file
---------------
``[Arrow IPC file][trailer][trailer length: 8 bytes][MAGIC: 8 bytes]``.

The Arrow IPC file holds the snapshot's frame with every rank column (the ranks a build leaves
to first use are computed before the entry is written), uncompressed, in one record batch;
strings and binaries are **views** (``string_view``, ``binary_view``) as Polars holds them.
Opening maps the file into memory and hands its buffers to Polars without copying or reading
them: the operating system reads a page when a query touches it, so a command is bound by
Python's start-up, not by the size of the snapshot, and its resident memory is the pages it
read. The other structures queries derive (dictionaries, rank orders) are not stored: an opened
entry builds them on first use, as a built snapshot does. (Polars 2 cannot map an
IPC file itself; pyarrow maps it and ``polars.from_arrow`` takes view columns as they are, while
``large_string`` columns would be converted to views, reading and copying every string.)

The trailer is JSON: the key, the snapshot's version, row count and column types, what the
build skipped (``lenient``) and how many duplicates it resolved, the length of the IPC part,
a CRC-32 of every :data:`BLOCK_BYTES` block of it, and a SHA-256 of all of that.

Integrity
---------
A checksum of the whole file costs a read of the whole file, which is what the cache is here
to avoid (over a second per GB on this kind of machine). So an entry is protected in layers:

- **no torn files**: an entry is written under a temporary name in the cache folder, flushed to
  disk (``fsync``) and renamed over the entry's name. A reader sees the old file, the new one
  or none, never half of one; a writer killed on the way leaves its temporary file, named
  with its process id and locked while it writes, which the next fill removes; two processes
  filling the same entry at once each rename a whole file, and the last one stays. Nothing
  is ever written into an entry in place, so a mapped entry cannot change under a reader
  (removing it leaves the mapping valid);
- **structure, on every open**: the magic, the trailer's own SHA-256, the entry's size against
  the trailer, the key against the one asked for, the Arrow footer and schema, the row count
  and the column types against the trailer, and Arrow's cheap validation of every column;
- **content, on every open, by sample**: the CRC-32 of the first and last block (the IPC
  schema, with the texts' dictionary, and the footer), and of every block holding the columns
  that decide who sees a job (:data:`WHO_SEES_COLUMNS`: damage there must not show a user
  another user's private job); of every block when the entry is at most
  ``full_check_bytes`` (default :data:`FULL_CHECK_BYTES`), else of :data:`SAMPLED_BLOCKS`
  other blocks drawn at random. A byte damaged inside a 2 GB entry after it
  was written (a storage fault, another program writing into the cache folder) is found by
  chance only, on open; until then it may show as a wrong value, or, in the Arrow offsets
  and views, stop the process;
- **content, in full, on demand**: ``jobquery cache verify`` (:meth:`SnapshotCache.verify`)
  checks every block of every entry and removes the damaged ones.

An entry that fails a check is never used: it is removed, the snapshot is built again, and a
one-line notice says so.

Room
----
The folder is capped (:data:`DEFAULT_MAX_BYTES`, or ``$JOBQUERY_CACHE_MAX_SIZE`` such as
``2GiB``): before an entry is written, the least recently used entries are removed until it
fits. "Used" is when jobquery last opened or wrote the entry, which it records as the entry's
modification time (the file's access time is not kept by every mount). A snapshot larger than
the cap is not cached. Once an entry is written, those of the same files and options made
before the files changed go (:meth:`SnapshotCache.remove_superseded`). A cache folder that
cannot be written (read-only, full, or not a folder) means working without the cache, with a
notice; entries it holds are still read.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import functools
import hashlib
import json
import logging
import os
import random
import re
import struct
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import polars as pl
import pyarrow as pa

from jobquery.errors import DumpFormatError
from jobquery.io import saved
from jobquery.io.dumps import (
    Progress,
    Skipped,
    find_dump_files,
    is_saved_snapshot,
    read_dumps,
    snapshot_from_dump,
)
from jobquery.io.writing import (
    TEMPORARY_SUFFIX,
    DirectWrites,
    atomic_write,
    remove_abandoned_temporaries,
    write_all,
)
from jobquery.snapshot import Snapshot
from jobquery.snapshot.textcodec import TextCodec

#: The environment variable naming the cache folder (pinned in DESIGN.md).
CACHE_DIR_VARIABLE = "JOBQUERY_CACHE_DIR"
#: The environment variable capping the folder's size: bytes, or a number with KB, MB, GB, KiB,
#: MiB, GiB (or TB, TiB).
MAX_SIZE_VARIABLE = "JOBQUERY_CACHE_MAX_SIZE"
DEFAULT_MAX_BYTES = 5 * 2**30
#: Entries at most this big are checked in full each time they are opened.
FULL_CHECK_BYTES = 64 * 2**20
#: The blocks checked, besides the first and the last, when a big entry is opened.
SAMPLED_BLOCKS = 4
BLOCK_BYTES = 2**20
#: A dump modified less than this before it was read is not cached (see the module docstring).
SETTLE_SECONDS = 2.0
#: A temporary file of the earlier naming (:data:`_OLD_TEMPORARY_PREFIX`, no writer's process
#: id) left this long without a write belongs to a writer that died.
STALE_TEMPORARY_SECONDS = 3600.0

#: The columns that decide which jobs a caller sees (visibility, deleted jobs): every block of
#: theirs is checked on every open, so that damage the sample misses never shows a user
#: another user's private job.
WHO_SEES_COLUMNS = ("ix_Accessibility", "UserId", "IsDeleted")

ENTRY_SUFFIX = ".jqsnap"
MAGIC = b"JQSNAP01"
FORMAT = "jobquery-snapshot-cache"
FORMAT_VERSION = 1
_DICTIONARY_KEY = b"jobquery.text_dictionary"
_TAIL = struct.Struct("<Q8s")
#: How fills named their temporary files before they took atomic_write's (with the process id).
_OLD_TEMPORARY_PREFIX = ".fill-"
#: Writes are handed to the file in pieces of this size, for the progress callback.
_WRITE_PIECE = 16 * 2**20

Notice = Callable[[str], None]
_LOGGER = logging.getLogger("jobquery.cache")


def _log_notice(message: str) -> None:
    _LOGGER.warning(message)


class CacheEntryError(Exception):
    """An entry that must not be used (damaged, or of another format), and why."""


# ---------------------------------------------------------------------------------------------
# The key


@dataclass(frozen=True)
class SourceStamp:
    """What ``stat`` says about one input file."""

    path: str
    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    device: int

    @classmethod
    def of(cls, path: Path) -> SourceStamp:
        resolved = path.resolve()
        stat = resolved.stat()
        return cls(
            str(resolved),
            stat.st_size,
            stat.st_mtime_ns,
            stat.st_ctime_ns,
            stat.st_ino,
            stat.st_dev,
        )

    @property
    def changed_ns(self) -> int:
        """The last time the file's content or times changed."""
        return max(self.mtime_ns, self.ctime_ns)


@dataclass(frozen=True)
class CacheKey:
    """Everything that decides what the snapshot of some dumps holds (module docstring)."""

    sources: tuple[SourceStamp, ...]
    lenient: bool
    compress_texts: bool

    def fields(self) -> dict[str, Any]:
        """The key as JSON values."""
        return {
            "sources": [dataclasses.asdict(stamp) for stamp in self.sources],
            "lenient": self.lenient,
            "compress_texts": self.compress_texts,
            "entry_format": FORMAT_VERSION,
            "code": code_version(),
        }

    @functools.cached_property
    def digest(self) -> str:
        """The entry's name in the cache folder (without suffix)."""
        text = json.dumps(self.fields(), sort_keys=True).encode()
        return hashlib.sha256(text).hexdigest()[:40]


def key_of(files: Sequence[Path], *, lenient: bool, compress_texts: bool) -> CacheKey:
    """The key of resolved input files (see :func:`jobquery.io.dumps.resolve_paths`)."""
    return CacheKey(tuple(SourceStamp.of(path) for path in files), lenient, compress_texts)


@functools.cache
def code_version() -> str:
    """A digest of the code that builds snapshots: jobquery's sources and the versions of Polars
    and pyarrow (read once per process). Any change to them starts with fresh entries."""
    digest = hashlib.sha256()
    for source in code_files():
        digest.update(source.relative_to(PACKAGE).as_posix().encode())
        digest.update(source.read_bytes())
    digest.update(f"{pl.__version__} {pa.__version__} {saved.FORMAT_VERSION}".encode())
    return digest.hexdigest()[:16]


#: The jobquery package's folder.
PACKAGE = Path(__file__).resolve().parents[1]


def code_files() -> list[Path]:
    """Every Python source of the jobquery package, its subpackages included (the snapshot
    build lives in ``jobquery/snapshot``, the matching rules in ``jobquery/plan`` ...)."""
    return sorted(PACKAGE.rglob("*.py"))


# ---------------------------------------------------------------------------------------------
# What a load returns


@dataclass
class Loaded:
    """A snapshot of some dumps, where it came from, and the cache write it still owes.

    Attributes
    ----------
    snapshot : Snapshot
        The jobs.
    skipped : list of Skipped
        Records the build left out (``lenient``).
    duplicates : int
        Records dropped because another one had the same ``JobId``.
    origin : str
        ``"cache"`` (an entry opened), ``"saved"`` (a file written by ``JobStore.save``) or
        ``"dumps"`` (built from the dump files).
    pending : PendingFill, optional
        The entry to write for next time, when the snapshot was built and the cache is on
        (:meth:`PendingFill.write`; the command line writes it after printing its answer).
    entry : Path, optional
        The cache entry the snapshot was opened from (``origin="cache"``): opening a large
        one checks some of its blocks only, so a failure while answering from it calls for
        :func:`check_entry`.
    """

    snapshot: Snapshot
    skipped: list[Skipped] = field(default_factory=list)
    duplicates: int = 0
    origin: Literal["cache", "saved", "dumps"] = "dumps"
    pending: PendingFill | None = None
    entry: Path | None = None


@dataclass
class PendingFill:
    """A snapshot to write into the cache under its key."""

    cache: SnapshotCache
    key: CacheKey
    loaded: Loaded
    read_started_ns: int

    @functools.cached_property
    def table(self) -> pa.Table:
        """The snapshot as the Arrow table the entry holds (views of its buffers: no copy)."""
        return _arrow_table(self.loaded.snapshot)

    @property
    def estimated_bytes(self) -> int:
        """About how many bytes the entry will take (its data, without schema and trailer)."""
        return _data_bytes(self.table)

    def write(self, on_progress: Progress | None = None) -> Path | None:
        """Write the entry (never raises for a cache problem: says so and returns None).

        Nothing is written when the dumps changed since they were read, or changed just
        before (:meth:`SnapshotCache.settled`).
        """
        if not self.cache.settled(self.key, self.read_started_ns):
            now = time.time_ns()
            for stamp in self.key.sources:
                if stamp.mtime_ns > now:  # it never settles: say why it is read every time
                    self.cache.notice(
                        f"note: {stamp.path} is dated in the future; its snapshot is not cached "
                        "until then"
                    )
            return None
        return self.cache.fill(self.key, self.loaded, table=self.table, on_progress=on_progress)


def load(
    paths: Iterable[str | os.PathLike[str]],
    *,
    lenient: bool = False,
    compress_texts: bool = False,
    cache: SnapshotCache | None = None,
    on_progress: Progress | None = None,
    on_phase: Callable[[str], None] | None = None,
) -> Loaded:
    """The snapshot of some dumps: from the cache, from a saved snapshot, or built.

    A single input that is a file written by ``JobStore.save`` (recognised by its content,
    whatever its name) or a cache entry is opened without a rebuild. With a ``cache``, a hit
    is opened memory-mapped; a miss is built and returned with the entry to write
    (:attr:`Loaded.pending`).

    ``on_progress`` receives the bytes of each dump file read; ``on_phase`` the name of each
    step after reading (``"indexing 2,000 jobs"``).

    Raises
    ------
    DumpFormatError
        A malformed dump or saved snapshot.
    FileNotFoundError
        A path that does not exist.
    """
    files, left_out = find_dump_files(paths)
    key = None
    if cache is not None:
        key = key_of(files, lenient=lenient, compress_texts=compress_texts)
        hit = cache.lookup(key)
        if hit is not None:
            spelled = {str(path.resolve()): str(path) for path in files}
            named = [replace(s, path=spelled.get(s.path, s.path)) for s in hit.skipped]
            return _with_left_out(replace(hit, skipped=named), left_out)
    started = time.time_ns()
    loaded = _read_single_snapshot(files) if len(files) == 1 else None
    if loaded is None:
        dump = read_dumps(
            files,
            lenient=lenient,
            on_progress=on_progress,
            compress_texts=compress_texts,
            open_snapshot=_entry_among_dumps,
        )
        if on_phase is not None:
            on_phase(f"indexing {len(dump):,} jobs")
        snapshot = snapshot_from_dump(dump, compress_texts=compress_texts)
        loaded = Loaded(snapshot, list(dump.skipped), dump.duplicates, "dumps")
    if cache is not None and key is not None and loaded.origin != "cache":
        loaded.pending = PendingFill(cache, key, loaded, started)
    return _with_left_out(loaded, left_out)


def _with_left_out(loaded: Loaded, left_out: list[Skipped]) -> Loaded:
    """The entries of a folder or pattern that are not files (a FIFO, a link to nothing) are
    listed on every read, before the skipped records; they are not part of a cache entry."""
    return replace(loaded, skipped=[*left_out, *loaded.skipped]) if left_out else loaded


def _read_single_snapshot(files: Sequence[Path]) -> Loaded | None:
    """The snapshot of a lone input that is a saved snapshot or a cache entry, else None."""
    path = files[0]
    kind = snapshot_file_kind(path)
    if kind == "entry":
        return _open_entry_as_dump(path)
    if kind == "saved":
        snapshot, _manifest = saved.load_snapshot(path)
        return Loaded(snapshot, origin="saved")
    return None


def _open_entry_as_dump(path: Path) -> Loaded:
    """A cache entry someone named as a dump, every block checked up to the usual size."""
    try:
        return open_entry(path, expected=None, full_check_bytes=FULL_CHECK_BYTES)
    except CacheEntryError as exc:
        raise DumpFormatError(str(path), f"a damaged snapshot cache entry: {exc}") from exc


def _entry_among_dumps(path: Path) -> Snapshot | None:
    """The snapshot of a cache entry named with other dumps (its jobs are read as theirs
    are), else None: :func:`read_dumps` reads the file."""
    return _open_entry_as_dump(path).snapshot if _is_entry(path) else None


def _is_entry(path: Path) -> bool:
    """Whether a file ends with a cache entry's magic."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            if size < _TAIL.size:
                return False
            handle.seek(size - len(MAGIC))
            return handle.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


def snapshot_file_kind(path: Path) -> Literal["saved", "entry"] | None:
    """``"saved"`` for a file written by ``JobStore.save`` (a Parquet file with a jobquery
    manifest), ``"entry"`` for a cache entry (its trailer's magic), else None. By content."""
    if _is_entry(path):
        return "entry"
    return "saved" if is_saved_snapshot(path) else None


# ---------------------------------------------------------------------------------------------
# The cache folder


def parse_size(text: str) -> int:
    """``"5GiB"``, ``"500 MB"``, ``"1048576"`` as bytes.

    Raises
    ------
    ValueError
        Anything else.
    """
    match = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)\s*(?:([KMGT])(I?)B?|B?)", text.strip().upper())
    if match is None:
        raise ValueError(f"not a size: {text!r} (expected bytes, or a number with MB, GiB, ...)")
    number, prefix, binary = match.groups()
    power = 0 if prefix is None else "KMGT".index(prefix) + 1
    return int(float(number) * (1024 if binary else 1000) ** power)


def default_folder() -> Path:
    """``$JOBQUERY_CACHE_DIR``, else the platform's user cache folder for jobquery."""
    configured = os.environ.get(CACHE_DIR_VARIABLE)
    if configured:
        return Path(configured).expanduser()
    import platformdirs  # noqa: PLC0415 - only without the variable (a warm command saves it)

    return Path(platformdirs.user_cache_dir("jobquery", appauthor=False)) / "snapshots"


@dataclass(frozen=True)
class CacheEntry:
    """One entry of the cache folder, as ``jobquery cache list`` shows it."""

    path: Path
    size: int
    last_used: datetime
    sources: tuple[str, ...]
    rows: int | None
    options: dict[str, bool]
    readable: bool


@dataclass(frozen=True)
class SnapshotCache:
    """A cache folder of snapshots (see the module docstring).

    Parameters
    ----------
    folder : Path
        Where the entries are; created when the first entry is written.
    max_bytes : int
        The most the entries may take together; least recently used ones are removed first.
    full_check_bytes : int
        Entries at most this big have every block checked when opened.
    settle_seconds : float
        Dumps changed less than this before they were read are not cached
        (:data:`SETTLE_SECONDS`; see the module docstring).
    block_bytes : int
        The size of the blocks an entry written here has a CRC-32 of.
    notice : callable
        Receives the one-line notices (a damaged entry, a folder that cannot be written);
        default: a warning of the ``jobquery.cache`` logger.
    """

    folder: Path
    max_bytes: int = DEFAULT_MAX_BYTES
    full_check_bytes: int = FULL_CHECK_BYTES
    settle_seconds: float = SETTLE_SECONDS
    block_bytes: int = BLOCK_BYTES
    notice: Notice = _log_notice
    _unusable: list[OSError] = field(default_factory=list, init=False, repr=False, compare=False)

    @classmethod
    def from_environment(cls, notice: Notice = _log_notice) -> SnapshotCache:
        """The cache of ``$JOBQUERY_CACHE_DIR`` and ``$JOBQUERY_CACHE_MAX_SIZE`` (or defaults).

        Raises
        ------
        ValueError
            ``$JOBQUERY_CACHE_MAX_SIZE`` is not a size.
        """
        configured = os.environ.get(MAX_SIZE_VARIABLE)
        try:
            max_bytes = parse_size(configured) if configured else DEFAULT_MAX_BYTES
        except ValueError as exc:
            raise ValueError(f"{MAX_SIZE_VARIABLE}: {exc}") from exc
        return cls(default_folder(), max_bytes=max_bytes, notice=notice)

    def entry_path(self, key: CacheKey) -> Path:
        return self.folder / f"{key.digest}{ENTRY_SUFFIX}"

    # -- reading -----------------------------------------------------------------------------

    def lookup(self, key: CacheKey) -> Loaded | None:
        """The cached snapshot of a key, or None (a damaged entry is removed, with a notice)."""
        path = self.entry_path(key)
        try:
            loaded = open_entry(path, expected=key, full_check_bytes=self.full_check_bytes)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except CacheEntryError as exc:
            self.notice(f"note: the cached snapshot {path.name} is damaged ({exc}); rebuilding it")
            _remove(path)
            return None
        except OSError as exc:
            self._unusable.append(exc)  # one notice is enough: no fill either
            self.notice(
                f"note: the snapshot cache {self.folder} cannot be read ({_reason(exc)}); "
                "working without it"
            )
            return None
        with _quietly():
            os.utime(path)  # last used (see "Room")
        return loaded

    def settled(self, key: CacheKey, read_started_ns: int) -> bool:
        """Whether the key's files are unchanged since they were read and were not modified
        just before (see :data:`SETTLE_SECONDS`): only then may the snapshot be cached."""
        margin = int(self.settle_seconds * 1e9)
        try:
            now = tuple(SourceStamp.of(Path(stamp.path)) for stamp in key.sources)
        except OSError:
            return False
        if now != key.sources:
            return False
        return all(stamp.changed_ns < read_started_ns - margin for stamp in key.sources)

    # -- writing -----------------------------------------------------------------------------

    def fill(
        self,
        key: CacheKey,
        loaded: Loaded,
        *,
        table: pa.Table | None = None,
        on_progress: Progress | None = None,
    ) -> Path | None:
        """Write the entry of a key; None when it could not be (with a notice).

        The least recently used entries are removed first until the new one fits under
        ``max_bytes``; a snapshot larger than that is not cached. ``table``: the snapshot's
        frame as Arrow, if already made; ``on_progress`` receives the bytes written.
        """
        if self._unusable:
            return None
        table = _arrow_table(loaded.snapshot) if table is None else table
        estimate = _data_bytes(table)
        if estimate > self.max_bytes:
            self.notice(
                f"note: the snapshot ({_human(estimate)}) is larger than the cache's cap "
                f"({_human(self.max_bytes)}, ${MAX_SIZE_VARIABLE}); not cached"
            )
            return None
        target = self.entry_path(key)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.make_room(estimate, keep=target)
            fields = _trailer_fields(key, loaded)
            _write_entry(target, table, fields, self.block_bytes, on_progress)
            with _quietly():  # best effort: another process may be tidying the folder too
                self.remove_superseded(key, keep=target)
            # the estimate may fall short: the entry itself never pushes others beyond the cap
            self.make_room(0, keep=target)
        except OSError as exc:
            full = exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
            problem = "is full" if full else "cannot be written"
            reason = _reason(exc)
            if self.folder.exists() and not self.folder.is_dir():
                problem, reason = "is not a folder", "a file has its name"
            elif not self.folder.exists() and self.folder.is_symlink():
                problem, reason = "is not a folder", "a link to nothing"
            self.notice(
                f"note: the snapshot cache {self.folder} {problem} ({reason}); working without it"
            )
            return None
        return target

    def make_room(self, incoming: int, *, keep: Path | None = None) -> list[Path]:
        """Remove least recently used entries until ``incoming`` more bytes fit; returns them.

        Temporary files of writers that died long ago are removed too.
        """
        removed = []
        remove_abandoned_temporaries(self.folder)  # of fills killed on the way
        now = time.time()
        for temporary in self.folder.glob(f"{_OLD_TEMPORARY_PREFIX}*"):
            with _quietly():
                if now - temporary.stat().st_mtime > STALE_TEMPORARY_SECONDS:
                    temporary.unlink()
        entries = []
        for path in _entry_files(self.folder):
            with _quietly():
                stat = path.stat()
                entries.append((stat.st_mtime, stat.st_size, path))
        total = sum(size for _, size, _ in entries)
        for _, size, path in sorted(entries, key=lambda entry: entry[0]):
            if total + incoming <= self.max_bytes:
                break
            if path == keep:
                continue
            _remove(path)
            total -= size
            removed.append(path)
        return removed

    def remove_superseded(self, key: CacheKey, *, keep: Path) -> list[Path]:
        """Remove the entries of the same files and options as ``key`` but ``keep``: made
        before the files changed (or by other code), none of them is used again. Returns them.
        """
        paths = tuple(stamp.path for stamp in key.sources)
        options = {"lenient": key.lenient, "compress_texts": key.compress_texts}
        superseded = [
            entry.path
            for entry in self.entries()
            if entry.readable
            and entry.path != keep
            and entry.sources == paths
            and entry.options == options
        ]
        for path in superseded:
            _remove(path)
        return superseded

    # -- managing ----------------------------------------------------------------------------

    def entries(self) -> list[CacheEntry]:
        """Every entry, most recently used first."""
        found = []
        for path in _entry_files(self.folder):
            try:
                stat = path.stat()
                trailer = _read_trailer(path)
            except FileNotFoundError:
                continue
            except (OSError, CacheEntryError):
                trailer = None
                stat = path.stat()
            key = trailer.get("key", {}) if trailer else {}
            found.append(
                CacheEntry(
                    path=path,
                    size=stat.st_size,
                    last_used=datetime.fromtimestamp(stat.st_mtime, UTC),
                    sources=tuple(source["path"] for source in key.get("sources", [])),
                    rows=trailer.get("rows") if trailer else None,
                    options={name: bool(key.get(name)) for name in ("lenient", "compress_texts")},
                    readable=trailer is not None,
                )
            )
        return sorted(found, key=lambda entry: entry.last_used, reverse=True)

    def clear(self) -> tuple[int, int]:
        """Remove every entry (and temporary file); returns (entries removed, bytes freed)."""
        count = freed = 0
        if not self.folder.is_dir():
            return 0, 0
        leftovers = [
            *self.folder.glob(f".*{TEMPORARY_SUFFIX}"),
            *self.folder.glob(f"{_OLD_TEMPORARY_PREFIX}*"),
        ]
        for path in [*_entry_files(self.folder), *leftovers]:
            with _quietly():
                size = path.stat().st_size
                path.unlink()
                freed += size
                count += path.suffix == ENTRY_SUFFIX
        return count, freed

    def verify(self) -> list[tuple[Path, str]]:
        """Check every block of every entry; remove the damaged ones. Returns (entry, reason)
        of each one removed."""
        found = ((path, check_entry(path)) for path in _entry_files(self.folder))
        return [(path, reason) for path, reason in found if reason is not None]

    def total_bytes(self) -> int:
        return sum(entry.size for entry in self.entries())


def check_entry(path: Path) -> str | None:
    """Check every block of one entry; remove it when damaged. Returns why it was damaged, or
    None (intact, or already gone)."""
    try:
        open_entry(path, expected=None, full_check_bytes=None)
    except FileNotFoundError:
        return None
    except (CacheEntryError, OSError) as exc:
        _remove(path)
        return str(exc)
    return None


# ---------------------------------------------------------------------------------------------
# Writing an entry


def _entry_frame(snapshot: Snapshot) -> pl.DataFrame:
    """What an entry holds: the snapshot's frame with every rank column, those not computed
    yet computed now (before anything is written), so that an opened entry sorts by any key
    without computing one (:meth:`Snapshot.frame_with_ranks`)."""
    return snapshot.frame_with_ranks()


def _arrow_table(snapshot: Snapshot) -> pa.Table:
    """The entry's frame as Arrow, strings as views of Polars' own buffers (no copy)."""
    table = _entry_frame(snapshot).to_arrow(compat_level=pl.CompatLevel.newest())
    if snapshot.codec is not None:
        table = table.replace_schema_metadata({_DICTIONARY_KEY: snapshot.codec.dictionary})
    return table


def _data_bytes(table: pa.Table) -> int:
    """The bytes of a table's record batches in an IPC file (counted, not written)."""
    return sum(pa.ipc.get_record_batch_size(batch) for batch in table.to_batches())


def _trailer_fields(key: CacheKey, loaded: Loaded) -> dict[str, Any]:
    snapshot = loaded.snapshot
    dictionary = None if snapshot.codec is None else snapshot.codec.dictionary
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "key": key.fields(),
        "key_digest": key.digest,
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "version": snapshot.version,
        "rows": snapshot.frame.height,
        "columns": _column_types(_entry_frame(snapshot)),
        "text_dictionary": None if dictionary is None else hashlib.sha256(dictionary).hexdigest(),
        "skipped": [  # each file by its resolved path: a hit names it as its caller spelled it
            {
                "path": str(Path(s.path).resolve()),
                "reason": s.reason,
                "line": s.line,
                "record": s.record,
            }
            for s in loaded.skipped
        ],
        "duplicates": loaded.duplicates,
    }


class _ChecksummedFile:
    """The write end of an entry: writes to a file descriptor, past the page cache where the
    system allows it (:class:`DirectWrites`), and keeps the CRC-32 of every block of what it
    wrote (pyarrow writes through it via ``pa.PythonFile``)."""

    def __init__(self, descriptor: int, block_bytes: int, on_progress: Progress | None) -> None:
        self._out = DirectWrites(descriptor)
        self._block_bytes = block_bytes
        self._on_progress = on_progress
        self.written = 0
        self.blocks: list[int] = []
        self._crc = 0

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        for start in range(0, len(view), _WRITE_PIECE):
            piece = view[start : start + _WRITE_PIECE]
            self._out.write(piece)
            self._checksum(piece)
            if self._on_progress is not None:
                self._on_progress(len(piece))
        return len(view)

    def _checksum(self, piece: memoryview) -> None:
        while len(piece):
            room = self._block_bytes - self.written % self._block_bytes
            part, piece = piece[:room], piece[room:]
            self._crc = zlib.crc32(part, self._crc)
            self.written += len(part)
            if self.written % self._block_bytes == 0:
                self.blocks.append(self._crc)
                self._crc = 0

    def finish(self) -> list[int]:
        """Write what is still staged; the CRC-32 of every block, the last one possibly
        short."""
        self._out.finish()
        if self.written % self._block_bytes:
            self.blocks.append(self._crc)
            self._crc = 0
        return self.blocks

    # what pyarrow asks of a Python file object
    def tell(self) -> int:
        return self.written

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    @property
    def closed(self) -> bool:
        return False

    def writable(self) -> bool:
        return True


def _write_entry(
    target: Path,
    table: pa.Table,
    fields: dict[str, Any],
    block_bytes: int,
    on_progress: Progress | None,
) -> None:
    """Write an entry under a temporary name, fsync it and rename it over ``target``
    (:func:`~jobquery.io.writing.atomic_write`: a writer killed on the way leaves a temporary
    file that the next fill removes)."""

    def write(temporary: Path) -> None:
        descriptor = os.open(temporary, os.O_WRONLY)
        try:
            sink = _ChecksummedFile(descriptor, block_bytes, on_progress)
            with pa.ipc.new_file(pa.PythonFile(sink, mode="w"), table.schema) as writer:
                writer.write_table(table)
            written = {
                **fields,
                "ipc_bytes": sink.written,
                "block_bytes": block_bytes,
                "block_crc32": sink.finish(),
            }
            checked = {**written, "checksum": _checksum(written)}
            trailer = json.dumps(checked, sort_keys=True).encode()
            write_all(descriptor, memoryview(trailer + _TAIL.pack(len(trailer), MAGIC)))
        finally:
            os.close(descriptor)

    atomic_write(target, write, mode=0o600)  # it holds every user's private jobs


# ---------------------------------------------------------------------------------------------
# Opening an entry


def _read_trailer(path: Path) -> dict[str, Any]:
    """The trailer of an entry, its own checksum verified (the entry's data is not read)."""
    with path.open("rb") as handle:
        size = handle.seek(0, os.SEEK_END)
        if size < _TAIL.size:
            raise CacheEntryError("too short")
        handle.seek(size - _TAIL.size)
        length, magic = _TAIL.unpack(handle.read(_TAIL.size))
        if magic != MAGIC:
            raise CacheEntryError("not a jobquery cache entry")
        if length > size - _TAIL.size:
            raise CacheEntryError("the trailer is cut")
        handle.seek(size - _TAIL.size - length)
        text = handle.read(length)
    try:
        stored = json.loads(text)
        fields = {name: value for name, value in stored.items() if name != "checksum"}
    except (ValueError, AttributeError) as exc:
        raise CacheEntryError("the trailer is unreadable") from exc
    if stored.get("checksum") != _checksum(fields):
        raise CacheEntryError("the trailer's checksum does not match")
    if fields.get("format") != FORMAT or fields.get("format_version") != FORMAT_VERSION:
        raise CacheEntryError(f"format {fields.get('format_version')} is not this jobquery's")
    if fields["ipc_bytes"] + length + _TAIL.size != size:
        raise CacheEntryError(f"{size} bytes where the trailer says otherwise")
    return fields


def open_entry(path: Path, *, expected: CacheKey | None, full_check_bytes: int | None) -> Loaded:
    """Open an entry memory-mapped, after the checks of the module docstring.

    ``full_check_bytes``: entries at most this big have every block checked (None: every
    entry).

    Raises
    ------
    CacheEntryError
        The entry fails a check (it must not be used).
    FileNotFoundError
        No such entry.
    """
    fields = _read_trailer(path)
    if expected is not None and fields["key"] != expected.fields():
        raise CacheEntryError("it was written for other dumps")
    try:
        mapped = pa.memory_map(str(path)).read_buffer()
        data = mapped.slice(0, fields["ipc_bytes"])
        _check_blocks(data, fields, full_check_bytes)
        table = pa.ipc.open_file(data).read_all()
        _check_blocks(data, fields, blocks=_blocks_of(data, table, WHO_SEES_COLUMNS, fields))
        table.validate()
    except (pa.ArrowException, KeyError, TypeError, ValueError) as exc:
        raise CacheEntryError(f"the snapshot data is unreadable: {exc}") from exc
    metadata = table.schema.metadata or {}
    dictionary = metadata.get(_DICTIONARY_KEY)
    digest = None if dictionary is None else hashlib.sha256(dictionary).hexdigest()
    if digest != fields["text_dictionary"]:
        raise CacheEntryError("the dictionary of the compressed texts does not match")
    try:
        frame = pl.from_arrow(table.replace_schema_metadata(None), rechunk=False)
    except (pa.ArrowException, pl.exceptions.PolarsError) as exc:
        raise CacheEntryError(f"the snapshot data is unreadable: {exc}") from exc
    if not isinstance(frame, pl.DataFrame) or frame.height != fields["rows"]:
        raise CacheEntryError("the row count does not match the trailer")
    if _column_types(frame) != fields["columns"]:
        raise CacheEntryError("the columns do not match the trailer")
    codec = None if dictionary is None else TextCodec(dictionary)
    try:
        snapshot = Snapshot.from_frame(frame, version=int(fields["version"]), codec=codec)
    except ValueError as exc:
        raise CacheEntryError(f"the snapshot data is inconsistent: {exc}") from exc
    skipped = [Skipped(**record) for record in fields["skipped"]]
    return Loaded(snapshot, skipped, int(fields["duplicates"]), "cache", entry=path)


def _check_blocks(
    data: pa.Buffer,
    fields: dict[str, Any],
    full_check_bytes: int | None = None,
    *,
    blocks: Iterable[int] | None = None,
) -> None:
    """Check the CRC-32 of some blocks: ``blocks``, or by ``full_check_bytes`` (every block of
    an entry at most that big, else a sample: see the module docstring)."""
    size = data.size
    block = int(fields["block_bytes"])
    crcs = fields["block_crc32"]
    count = -(-size // block)
    if len(crcs) != count:
        raise CacheEntryError("the block checksums do not cover the data")
    chosen: Iterable[int]
    if blocks is not None:
        chosen = blocks
    elif full_check_bytes is None or size <= full_check_bytes:
        chosen = range(count)
    else:
        chosen = {0, count - 1, *random.sample(range(count), min(SAMPLED_BLOCKS, count))}
    for index in chosen:
        start = index * block
        if zlib.crc32(data.slice(start, min(block, size - start))) != crcs[index]:
            raise CacheEntryError(f"block {index} fails its checksum")


def _blocks_of(
    data: pa.Buffer, table: pa.Table, names: Iterable[str], fields: dict[str, Any]
) -> set[int]:
    """The blocks of ``data`` that hold the buffers of some columns of ``table`` (read from
    it, so its buffers lie inside ``data``)."""
    block = int(fields["block_bytes"])
    chosen: set[int] = set()
    for name in names:
        for chunk in table.column(name).chunks:
            for buffer in chunk.buffers():
                start = -1 if buffer is None else buffer.address - data.address
                if buffer is None or not buffer.size or not 0 <= start < data.size:
                    continue
                chosen.update(range(start // block, (start + buffer.size - 1) // block + 1))
    return chosen


# ---------------------------------------------------------------------------------------------
# Small helpers


def _column_types(frame: pl.DataFrame) -> dict[str, str]:
    return {name: str(dtype) for name, dtype in frame.schema.items()}


def _checksum(fields: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def _entry_files(folder: Path) -> list[Path]:
    """The entries of a folder: its regular files named ``*.jqsnap`` (anything else so named,
    a FIFO above all, would block a read for ever)."""
    return [path for path in folder.glob(f"*{ENTRY_SUFFIX}") if path.is_file()]


def _remove(path: Path) -> None:
    with _quietly():
        path.unlink()


def _quietly() -> contextlib.suppress:
    """Ignore an OSError: another process removed the file first, or the folder is read-only."""
    return contextlib.suppress(OSError)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _human(size: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"
