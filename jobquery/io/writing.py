"""Writing out: a snapshot's jobs or a query's rows as a dump file, and atomic file writes.

Every file jobquery writes (exports, saved snapshots, cache entries) goes through
:func:`atomic_write`: a temporary file beside the target, flushed to disk and renamed over it,
so a crash leaves the previous file complete, and a dead writer's leftovers are cleaned up.
(Cache entries do the same with their own temporary names.) :class:`DirectWrites` writes a big
file past the page cache.
"""

from __future__ import annotations

import errno
import mmap
import os
import secrets
import stat
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
from pyarrow import feather

from jobquery.errors import DumpFormatError
from jobquery.io.dumps import (
    ARROW_EXTENSIONS,
    NDJSON_EXTENSIONS,
    PARQUET_EXTENSIONS,
    SUPPORTED_EXTENSIONS,
)
from jobquery.snapshot import (
    JOB_JSON,
    Snapshot,
)

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def write_dump(
    snapshot: Snapshot,
    path: str | os.PathLike[str],
    *,
    frame: pl.DataFrame | None = None,
) -> int:
    """Write a snapshot's jobs (or the rows of ``frame``, a query result) to a file.

    The format follows the extension. Parquet and Arrow files carry the typed top-level
    columns plus ``job_json``, the complete job, so reading them back is lossless. The file
    is written to a temporary name and renamed, so a failure never leaves a partial file.

    Returns
    -------
    int
        The number of jobs written.
    """
    target = Path(path)
    suffix = target.suffix.lower()
    table = snapshot.export_table(frame)
    if suffix not in SUPPORTED_EXTENSIONS:
        raise DumpFormatError(
            str(target),
            f"unknown dump format {suffix or '(no extension)'}; "
            f"expected one of {', '.join(SUPPORTED_EXTENSIONS)}",
        )

    def write(temporary: Path) -> None:
        if suffix in PARQUET_EXTENSIONS:
            pq.write_table(table, temporary, compression="zstd")
        elif suffix in ARROW_EXTENSIONS:
            feather.write_feather(table, temporary, compression="zstd")
        else:
            texts: Sequence[str] = table.column(JOB_JSON).to_pylist()
            with temporary.open("w", encoding="utf-8") as out:
                if suffix in NDJSON_EXTENSIONS:
                    for text in texts:
                        out.write(text)
                        out.write("\n")
                else:
                    out.write('{"Jobs":[')
                    out.write(",".join(texts))
                    out.write(f'],"TotalCount":{len(texts)}}}\n')

    atomic_write(target, write)
    return int(table.num_rows)


#: The ending of the temporary files :func:`atomic_write` writes beside its target.
TEMPORARY_SUFFIX = ".tmp"
#: A temporary file whose name carries no process id (written by jobquery 0.1) is removed when
#: no writer holds it and it is at least this many seconds old.
STALE_SECONDS = 3600.0


def atomic_write(target: Path, write: Callable[[Path], None], *, mode: int = 0o666) -> None:
    """Write through a temporary file in the same folder, fsync it, then rename it over target.

    The temporary file is ``.<target name>.<process id>.<random>.tmp``, created with ``mode``
    less the umask (by default as any new file), and locked (``flock``) by the writer until it is
    renamed or removed. A writer that dies before that — killed, out of power — leaves it
    behind with the lock released: the next :func:`atomic_write` to the same target (or
    :func:`remove_stale_temporaries`) removes it, never a file a live writer holds.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(target)
    while True:
        temporary = target.with_name(
            f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}{TEMPORARY_SUFFIX}"
        )
        try:
            # the umask applies to the mode given here; mkstemp's files were 0600 whatever it was
            handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _CLOEXEC, mode)
        except FileExistsError:  # pragma: no cover - 32 random bits, the same pid
            continue
        break
    try:
        _lock(handle, blocking=True)
        write(temporary)
        with temporary.open("rb+") as written:
            os.fsync(written.fileno())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    finally:
        os.close(handle)  # releases the lock
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def remove_stale_temporaries(target: Path) -> list[Path]:
    """Remove the temporary files that dead writers of ``target`` left behind; returns them.

    A temporary file is removed only when no process holds its lock and the process named in
    it no longer exists (a live writer takes the lock right after creating the file: between
    the two, its process is alive). Errors (a read-only folder, a file removed meanwhile) are
    ignored: the cleanup is a courtesy, never a reason for a save or an open to fail.
    """
    removed: list[Path] = []
    prefix = f".{target.name}."
    try:
        with os.scandir(target.parent) as scan:
            names = [
                entry.name
                for entry in scan
                if entry.name.startswith(prefix) and entry.name.endswith(TEMPORARY_SUFFIX)
            ]
    except OSError:
        return removed
    for name in names:
        path = target.parent / name
        if _remove_if_abandoned(path, name[len(prefix) : -len(TEMPORARY_SUFFIX)]):
            removed.append(path)
    return removed


def remove_abandoned_temporaries(folder: Path) -> list[Path]:
    """:func:`remove_stale_temporaries` for every target in a folder: the temporary files of
    :func:`atomic_write` whose writer is dead. Returns them."""
    removed: list[Path] = []
    try:
        with os.scandir(folder) as scan:
            names = [entry.name for entry in scan if entry.name.endswith(TEMPORARY_SUFFIX)]
    except OSError:
        return removed
    for name in names:
        parts = name[1 : -len(TEMPORARY_SUFFIX)].rsplit(".", 2)
        if not name.startswith(".") or len(parts) != 3:
            continue
        _target, pid, random_part = parts
        if _remove_if_abandoned(folder / name, f"{pid}.{random_part}"):
            removed.append(folder / name)
    return removed


def _remove_if_abandoned(path: Path, middle: str) -> bool:
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | _CLOEXEC)
    except OSError:
        return False
    try:
        status = os.fstat(handle)
        if not stat.S_ISREG(status.st_mode) or not _lock(handle, blocking=False):
            return False  # not ours, or a live writer holds it
        pid, _, _random = middle.partition(".")
        if pid.isdigit():
            if _process_exists(int(pid)):
                return False
        elif time.time() - status.st_mtime < STALE_SECONDS:
            return False
        os.unlink(path)
        return True
    except OSError:
        return False
    finally:
        os.close(handle)


def _lock(handle: int, *, blocking: bool) -> bool:
    """Take the exclusive ``flock`` of an open file; False when another holder has it."""
    if fcntl is None:  # pragma: no cover - not POSIX: no locks, and so no cleanup either
        return blocking
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


#: The bytes a :class:`DirectWrites` stages before each write past the page cache: a multiple
#: of every block size a disk asks direct writes to come in.
DIRECT_STAGE_BYTES = 8 * 2**20


class DirectWrites:
    """Writes to the start of a new file past the page cache (``O_DIRECT``) where the system
    allows it, else as usual.

    A big file written the usual way first fills as many pages of the page cache, and where
    memory new to the process costs a fault per page, filling them took longer than the disk
    took to write them (the snapshot cache's entries: docs/performance.md). Direct writes go
    from one aligned staging buffer to the disk, a whole buffer at a time; what is left when
    :meth:`finish` is called, and anything written after, goes the usual way. Where the file
    system refuses direct writes (tmpfs, for one), every write is the usual one.
    """

    def __init__(self, descriptor: int, stage_bytes: int = DIRECT_STAGE_BYTES) -> None:
        self._descriptor = descriptor
        self._stage: mmap.mmap | None = None
        self._staged = 0
        if _set_direct(descriptor, on=True):
            self._stage = mmap.mmap(-1, stage_bytes)  # anonymous: aligned to a page

    @property
    def direct(self) -> bool:
        """Whether writes still go past the page cache."""
        return self._stage is not None

    def write(self, data: memoryview) -> None:
        """Write all of ``data`` (after what was written before)."""
        if self._stage is None:
            write_all(self._descriptor, data)
            return
        stage = self._stage
        while len(data):
            room = len(stage) - self._staged
            part, data = data[:room], data[room:]
            stage[self._staged : self._staged + len(part)] = part
            self._staged += len(part)
            if self._staged == len(stage):
                self._write_stage()
                if self._stage is None:  # refused on the way: the rest as usual
                    write_all(self._descriptor, data)
                    return

    def finish(self) -> None:
        """Write what is staged; later writes go the usual way."""
        if self._stage is not None:
            _set_direct(self._descriptor, on=False)
            with memoryview(self._stage) as stage:
                write_all(self._descriptor, stage[: self._staged])
            self._close_stage()

    def _write_stage(self) -> None:
        assert self._stage is not None
        refused = False
        with memoryview(self._stage) as stage:
            done = 0
            try:
                while done < self._staged:
                    done += os.write(self._descriptor, stage[done : self._staged])
            except OSError as exc:
                if exc.errno != errno.EINVAL:
                    raise
                # a file system that took the flag but not the write: the rest as usual
                refused = True
                _set_direct(self._descriptor, on=False)
                write_all(self._descriptor, stage[done : self._staged])
        if refused:
            self._close_stage()
        else:
            self._staged = 0

    def _close_stage(self) -> None:
        assert self._stage is not None
        self._stage.close()
        self._stage = None
        self._staged = 0


def write_all(descriptor: int, data: memoryview) -> None:
    """``os.write`` until all of ``data`` is written."""
    while len(data):
        data = data[os.write(descriptor, data) :]


def _set_direct(descriptor: int, *, on: bool) -> bool:
    """Turn ``O_DIRECT`` on or off for an open file; False where the system refuses it."""
    direct = getattr(os, "O_DIRECT", 0)
    if not direct or fcntl is None:
        return False
    try:
        flags = fcntl.fcntl(descriptor, fcntl.F_GETFL)
        fcntl.fcntl(descriptor, fcntl.F_SETFL, flags | direct if on else flags & ~direct)
    except OSError:
        return False
    return True
