"""Finding job dump files and reading them into snapshots (see also :mod:`jobquery.io.writing`).

Formats, chosen by file extension:

========================  ===================================================================
``.json``                 a ListJobs response page (``{"Jobs": [...], ...}``) or a JSON array
``.ndjson``, ``.jsonl``   one job object per line
``.parquet``              a jobquery export (column ``job_json``) or any table of job fields
``.arrow``, ``.feather``  the same as Arrow IPC files
========================  ===================================================================

Several paths, or a folder (every supported file under it), are read as one job set. When the
same ``JobId`` occurs more than once, the record with the latest ``GmtModifiedTime`` wins (on a
tie, or without that time, the one read last). A malformed record raises
:class:`~jobquery.errors.DumpFormatError` naming the file and line; with ``lenient=True`` it is
skipped and reported in :attr:`Dump.skipped` — nothing is dropped silently.

How job texts are checked
-------------------------
The contract is the strict parser, :mod:`orjson`: a record is kept when ``orjson.loads`` reads
it as an object with a non-empty string ``JobId`` that gives no key the index reads twice in
one object (:func:`jobquery.snapshot.repeated_index_key`: the value one JSON parser takes would
not be the one another takes, and a filter must never read a job differently from the job it
returns). NDJSON lines and the ``job_json`` column of Parquet/Arrow exports are read natively
instead, in parallel and once: the snapshot build reads every text for the fields the index
needs with its native reader (:mod:`jobquery.snapshot.native_read`), which checks the whole
text as orjson would and refuses a key the index reads given twice. Texts it cannot vouch for —
not braced, not UTF-8, refused by it, or holding what it leaves to orjson (numbers near the
edge of the double range, deep nesting, odd tag values) — are judged by orjson one by one
(:meth:`_TextSource.check`), in order, so the message, the line and the order of errors are the
ones orjson's path alone gives. An NDJSON file is read into memory once; its lines are the
texts, as views into those bytes (no copy per job).

Duplicates are then resolved natively, on the ``GmtModifiedTime`` the build parsed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fnmatch
import functools
import gc
import glob
import json
import math
import mmap
import os
import stat
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

import numpy as np
import orjson
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyarrow import feather

from jobquery.errors import DumpFormatError
from jobquery.snapshot import (
    BUILD_THREADS,
    JOB_JSON,
    IndexedTexts,
    Refusal,
    Snapshot,
    Verdict,
    index_piece,
    index_texts,
    job_shape_error,
    load_job,
    may_hold_long_integer,
    native_read,
    parse_times,
    piece_bytes,
    repeated_index_keys_of_jobs,
    repeated_key_error,
)
from jobquery.snapshot.native_read import TextLayout
from jobquery.snapshot.textcodec import TextCodec

JSON_EXTENSIONS = (".json",)
NDJSON_EXTENSIONS = (".ndjson", ".jsonl")
PARQUET_EXTENSIONS = (".parquet",)
ARROW_EXTENSIONS = (".arrow", ".feather", ".ipc")
SUPPORTED_EXTENSIONS = JSON_EXTENSIONS + NDJSON_EXTENSIONS + PARQUET_EXTENSIONS + ARROW_EXTENSIONS

Progress = Callable[[int], None]

#: Where a saved snapshot (:mod:`jobquery.io.saved`) keeps the dictionary of its compressed texts.
_TEXT_DICTIONARY_KEY = b"jobquery.text_dictionary"

JOB_ID = "JobId"
MODIFIED = "GmtModifiedTime"

#: orjson refuses JSON nested deeper than this (tests/test_ingest.py pins it).
ORJSON_MAX_DEPTH = native_read.ORJSON_MAX_DEPTH
#: A missing or unreadable ``GmtModifiedTime``, in µs: older than any time (the oldest
#: readable one is ``datetime.min``, 0001-01-01T00:00:00Z, which Go writes for an unset time).
NO_MODIFIED_TIME = -62_135_596_800_000_000 - 1
#: A line may be this long at most (the texts are Arrow string views into the file's bytes,
#: whose offsets are 32-bit: the file is cut into windows of a GiB, each line in one window).
MAX_LINE_BYTES = 1 << 30


@dataclass(frozen=True)
class Skipped:
    """A record left out in lenient mode: where it was and why."""

    path: str
    reason: str
    line: int | None = None
    record: int | None = None

    @property
    def whole_file(self) -> bool:
        """A file left out (not a regular file), rather than one record of a file."""
        return self.line is None and self.record is None

    def __str__(self) -> str:
        return str(DumpFormatError(self.path, self.reason, line=self.line, record=self.record))


def jobs_counted(count: int) -> str:
    """``1 job``, ``2000 jobs`` (what the command line and the server say they read)."""
    return f"{count} job{'' if count == 1 else 's'}"


def skipped_lines(skipped: Sequence[Skipped], shown: int = 10) -> list[str]:
    """What to say of the records a lenient read skipped: a count, the first ``shown`` of
    them, and how many more (nothing when none was)."""
    if not skipped:
        return []
    lines = [f"skipped {len(skipped)} malformed record(s) (--lenient):"]
    lines += [f"  {record}" for record in skipped[:shown]]
    if len(skipped) > shown:
        lines.append(f"  ... and {len(skipped) - shown} more")
    return lines


class ParsedJobs(Sequence[dict[str, Any]]):
    """Jobs parsed from their JSON texts when read, one at a time.

    A million parsed jobs take several times the memory of their text; the snapshot build
    reads each job once.
    """

    def __init__(self, texts: Sequence[str]) -> None:
        self._texts = texts

    def __len__(self) -> int:
        return len(self._texts)

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return [load_job(text) for text in self._texts[index]]
        return load_job(self._texts[index])

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (load_job(text) for text in self._texts)


@functools.cache
def _empty_frame() -> pl.DataFrame:
    """A frame of no job (every column of an indexed one)."""
    return index_texts(pl.Series(JOB_JSON, [], dtype=pl.String)).frame


@dataclass
class Dump:
    """Jobs read from one or more files, one row per job, and what was skipped.

    Attributes
    ----------
    frame : polars.DataFrame
        In reading order: ``job_json`` (the job's lossless text) and every column a snapshot
        derives from it but the ranks (:func:`jobquery.snapshot.index_texts`): the texts are
        read once, when the file is.
    skipped : list of Skipped
        Records left out in lenient mode.
    duplicates : int
        Records dropped because a later or newer one had the same ``JobId``.
    codec : TextCodec or None
        Set when the texts were compressed as they were read (``compress_texts``):
        ``job_json`` then holds each text compressed by it.
    """

    frame: pl.DataFrame = field(default_factory=_empty_frame)
    skipped: list[Skipped] = field(default_factory=list)
    duplicates: int = 0
    codec: TextCodec | None = None

    def __len__(self) -> int:
        return self.frame.height

    @property
    def texts(self) -> list[str]:
        """The job texts as a list (a copy: for small dumps such as an upsert)."""
        column = self.frame[JOB_JSON]
        if self.codec is not None:
            column = self.codec.decompress(column)
        texts: list[str] = column.to_list()
        return texts

    @property
    def jobs(self) -> ParsedJobs:
        """The jobs, parsed as they are read."""
        return ParsedJobs(self.texts)


def resolve_paths(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Expand folders (every supported file below them) and glob patterns into files.

    Entries that are not regular files are left out (see :func:`find_dump_files`).

    Raises
    ------
    FileNotFoundError
        A path that does not exist and is not a pattern matching something.
    DumpFormatError
        A path given by name that is not a regular file or folder (a FIFO, a device), or a
        folder without dump files.
    """
    return find_dump_files(paths)[0]


def find_dump_files(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[Path], list[Skipped]]:
    """The files to read for some paths, and the entries left out on the way.

    A folder stands for every file with a supported extension below it; a glob pattern (``*``,
    ``?``, ``[...]``, ``**`` for any depth) for what it matches. Neither walk enters a folder
    twice, so a symbolic link that loops (``dumps/again -> ..``) is not followed round; hidden
    entries (a name starting with ``.``) are matched only by a pattern part starting with
    ``.``, as :func:`glob.glob` does. An entry found this way that is not a regular file — a
    FIFO, a socket, a device, a link to nothing — is never opened (reading a FIFO blocks until
    someone writes to it): it is left out and listed as :class:`Skipped`. A path given by name
    must be a file or a folder. A file found twice is read once.

    Raises
    ------
    FileNotFoundError
        A path that does not exist (or a link to nothing), or a pattern matching nothing.
    DumpFormatError
        A path given by name that is a FIFO, socket or device; a folder without dump files.
    """
    files: list[Path] = []
    skipped: list[Skipped] = []
    for raw in paths:
        path = Path(raw)
        kind = _kind(path)
        if kind == "folder":
            found = [entry for entry in _walk(path, ("**", "*")) if is_dump_file(entry)]
            if not found:
                raise DumpFormatError(str(path), "the folder holds no job dump files")
            _sort_out(sorted(found), files, skipped)
        elif kind == "file":
            files.append(path)
        elif kind != "missing":
            raise DumpFormatError(str(path), f"not a regular file but {kind}; nothing was read")
        elif path.is_symlink():
            raise FileNotFoundError(f"no such dump file: {raw} (a symbolic link to nothing)")
        elif glob.has_magic(str(raw)):
            matched = sorted(_glob(str(raw)))
            if not matched:
                raise FileNotFoundError(f"no file matches {raw}")
            _sort_out([entry for entry in matched if _kind(entry) != "folder"], files, skipped)
        else:
            raise FileNotFoundError(f"no such dump file: {raw}")
    return _once_each(files), skipped


def is_dump_file(path: Path) -> bool:
    """Whether a file found in a dump folder is read: by its extension, or, whatever its
    name, when it is a snapshot ``JobStore.save`` wrote."""
    return path.suffix.lower() in SUPPORTED_EXTENSIONS or is_saved_snapshot(path)


#: The Parquet metadata key of a file ``JobStore.save`` wrote: its manifest (io/saved.py).
SAVED_MANIFEST_KEY = b"jobquery.snapshot"


def is_saved_snapshot(path: Path) -> bool:
    """Whether a file is a snapshot ``JobStore.save`` wrote (a Parquet file with a jobquery
    manifest), whatever its name. A damaged file is not: the dump reader words its error.
    Only a regular file is opened (opening a FIFO would wait for a writer)."""
    try:
        if not path.is_file():
            return False
        with path.open("rb") as handle:
            if handle.read(4) != b"PAR1":
                return False
        metadata = pq.read_schema(path).metadata or {}
    except Exception:  # any damage: the dump reader reads it, and words the error
        return False
    return SAVED_MANIFEST_KEY in metadata


def _once_each(files: list[Path]) -> list[Path]:
    """The files in order, each once: one named twice (by name, through a folder, a pattern or
    a link) is read once, not taken for a dump repeating every job of the other."""
    seen: set[tuple[int, int]] = set()
    kept = []
    for path in files:
        stat_ = path.stat()
        identity = (stat_.st_dev, stat_.st_ino)
        if identity not in seen:
            seen.add(identity)
            kept.append(path)
    return kept


#: What a path that is not a regular file or a folder is, by the test of its mode.
_OTHER_KINDS: tuple[tuple[Callable[[int], bool], str], ...] = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
)


def _kind(path: Path) -> str:
    """What a path is, following links: "file", "folder", "missing", or what else it is."""
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return "missing"
    except OSError as exc:  # a link loop, a name too long, a permission problem
        raise DumpFormatError(str(path), f"cannot be read: {exc.strerror or exc}") from exc
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "folder"
    return next((kind for test, kind in _OTHER_KINDS if test(mode)), "not a regular file")


def _sort_out(entries: list[Path], files: list[Path], skipped: list[Skipped]) -> None:
    """Files to read go to ``files``; anything else found by a walk is listed as skipped."""
    for entry in entries:
        kind = _kind(entry)
        if kind == "file":
            files.append(entry)
        else:
            what = "a symbolic link to nothing" if kind == "missing" else kind
            skipped.append(Skipped(str(entry), f"not a regular file ({what}); not read"))


def _glob(pattern: str) -> list[Path]:
    """The entries a glob pattern matches, walked without entering any folder twice."""
    parts = Path(pattern).parts
    fixed = 0
    while fixed < len(parts) - 1 and not glob.has_magic(parts[fixed]):
        fixed += 1
    return list(_walk(Path(*parts[:fixed]), parts[fixed:]))


def _walk(root: Path, pattern: Sequence[str]) -> Iterator[Path]:
    """The entries below ``root`` whose relative path matches the pattern's parts (``**`` is
    any number of folders, none included). A folder is entered at most once per part of the
    pattern (known by its device and inode), so a link back up ends the walk there."""
    entered: set[tuple[int, int, int]] = set()

    def visit(folder: Path, rest: Sequence[str]) -> Iterator[Path]:
        entries = _enter(folder, len(rest), entered)
        if entries is None:
            return
        head, tail = rest[0], rest[1:]
        if head == "**" and tail:
            yield from visit(folder, tail)
        for entry in _matching(entries, head):
            if not tail:
                yield Path(entry.path)
            if (head == "**" or tail) and _is_folder(entry):
                yield from visit(Path(entry.path), rest if head == "**" else tail)

    return visit(root, pattern) if pattern else iter(())


def _enter(
    folder: Path, parts_left: int, entered: set[tuple[int, int, int]]
) -> list[os.DirEntry[str]] | None:
    """The entries of ``folder`` by name; None when it cannot be read or was already entered
    with as many parts of the pattern left (``entered`` records it)."""
    try:
        identity = folder.stat()
    except OSError:
        return None
    key = (identity.st_dev, identity.st_ino, parts_left)
    if key in entered:
        return None
    entered.add(key)
    try:
        with os.scandir(folder) as scan:
            return sorted(scan, key=lambda entry: entry.name)
    except OSError:
        return None


def _matching(entries: list[os.DirEntry[str]], part: str) -> list[os.DirEntry[str]]:
    """The entries one part of a pattern matches: ``**`` every entry that is not hidden,
    another part the names it matches, hidden ones only when the part starts with a dot."""
    if part == "**":
        return [entry for entry in entries if not entry.name.startswith(".")]
    return [
        entry
        for entry in entries
        if fnmatch.fnmatchcase(entry.name, part)
        and (not entry.name.startswith(".") or part.startswith("."))
    ]


def _is_folder(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def read_dumps(
    paths: Iterable[str | os.PathLike[str]],
    *,
    lenient: bool = False,
    on_progress: Progress | None = None,
    compress_texts: bool = False,
    open_snapshot: Callable[[Path], Snapshot | None] | None = None,
) -> Dump:
    """Read files, folders or glob patterns as one job set (duplicates resolved).

    With ``compress_texts`` each piece's texts are compressed as soon as it is indexed, on
    its build thread (:attr:`Dump.codec`): the plain texts of a dump never need to be in
    memory all at once, and the compression shares the cores with the reading.

    ``open_snapshot`` opens a file that holds a snapshot in a form only its caller knows (a
    cache entry), else returns None; such a file's jobs are read as a ``job_json`` column's.
    """
    reader = _Reader(lenient, compress_texts=compress_texts)
    files, left_out = find_dump_files(paths)
    reader.skipped += left_out
    with paused_gc():
        for path in files:
            snapshot = None if open_snapshot is None else open_snapshot(path)
            if snapshot is None:
                _read_one(path, reader, on_progress)
                continue
            texts = snapshot.json_texts().alias(JOB_JSON)
            places = np.arange(len(texts), dtype=np.int64)
            reader.add_texts(_TextSource(str(path), by_line=False), texts, places)
            if on_progress is not None:
                on_progress(path.stat().st_size)
    return deduplicate(reader.dump())


def snapshot_from_dump(dump: Dump, *, version: int = 0, compress_texts: bool = False) -> Snapshot:
    """Build the snapshot of what was read (texts compressed: :meth:`Snapshot.from_texts`).

    The rows are indexed already (the texts were read once, with the files): this puts them
    in order. The dump's rows are handed over (``dump.frame`` is left empty), so that the
    unsorted columns are freed as the sorted ones are made.
    """
    columns = dump.frame.get_columns()
    dump.frame = _empty_frame()
    with paused_gc():
        return Snapshot.from_indexed(
            columns,
            version=version,
            compress_texts=compress_texts,
            codec=dump.codec,
            ids_unique=True,  # deduplicate made them so
        )


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of JSON objects are being created.

    Parsed jobs contain no reference cycles, but every few hundred allocations the collector
    would walk all of them again.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def deduplicate(dump: Dump) -> Dump:
    """Keep one record per JobId: the latest ``GmtModifiedTime`` wins, then the later record.

    A missing or unreadable time is older than any time (the build parsed the times as
    :func:`modified_micros` does).
    """
    ids = dump.frame[JOB_ID]
    repeated = ids.is_duplicated()
    if not repeated.any():
        return dump
    rows = repeated.arg_true()
    moments = dump.frame[MODIFIED].gather(rows).dt.epoch("us").fill_null(NO_MODIFIED_TIME)
    contest = pl.DataFrame({"row": rows, "id": ids.gather(rows), "at": moments}).sort(
        ["id", "at", "row"]
    )
    winners = contest.filter(pl.col("id").is_last_distinct())["row"]
    keep = (~repeated).scatter(winners, True)
    return Dump(
        frame=dump.frame.filter(keep),
        skipped=dump.skipped,
        duplicates=dump.duplicates + len(rows) - len(winners),
        codec=dump.codec,
    )


def modified_micros(texts: pl.Series) -> pl.Series:
    """``GmtModifiedTime`` texts as UTC microseconds, as :func:`parse_timestamp` reads them.

    A null or a text that does not parse becomes :data:`NO_MODIFIED_TIME`, before any time.
    """
    return parse_times("GmtModifiedTime", texts).dt.epoch("us").fill_null(NO_MODIFIED_TIME)


def records_dump(records: Iterable[Mapping[str, Any]], *, lenient: bool = False) -> Dump:
    """In-memory records as a dump (validated and deduplicated like a file)."""
    reader = _Reader(lenient)
    source = _TextSource("<records>", by_line=False)
    with paused_gc():
        kept = _Kept()
        for index, record in enumerate(records):
            if not isinstance(record, Mapping):
                reader.reject("<records>", "a job must be a JSON object", record=index)
                continue
            job = dict(record)
            found = _not_json(job)
            text = _dump_text(job) if found is None else None
            if text is None:
                why = "nested too deeply to store" if found is None else str(found)
                reader.reject("<records>", why, record=index)
                continue
            _accept(reader, kept, "<records>", job, text, record=index)
        reader.add_texts(source, kept.texts(), kept.places())
    return deduplicate(reader.dump())


# ---------------------------------------------------------------------------------------------
# What one read collects


class _Reader:
    """The jobs and skipped records of one read, across its files, in reading order."""

    def __init__(self, lenient: bool, *, compress_texts: bool = False) -> None:
        self.lenient = lenient
        self.compress_texts = compress_texts
        self.parts: list[pl.DataFrame] = []
        self.skipped: list[Skipped] = []
        self._codec: TextCodec | None = None
        self._codec_lock = threading.Lock()

    def codec(self, sample: Callable[[], pl.Series]) -> TextCodec | None:
        """The codec the texts are compressed with (None: they are not), trained on the
        texts ``sample`` gives when the first input asks for it."""
        if not self.compress_texts:
            return None
        with self._codec_lock:
            if self._codec is None:
                self._codec = TextCodec.train(sample())
            return self._codec

    def add_texts(
        self,
        source: _TextSource,
        texts: pl.Series,
        places: np.ndarray,
    ) -> None:
        """Index some job texts (read once, natively: :func:`index_texts`); the texts the
        native reading does not vouch for are judged by orjson (:meth:`_TextSource.check`),
        and those that are not jobs rejected with their place (``places``: line numbers, or
        record numbers). With ``compress_texts`` the kept texts are compressed."""
        indexed = index_texts(
            texts, source=source.name, judge=lambda _, positions: source.judge(texts, positions, {})
        )
        for refusal in indexed.refusals:
            source.reject(self, refusal.reason, int(places[refusal.position]), refusal.cause)
        kept = indexed.frame[JOB_JSON]
        codec = self.codec(lambda: kept) if len(kept) else None
        if codec is not None:
            compressed = indexed.frame.with_columns(codec.compress(kept))
            indexed = dataclasses.replace(indexed, frame=compressed)
        self.add(indexed)

    def add(self, indexed: IndexedTexts) -> None:
        """Keep some indexed jobs (their texts compressed already when ``compress_texts``)."""
        if indexed.frame.height:
            self.parts.append(indexed.frame)

    def reject(
        self,
        name: str,
        reason: str,
        *,
        line: int | None = None,
        record: int | None = None,
        cause: BaseException | None = None,
    ) -> None:
        if not self.lenient:
            raise DumpFormatError(name, reason, line=line, record=record) from cause
        self.skipped.append(Skipped(name, reason, line=line, record=record))

    def dump(self) -> Dump:
        if not self.parts:
            return Dump(frame=_empty_frame(), skipped=self.skipped)
        frame = pl.concat(self.parts, rechunk=False)
        return Dump(frame=frame, skipped=self.skipped, codec=self._codec)


class _Kept:
    """Job texts accepted one by one (the Python path), with their place in their source."""

    def __init__(self) -> None:
        self._places: list[int] = []
        self._texts: list[str] = []

    def add(self, place: int, text: str) -> None:
        self._places.append(place)
        self._texts.append(text)

    def texts(self) -> pl.Series:
        return pl.Series(JOB_JSON, self._texts, dtype=pl.String)

    def places(self) -> np.ndarray:
        return np.array(self._places, dtype=np.int64)


def _accept(
    reader: _Reader,
    kept: _Kept,
    name: str,
    job: Any,
    text: str | None,
    *,
    record: int,
) -> None:
    """Check the shape every job must have, then keep it (with its lossless text)."""
    reason = job_shape_error(job)
    if reason is not None:
        reader.reject(name, reason, record=record)
        return
    if text is None:
        text = _dump_text(job)
        if text is None:
            reader.reject(name, "nested too deeply to store", record=record)
            return
    kept.add(record, text)


def _dump_text(job: dict[str, Any]) -> str | None:
    """A job's JSON text: orjson, or the standard library for integers beyond 64 bits; None
    for a job nested too deeply (or holding what :func:`_not_json` finds)."""
    try:
        return orjson.dumps(job).decode()
    except TypeError:
        try:
            return json.dumps(job, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError, RecursionError):
            return None


@dataclass
class _NotJson:
    """What :func:`_not_json` found: the value (or key), and where it is."""

    value: Any
    is_key: bool
    path: list[str | int] = field(default_factory=list)

    def __str__(self) -> str:
        where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in self.path)
        where = where.removeprefix(".") or "the job"
        if self.is_key:
            return f"{where} has the key {self.value!r}: JSON keys are strings of valid Unicode"
        if isinstance(self.value, str):
            return f"{where} holds a string with a lone surrogate (not valid Unicode)"
        if isinstance(self.value, float):
            return f"{where} holds {self.value}, which JSON cannot represent"
        return f"{where} holds a value of type {type(self.value).__name__}, not a JSON value"


#: The exact types most values have, passed over without a call.
_PLAIN = frozenset((str, int, bool, type(None)))


def _not_json(value: Any) -> _NotJson | None:
    """Where a record holds what JSON cannot and ``orjson`` would write silently as something
    else (a datetime, a UUID, an Enum, a tuple, a NaN, a key that is not a string) or not at
    all (a lone surrogate); None when every value is JSON's. str and int subclasses, such as
    a string-valued Enum, are JSON's: the text or number they are."""
    if isinstance(value, dict):
        places: Iterable[tuple[str | int, Any]] = value.items()
    elif isinstance(value, list):
        places = enumerate(value)
    else:
        return None if _is_json_scalar(value) else _NotJson(value, is_key=False)
    keyed = isinstance(value, dict)
    for place, item in places:
        if keyed and (type(place) is not str or not place.isascii()) and _is_bad_key(place):
            return _NotJson(place, is_key=True)
        if type(item) in _PLAIN and (type(item) is not str or item.isascii()):
            continue  # the common case, without a deeper call
        found = _not_json(item)
        if found is not None:
            found.path.insert(0, place)
            return found
    return None


def _is_json_scalar(value: Any) -> bool:
    if isinstance(value, str):
        return not _is_unencodable(value)
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, int) or value is None


def _is_bad_key(key: Any) -> bool:
    return not isinstance(key, str) or _is_unencodable(key)


def _is_unencodable(text: str) -> bool:
    """Whether a string holds a lone surrogate (not valid Unicode: UTF-8 cannot encode it)."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return True
    return False


# ---------------------------------------------------------------------------------------------
# Readers


def _read_one(path: Path, reader: _Reader, on_progress: Progress | None) -> None:
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_EXTENSIONS:
        suffix = _suffix_of_content(path) or suffix
    name = str(path)
    if suffix in NDJSON_EXTENSIONS:
        _read_ndjson(path, reader, on_progress)
        return  # its progress is told piece by piece
    if suffix in JSON_EXTENSIONS:
        _read_json(path, reader)
    elif suffix in PARQUET_EXTENSIONS + ARROW_EXTENSIONS:
        try:
            table = _read_table_file(path, suffix)
            if JOB_JSON in table.column_names and _is_text(table.column(JOB_JSON).type):
                table.column(JOB_JSON).validate(full=True)  # invalid UTF-8: a damaged file
        # pyarrow reports some corrupt files as SystemError; they are still just bad files
        except (pa.ArrowException, OSError, UnicodeDecodeError, SystemError) as exc:
            if isinstance(exc, FileNotFoundError):
                raise
            raise DumpFormatError(name, f"not a readable {suffix[1:]} file: {exc}") from exc
        _read_table(name, table, reader)
    else:
        raise DumpFormatError(
            name,
            f"unknown dump format {suffix or '(no extension)'}; "
            f"expected one of {', '.join(SUPPORTED_EXTENSIONS)}",
        )
    if on_progress is not None:
        on_progress(path.stat().st_size)


#: What ``bytes.strip()`` removes: a line of only these is blank (JSON whitespace plus \v, \f).
_BLANK_BYTES = b" \t\n\r\x0b\x0c"
_BOM = b"\xef\xbb\xbf"


def _read_ndjson(path: Path, reader: _Reader, on_progress: Progress | None = None) -> None:
    """An NDJSON file: every line that is not blank is a job text, read where it lies.

    A final ``\\r`` (or several) is not part of a line, nor a byte order mark at the start of
    the file; a line of whitespace is blank. The file is cut at line ends into pieces of a
    few MiB, each read, split into lines and indexed on its own build thread
    (:func:`_read_ndjson_piece`); errors are reported in line order. The texts are Arrow
    string views into the pieces' bytes, read once into memory (not mapped: a file changed
    while a store holds it must not change the store, or crash it). ``on_progress`` is told
    each piece's bytes once it is indexed.
    """
    name = str(path)
    with path.open("rb") as file:
        handle = file.fileno()
        size = os.fstat(handle).st_size
        bounds = _line_aligned_bounds(handle, size, piece_bytes(size))
        native = True if len(bounds) > 2 else None  # one piece: by its number of texts
        codec = reader.codec(lambda: _sampled_lines(handle, size))
        # compressed, a piece's bytes are let go once indexed: its thread reads the next into them
        spares = _SpareBuffers() if codec is not None else None

        def read(start: int, stop: int) -> _NdjsonPiece:
            return _read_ndjson_piece(
                handle, start, stop, name, native=native, codec=codec, spares=spares
            )

        if len(bounds) <= 2:
            _add_ndjson_pieces(reader, name, [read(0, size)], on_progress)
            return
        with ThreadPoolExecutor(max_workers=BUILD_THREADS) as pool:
            pieces = pool.map(read, bounds[:-1], bounds[1:])
            try:
                _add_ndjson_pieces(reader, name, pieces, on_progress)
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise


@dataclass
class _NdjsonPiece:
    """One piece of an NDJSON file, indexed: line numbers are counted within the piece."""

    indexed: IndexedTexts
    numbers: np.ndarray
    newlines: int
    size: int


def _add_ndjson_pieces(
    reader: _Reader,
    name: str,
    pieces: Iterable[_NdjsonPiece],
    on_progress: Progress | None,
) -> None:
    """Add the pieces of a file in order, their lines numbered in the file."""
    source = _TextSource(name, by_line=True)
    lines_before = 0
    for piece in pieces:
        for refusal in piece.indexed.refusals:
            place = int(piece.numbers[refusal.position]) + lines_before
            source.reject(reader, refusal.reason, place, refusal.cause)
        reader.add(piece.indexed)
        lines_before += piece.newlines
        if on_progress is not None:
            on_progress(piece.size)
    # no job line at all: an empty job set (what write_dump writes for zero jobs)


def _read_ndjson_piece(
    handle: int,
    start: int,
    stop: int,
    name: str,
    *,
    native: bool | None,
    codec: TextCodec | None = None,
    spares: _SpareBuffers | None = None,
) -> _NdjsonPiece:
    """Read bytes ``start..stop`` of an NDJSON file (whole lines) and index their texts
    (compressed by ``codec`` when given: the piece's bytes are then let go; ``spares``: read
    into the calling thread's last buffer when nothing points into it any longer)."""
    data = _read_range(handle, start, stop) if spares is None else spares.read(handle, start, stop)
    starts, ends, numbers, newlines = _line_bounds(data, first=start == 0)
    if len(starts) and int((ends - starts).max()) > MAX_LINE_BYTES:
        raise DumpFormatError(name, f"a line is longer than {MAX_LINE_BYTES} bytes")
    buffer = pa.py_buffer(data)
    views = _binary_views(buffer, starts, ends)
    undecodable: dict[int, bytes] = {}
    try:
        texts = pl.Series(JOB_JSON, views.cast(pa.string_view()))
    except pa.ArrowInvalid:  # not all UTF-8: the lines that are not are nulls (orjson words why)
        for position, (first, end) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
            try:
                data[first:end].decode()
            except UnicodeDecodeError:
                undecodable[position] = bytes(data[first:end])
        bad = np.array(list(undecodable), dtype=np.int64)
        empty = ends.copy()
        empty[bad] = starts[bad]
        texts = pl.Series(JOB_JSON, _binary_views(buffer, starts, empty).cast(pa.string_view()))
        texts = texts.scatter(bad, pl.Series([None] * len(bad), dtype=pl.String))
    source = _TextSource(name, by_line=True)
    indexed = index_piece(
        texts,
        TextLayout(buffer, starts, ends),
        source=name,
        judge=lambda chosen, positions: source.judge(chosen, positions, undecodable),
        native=native,
    )
    if codec is not None and indexed.frame.height:
        compressed = codec.compress(indexed.frame[JOB_JSON])
        indexed = dataclasses.replace(indexed, frame=indexed.frame.with_columns(compressed))
    return _NdjsonPiece(indexed, numbers, newlines, stop - start)


class _SpareBuffers:
    """Per thread, the buffer of the last piece it read, read into again once nothing points
    into it any longer.

    Memory the process has not used before costs the kernel a fault per page to hand over,
    and a 64 MiB piece read into new memory each time pays that on every piece (a large
    share of the time with compressed texts on some machines: docs/performance.md). Whether
    anything still points into a buffer is CPython's to say, not ours: a ``bytearray`` whose
    memory is exported (to an Arrow buffer, a NumPy array) refuses to be resized, and then it
    is left to its holders and a new one is taken.
    """

    def __init__(self) -> None:
        self._local = threading.local()

    def read(self, handle: int, start: int, stop: int) -> bytearray:
        """Bytes ``start..stop`` of a file, in this thread's spare buffer when it is free."""
        size = stop - start
        buffer: bytearray | None = getattr(self._local, "buffer", None)
        self._local.buffer = None
        if buffer is None or not _resized_if_free(buffer, size):
            buffer = bytearray(size)
        del buffer[_read_into(handle, buffer, start) :]
        self._local.buffer = buffer
        return buffer


def _resized_if_free(buffer: bytearray, size: int) -> bool:
    """Resize ``buffer`` to ``size`` bytes unless its memory is exported (then False)."""
    try:
        buffer.append(0)  # a resize checks for exports; deleting an empty slice does not
    except BufferError:
        return False
    if size < len(buffer):
        del buffer[size:]
    else:
        buffer.extend(bytes(size - len(buffer)))
    return True


#: New memory for a piece's bytes is asked for in one call where the system can (Linux): a
#: page handed over on first touch cost about twice the time (docs/performance.md).
_POPULATE = getattr(mmap, "MAP_POPULATE", 0)


def _read_range(handle: int, start: int, stop: int) -> bytearray | mmap.mmap:
    """Bytes ``start..stop`` of a file, in new memory (fewer when the file shrank)."""
    size = stop - start
    if _POPULATE and size:
        flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | _POPULATE
        mapped = mmap.mmap(-1, size, flags=flags)
        read = _read_into(handle, mapped, start)
        return mapped if read == size else bytearray(memoryview(mapped)[:read])
    data = bytearray(size)
    del data[_read_into(handle, data, start) :]
    return data


def _read_into(handle: int, buffer: bytearray | mmap.mmap, start: int) -> int:
    """Fill ``buffer`` with the file's bytes from ``start`` on (``os.preadv``: threads may read
    at once); how many were read, fewer when the file shrank."""
    size = len(buffer)
    done = 0
    with memoryview(buffer) as view:
        while done < size:
            count = os.preadv(handle, [view[done:]], start + done)
            if not count:
                break
            done += count
    return done


def _line_aligned_bounds(handle: int, size: int, step: int) -> list[int]:
    """Offsets cutting a file into pieces of about ``step`` bytes, each just after a newline
    (the first and last being 0 and ``size``)."""
    bounds = [0]
    at = step
    while at < size:
        probe = at
        found = -1
        while probe < size and found < 0:
            window = os.pread(handle, 1 << 16, probe)
            if not window:
                break
            where = window.find(b"\n")
            found = probe + where if where >= 0 else -1
            probe += len(window)
        if found < 0 or found + 1 >= size:
            break
        bounds.append(found + 1)
        at = found + 1 + step
    bounds.append(size)
    return bounds


#: Places in a file the lines a codec is trained on are read from, and the bytes read at each.
_SAMPLED_PLACES = 64
_SAMPLED_BYTES = 1 << 17


def _sampled_lines(handle: int, size: int) -> pl.Series:
    """Whole lines read at places spread evenly over a file, for training a codec on (at
    most a few thousand)."""
    places = [size * place // _SAMPLED_PLACES for place in range(_SAMPLED_PLACES)]
    lines = [line for at in places for line in _lines_at(handle, at, _SAMPLED_BYTES)]
    return pl.Series(JOB_JSON, lines, dtype=pl.String)


def _lines_at(handle: int, at: int, count: int) -> list[str]:
    """The whole lines that are not blank among ``count`` bytes of a file from ``at`` on
    (a line cut by the window's start or end left out; undecodable bytes replaced: the lines
    only guide guesses)."""
    window = os.pread(handle, count, at)
    lines = window.removeprefix(_BOM).split(b"\n") if at == 0 else window.split(b"\n")[1:]
    return [line.decode(errors="replace") for line in lines[:-1] if line.strip()]


def _line_bounds(
    data: bytes | bytearray | mmap.mmap, *, first: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Where each line that is not blank starts and ends in ``data``, its number (1 for the
    first line of ``data``), and how many newlines ``data`` holds. ``first``: ``data`` starts
    the file (a byte order mark there is not part of the line)."""
    newlines = _newlines(data)
    starts = np.concatenate([[0], newlines + 1]).astype(np.int64)
    ends = np.concatenate([newlines, [len(data)]]).astype(np.int64)
    if first and data[: len(_BOM)] == _BOM:
        starts[0] = len(_BOM)
        ends[0] = max(ends[0], starts[0])
    bytes_ = np.frombuffer(data, dtype=np.uint8)
    while True:  # a final carriage return (or several) is not part of the line
        carriage = np.flatnonzero(ends > starts)
        carriage = carriage[bytes_[ends[carriage] - 1] == ord("\r")]
        if not len(carriage):
            break
        ends[carriage] -= 1
    numbers = np.arange(1, len(starts) + 1, dtype=np.int64)
    filled = np.flatnonzero(ends > starts)
    # a line starting with whitespace may be blank: those few are checked one by one
    spaced = filled[np.isin(bytes_[starts[filled]], np.frombuffer(_BLANK_BYTES, np.uint8))]
    blank = [int(i) for i in spaced if not data[starts[i] : ends[i]].strip(_BLANK_BYTES)]
    kept = np.setdiff1d(filled, np.array(blank, dtype=np.int64), assume_unique=True)
    return starts[kept], ends[kept], numbers[kept], len(newlines)


def _newlines(data: bytes | bytearray | mmap.mmap) -> np.ndarray:
    """The positions of the newlines in ``data`` (``bytes.find``: memchr, no copy)."""
    found: list[int] = []
    at = data.find(b"\n")
    while at >= 0:
        found.append(at)
        at = data.find(b"\n", at + 1)
    return np.array(found, dtype=np.int64)


#: Arrow string views hold strings up to 12 bytes inline; longer ones point into a buffer.
_INLINE = 12
_WINDOW_BITS = 30


def _binary_views(buffer: pa.Buffer, starts: np.ndarray, ends: np.ndarray) -> pa.Array:
    """Arrow binary views of ``buffer[starts[i]:ends[i]]``: no byte is copied.

    A view's offset into its buffer is 32-bit, so the buffer is given as windows of
    ``2**30`` bytes, each as long as its last line needs; a line lies in the window it starts in.
    """
    count = len(starts)
    data = np.frombuffer(buffer, dtype=np.uint8)
    lengths = ends - starts
    out_of_line = lengths > _INLINE
    head = starts[:, None] + np.arange(_INLINE)
    inline = (
        data[np.minimum(head, max(len(data) - 1, 0))]
        if len(data)
        else np.zeros((count, _INLINE), dtype=np.uint8)
    )
    used = np.arange(_INLINE) < np.where(out_of_line, 4, lengths)[:, None]
    inline = np.ascontiguousarray(np.where(used, inline, 0).astype(np.uint8))
    views = np.zeros((count, 4), dtype=np.int32)
    views[:, 0] = lengths
    views[:, 1:] = inline.view(np.int32).reshape(count, 3)
    window = starts >> _WINDOW_BITS
    views[out_of_line, 2] = window[out_of_line]
    views[out_of_line, 3] = starts[out_of_line] - (window[out_of_line] << _WINDOW_BITS)
    windows = []
    for number in range(int(window.max()) + 1 if count else 0):
        first = number << _WINDOW_BITS
        reach = int(ends[window == number].max(initial=first))
        windows.append(buffer.slice(first, max(reach - first, 0)))
    return pa.Array.from_buffers(
        pa.binary_view(), count, [None, pa.py_buffer(views.tobytes()), *windows]
    )


def _not_utf8(data: bytes) -> tuple[int, str] | None:
    """Where ``data`` stops being UTF-8 (an offset) and what to say of it, naming the byte
    and its place in its line; None when it is all UTF-8."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as bad:
        in_line = bad.start - (data.rfind(b"\n", 0, bad.start) + 1) + 1
        return bad.start, f"not valid UTF-8: byte 0x{data[bad.start]:02x} at byte {in_line}"
    return None


def _read_json(path: Path, reader: _Reader) -> None:
    name = str(path)
    data = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    if not data.strip():
        raise DumpFormatError(name, "the file is empty")
    try:
        document = orjson.loads(data)  # strict: no NaN, no lone surrogates, bounded depth
    except orjson.JSONDecodeError as exc:
        if (bad := _not_utf8(data)) is not None:  # orjson says line 1, "surrogates not allowed"
            at, why = bad
            raise DumpFormatError(name, why, line=data.count(b"\n", 0, at) + 1) from exc
        raise DumpFormatError(name, f"not valid JSON: {exc}", line=exc.lineno) from exc
    if may_hold_long_integer(data):
        # orjson reads integers beyond 64 bits as floats; the standard library keeps them
        document = json.loads(data)
    if isinstance(document, dict) and isinstance(document.get("Jobs"), list):
        jobs = document["Jobs"]
    elif isinstance(document, list):
        jobs = document
    else:
        raise DumpFormatError(
            name, 'expected a ListJobs page {"Jobs": [...]} or a JSON array of jobs'
        )
    try:
        repeated = repeated_index_keys_of_jobs(data.decode())
    except ValueError as exc:  # "Jobs" twice: no job of the page can be vouched for
        raise DumpFormatError(name, str(exc)) from exc
    kept = _Kept()
    for index, job in enumerate(jobs):
        if index in repeated:
            reader.reject(name, repeated[index], record=index)
            continue
        _accept(reader, kept, name, job, None, record=index)
    reader.add_texts(_TextSource(name, by_line=False), kept.texts(), kept.places())


def _suffix_of_content(path: Path) -> str | None:
    """The extension a file's first bytes say it has: a file written by ``JobStore.save``
    (``jobs.snapshot``) is Parquet, and is read as any other by what it holds."""
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError:
        return None
    if head.startswith(b"PAR1"):
        return PARQUET_EXTENSIONS[0]
    if head.startswith(b"ARROW1"):
        return ARROW_EXTENSIONS[0]
    return None


def _read_table_file(path: Path, suffix: str) -> pa.Table:
    """A Parquet or Arrow file's table; of a jobquery export only ``job_json`` (the other
    columns are derived from it, and decompressing them took longer than checking the jobs).
    The compressed texts of a saved snapshot are decompressed."""
    if suffix in PARQUET_EXTENSIONS:
        schema = pq.read_schema(path)
        # pages written with a checksum (saved snapshots, jobquery's exports) are checked
        columns = [JOB_JSON] if JOB_JSON in schema.names else None
        table = pq.read_table(path, columns=columns, page_checksum_verification=True)
        dictionary = (schema.metadata or {}).get(_TEXT_DICTIONARY_KEY)
        if dictionary is None or JOB_JSON not in schema.names:
            return table
        texts = TextCodec(dictionary).decompress(pl.Series(table.column(JOB_JSON)))
        return pa.table({JOB_JSON: texts.to_arrow()})
    try:
        names = pa.ipc.open_file(path).schema.names
    except pa.ArrowInvalid:
        names = []  # not an IPC file (Feather version 1, or damaged): read it all
    return feather.read_table(path, columns=[JOB_JSON] if JOB_JSON in names else None)


def _read_table(name: str, table: pa.Table, reader: _Reader) -> None:
    if JOB_JSON in table.column_names:
        column = table.column(JOB_JSON)
        if _is_text(column.type):  # valid UTF-8 (checked by _read_one)
            texts = pl.Series(JOB_JSON, column.cast(pa.large_string()).combine_chunks())
        else:
            texts = pl.repeat(None, len(column), dtype=pl.String, eager=True)  # no text at all
        places = np.arange(len(texts), dtype=np.int64)
        reader.add_texts(_TextSource(name, by_line=False), texts.alias(JOB_JSON), places)
        return
    # a table written by another tool: every row is a job, columns are its fields
    odd = _non_finite_numbers(table)
    kept = _Kept()
    for index, row in enumerate(table.to_pylist()):
        if index in odd:
            column = odd[index]
            reader.reject(
                name,
                f"column {column} holds NaN or an infinity, which JSON cannot represent",
                record=index,
            )
            continue
        job = {key: value for key, value in row.items() if value is not None}
        try:
            text = orjson.dumps(job).decode()
            job = orjson.loads(text)  # datetimes and the like become their JSON form
        except TypeError as exc:
            reader.reject(name, f"not a JSON value: {exc}", record=index, cause=exc)
            continue
        _accept(reader, kept, name, job, text, record=index)
    reader.add_texts(_TextSource(name, by_line=False), kept.texts(), kept.places())


def _non_finite_numbers(table: pa.Table) -> dict[int, str]:
    """The records of a table that hold a NaN or an infinity, at any depth, and for each the
    first column holding one (``Metrics.Loss``, ``Losses[]``). JSON has no such numbers; the
    JSON writer would turn them into null, silently."""
    found: dict[int, str] = {}
    for name in table.column_names:
        start = 0
        for chunk in table.column(name).chunks:
            flags, where = _non_finite(chunk, name)
            if where is not None:
                for row in np.flatnonzero(flags).tolist():
                    found.setdefault(start + row, where)
            start += len(chunk)
    return found


def _non_finite(array: pa.Array, name: str) -> tuple[np.ndarray, str | None]:
    """Per row of ``array``: does it hold a NaN or an infinity; and the first column that does
    (None when no row does)."""
    kind = array.type
    flags = np.zeros(len(array), dtype=bool)
    if pa.types.is_floating(kind):
        odd = pc.fill_null(pc.invert(pc.is_finite(array)), False)
        flags = np.asarray(odd.to_numpy(zero_copy_only=False), dtype=bool)
        return flags, name if flags.any() else None
    if pa.types.is_dictionary(kind):
        inner, where = _non_finite(array.dictionary, name)
        if where is not None:
            codes = pc.fill_null(array.indices, 0).to_numpy(zero_copy_only=False)
            flags = inner[codes] & np.asarray(array.is_valid().to_numpy(zero_copy_only=False))
        return flags, where if flags.any() else None
    if pa.types.is_struct(kind):
        first = None
        for field, child in zip(kind, array.flatten(), strict=True):
            inner, where = _non_finite(child, f"{name}.{field.name}")
            flags |= inner
            first = first or where
        return flags, first
    if pa.types.is_map(kind):
        offsets = array.offsets.to_numpy(zero_copy_only=False)
        base, length = int(offsets[0]), int(offsets[-1] - offsets[0])
        parents = np.repeat(np.arange(len(array)), np.diff(offsets))
        first = None
        for part, label in ((array.keys, "keys"), (array.items, "values")):
            inner, where = _non_finite(part.slice(base, length), f"{name}.{label}")
            flags[parents[inner]] = True
            first = first or where
        return flags, first
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        inner, where = _non_finite(array.flatten(), f"{name}[]")
        if where is not None:
            parents = pc.list_parent_indices(array).to_numpy(zero_copy_only=False)
            flags[parents[inner]] = True
        return flags, where
    return flags, None


def _is_text(kind: pa.DataType) -> bool:
    if pa.types.is_dictionary(kind):
        return _is_text(kind.value_type)
    return bool(
        pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)
    )


# ---------------------------------------------------------------------------------------------
# Judging the texts the native reading does not vouch for: orjson, one by one


@dataclass(frozen=True)
class _TextSource:
    """A file of job texts: NDJSON (places are 1-based lines) or a ``job_json`` column
    (places are 0-based records)."""

    name: str
    by_line: bool

    def reject(self, reader: _Reader, reason: str, place: int, cause: Exception | None) -> None:
        if self.by_line:
            reader.reject(self.name, reason, line=place, cause=cause)
        else:
            reader.reject(self.name, reason, record=place)

    def judge(
        self, texts: pl.Series, positions: np.ndarray, undecodable: Mapping[int, bytes]
    ) -> Verdict:
        """orjson's verdict on the texts at some positions, in order."""
        verdict = Verdict()
        chosen = texts.gather(positions).to_list() if len(positions) else []
        for position, text in zip(positions.tolist(), chosen, strict=True):
            job, reason, cause = self.check(text, undecodable.get(position))
            if reason is not None:
                verdict.refusals.append(Refusal(position, reason, cause))
            else:
                verdict.jobs.append((position, job))
        return verdict

    def check(
        self, text: str | None, raw: bytes | None
    ) -> tuple[Any, str | None, Exception | None]:
        """orjson's verdict on one text: ``(job, None, None)``, or ``(None, reason, cause)``."""
        if raw is None and text is None:
            return None, f"{JOB_JSON} is empty", None
        if raw is not None and (bad := _not_utf8(raw)) is not None:  # orjson: "surrogates"
            why = bad[1]
            return None, why if self.by_line else f"{JOB_JSON} is {why}", None
        try:
            job = orjson.loads(raw if raw is not None else str(text).encode())
        except orjson.JSONDecodeError as exc:
            why = f"not valid JSON: {exc}" if self.by_line else f"{JOB_JSON} is not JSON: {exc}"
            return None, why, exc
        assert text is not None  # what orjson reads is UTF-8
        reason = job_shape_error(job) or repeated_key_error(text)
        if reason is not None:
            return None, reason, None
        if may_hold_long_integer(text):
            job = load_job(text)
        return job, None, None
