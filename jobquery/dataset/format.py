"""The job dataset format: hive-partitioned Parquet files and a manifest, written atomically.

A dataset is a folder::

    jobs-dataset/
      _jobquery/manifest.json                                manifest: counts, columns, files
      create_month=202611/workspace_bucket=0/part-00000.parquet
      create_month=202611/workspace_bucket=1/part-00000.parquet
      create_month=0/workspace_bucket=0/part-00000.parquet   jobs without a GmtCreateTime

Every row is one job: its lossless JSON text (``job_json``), the typed top-level columns and
the ``ix_*`` index columns of a :class:`~jobquery.snapshot.Snapshot` — computed by the
snapshot build, the one place the matching rules live, so that an engine reading the files
only compares values. Two hive partition columns:

- ``create_month``: ``year * 100 + month`` of the UTC creation time (:data:`NO_MONTH` without
  one), so a time window on ``GmtCreateTime`` skips whole folders;
- ``workspace_bucket``: the CRC-32 of ``ix_WorkspaceId`` (the casefolded ``WorkspaceId``, an
  empty text when missing) modulo the dataset's bucket count (:func:`workspace_bucket`; the
  count grows with the dataset, one bucket per :data:`WORKSPACE_BUCKET_JOBS` jobs), so a
  ``WorkspaceId`` filter — the console's every listing — reads one bucket of each month.

Inside a partition the rows are in ``(GmtCreateTime, ix_JobId, JobId)`` order, so the Parquet
row-group statistics skip most of a month for a window of a few days, and a job is found by
its creation time. Files hold at most :data:`FILE_ROWS` rows, in row groups of
:data:`ROW_GROUP_ROWS`.

Writing (:class:`DatasetWriter`) goes to a temporary folder beside the target, every file is
flushed to disk, the manifest is written last, and the folder is renamed into place: a reader
sees the whole dataset or none. Readers take the file list from the manifest, never from a
directory listing, so a stray file is never read.

A snapshot given alone is written straight from its rows. Snapshots given one after another
(chunks of a job set too large to hold: :func:`jobquery.dataset.write_dataset` over dump
files, or generated chunks) are first staged per chunk and month, then each month is sorted
and written by DuckDB (out of core, within :data:`MERGE_MEMORY`); a ``JobId`` found in
several chunks keeps its latest ``GmtModifiedTime`` (then the later chunk), as ingest does.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from jobquery.errors import DatasetError, DumpFormatError
from jobquery.request import TIME_FIELDS, format_timestamp, parse_timestamp
from jobquery.snapshot import JOB_JSON, Snapshot, newest_time

FORMAT_NAME = "jobquery-dataset"
#: 2: ``ix_tags_text`` (:func:`tags_text`) beside ``ix_tags``.
FORMAT_VERSION = 2
#: The manifest, in a folder whose name engines skip when they list a dataset's files (Spark
#: and Hive skip names starting with "_"; a file of that name is skipped even when named alone,
#: a file inside such a folder is not: Spark reads the manifest of a dataset on a cluster).
MANIFEST_NAME = "_jobquery/manifest.json"
#: The hive partition columns: ``year * 100 + month`` of the UTC ``GmtCreateTime``, and the
#: bucket of the casefolded ``WorkspaceId``.
PARTITION = "create_month"
BUCKET = "workspace_bucket"
#: A dataset gets one workspace bucket per this many jobs (at least 1, at most
#: :data:`MAX_WORKSPACE_BUCKETS`): small datasets stay a few files per month.
WORKSPACE_BUCKET_JOBS = 2_000_000
MAX_WORKSPACE_BUCKETS = 64
#: The partition of jobs without a readable ``GmtCreateTime`` (no time window holds them).
NO_MONTH = 0
#: The order of the rows inside a partition (every one ascending, missing values first).
FILE_ORDER = ("GmtCreateTime", "ix_JobId", "JobId")
#: Rows per Parquet row group: the unit an engine skips by its statistics, and the unit it
#: decompresses to read one job's text (see docs/performance.md, the dataset section).
ROW_GROUP_ROWS = 16_384
#: Most rows in one file; a larger month is split into several.
FILE_ROWS = 1_048_576
#: Memory DuckDB may use while sorting a month of staged rows (it spills beyond).
MERGE_MEMORY = "2GB"
#: Columns of a staged chunk besides the dataset's: the chunk's sequence number, and the
#: CRC-32 of ``ix_WorkspaceId`` (the bucket count is chosen once every chunk is in).
CHUNK_COLUMN = "_chunk"
HASH_COLUMN = "_workspace_hash"

ColumnKind = Literal["string", "timestamp", "double", "boolean", "array<string>"]

_ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "double": pa.float64(),
    "boolean": pa.bool_(),
    "array<string>": pa.list_(pa.string()),
}


def column_kind(dtype: pl.DataType) -> ColumnKind:
    """The dataset type of a snapshot column's Polars type.

    Raises
    ------
    DatasetError
        A type the format does not define (a snapshot column added without a dataset type).
    """
    if dtype == pl.String:
        return "string"
    if dtype == pl.Datetime("us", "UTC"):
        return "timestamp"
    if dtype == pl.Float64:
        return "double"
    if dtype == pl.Boolean:
        return "boolean"
    if dtype == pl.List(pl.String):
        return "array<string>"
    raise DatasetError(f"a snapshot column of type {dtype} has no type in the dataset format")


#: The tag pairs of a job (``ix_tags``) as one text: a ``Tags`` filter is a substring test
#: of it (:func:`tag_needle`), which DuckDB scans in about a third of the time of the lists
#: (docs/performance.md, "Format 2").
TAGS_TEXT = "ix_tags_text"
#: What separates the pairs in :data:`TAGS_TEXT` (and starts and ends it); inside a pair it
#: is written ``\s``, and a backslash ``\\``.
TAG_SEPARATOR = "\x1f"


def _escaped_pairs(pairs: pl.Expr) -> pl.Expr:
    """Each pair with the separator escaped: no pair holds it, and no two pairs become one."""
    return pairs.str.replace_all("\\", "\\\\", literal=True).str.replace_all(
        TAG_SEPARATOR, "\\s", literal=True
    )


def tags_text(pairs: pl.Expr) -> pl.Expr:
    """:data:`TAGS_TEXT` of a list of tag pairs: the escaped pairs, each between separators.

    A pair is in the list exactly when the text holds :func:`tag_needle` of it: the needle's
    separators can only be the text's, which stand between whole pairs, and escaping is one
    to one.
    """
    escaped = pairs.list.eval(_escaped_pairs(pl.element())).list.join(TAG_SEPARATOR)
    listed = pl.concat_str([pl.lit(TAG_SEPARATOR), escaped, pl.lit(TAG_SEPARATOR)])
    return pl.when(pairs.list.len() == 0).then(pl.lit(TAG_SEPARATOR)).otherwise(listed)


def tag_needle(pair: str) -> str:
    """What :data:`TAGS_TEXT` holds when a job has the tag pair ``pair``."""
    escaped = pl.select(_escaped_pairs(pl.lit(pair, dtype=pl.String))).item()
    return f"{TAG_SEPARATOR}{escaped}{TAG_SEPARATOR}"


def stored_columns(snapshot: Snapshot) -> list[tuple[str, ColumnKind]]:
    """The snapshot's columns a dataset stores, in the snapshot's order, with their types,
    and :data:`TAGS_TEXT` after ``ix_tags``.

    Everything but the rank columns (``ix_rank_*``: positions among the jobs of one snapshot,
    meaningless in another; the dataset orders by the values themselves). ``job_json`` is
    stored as text even when the snapshot keeps it compressed.
    """
    columns: list[tuple[str, ColumnKind]] = []
    for name, dtype in snapshot.frame.schema.items():
        if name.startswith("ix_rank_"):
            continue
        columns.append((name, "string" if name == JOB_JSON else column_kind(dtype)))
        if name == "ix_tags":
            columns.append((TAGS_TEXT, "string"))
    return columns


def arrow_schema(columns: Sequence[tuple[str, ColumnKind]]) -> pa.Schema:
    """The Parquet files' schema (the partition column is in the folder names, not the files)."""
    return pa.schema([pa.field(name, _ARROW_TYPES[kind]) for name, kind in columns])


@dataclass(frozen=True)
class DataFile:
    """One Parquet file of a dataset: its path relative to the folder, its partition (month
    and workspace bucket) and its row count."""

    path: str
    month: int
    bucket: int
    rows: int


def workspace_buckets_for(jobs: int) -> int:
    """How many workspace buckets a dataset of ``jobs`` jobs gets."""
    return max(1, min(MAX_WORKSPACE_BUCKETS, -(-jobs // WORKSPACE_BUCKET_JOBS)))


def workspace_hash(workspace: str | None) -> int:
    """The CRC-32 of a casefolded WorkspaceId (``ix_WorkspaceId``; missing: the empty text)."""
    return zlib.crc32((workspace or "").encode("utf-8", "surrogatepass"))


def workspace_bucket(workspace: str | None, buckets: int) -> int:
    """The bucket of a casefolded WorkspaceId in a dataset of ``buckets`` buckets."""
    return workspace_hash(workspace) % buckets


def workspace_hashes(column: pl.Series) -> pl.Series:
    """:func:`workspace_hash` of every value of ``ix_WorkspaceId`` (computed per distinct value)."""
    distinct = column.unique()
    table = pl.DataFrame(
        {
            "value": distinct,
            "hash": pl.Series([workspace_hash(value) for value in distinct], dtype=pl.Int64),
        }
    )
    rows = pl.DataFrame({"value": column})
    joined = rows.join(table, on="value", how="left", maintain_order="left", nulls_equal=True)
    return joined["hash"].alias(HASH_COLUMN)


@dataclass(frozen=True)
class Manifest:
    """What a dataset says about itself (``_jobquery/manifest.json``).

    Attributes
    ----------
    job_count : int
        Every stored job, deleted ones included.
    deleted_count : int
        Jobs whose ``IsDeleted`` is true (stored, never listed).
    newest_time : datetime or None
        The newest timestamp of any ``Gmt*Time`` field (the command line's default clock).
    columns : tuple of (name, type)
        The columns of every file, in order.
    files : tuple of DataFile
        Every data file, by month and bucket.
    workspace_buckets : int
        How many workspace buckets each month has.
    duplicates : int
        Records dropped while writing because another one had the same ``JobId``.
    skipped : int
        Malformed dump records skipped while writing (``lenient``).
    """

    job_count: int
    deleted_count: int
    newest_time: datetime | None
    columns: tuple[tuple[str, ColumnKind], ...]
    files: tuple[DataFile, ...]
    workspace_buckets: int = 1
    duplicates: int = 0
    skipped: int = 0
    format_version: int = FORMAT_VERSION

    def to_json(self) -> bytes:
        document: dict[str, Any] = {
            "format": FORMAT_NAME,
            "format_version": self.format_version,
            "job_count": self.job_count,
            "deleted_count": self.deleted_count,
            "newest_time": None if self.newest_time is None else format_timestamp(self.newest_time),
            "partitions": [PARTITION, BUCKET],
            "workspace_buckets": self.workspace_buckets,
            "file_order": list(FILE_ORDER),
            "duplicates": self.duplicates,
            "skipped": self.skipped,
            "columns": [{"name": name, "type": kind} for name, kind in self.columns],
            "files": [
                {"path": item.path, "month": item.month, "bucket": item.bucket, "rows": item.rows}
                for item in self.files
            ],
        }
        return json.dumps(document, indent=1, ensure_ascii=False).encode() + b"\n"

    @classmethod
    def from_json(cls, text: bytes, source: str) -> Manifest:
        """Read a manifest.

        Raises
        ------
        DumpFormatError
            Not a jobquery dataset manifest, or one of another format version.
        """
        try:
            document = json.loads(text)
            if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
                raise DumpFormatError(source, "not a jobquery dataset manifest")
            version = document.get("format_version")
            if version != FORMAT_VERSION:
                raise DumpFormatError(
                    source,
                    f"dataset format version {version!r}; this jobquery reads version "
                    f"{FORMAT_VERSION} (write the dataset again with this version)",
                )
            newest = document["newest_time"]
            columns = tuple((str(c["name"]), c["type"]) for c in document["columns"])
            if any(kind not in _ARROW_TYPES for _, kind in columns):
                raise DumpFormatError(source, "the manifest names an unknown column type")
            return cls(
                job_count=int(document["job_count"]),
                deleted_count=int(document["deleted_count"]),
                newest_time=None if newest is None else parse_timestamp(newest),
                columns=columns,
                files=tuple(
                    DataFile(str(f["path"]), int(f["month"]), int(f["bucket"]), int(f["rows"]))
                    for f in document["files"]
                ),
                workspace_buckets=int(document["workspace_buckets"]),
                duplicates=int(document.get("duplicates", 0)),
                skipped=int(document.get("skipped", 0)),
            )
        except (ValueError, KeyError, TypeError) as exc:
            if isinstance(exc, DumpFormatError):
                raise
            raise DumpFormatError(source, f"a damaged dataset manifest ({exc})") from exc


def read_manifest(directory: str | os.PathLike[str]) -> Manifest:
    """The manifest of a dataset folder, after checking that every file it lists exists.

    Raises
    ------
    FileNotFoundError
        No such folder.
    DumpFormatError
        The folder is not a complete jobquery dataset.
    """
    folder = Path(directory)
    if not folder.exists():
        raise FileNotFoundError(2, "no such dataset folder", str(folder))
    path = folder / MANIFEST_NAME
    if not folder.is_dir() or not path.is_file():
        raise DumpFormatError(
            str(folder),
            f"not a jobquery dataset (no {MANIFEST_NAME}); write one with "
            "'jobquery dataset write DUMP... DIR'",
        )
    manifest = Manifest.from_json(path.read_bytes(), str(path))
    missing = [item.path for item in manifest.files if not (folder / item.path).is_file()]
    if missing:
        raise DumpFormatError(
            str(folder), f"the dataset is incomplete: {len(missing)} file(s) missing ({missing[0]})"
        )
    return manifest


def month_of(times: pl.Expr) -> pl.Expr:
    """``year * 100 + month`` of UTC timestamps, :data:`NO_MONTH` for a missing one."""
    return (times.dt.year() * 100 + times.dt.month()).fill_null(NO_MONTH).cast(pl.Int32)


def month_of_time(moment: datetime) -> int:
    """:func:`month_of` for one timestamp."""
    utc = moment.astimezone(UTC)
    return utc.year * 100 + utc.month


def partition_folder(month: int, bucket: int) -> str:
    return f"{PARTITION}={month}/{BUCKET}={bucket}"


@dataclass(frozen=True)
class WriteProgress:
    """Where a write stands: ``step`` (``"indexing"`` or ``"sorting"``), and how far."""

    step: str
    done: int
    total: int | None


OnProgress = Callable[[WriteProgress], None]


@dataclass
class _Counts:
    jobs: int = 0
    deleted: int = 0
    newest: datetime | None = None
    chunks: int = 0
    duplicates: int = 0

    def add(self, snapshot: Snapshot) -> None:
        self.jobs += len(snapshot)
        self.deleted += int(snapshot.frame["IsDeleted"].sum())
        newest = newest_time(snapshot)
        if newest is not None and (self.newest is None or newest > self.newest):
            self.newest = newest


@dataclass
class DatasetWriter:
    """Writes a dataset from one snapshot or from many (chunks of one job set).

    Use as a context manager: :meth:`add` each snapshot, and the dataset is put in place when
    the block ends without an error (:meth:`finish`); on an error nothing is left behind.

    Parameters
    ----------
    directory : str or PathLike
        The dataset folder to create.
    overwrite : bool
        Replace an existing dataset there (only a jobquery dataset or an empty folder).
    resolve_duplicates : bool
        A ``JobId`` in several chunks keeps its latest ``GmtModifiedTime`` (then the later
        chunk), as ingest does; when False such a job set is refused (DumpFormatError).
    on_progress : callable, optional
        Called with a :class:`WriteProgress` as the write goes on.
    workspace_buckets : int, optional
        The number of workspace buckets (default: :func:`workspace_buckets_for` the job count).
    """

    directory: str | os.PathLike[str]
    overwrite: bool = False
    resolve_duplicates: bool = False
    on_progress: OnProgress | None = None
    workspace_buckets: int | None = None
    row_group_rows: int = ROW_GROUP_ROWS
    file_rows: int = FILE_ROWS
    _target: Path = field(init=False)
    _temporary: Path = field(init=False)
    _columns: list[tuple[str, ColumnKind]] | None = field(init=False, default=None)
    _held: Snapshot | None = field(init=False, default=None)
    _counts: _Counts = field(init=False, default_factory=_Counts)
    _staged_months: set[int] = field(init=False, default_factory=set)
    manifest: Manifest | None = field(init=False, default=None)
    #: Malformed records the source skipped (set by the caller; kept in the manifest).
    skipped: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        if self.workspace_buckets is not None and not 1 <= self.workspace_buckets <= 1 << 16:
            raise DatasetError("workspace_buckets must be between 1 and 65536")
        self._target = Path(self.directory)
        _check_target(self._target, self.overwrite)
        self._target.parent.mkdir(parents=True, exist_ok=True)
        token = secrets.token_hex(4)
        self._temporary = self._target.parent / f".{self._target.name}.writing-{token}"
        self._temporary.mkdir()

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        try:
            if kind is None:
                self.finish()
        finally:
            shutil.rmtree(self._temporary, ignore_errors=True)

    def add(self, snapshot: Snapshot, *, duplicates: int = 0) -> None:
        """Add the jobs of one snapshot (deleted ones included).

        ``duplicates``: records its source dropped already (a JobId twice in one dump file).
        """
        columns = stored_columns(snapshot)
        if self._columns is None:
            self._columns = columns
        elif columns != self._columns:
            raise DatasetError("the snapshots of one dataset must have the same columns")
        self._counts.add(snapshot)
        self._counts.chunks += 1
        self._counts.duplicates += duplicates
        # one snapshot alone is written straight to its files when the writer finishes; a
        # second one means chunks: stage both
        if self._counts.chunks == 1:
            self._held = snapshot
        else:
            if self._held is not None:
                self._stage(self._held, 0)
                self._held = None
            self._stage(snapshot, self._counts.chunks - 1)
        self._report("indexing", self._counts.jobs, None)

    def finish(self) -> Manifest:
        """Write the remaining files and the manifest, and move the dataset into place."""
        if self.manifest is not None:
            return self.manifest
        data = self._temporary / "data"
        data.mkdir()
        buckets = self.workspace_buckets or workspace_buckets_for(self._counts.jobs)
        if self._counts.chunks <= 1:
            files = self._write_snapshot(self._held, data, buckets)
            counts, duplicates = self._counts, 0
        else:
            files, duplicates = self._merge(data, buckets)
            counts = _counts_of_files([data / f.path for f in files])
        manifest = Manifest(
            job_count=counts.jobs,
            deleted_count=counts.deleted,
            newest_time=counts.newest,
            columns=tuple(self._columns or []),
            files=tuple(files),
            workspace_buckets=buckets,
            duplicates=self._counts.duplicates + duplicates,
            skipped=self.skipped,
        )
        manifest_path = data / MANIFEST_NAME
        manifest_path.parent.mkdir()
        manifest_path.write_bytes(manifest.to_json())
        _fsync_file(manifest_path)
        folders = {(data / f.path).parent for f in files} | {manifest_path.parent}
        for folder in folders | {folder.parent for folder in folders} | {data}:
            _fsync_directory(folder)
        _move_into_place(data, self._target, self.overwrite)
        self._held = None
        self.manifest = manifest
        return manifest

    # -- writing files -----------------------------------------------------------------------

    def _report(self, step: str, done: int, total: int | None) -> None:
        if self.on_progress is not None:
            self.on_progress(WriteProgress(step, done, total))

    def _write_snapshot(
        self, snapshot: Snapshot | None, data: Path, buckets: int
    ) -> list[DataFile]:
        """Write one snapshot's rows, partition by partition, in file order."""
        if snapshot is None or not len(snapshot):
            # no job at all: still one (empty) file, so that any reader finds the columns
            self._columns = self._columns or stored_columns(Snapshot.from_texts([]))
            name = f"{partition_folder(NO_MONTH, 0)}/part-00000.parquet"
            self._write_file(data / name, [arrow_schema(self._columns).empty_table()])
            return [DataFile(name, NO_MONTH, 0, 0)]
        columns = self._columns or []
        files: list[DataFile] = []
        for (month, bucket), rows in _rows_by_partition(snapshot, buckets):
            for number, begin in enumerate(range(0, len(rows), self.file_rows)):
                part = rows[begin : begin + self.file_rows]
                name = f"{partition_folder(month, bucket)}/part-{number:05d}.parquet"
                written = self._write_file(data / name, [_table_of(snapshot, part, columns)])
                files.append(DataFile(name, month, bucket, written))
        return files

    def _write_file(self, path: Path, tables: Iterable[pa.Table]) -> int:
        """One data file from tables of the dataset's schema; returns its row count."""
        columns = self._columns or []
        schema = arrow_schema(columns)
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = 0
        with path.open("wb") as sink:
            with pq.ParquetWriter(
                sink,
                schema,
                compression="zstd",
                # every column but the job texts (all distinct) dictionary-encoded; a list's
                # values are its leaf column
                use_dictionary=[
                    f"{name}.list.element" if kind == "array<string>" else name
                    for name, kind in columns
                    if name != JOB_JSON
                ],
                write_statistics=True,
                write_page_index=True,
            ) as writer:
                for table in tables:
                    writer.write_table(table.cast(schema), row_group_size=self.row_group_rows)
                    rows += table.num_rows
            sink.flush()
            os.fsync(sink.fileno())
        return rows

    def _stage(self, snapshot: Snapshot, chunk: int) -> None:
        """Write one chunk's rows, a file per month, under the staging folder."""
        columns = self._columns or []
        staging = self._temporary / "staging"
        hashes = workspace_hashes(snapshot.frame["ix_WorkspaceId"]).to_numpy()
        for (month, _), rows in _rows_by_partition(snapshot, 1):
            table = _table_of(snapshot, rows, columns)
            table = table.append_column(
                CHUNK_COLUMN, pa.array(np.full(table.num_rows, chunk, dtype=np.int32))
            ).append_column(HASH_COLUMN, pa.array(hashes[rows]))
            path = staging / f"{PARTITION}={month}" / f"chunk-{chunk:06d}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(table, path, compression="zstd", row_group_size=len(rows))
            self._staged_months.add(month)

    def _merge(self, data: Path, buckets: int) -> tuple[list[DataFile], int]:
        """Sort each month's staged rows into its buckets' files (DuckDB, out of core); drop
        duplicates. Returns the files and the number of records dropped."""
        duckdb = _duckdb()
        staging = self._temporary / "staging"
        connection = duckdb.connect()
        try:
            connection.execute(f"SET memory_limit = '{MERGE_MEMORY}'")
            spill = _sql_text(str(self._temporary / "spill"))
            connection.execute(f"SET temp_directory = '{spill}'")
            connection.execute("SET TimeZone = 'UTC'")
            staged = f"'{_sql_text(str(staging))}/*/*.parquet'"
            losers = _losers(connection, staged, resolve=self.resolve_duplicates)
            dropped = int(connection.sql("SELECT count(*) FROM losers").fetchall()[0][0])
            files: list[DataFile] = []
            months = sorted(self._staged_months)
            order = ", ".join(f'"{name}" ASC NULLS FIRST' for name in FILE_ORDER)
            for done, month in enumerate(months):
                self._report("sorting", done, len(months))
                folder = staging / f"{PARTITION}={month}"
                source = f"'{_sql_text(str(folder))}/*.parquet'"
                anti_join = (
                    f"ANTI JOIN losers AS l ON s.JobId = l.JobId "
                    f"AND s.{CHUNK_COLUMN} = l.{CHUNK_COLUMN} "
                    if losers
                    else ""
                )
                query = (
                    f"SELECT * EXCLUDE ({CHUNK_COLUMN}, {HASH_COLUMN}), "
                    f"{HASH_COLUMN} % {buckets} AS {BUCKET} "
                    f"FROM read_parquet({source}, hive_partitioning = false) AS s "
                    f"{anti_join}ORDER BY {BUCKET}, {order}"
                )
                reader = connection.sql(query).to_arrow_reader(self.row_group_rows)
                files += self._write_month(data, month, reader)
                shutil.rmtree(folder)
            self._report("sorting", len(months), len(months))
            return files, dropped
        finally:
            connection.close()

    def _write_month(self, data: Path, month: int, reader: pa.RecordBatchReader) -> list[DataFile]:
        """The sorted batches of one month (with their bucket column), as files of at most
        ``file_rows`` rows per bucket."""
        files: list[DataFile] = []
        pieces = _BucketPieces(reader)
        while pieces.head is not None:
            bucket, number = pieces.head[0], 0
            while pieces.head is not None and pieces.head[0] == bucket:
                name = f"{partition_folder(month, bucket)}/part-{number:05d}.parquet"
                rows = self._write_file(data / name, pieces.take(bucket, self.file_rows))
                files.append(DataFile(name, month, bucket, rows))
                number += 1
        return files


class _BucketPieces:
    """Batches sorted by bucket, cut where the bucket changes, read a few rows at a time."""

    def __init__(self, reader: pa.RecordBatchReader) -> None:
        self._stream = self._pieces(reader)
        self.head: tuple[int, pa.Table] | None = next(self._stream, None)

    @staticmethod
    def _pieces(reader: pa.RecordBatchReader) -> Iterator[tuple[int, pa.Table]]:
        for batch in reader:
            table = pa.Table.from_batches([batch])
            buckets = table.column(BUCKET).to_numpy()
            table = table.drop_columns([BUCKET])
            edges = (np.flatnonzero(np.diff(buckets)) + 1).tolist()
            for begin, end in zip([0, *edges], [*edges, len(buckets)], strict=True):
                if end > begin:
                    yield int(buckets[begin]), table.slice(begin, end - begin)

    def take(self, bucket: int, rows: int) -> Iterator[pa.Table]:
        """Up to ``rows`` rows of ``bucket`` (fewer when the bucket's rows end first)."""
        room = rows
        while self.head is not None and self.head[0] == bucket and room > 0:
            table = self.head[1]
            if table.num_rows > room:
                self.head = (bucket, table.slice(room))
                table = table.slice(0, room)
            else:
                self.head = next(self._stream, None)
            room -= table.num_rows
            yield table


def _losers(connection: Any, staged: str, *, resolve: bool) -> bool:
    """Find the staged rows a duplicate JobId drops (table ``losers``); whether there are any.

    Raises
    ------
    DumpFormatError
        Duplicates when they may not be resolved.
    """
    connection.execute(
        f"""
        CREATE TEMP TABLE losers AS
        SELECT JobId, {CHUNK_COLUMN} FROM (
            SELECT JobId, {CHUNK_COLUMN},
                   row_number() OVER (
                       PARTITION BY JobId
                       ORDER BY GmtModifiedTime DESC NULLS LAST, {CHUNK_COLUMN} DESC
                   ) AS place
            FROM read_parquet({staged}, hive_partitioning = false)
            WHERE JobId IN (
                SELECT JobId FROM read_parquet({staged}, hive_partitioning = false)
                GROUP BY JobId HAVING count(*) > 1
            )
        ) WHERE place > 1
        """
    )
    found = connection.sql("SELECT min(JobId) FROM losers").fetchall()[0][0]
    if found is not None and not resolve:
        raise DumpFormatError("<chunks>", f"duplicate JobId {found!r} in two chunks")
    return found is not None


def _rows_by_partition(
    snapshot: Snapshot, buckets: int
) -> Iterator[tuple[tuple[int, int], np.ndarray]]:
    """The rows of each (month, workspace bucket), in that order, each in file order."""
    frame = snapshot.frame
    keys = frame.select(
        month_of(pl.col("GmtCreateTime")).alias(PARTITION),
        (workspace_hashes(frame["ix_WorkspaceId"]) % buckets).alias(BUCKET),
        *FILE_ORDER,
    )
    order = keys.select(
        pl.arg_sort_by([PARTITION, BUCKET, *FILE_ORDER], nulls_last=False)
    ).to_series()
    rows = order.to_numpy()
    months = keys[PARTITION].to_numpy()[rows]
    bucket_of = keys[BUCKET].to_numpy()[rows]
    edges = (np.flatnonzero((np.diff(months) != 0) | (np.diff(bucket_of) != 0)) + 1).tolist()
    for begin, end in zip([0, *edges], [*edges, len(rows)], strict=True):
        if end > begin:
            yield (int(months[begin]), int(bucket_of[begin])), rows[begin:end]


def _table_of(
    snapshot: Snapshot, rows: np.ndarray, columns: Sequence[tuple[str, ColumnKind]]
) -> pa.Table:
    """Some rows of a snapshot as an Arrow table of the dataset's columns (texts plain)."""
    names = [name for name, _ in columns]
    picked = snapshot.frame.select(name for name in names if name != TAGS_TEXT)[rows]
    picked = snapshot.with_json_texts(picked)
    picked = picked.with_columns(tags_text(pl.col("ix_tags")).alias(TAGS_TEXT)).select(names)
    table: pa.Table = picked.to_arrow()
    return table.cast(arrow_schema(columns))


def _check_target(target: Path, overwrite: bool) -> None:
    if not target.exists():
        return
    if not overwrite:
        raise DatasetError(
            f"{target} exists; choose another folder, or replace a dataset there with "
            "--overwrite (overwrite=True)"
        )
    if not target.is_dir():
        raise DatasetError(f"{target} exists and is not a folder; it is left alone")
    if not (target / MANIFEST_NAME).is_file() and any(target.iterdir()):
        raise DatasetError(
            f"{target} is a folder but not a jobquery dataset; only a dataset (or an empty "
            "folder) is overwritten"
        )


def _move_into_place(data: Path, target: Path, overwrite: bool) -> None:
    """Rename the finished folder to the target (replacing an old dataset when allowed)."""
    old: Path | None = None
    if target.exists():
        _check_target(target, overwrite)
        old = target.parent / f".{target.name}.replaced-{secrets.token_hex(4)}"
        target.rename(old)
    try:
        data.rename(target)
    except BaseException:
        if old is not None:
            old.rename(target)
        raise
    _fsync_directory(target.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _fsync_file(path: Path) -> None:
    with path.open("rb+") as handle:
        os.fsync(handle.fileno())


def _fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _sql_text(text: str) -> str:
    return text.replace("'", "''")


def _duckdb() -> Any:
    try:
        import duckdb  # noqa: PLC0415 - an optional dependency, needed only here
    except ImportError as exc:
        raise DatasetError(
            "writing a dataset in chunks needs duckdb: pip install 'jobquery[dataset]'"
        ) from exc
    return duckdb


def _counts_of_files(paths: Sequence[Path]) -> _Counts:
    """Jobs, deleted jobs and the newest time of written files (after a merge)."""
    found = (
        pl.scan_parquet([str(path) for path in paths])
        .select(
            pl.len().alias("jobs"),
            pl.col("IsDeleted").sum().alias("deleted"),
            pl.max_horizontal([pl.col(name).max() for name in TIME_FIELDS]).alias("newest"),
        )
        .collect()
        .row(0, named=True)
    )
    newest = found["newest"]
    return _Counts(
        jobs=int(found["jobs"]),
        deleted=int(found["deleted"] or 0),
        newest=newest.astimezone(UTC) if isinstance(newest, datetime) else None,
    )
