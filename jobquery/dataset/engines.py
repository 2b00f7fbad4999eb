"""The engines a dataset is queried on: DuckDB (in process) and Spark (local or a cluster).

An engine reads exactly the files the manifest lists, as a table named :attr:`Engine.table`,
and runs SQL rendered in its dialect (:func:`jobquery.dataset.sql.render`). It only runs
queries: what to ask is decided by :mod:`jobquery.dataset.sql`.

- :class:`DuckDBEngine`: a view over ``read_parquet([...files], hive_partitioning = true)`` on a
  cursor of its own (of a new in-memory database, or of the connection passed in, whose
  settings — threads, memory limit — it shares). The files are listed largest first, and the
  view's first column is ``IsDeleted`` (see :class:`DuckDBEngine`).
- :class:`SparkEngine`: a temporary view over ``spark.read.parquet(*files)`` with the schema
  from the manifest (no file is opened to infer it) and ``datetimeRebaseMode=CORRECTED``
  (timestamps before 1582 are read as written). The session is the one passed in — local, on
  a cluster through ``spark-submit``, or Spark Connect — or a quiet local one
  (:func:`local_spark_session`).
"""

from __future__ import annotations

import secrets
import threading
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
from sqlglot import exp

from jobquery.dataset.format import BUCKET, MANIFEST_NAME, PARTITION, ColumnKind, Manifest
from jobquery.dataset.sql import parquet_files
from jobquery.errors import DatasetError, DumpFormatError

ENGINES = ("duckdb", "spark")

#: Spark SQL types of the dataset's column types.
_SPARK_TYPES: dict[ColumnKind, str] = {
    "string": "STRING",
    "timestamp": "TIMESTAMP",
    "double": "DOUBLE",
    "boolean": "BOOLEAN",
    "array<string>": "ARRAY<STRING>",
}


class Engine(Protocol):
    """What :class:`~jobquery.dataset.JobDataset` needs from an engine."""

    name: str
    table: str

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        """Every row of a query (a few: counts, the keys or texts of a page)."""
        ...

    def arrow(self, sql: str) -> pa.Table:
        """Every row, as an Arrow table."""
        ...

    def source(self, *, counted: bool = True) -> str:
        """How the table is defined, in words and the engine's terms (``counted``: with the
        number of its files, which a caller who may not see every job is not shown)."""
        ...

    def partition_files(self, month: int, bucket: int) -> exp.Expression | None:
        """A table of one partition's files alone (without the partition columns), for
        reading a page's job texts; None: read them from :attr:`table`."""
        ...

    def close(self) -> None: ...


class DuckDBEngine:
    """DuckDB over the dataset's files.

    Two choices steer DuckDB's planner, which sees the files only through the first one's
    metadata and the view's column order:

    - the files are listed largest first: DuckDB estimates a scan's rows from the first file,
      and a top-N heap for ``ORDER BY ... LIMIT ... OFFSET`` is chosen only when the page ends
      well inside the estimate (a small first file made it sort every match, in memory);
    - ``IsDeleted`` is the view's first column: a query that reads no column of a ``UNION
      ALL`` branch (``COUNT(*)`` over :func:`jobquery.dataset.sql.source`) reads the first one,
      and every query reads ``IsDeleted`` anyway (``JobId`` would be read for nothing).

    Parameters
    ----------
    directory : Path
        The dataset folder.
    manifest : Manifest
        Its manifest (the files to read).
    connection : duckdb.DuckDBPyConnection, optional
        A connection to work on (a cursor of it is used); default: a new in-memory database.
    """

    name = "duckdb"
    table = "jobs"

    def __init__(self, directory: Path, manifest: Manifest, connection: Any = None) -> None:
        try:
            import duckdb  # noqa: PLC0415 - an optional dependency
        except ImportError as exc:
            raise DatasetError(
                "engine='duckdb' needs duckdb: pip install 'jobquery[dataset]'"
            ) from exc
        self._owned = connection is None
        self._database = duckdb.connect() if connection is None else connection
        if self._owned:  # a global setting: only on a database of our own
            # every query says its order (ORDER BY, or rows matched up by JobId)
            self._database.execute("SET preserve_insertion_order = false")
        largest_first = sorted(manifest.files, key=lambda item: -item.rows)
        files = ", ".join(_sql_text(str(directory / item.path)) for item in largest_first)
        self._definition = (
            f'CREATE TEMP VIEW {self.table} AS SELECT "IsDeleted", * EXCLUDE ("IsDeleted") '
            f"FROM read_parquet([{files}], hive_partitioning = true, "
            f"hive_types = {{'{PARTITION}': INTEGER, '{BUCKET}': INTEGER}})"
        )
        self._files: dict[tuple[int, int], list[str]] = {}
        for item in manifest.files:
            place = (item.month, item.bucket)
            self._files.setdefault(place, []).append(str(directory / item.path))
        self._cursor = self._new_cursor()
        self._lock = threading.Lock()
        self._folder, self._file_count = str(directory), len(manifest.files)

    def _new_cursor(self) -> Any:
        """A cursor of the database, with its settings and the view."""
        cursor = self._database.cursor()
        # the page is read in two steps already (keys, then texts): DuckDB's own late
        # materialisation would scan the matches a second time for the keys
        cursor.execute("SET SESSION late_materialization_max_rows = 0")
        if self._owned:  # set on the cursor: it does not see its database's setting
            cursor.execute("SET parquet_metadata_cache = true")
        cursor.execute(self._definition)
        return cursor

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with self._lock:
            found: list[tuple[Any, ...]] = self._cursor.sql(sql).fetchall()
            return found

    def arrow(self, sql: str) -> pa.Table:
        with self._lock:
            table: pa.Table = self._cursor.sql(sql).to_arrow_table()
            return table

    def source(self, *, counted: bool = True) -> str:
        files = _files_shown(self._file_count, self._folder, counted)
        return f"DuckDB: view {self.table} = read_parquet(<{files}>, hive_partitioning = true)"

    def partition_files(self, month: int, bucket: int) -> exp.Expression | None:
        """``read_parquet`` of the partition's files: a page-text lookup through the view
        costs DuckDB about 10 ms of setting up its many files, whatever the partition
        filter; through the partition's own files it costs the row groups it reads."""
        files = self._files.get((month, bucket))
        return None if files is None else parquet_files(files)

    def close(self) -> None:
        with self._lock:
            self._cursor.close()
            if self._owned:
                self._database.close()


class SparkEngine:
    """Spark SQL over the dataset's files.

    Parameters
    ----------
    directory : Path
        The dataset folder (a path every executor can read: a shared or object-store path on a
        cluster).
    manifest : Manifest, optional
        Its manifest (the files and columns); None: read it through Spark (a folder given as
        a URI of the cluster's storage, ``s3a://...``, which this process may not read).
    session : pyspark.sql.SparkSession, optional
        The session to run in; default: the active session (``spark-submit``, a notebook),
        else a new :func:`local_spark_session`, which :meth:`close` stops.
    """

    name = "spark"

    def __init__(
        self, directory: Path | str, manifest: Manifest | None, session: Any = None
    ) -> None:
        self._owned = session is None and _active_spark_session() is None
        self._session = spark_session() if session is None else session
        try:
            self.manifest = manifest or manifest_through_spark(self._session, str(directory))
        except BaseException:
            if self._owned:
                self._session.stop()
            raise
        manifest = self.manifest
        self.table = f"jobquery_jobs_{secrets.token_hex(6)}"
        base = str(directory).rstrip("/")
        files = [f"{base}/{item.path}" for item in manifest.files]
        schema = ", ".join(
            [f"`{name}` {_SPARK_TYPES[kind]}" for name, kind in manifest.columns]
            + [f"`{PARTITION}` INT", f"`{BUCKET}` INT"]
        )
        frame = (
            self._session.read.schema(schema)
            .option("basePath", base)
            .option("datetimeRebaseMode", "CORRECTED")
            .option("int96RebaseMode", "CORRECTED")
            .parquet(*files)
        )
        frame.createOrReplaceTempView(self.table)
        self._folder, self._file_count = base, len(files)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._session.sql(sql).collect()]

    def arrow(self, sql: str) -> pa.Table:
        table: pa.Table = self._session.sql(sql).toArrow()
        return table

    def source(self, *, counted: bool = True) -> str:
        files = _files_shown(self._file_count, self._folder, counted)
        return (
            f"Spark: temporary view {self.table} = spark.read.parquet(<{files}>, "
            f"basePath = {self._folder})"
        )

    def partition_files(self, month: int, bucket: int) -> exp.Expression | None:
        return None  # Spark prunes the view's files by partition itself

    def close(self) -> None:
        self._session.catalog.dropTempView(self.table)
        if self._owned:
            self._session.stop()


def _files_shown(count: int, folder: str, counted: bool) -> str:
    """``12 files under DIR``, or (not ``counted``) ``the dataset's files under DIR``."""
    return f"{count} files under {folder}" if counted else f"the dataset's files under {folder}"


#: Spark's log configuration for the local sessions jobquery builds: errors only.
LOG4J2_PROPERTIES = "log4j2.properties"


def local_spark_session(*, cores: int = 2, shuffle_partitions: int = 4) -> Any:
    """A quiet local Spark session (``local[cores]``, no UI, no progress bars, errors only).

    Raises
    ------
    DatasetError
        pyspark is not installed.
    """
    try:
        from pyspark.sql import SparkSession  # noqa: PLC0415 - an optional dependency
    except ImportError as exc:
        raise DatasetError("engine='spark' needs pyspark: pip install 'jobquery[spark]'") from exc
    config = resources.files("jobquery.dataset").joinpath(LOG4J2_PROPERTIES)
    quiet = f"-Dlog4j2.configurationFile={config}"
    builder = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("jobquery")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.driver.extraJavaOptions", quiet)
        .config("spark.sql.session.timeZone", "UTC")
    )
    try:
        return builder.getOrCreate()
    except Exception as exc:
        if "JAVA_GATEWAY_EXITED" not in str(exc):
            raise
        raise DatasetError(
            "Spark could not start Java: local Spark needs Java 17 or newer (java on the PATH, "
            f"or JAVA_HOME) [{exc}]"
        ) from exc


def spark_session() -> Any:
    """The active Spark session (``spark-submit``, a notebook), else :func:`local_spark_session`."""
    return _active_spark_session() or local_spark_session()


def manifest_through_spark(session: Any, location: str) -> Manifest:
    """The manifest of a dataset at a URI of the cluster's storage, read by Spark.

    Raises
    ------
    DumpFormatError
        No manifest there, or not a jobquery dataset's.
    """
    path = f"{location}/{MANIFEST_NAME}"
    try:
        rows = session.read.text(path, wholetext=True).collect()
    except Exception as exc:  # Spark's AnalysisException: no such path
        raise DumpFormatError(location, f"not a jobquery dataset (no {MANIFEST_NAME})") from exc
    return Manifest.from_json(rows[0][0].encode(), path)


def _active_spark_session() -> Any:
    """The process's active Spark session, or None (also when pyspark is not installed)."""
    try:
        from pyspark.sql import SparkSession  # noqa: PLC0415 - an optional dependency
    except ImportError:
        return None
    return SparkSession.getActiveSession()


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
