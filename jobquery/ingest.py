"""Reading job dumps into snapshots, and writing snapshots (or query results) back out.

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
it as an object with a non-empty string ``JobId``. NDJSON lines and the ``job_json`` column of
Parquet/Arrow exports are checked natively instead, in bulk: ``pyarrow.json`` parses every text
with a two-field schema (``JobId``, ``GmtModifiedTime``), which validates the whole JSON text
and returns its keys. Where the two parsers could disagree, the text goes to orjson instead:

- only braced texts (``{`` first, ``}`` last) are parsed natively: pyarrow reads newlines as
  whitespace, and an object left open on one line would otherwise take in the next (see
  :func:`_native_keys`); a byte order mark or padding sends a text to orjson too;
- texts pyarrow accepts and orjson refuses: ``NaN``/``Infinity``, numbers beyond the double
  range (pyarrow lets ``20000e306`` and 400-digit integers through), nesting deeper than
  orjson's 1024 levels — found by cheap native scans (:func:`_needs_orjson`,
  :func:`_long_digit_runs`) that may send harmless texts too;
- texts pyarrow refuses or misreads and orjson accepts: a repeated key, a ``JobId`` or
  ``GmtModifiedTime`` that is not a string, two objects on one line — pyarrow fails (or returns
  more rows than texts), and the texts of that block go to orjson one by one.

Either way the message, the line and the order of errors are the ones orjson's path gives.
Duplicates are then resolved natively, parsing ``GmtModifiedTime`` only where a ``JobId``
repeats.
"""

from __future__ import annotations

import contextlib
import fnmatch
import gc
import glob
import json
import os
import secrets
import stat
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

import numpy as np
import orjson
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json
import pyarrow.parquet as pq
from pyarrow import feather

from jobquery.errors import DumpFormatError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]
from jobquery.snapshot import (
    JOB_JSON,
    Snapshot,
    load_job,
    may_hold_long_integer,
    ndjson_buffer,
    parse_times,
)
from jobquery.textcodec import TextCodec

JSON_EXTENSIONS = (".json",)
NDJSON_EXTENSIONS = (".ndjson", ".jsonl")
PARQUET_EXTENSIONS = (".parquet",)
ARROW_EXTENSIONS = (".arrow", ".feather", ".ipc")
SUPPORTED_EXTENSIONS = JSON_EXTENSIONS + NDJSON_EXTENSIONS + PARQUET_EXTENSIONS + ARROW_EXTENSIONS

Progress = Callable[[int], None]

#: Where a saved snapshot (``jobquery.persist``) keeps the dictionary of its compressed texts.
_TEXT_DICTIONARY_KEY = b"jobquery.text_dictionary"

JOB_ID = "JobId"
MODIFIED = "GmtModifiedTime"
#: The columns of :attr:`Dump.frame`.
DUMP_SCHEMA = pl.Schema({JOB_JSON: pl.String, JOB_ID: pl.String, MODIFIED: pl.String})

#: orjson refuses JSON nested deeper than this (tests/test_ingest.py pins it).
ORJSON_MAX_DEPTH = 1024
#: Texts parsed by one ``pyarrow.json`` call when a whole file's parse failed: a bad text
#: costs a per-text orjson parse of this many texts, not of the whole file.
FALLBACK_BLOCK = 4096
#: A run of at least twice this many digits is always found by :func:`_long_digit_runs`.
_DIGIT_STRIDE = 100
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
#: The oldest moment: a missing or unreadable ``GmtModifiedTime`` (as ``datetime.min``).
_OLDEST = -62_135_596_800_000_000


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


class ParsedJobs(Sequence[dict[str, Any]]):
    """Jobs parsed from their JSON texts when read, one at a time.

    A million parsed jobs take several times the memory of their text (measured: a 1M-job
    build with every dict alive ran out of 24 GiB); the snapshot build reads each job once.
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


def _empty_frame() -> pl.DataFrame:
    return pl.DataFrame(schema=DUMP_SCHEMA)


@dataclass
class Dump:
    """Jobs read from one or more files, one row per job, and what was skipped.

    Attributes
    ----------
    frame : polars.DataFrame
        In reading order: ``job_json`` (the job's lossless text), ``JobId``, and
        ``GmtModifiedTime`` as written (null when missing or not a string).
    skipped : list of Skipped
        Records left out in lenient mode.
    duplicates : int
        Records dropped because a later or newer one had the same ``JobId``.
    """

    frame: pl.DataFrame = field(default_factory=_empty_frame)
    skipped: list[Skipped] = field(default_factory=list)
    duplicates: int = 0

    def __len__(self) -> int:
        return self.frame.height

    @property
    def texts(self) -> list[str]:
        """The job texts as a list (a copy: for small dumps such as an upsert)."""
        texts: list[str] = self.frame[JOB_JSON].to_list()
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
    must be a file or a folder.

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
            found = [
                entry
                for entry in _walk(path, ("**", "*"))
                if entry.suffix.lower() in SUPPORTED_EXTENSIONS
            ]
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
    return files, skipped


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
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


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
        try:
            identity = folder.stat()
        except OSError:
            return
        key = (identity.st_dev, identity.st_ino, len(rest))
        if key in entered:
            return
        entered.add(key)
        try:
            with os.scandir(folder) as scan:
                entries = sorted(scan, key=lambda entry: entry.name)
        except OSError:
            return
        head, tail = rest[0], rest[1:]
        if head == "**":
            if tail:
                yield from visit(folder, tail)
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                if not tail:
                    yield Path(entry.path)
                if _is_folder(entry):
                    yield from visit(Path(entry.path), rest)
            return
        for entry in entries:
            if not fnmatch.fnmatchcase(entry.name, head):
                continue
            if entry.name.startswith(".") and not head.startswith("."):
                continue
            if not tail:
                yield Path(entry.path)
            elif _is_folder(entry):
                yield from visit(Path(entry.path), tail)

    return visit(root, pattern) if pattern else iter(())


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
) -> Dump:
    """Read files, folders or glob patterns as one job set (duplicates resolved)."""
    reader = _Reader(lenient)
    files, left_out = find_dump_files(paths)
    reader.skipped += left_out
    with paused_gc():
        for path in files:
            _read_one(path, reader, on_progress)
    return deduplicate(reader.dump())


def snapshot_from_dump(dump: Dump, *, version: int = 0, compress_texts: bool = False) -> Snapshot:
    """Build the snapshot of what was read (texts compressed: :meth:`Snapshot.from_texts`)."""
    with paused_gc():
        texts = dump.frame[JOB_JSON]
        return Snapshot.from_texts(texts, version=version, compress_texts=compress_texts)


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of JSON objects are being created.

    Parsed jobs contain no reference cycles, but every few hundred allocations the collector
    would walk all of them again: measured 2.7x slower parsing of 100k synthetic jobs.
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

    A missing or unreadable time counts as the oldest. Times are parsed only for the records
    whose JobId repeats.
    """
    ids = dump.frame[JOB_ID]
    repeated = ids.is_duplicated()
    if not repeated.any():
        return dump
    rows = repeated.arg_true()
    contest = pl.DataFrame(
        {
            "row": rows,
            "id": ids.gather(rows),
            "at": modified_micros(dump.frame[MODIFIED].gather(rows)),
        }
    ).sort(["id", "at", "row"])
    winners = contest.filter(pl.col("id").is_last_distinct())["row"]
    keep = (~repeated).scatter(winners, True)
    return Dump(
        frame=dump.frame.filter(keep),
        skipped=dump.skipped,
        duplicates=dump.duplicates + len(rows) - len(winners),
    )


def modified_micros(texts: pl.Series) -> pl.Series:
    """``GmtModifiedTime`` texts as UTC microseconds, as :func:`parse_timestamp` reads them.

    A null or a text that does not parse becomes the oldest moment, ``datetime.min``.
    """
    return parse_times("GmtModifiedTime", texts).dt.epoch("us").fill_null(_OLDEST)


def records_dump(records: Iterable[Mapping[str, Any]], *, lenient: bool = False) -> Dump:
    """In-memory records as a dump (validated and deduplicated like a file)."""
    reader = _Reader(lenient)
    with paused_gc():
        kept = _Kept()
        for index, record in enumerate(records):
            if not isinstance(record, Mapping):
                reader.reject("<records>", "a job must be a JSON object", record=index)
                continue
            job = dict(record)
            text = _dump_text(job)
            if text is None:
                reader.reject("<records>", "not a JSON value (or nested too deeply)", record=index)
                continue
            _accept(reader, kept, "<records>", job, text, record=index)
        reader.add(kept.frame())
    return deduplicate(reader.dump())


# ---------------------------------------------------------------------------------------------
# What one read collects


class _Reader:
    """The jobs and skipped records of one read, across its files, in reading order."""

    def __init__(self, lenient: bool) -> None:
        self.lenient = lenient
        self.parts: list[pl.DataFrame] = []
        self.skipped: list[Skipped] = []

    def add(self, frame: pl.DataFrame) -> None:
        if frame.height:
            self.parts.append(frame)

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
        frame = pl.concat(self.parts, rechunk=False) if self.parts else _empty_frame()
        return Dump(frame=frame, skipped=self.skipped)


class _Kept:
    """Jobs accepted one by one (the Python path), with their place in their source."""

    def __init__(self) -> None:
        self.places: list[int] = []
        self.texts: list[str] = []
        self.ids: list[str] = []
        self.modified: list[str | None] = []

    def add(self, place: int, text: str, job: Mapping[str, Any]) -> None:
        modified = job.get(MODIFIED)
        self.places.append(place)
        self.texts.append(text)
        self.ids.append(job[JOB_ID])
        self.modified.append(modified if isinstance(modified, str) else None)

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame(
            {JOB_JSON: self.texts, JOB_ID: self.ids, MODIFIED: self.modified}, schema=DUMP_SCHEMA
        )

    def place_column(self) -> pl.Series:
        return pl.Series("place", self.places, dtype=pl.Int64)


def _shape_error(job: Any) -> str | None:
    """Why a parsed record is not a job (None when it is one)."""
    if not isinstance(job, dict):
        return "a job must be a JSON object"
    job_id = job.get(JOB_ID)
    if not isinstance(job_id, str) or not job_id:
        return "a job needs a non-empty string JobId"
    return None


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
    reason = _shape_error(job)
    if reason is not None:
        reader.reject(name, reason, record=record)
        return
    if text is None:
        text = _dump_text(job)
        if text is None:
            reader.reject(name, "nested too deeply to store", record=record)
            return
    kept.add(record, text, job)


def _dump_text(job: dict[str, Any]) -> str | None:
    """A job's JSON text: orjson, or the standard library for integers beyond 64 bits."""
    try:
        return orjson.dumps(job).decode()
    except TypeError:
        try:
            return json.dumps(job, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError, RecursionError):
            return None


# ---------------------------------------------------------------------------------------------
# Readers


def _read_one(path: Path, reader: _Reader, on_progress: Progress | None) -> None:
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_EXTENSIONS:
        suffix = _suffix_of_content(path) or suffix
    name = str(path)
    if suffix in NDJSON_EXTENSIONS:
        _read_ndjson(path, reader)
    elif suffix in JSON_EXTENSIONS:
        _read_json(path, reader)
    elif suffix in PARQUET_EXTENSIONS + ARROW_EXTENSIONS:
        try:
            _read_table(name, _read_table_file(path, suffix), reader)
        # pyarrow reports some corrupt files as SystemError; they are still just bad files
        except (pa.ArrowException, OSError, UnicodeDecodeError, SystemError) as exc:
            if isinstance(exc, FileNotFoundError):
                raise
            raise DumpFormatError(name, f"not a readable {suffix[1:]} file: {exc}") from exc
    else:
        raise DumpFormatError(
            name,
            f"unknown dump format {suffix or '(no extension)'}; "
            f"expected one of {', '.join(SUPPORTED_EXTENSIONS)}",
        )
    if on_progress is not None:
        on_progress(path.stat().st_size)


#: What ``bytes.strip()`` removes: a line of only these is blank (JSON whitespace plus \v, \f).
_BLANK = r"^[ \t\n\r\x0B\x0C]*$"
_BOM = "\ufeff"


def _read_ndjson(path: Path, reader: _Reader) -> None:
    name = str(path)
    source = _TextSource(name, by_line=True)
    try:
        # row i is line i + 1; a final "\r" is removed, the text is otherwise as written
        lines = pl.read_lines(path, name=JOB_JSON)[JOB_JSON]
    except pl.exceptions.PolarsError:
        # invalid UTF-8 somewhere: split in Python, and let orjson word the bad lines
        _read_ndjson_bytes(path, source, reader)
        return
    if len(lines) and lines[0].startswith(_BOM):
        lines = lines.scatter(0, lines[0].removeprefix(_BOM))
    carriage = lines.str.ends_with("\r").arg_true()
    if len(carriage):
        lines = lines.scatter(carriage, lines.gather(carriage).str.strip_chars_end("\r"))
    blank = lines.str.contains(_BLANK)
    if blank.all():
        return  # no job line: an empty job set (what write_dump writes for zero jobs)
    places = np.arange(1, len(lines) + 1, dtype=np.int64)
    if blank.any():
        lines, places = lines.filter(~blank), places[~blank.to_numpy()]
    # pyarrow parses the file itself: it skips blank lines and a byte order mark at the start
    buffer = pa.memory_map(name).read_buffer()
    _read_texts(source, lines, places, reader, whole_file=buffer)


def _read_ndjson_bytes(path: Path, source: _TextSource, reader: _Reader) -> None:
    """NDJSON that is not all UTF-8: decode line by line; orjson refuses the undecodable ones."""
    data = path.read_bytes()
    texts: list[str | None] = []
    places: list[int] = []
    undecodable: dict[int, bytes] = {}
    for number, line in _lines(data):
        try:
            texts.append(line.decode())
        except UnicodeDecodeError:
            undecodable[len(texts)] = line
            texts.append(None)
        places.append(number)
    column = pl.Series(JOB_JSON, texts, dtype=pl.String)
    _read_texts(source, column, np.array(places, dtype=np.int64), reader, undecodable)


def _lines(data: bytes) -> Iterator[tuple[int, bytes]]:
    for number, raw in enumerate(data.split(b"\n"), start=1):
        line = raw.rstrip(b"\r")
        if number == 1:
            line = line.removeprefix(b"\xef\xbb\xbf")  # a UTF-8 byte order mark
        if line.strip():
            yield number, line


def _read_json(path: Path, reader: _Reader) -> None:
    name = str(path)
    data = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    if not data.strip():
        raise DumpFormatError(name, "the file is empty")
    try:
        document = orjson.loads(data)  # strict: no NaN, no lone surrogates, bounded depth
    except orjson.JSONDecodeError as exc:
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
    kept = _Kept()
    for index, job in enumerate(jobs):
        _accept(reader, kept, name, job, None, record=index)
    reader.add(kept.frame())


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
        table = pq.read_table(path, columns=[JOB_JSON] if JOB_JSON in schema.names else None)
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
        array: pa.LargeStringArray | None = None
        if _is_text(column.type):
            column.validate(full=True)  # invalid UTF-8 is a damaged file (ArrowInvalid)
            array = column.cast(pa.large_string()).combine_chunks()
            texts = pl.Series(JOB_JSON, array, dtype=pl.String)
        else:
            texts = pl.repeat(None, len(column), dtype=pl.String, eager=True)  # no text at all
        places = np.arange(len(texts), dtype=np.int64)
        _read_texts(_TextSource(name, by_line=False), texts, places, reader, array=array)
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
    reader.add(kept.frame())


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
# Checking job texts: natively in bulk, by orjson where the native parser could disagree


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

    def check(
        self, text: str | None, raw: bytes | None
    ) -> tuple[Any, str | None, Exception | None]:
        """orjson's verdict on one text: ``(job, None, None)``, or ``(None, reason, cause)``."""
        if raw is None and text is None:
            return None, f"{JOB_JSON} is empty", None
        try:
            job = orjson.loads(raw if raw is not None else str(text).encode())
        except orjson.JSONDecodeError as exc:
            reason = f"not valid JSON: {exc}" if self.by_line else f"{JOB_JSON} is not JSON: {exc}"
            return None, reason, exc
        return job, _shape_error(job), None


def _read_texts(
    source: _TextSource,
    texts: pl.Series,
    places: np.ndarray,
    reader: _Reader,
    undecodable: Mapping[int, bytes] | None = None,
    *,
    whole_file: pa.Buffer | None = None,
    array: pa.LargeStringArray | None = None,
) -> None:
    """Keep the job texts that are jobs, in order; reject the others with their place.

    Texts the native check vouches for are kept as they are; every other text is judged by
    orjson, in order, so the first error raised (or the skipped list) is the one orjson's path
    alone would give. ``whole_file`` is the NDJSON file the texts are the lines of (``places``
    being their line numbers); ``array`` the texts as Arrow already holds them, if it does.
    """
    ids, modified, trusted = _native_keys(texts, whole_file, array, places)
    trusted &= ~_needs_orjson(texts)
    native = pl.DataFrame({JOB_JSON: texts, JOB_ID: ids, MODIFIED: modified})
    if trusted.all():
        reader.add(native)
        return
    kept = _Kept()
    doubtful = np.flatnonzero(~trusted)
    undecodable = undecodable or {}
    for index, text in zip(doubtful.tolist(), texts.gather(doubtful).to_list(), strict=True):
        job, reason, cause = source.check(text, undecodable.get(index))
        if reason is not None:
            source.reject(reader, reason, int(places[index]), cause)
            continue
        kept.add(index, text, job)
    if not kept.places:
        reader.add(native.filter(trusted))
        return
    order = pl.Series("place", np.flatnonzero(trusted))
    merged = pl.concat(
        [native.filter(trusted).with_columns(order), kept.frame().with_columns(kept.place_column())]
    )
    reader.add(merged.sort("place").drop("place"))


def _native_keys(
    texts: pl.Series,
    whole_file: pa.Buffer | None,
    array: pa.LargeStringArray | None,
    places: np.ndarray,
) -> tuple[pl.Series, pl.Series, np.ndarray]:
    """``JobId`` and ``GmtModifiedTime`` of every text pyarrow parses, and which ones it parsed.

    Only braced texts (``{`` first, ``}`` last) are parsed, one per line. pyarrow reads a block
    as a stream of JSON values, newlines being whitespace, so a text alone does not make a row:
    ``{"JobId":"a","X":`` and the next line would. Braces prevent that: a text's last ``}``
    either closes its last value — then the next text starts afresh — or closes a nested value
    or sits in a string, and then the next line's ``{`` (or the newline inside a string) is a
    parse error. So every text starts at least one row, and as many rows as texts means one
    row each, in order.

    When a parse fails, the texts are parsed again in blocks of :data:`FALLBACK_BLOCK`; the
    texts of a failing block are left to orjson.
    """
    count = len(texts)
    opening = np.flatnonzero(_braced(texts).fill_null(False).to_numpy())
    longest = texts.str.len_bytes().max()
    longest = longest if isinstance(longest, int) else 0
    parsed: list[tuple[np.ndarray, pl.DataFrame]] = []
    whole = None
    if whole_file is not None and len(opening) == count:
        whole = _parse_keys(whole_file, count, longest, lines=places)
    else:
        whole = _parse_joined(texts, opening, longest, array)
    if whole is not None:
        parsed.append((opening, whole))
    else:
        for start in range(0, len(opening), FALLBACK_BLOCK):
            block = opening[start : start + FALLBACK_BLOCK]
            keys = _parse_joined(texts, block, longest, array)
            if keys is not None:
                parsed.append((block, keys))
    ids = pl.repeat(None, count, dtype=pl.String, eager=True)
    modified = ids.clone()  # scatter writes in place
    trusted = np.zeros(count, dtype=bool)
    if parsed:
        rows = pl.Series(np.concatenate([block for block, _ in parsed]))
        keys = pl.concat([frame for _, frame in parsed])
        ids = ids.scatter(rows, keys[JOB_ID])
        modified = modified.scatter(rows, keys[MODIFIED])
        trusted[rows.to_numpy()] = keys["trusted"].to_numpy()
    trusted &= ids.str.len_bytes().fill_null(0).to_numpy() > 0
    return ids.alias(JOB_ID), modified.alias(MODIFIED), trusted


def _braced(texts: pl.Series) -> pl.Series:
    return texts.str.starts_with("{") & texts.str.ends_with("}")


_KEYS = pa_json.ParseOptions(
    explicit_schema=pa.schema([(JOB_ID, pa.string()), (MODIFIED, pa.string())]),
    unexpected_field_behavior="ignore",
)


def _parse_joined(
    texts: pl.Series, rows: np.ndarray, longest: int, array: pa.LargeStringArray | None
) -> pl.DataFrame | None:
    """Parse some texts, one per line, as one NDJSON buffer."""
    if not len(rows):
        return pl.DataFrame(schema={JOB_ID: pl.String, MODIFIED: pl.String, "trusted": pl.Boolean})
    if array is None:
        chosen = texts.gather(rows).to_arrow().cast(pa.large_string())
    else:
        chosen = array if len(rows) == len(array) else array.take(pa.array(rows))
    buffer, offsets = ndjson_buffer(chosen)
    return _parse_keys(buffer, len(rows), longest, offsets=offsets)


def _parse_keys(
    buffer: pa.Buffer,
    count: int,
    longest: int,
    offsets: np.ndarray | None = None,
    lines: np.ndarray | None = None,
) -> pl.DataFrame | None:
    """The keys of ``count`` JSON texts, one per line of ``buffer``; None when pyarrow fails.

    Either ``offsets`` says where each text starts, or the buffer is an NDJSON file and
    ``lines`` are the (1-based) numbers of the lines that are the texts, the others blank. The
    column ``trusted`` is false for texts holding a long run of digits.
    """
    # every text must fit in one block, or pyarrow refuses it
    options = pa_json.ReadOptions(block_size=max(1 << 20, longest + 64))
    try:
        table = pa_json.read_json(
            pa.BufferReader(buffer), read_options=options, parse_options=_KEYS
        )
    except pa.ArrowException:
        return None
    if table.num_rows != count:
        return None  # a text holding two objects, for instance
    keys = pl.DataFrame(pl.from_arrow(table))
    data = np.frombuffer(buffer, dtype=np.uint8)
    trusted = np.ones(count, dtype=bool)
    runs = _long_digit_runs(data)
    if len(runs) and offsets is not None:
        trusted[np.searchsorted(offsets, runs, side="right") - 1] = False
    elif len(runs) and lines is not None:
        numbers = np.searchsorted(np.flatnonzero(data == 0x0A), runs) + 1
        trusted[np.searchsorted(lines, numbers)] = False  # a blank line holds no digit
    return keys.with_columns(pl.Series("trusted", trusted))


def _long_digit_runs(data: np.ndarray) -> np.ndarray:
    """Where ``data`` holds a run of digits long enough to matter (positions in it).

    pyarrow accepts numbers beyond the double range that orjson refuses: integers of 309
    digits, or ``20000e306``. Such a number has an exponent of three digits (found by
    :func:`_needs_orjson`) or at least 210 digits in a row; every run of
    ``2 * _DIGIT_STRIDE`` digits holds a whole window ``[k * stride, (k + 1) * stride]``, so
    sampling every ``stride``-th byte and checking the windows between two digits finds it.
    """
    stride = _DIGIT_STRIDE
    digit = (data[::stride] - 0x30) < 10  # uint8: bytes below "0" wrap around
    candidates = np.flatnonzero(digit[:-1] & digit[1:])
    found = []
    span = np.arange(stride + 1)
    for batch in np.array_split(candidates, len(candidates) // 65536 + 1):
        if len(batch):
            window = data[batch[:, None] * stride + span]
            found.append(batch[((window - 0x30) < 10).all(axis=1)] * stride)
    return np.concatenate(found) if found else candidates


#: pyarrow accepts NaN and Infinity (CR and LF need no check: where pyarrow splits a text at
#: one, its parse fails or its row count differs).
_ODD = r"NaN|Infinity"
#: A number with an exponent of three digits or more (pyarrow lets some beyond the double
#: range through); the cheap pattern finds candidates, the exact one checks them.
_EXPONENT_HINT = r"[0-9][eE][+-]?[0-9]{3}"
_EXPONENT = r"[:,\[][ \t]*-?[0-9]+(?:\.[0-9]+)?[eE][+-]?[0-9]{3}"


def _needs_orjson(texts: pl.Series) -> np.ndarray:
    """Texts whose native verdict could differ from orjson's (it may mark harmless ones too)."""
    flags = texts.to_frame("text").select(
        odd=pl.col("text").str.contains(_ODD),
        # nesting depth is at most the number of brackets
        deep=pl.col("text").str.count_matches(r"[\[{]") > ORJSON_MAX_DEPTH,
        hint=pl.col("text").str.contains(_EXPONENT_HINT),
    )
    needed = (flags["odd"] | flags["deep"]).fill_null(True).to_numpy().copy()
    hinted = np.flatnonzero(flags["hint"].fill_null(False).to_numpy())
    if len(hinted):
        exact = texts.gather(hinted).str.contains(_EXPONENT).to_numpy()
        needed[hinted[exact]] = True
    return needed


# ---------------------------------------------------------------------------------------------
# Writers


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


def atomic_write(target: Path, write: Callable[[Path], None]) -> None:
    """Write through a temporary file in the same folder, fsync it, then rename it over target.

    The temporary file is ``.<target name>.<process id>.<random>.tmp``, created with mode
    0666 less the umask (as any new file), and locked (``flock``) by the writer until it is
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
            handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _CLOEXEC, 0o666)
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
