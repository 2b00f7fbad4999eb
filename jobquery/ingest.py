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
"""

from __future__ import annotations

import contextlib
import gc
import glob
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, overload

import orjson
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from pyarrow import feather

from jobquery.errors import DumpFormatError
from jobquery.request import parse_timestamp
from jobquery.snapshot import JOB_JSON, Snapshot, load_job, may_hold_long_integer

JSON_EXTENSIONS = (".json",)
NDJSON_EXTENSIONS = (".ndjson", ".jsonl")
PARQUET_EXTENSIONS = (".parquet",)
ARROW_EXTENSIONS = (".arrow", ".feather", ".ipc")
SUPPORTED_EXTENSIONS = JSON_EXTENSIONS + NDJSON_EXTENSIONS + PARQUET_EXTENSIONS + ARROW_EXTENSIONS

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Skipped:
    """A record left out in lenient mode: where it was and why."""

    path: str
    reason: str
    line: int | None = None
    record: int | None = None

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


@dataclass
class Dump:
    """Jobs read from one or more files: their JSON texts, their keys, and what was skipped."""

    texts: list[str] = field(default_factory=list)
    job_ids: list[str] = field(default_factory=list)
    modified: list[datetime] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    duplicates: int = 0

    @property
    def jobs(self) -> ParsedJobs:
        """The jobs, parsed as they are read."""
        return ParsedJobs(self.texts)

    def add(self, job: dict[str, Any], text: str) -> None:
        self.texts.append(text)
        self.job_ids.append(job["JobId"])
        self.modified.append(_modified(job))


def resolve_paths(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Expand folders (every supported file below them) and glob patterns into files.

    Raises
    ------
    FileNotFoundError
        A path that does not exist and is not a pattern matching something.
    """
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in SUPPORTED_EXTENSIONS
            )
            if not found:
                raise DumpFormatError(str(path), "the folder holds no job dump files")
            files += found
        elif path.exists():
            files.append(path)
        elif glob.has_magic(str(raw)):
            matched = sorted(Path(p) for p in glob.glob(str(raw), recursive=True))
            if not matched:
                raise FileNotFoundError(f"no file matches {raw}")
            files += [p for p in matched if p.is_file()]
        else:
            raise FileNotFoundError(f"no such dump file: {raw}")
    return files


def read_dumps(
    paths: Iterable[str | os.PathLike[str]],
    *,
    lenient: bool = False,
    on_progress: Progress | None = None,
) -> Dump:
    """Read files, folders or glob patterns as one job set (duplicates resolved)."""
    dump = Dump()
    with paused_gc():
        for path in resolve_paths(paths):
            _read_one(path, dump, lenient, on_progress)
    return deduplicate(dump)


def snapshot_from_dump(dump: Dump, *, version: int = 0) -> Snapshot:
    """Build the snapshot of what was read."""
    with paused_gc():
        return Snapshot.from_parsed(dump.jobs, dump.texts, version=version)


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
    """Keep one record per JobId: the latest ``GmtModifiedTime`` wins, then the later record."""
    latest: dict[str, int] = {}
    for index, job_id in enumerate(dump.job_ids):
        seen = latest.get(job_id)
        if seen is None or dump.modified[index] >= dump.modified[seen]:
            latest[job_id] = index
    if len(latest) == len(dump.texts):
        return dump
    keep = sorted(latest.values())
    return Dump(
        texts=[dump.texts[i] for i in keep],
        job_ids=[dump.job_ids[i] for i in keep],
        modified=[dump.modified[i] for i in keep],
        skipped=dump.skipped,
        duplicates=dump.duplicates + len(dump.texts) - len(keep),
    )


def records_dump(records: Iterable[Mapping[str, Any]], *, lenient: bool = False) -> Dump:
    """In-memory records as a dump (validated and deduplicated like a file)."""
    dump = Dump()
    with paused_gc():
        _add_records(dump, records, lenient)
    return deduplicate(dump)


def _add_records(dump: Dump, records: Iterable[Mapping[str, Any]], lenient: bool) -> None:
    for index, record in enumerate(records):
        if not isinstance(record, Mapping):
            _reject(dump, lenient, "<records>", "a job must be a JSON object", record=index)
            continue
        job = dict(record)
        text = _dump_text(job)
        if text is None:
            _reject(
                dump, lenient, "<records>", "not a JSON value (or nested too deeply)", record=index
            )
            continue
        _accept(dump, lenient, "<records>", job, text, record=index)


# ---------------------------------------------------------------------------------------------
# Readers


def _read_one(path: Path, dump: Dump, lenient: bool, on_progress: Progress | None) -> None:
    suffix = path.suffix.lower()
    name = str(path)
    if suffix in NDJSON_EXTENSIONS:
        _read_ndjson(path, dump, lenient, on_progress)
    elif suffix in JSON_EXTENSIONS:
        _read_json(path, dump, lenient)
    elif suffix in PARQUET_EXTENSIONS + ARROW_EXTENSIONS:
        try:
            if suffix in PARQUET_EXTENSIONS:
                table = pq.read_table(path)
            else:
                table = feather.read_table(path)
            _read_table(name, table, dump, lenient)
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


def _lines(data: bytes) -> Iterator[tuple[int, bytes]]:
    for number, raw in enumerate(data.split(b"\n"), start=1):
        line = raw.rstrip(b"\r")
        if number == 1:
            line = line.removeprefix(b"\xef\xbb\xbf")  # a UTF-8 byte order mark
        if line.strip():
            yield number, line


def _read_ndjson(path: Path, dump: Dump, lenient: bool, on_progress: Progress | None) -> None:
    name = str(path)
    data = path.read_bytes()
    if not data.strip():
        # most likely a failed export: loading it as zero jobs would hide that
        _reject(dump, lenient, name, "the file is empty", line=1)
        return
    for number, line in _lines(data):
        try:
            job = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            _reject(dump, lenient, name, f"not valid JSON: {exc}", line=number, cause=exc)
            continue
        _accept(dump, lenient, name, job, None, line=number, raw=line)


def _read_json(path: Path, dump: Dump, lenient: bool) -> None:
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
    for index, job in enumerate(jobs):
        _accept(dump, lenient, name, job, None, record=index)


def _read_table(name: str, table: pa.Table, dump: Dump, lenient: bool) -> None:
    if JOB_JSON in table.column_names:
        for index, text in enumerate(table.column(JOB_JSON).to_pylist()):
            if not isinstance(text, str):
                _reject(dump, lenient, name, f"{JOB_JSON} is empty", record=index)
                continue
            try:
                job = orjson.loads(text)
            except orjson.JSONDecodeError as exc:
                _reject(dump, lenient, name, f"{JOB_JSON} is not JSON: {exc}", record=index)
                continue
            _accept(dump, lenient, name, job, text, record=index)
        return
    # a table written by another tool: every row is a job, columns are its fields
    for index, row in enumerate(table.to_pylist()):
        job = {key: value for key, value in row.items() if value is not None}
        try:
            text = orjson.dumps(job).decode()
            job = orjson.loads(text)  # datetimes and the like become their JSON form
        except TypeError as exc:
            _reject(dump, lenient, name, f"not a JSON value: {exc}", record=index, cause=exc)
            continue
        _accept(dump, lenient, name, job, text, record=index)


def _accept(
    dump: Dump,
    lenient: bool,
    name: str,
    job: Any,
    text: str | None,
    *,
    line: int | None = None,
    record: int | None = None,
    raw: bytes | None = None,
) -> None:
    """Check the shape every job must have, then keep it (with its lossless text)."""
    if not isinstance(job, dict):
        _reject(dump, lenient, name, "a job must be a JSON object", line=line, record=record)
        return
    job_id = job.get("JobId")
    if not isinstance(job_id, str) or not job_id:
        _reject(
            dump, lenient, name, "a job needs a non-empty string JobId", line=line, record=record
        )
        return
    if text is None:
        text = raw.decode() if raw is not None else _dump_text(job)
        if text is None:
            _reject(dump, lenient, name, "nested too deeply to store", line=line, record=record)
            return
    dump.add(job, text)


def _dump_text(job: dict[str, Any]) -> str | None:
    """A job's JSON text: orjson, or the standard library for integers beyond 64 bits."""
    try:
        return orjson.dumps(job).decode()
    except TypeError:
        try:
            return json.dumps(job, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError, RecursionError):
            return None


def _reject(
    dump: Dump,
    lenient: bool,
    name: str,
    reason: str,
    *,
    line: int | None = None,
    record: int | None = None,
    cause: BaseException | None = None,
) -> None:
    if not lenient:
        raise DumpFormatError(name, reason, line=line, record=record) from cause
    dump.skipped.append(Skipped(name, reason, line=line, record=record))


def _modified(job: Mapping[str, Any]) -> datetime:
    value = job.get("GmtModifiedTime")
    parsed = parse_timestamp(value) if isinstance(value, str) else None
    return parsed or datetime.min.replace(tzinfo=UTC)


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


def atomic_write(target: Path, write: Callable[[Path], None]) -> None:
    """Write through a temporary file in the same folder, fsync it, then rename it over target."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        write(temporary)
        with temporary.open("rb+") as written:
            os.fsync(written.fileno())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
