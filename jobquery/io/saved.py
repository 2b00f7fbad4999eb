"""Saved snapshots: restart a service without ingesting JSON again.

A saved snapshot is **one Parquet file** holding the whole frame of a
:class:`~jobquery.snapshot.Snapshot` — the stored job texts, the typed columns, every index
column and the rank columns — in row order, as one row group, so that opening it rebuilds
nothing: the file is read and wrapped (:meth:`Snapshot.from_frame`).

Integrity:

- a **manifest** in the file's key-value metadata (key ``jobquery.snapshot``): the format and its
  version, the snapshot version and its identity (the random name page tokens know it by, see
  :mod:`jobquery.index_engine.page_tokens`), the row count, every column with its type, and a
  SHA-256 of those fields;
- a **CRC-32 of every data page**, written by Arrow and verified when the file is read;
- the file is written under a temporary name in the same folder, flushed to disk (``fsync``) and
  renamed over the target (:func:`jobquery.io.writing.atomic_write`): a crash during a save leaves
  the previous file in place, complete.

Whatever is wrong with a file — truncated, corrupted, not a jobquery snapshot, a manifest that
does not match the data — :func:`load_snapshot` raises :class:`~jobquery.errors.DumpFormatError`.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from jobquery.errors import DumpFormatError
from jobquery.io.dumps import SAVED_MANIFEST_KEY
from jobquery.io.writing import atomic_write
from jobquery.snapshot import (
    JOB_JSON,
    Snapshot,
    index_columns_equal_to_their_field,
    listable_first,
)
from jobquery.snapshot.textcodec import TextCodec

FORMAT = "jobquery-snapshot"
#: 2: the deleted jobs after the listable ones, ranks among the listable ones. Version 1 (deleted
#: jobs among the others) is still read, and put in today's order as it is opened.
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
MANIFEST_KEY = SAVED_MANIFEST_KEY  # the dump reader knows a saved snapshot by it
DICTIONARY_KEY = b"jobquery.text_dictionary"


@dataclass(frozen=True)
class Manifest:
    """What a saved snapshot says about itself.

    Attributes
    ----------
    snapshot_version : int
        The version of the saved snapshot.
    rows : int
        The number of jobs, deleted ones included.
    columns : dict of str to str
        Every column of the frame and its Polars type, in order.
    format_version : int
        The layout of the file; a reader refuses versions it does not know.
    text_dictionary : str, optional
        The SHA-256 of the dictionary of compressed job texts (stored beside the manifest,
        key ``jobquery.text_dictionary``); None when the texts are plain.
    snapshot_identity : str, optional
        The hex identity of the saved version, which page tokens name it by; a store opening
        the file keeps it. None in files written before identities existed.
    """

    snapshot_version: int
    rows: int
    columns: dict[str, str]
    format_version: int = FORMAT_VERSION
    text_dictionary: str | None = None
    snapshot_identity: str | None = None

    def fields(self) -> dict[str, Any]:
        """The manifest as JSON values, without its checksum."""
        return {
            "format": FORMAT,
            "format_version": self.format_version,
            "snapshot_version": self.snapshot_version,
            "rows": self.rows,
            "columns": self.columns,
            # only when set: the checksums of manifests of plain snapshots stay as they were
            **({"text_dictionary": self.text_dictionary} if self.text_dictionary else {}),
            **({"snapshot_identity": self.snapshot_identity} if self.snapshot_identity else {}),
        }

    def to_json(self) -> bytes:
        """The manifest text stored in the file, with the checksum of its fields."""
        fields = self.fields()
        return json.dumps({**fields, "checksum": _checksum(fields)}, sort_keys=True).encode()

    @classmethod
    def from_json(cls, text: bytes, source: str) -> Manifest:
        """Read a stored manifest; any damage or unknown format raises DumpFormatError."""
        try:
            stored = json.loads(text)
            fields = {key: value for key, value in stored.items() if key != "checksum"}
            if stored.get("format") != FORMAT:
                raise DumpFormatError(source, "not a jobquery snapshot")
            if stored.get("checksum") != _checksum(fields):
                raise DumpFormatError(source, "the snapshot manifest is damaged (checksum)")
            if fields["format_version"] not in READABLE_VERSIONS:
                raise DumpFormatError(
                    source,
                    f"snapshot format version {fields['format_version']} is not supported "
                    f"(this jobquery reads versions {', '.join(map(str, READABLE_VERSIONS))})",
                )
            return cls(
                snapshot_version=int(fields["snapshot_version"]),
                rows=int(fields["rows"]),
                columns={str(k): str(v) for k, v in fields["columns"].items()},
                text_dictionary=fields.get("text_dictionary"),
                format_version=int(fields["format_version"]),
                snapshot_identity=_identity(fields.get("snapshot_identity")),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            if isinstance(exc, DumpFormatError):
                raise
            raise DumpFormatError(source, f"the snapshot manifest is unreadable: {exc}") from exc


def save_snapshot(
    snapshot: Snapshot, path: str | os.PathLike[str], *, snapshot_identity: str | None = None
) -> Manifest:
    """Write a snapshot to one Parquet file, atomically (see the module docstring).

    Returns
    -------
    Manifest
        What was written.
    """
    frame = snapshot.frame_with_ranks()  # the ranks are computed on first use: now at the latest
    dictionary = None if snapshot.codec is None else snapshot.codec.dictionary
    manifest = Manifest(
        snapshot_version=snapshot.version,
        rows=frame.height,
        columns=_column_types(frame),
        text_dictionary=None if dictionary is None else hashlib.sha256(dictionary).hexdigest(),
        snapshot_identity=snapshot_identity,
    )
    metadata = {MANIFEST_KEY: manifest.to_json()}
    if dictionary is not None:
        metadata[DICTIONARY_KEY] = dictionary
    table = frame.to_arrow().replace_schema_metadata(metadata)
    atomic_write(Path(path), lambda temporary: _write_table(table, temporary))
    return manifest


def load_snapshot(path: str | os.PathLike[str]) -> tuple[Snapshot, Manifest]:
    """Open a saved snapshot without rebuilding its index.

    Raises
    ------
    DumpFormatError
        A truncated or corrupted file, a file that is not a jobquery snapshot, or one whose
        manifest does not match its data.
    FileNotFoundError
        No such file.
    """
    source = str(path)
    try:
        strings = [
            field.name
            for field in pq.read_schema(path)
            if field.name != JOB_JSON and field.type in (pa.string(), pa.large_string())
        ]
        # read as dictionaries, so that every distinct string is stored once (_frame_of)
        table = pq.read_table(path, page_checksum_verification=True, read_dictionary=strings)
    except FileNotFoundError:
        raise
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DumpFormatError(source, f"not a readable snapshot file: {exc}") from exc
    metadata = table.schema.metadata or {}
    if MANIFEST_KEY not in metadata:
        raise DumpFormatError(source, "not a jobquery snapshot (no manifest)")
    manifest = Manifest.from_json(metadata[MANIFEST_KEY], source)
    try:
        frame = _frame_of(table.replace_schema_metadata(None))
    except (pa.ArrowException, pl.exceptions.PolarsError) as exc:
        raise DumpFormatError(source, f"the snapshot data is unreadable: {exc}") from exc
    if not isinstance(frame, pl.DataFrame) or frame.height != manifest.rows:
        raise DumpFormatError(
            source, f"the manifest promises {manifest.rows} jobs, the file holds {len(frame)}"
        )
    if _column_types(frame) != manifest.columns:
        raise DumpFormatError(source, "the columns do not match the manifest")
    dictionary = metadata.get(DICTIONARY_KEY)
    digest = None if dictionary is None else hashlib.sha256(dictionary).hexdigest()
    if digest != manifest.text_dictionary:
        raise DumpFormatError(source, "the dictionary of the compressed job texts is damaged")
    codec = None if dictionary is None else TextCodec(dictionary)
    if manifest.format_version == 1:
        frame = listable_first(frame)
    try:
        return Snapshot.from_frame(frame, version=manifest.snapshot_version, codec=codec), manifest
    except ValueError as exc:
        raise DumpFormatError(source, f"the snapshot data is inconsistent: {exc}") from exc


def _frame_of(table: pa.Table) -> pl.DataFrame:
    """The frame of a snapshot file's table, its strings shared as the build shares them.

    A string column read as a dictionary becomes views into the dictionary's values: every
    distinct string stored once (a snapshot of 50k jobs with compressed texts: 1,194 bytes
    per job, against 1,806 when each row's string was read on its own). An index column equal
    to its field is the field's column again.
    """
    shared = {
        name: _views_into_values(name, column)
        for name, column in zip(table.column_names, table.columns, strict=True)
        if pa.types.is_dictionary(column.type)
    }
    frame = pl.from_arrow(table.drop_columns(list(shared)), rechunk=True)
    assert isinstance(frame, pl.DataFrame)
    for name, field in index_columns_equal_to_their_field(shared).items():
        shared[name] = shared[field].alias(name)
    columns = {**shared, **{column.name: column for column in frame.get_columns()}}
    return pl.DataFrame([columns[name] for name in table.column_names])


def _views_into_values(name: str, column: pa.ChunkedArray) -> pl.Series:
    """A dictionary column as strings, each row's view pointing into the dictionary's values
    (a gather from one chunk copies views, not strings)."""
    pieces = []
    for chunk in column.chunks:
        values = pl.Series(name, chunk.dictionary.cast(pa.large_string()), dtype=pl.String)
        pieces.append(values.gather(pl.Series(chunk.indices)))
    if not pieces:
        return pl.Series(name, [], dtype=pl.String)
    return pl.concat(pieces, rechunk=True) if len(pieces) > 1 else pieces[0]


def _write_table(table: pa.Table, path: Path) -> None:
    # one row group: the frame comes back as one chunk, which Polars gathers fastest
    pq.write_table(
        table,
        path,
        compression="zstd",
        row_group_size=max(table.num_rows, 1),
        write_page_checksum=True,
    )


def _identity(value: Any) -> str | None:
    """A stored snapshot identity: 32 hex digits, or absent."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) != 32:
        raise ValueError(f"a snapshot identity is 32 hex digits, not {value!r}")
    bytes.fromhex(value)  # ValueError when it is not hex
    return value


def _column_types(frame: pl.DataFrame) -> dict[str, str]:
    return {name: str(dtype) for name, dtype in frame.schema.items()}


def _checksum(fields: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()
