"""Writing a job dataset from a store, a snapshot, dump files, or chunks of JSON texts.

Every source ends as snapshots (:class:`~jobquery.snapshot.Snapshot`), whose build computes the
index columns; :class:`~jobquery.dataset.format.DatasetWriter` writes them. Dump files are read
one at a time, each indexed before the next is read, so memory holds one file's jobs, not the
whole job set; a ``JobId`` found in several files keeps its latest ``GmtModifiedTime`` (then
the file read last), exactly as :meth:`JobStore.from_path` resolves it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import polars as pl

from jobquery.dataset.format import DatasetWriter, Manifest, OnProgress, WriteProgress
from jobquery.io.dumps import Skipped, read_dumps, resolve_paths, snapshot_from_dump
from jobquery.snapshot import Snapshot
from jobquery.store import JobStore

PathLike = str | os.PathLike[str]
Source = JobStore | Snapshot | PathLike | Sequence[PathLike]


def write_dataset(
    source: Source,
    directory: PathLike,
    *,
    overwrite: bool = False,
    lenient: bool = False,
    on_progress: OnProgress | None = None,
) -> Manifest:
    """Write a job dataset: hive-partitioned Parquet with the index columns and a manifest.

    Parameters
    ----------
    source : JobStore, Snapshot, path or sequence of paths
        The jobs: a store (its current snapshot), a snapshot, or dump files, folders or glob
        patterns (read as :meth:`JobStore.from_path` reads them, one file at a time).
    directory : str or PathLike
        The dataset folder to create (see :mod:`jobquery.dataset.format`).
    overwrite : bool
        Replace an existing dataset (never a folder that is not one).
    lenient : bool
        Skip malformed dump records instead of raising (their number is in the manifest).
    on_progress : callable, optional
        Called with a :class:`~jobquery.dataset.format.WriteProgress` as the write goes on.

    Returns
    -------
    Manifest
        What was written: job count, files, columns.

    Raises
    ------
    DatasetError
        The folder exists (and ``overwrite`` is not set), or duckdb is missing for a write of
        several files.
    DumpFormatError
        A malformed dump file or record (unless ``lenient``).
    """
    if isinstance(source, JobStore | Snapshot):
        snapshot = source.snapshot if isinstance(source, JobStore) else source
        with DatasetWriter(directory, overwrite=overwrite, on_progress=on_progress) as writer:
            writer.add(snapshot)
        assert writer.manifest is not None
        return writer.manifest
    paths = [source] if isinstance(source, str | os.PathLike) else list(source)
    manifest, _ = write_dataset_from_dumps(
        paths, directory, overwrite=overwrite, lenient=lenient, on_progress=on_progress
    )
    return manifest


def write_dataset_from_dumps(
    paths: Sequence[PathLike],
    directory: PathLike,
    *,
    overwrite: bool = False,
    lenient: bool = False,
    on_progress: OnProgress | None = None,
) -> tuple[Manifest, list[Skipped]]:
    """:func:`write_dataset` over dump files; also returns the records ``lenient`` skipped.

    ``on_progress`` sees step ``"reading"`` counted in bytes of the files, then ``"sorting"``
    counted in months when there are several files.
    """
    files = resolve_paths(paths)
    total = sum(Path(file).stat().st_size for file in files)
    skipped: list[Skipped] = []
    done = 0
    with DatasetWriter(
        directory, overwrite=overwrite, resolve_duplicates=True, on_progress=on_progress
    ) as writer:
        for file in files:
            dump = read_dumps([file], lenient=lenient)
            skipped += dump.skipped
            duplicates = dump.duplicates
            writer.add(snapshot_from_dump(dump), duplicates=duplicates)
            del dump
            done += Path(file).stat().st_size
            if on_progress is not None:
                on_progress(WriteProgress("reading", done, total))
        writer.skipped = len(skipped)
    assert writer.manifest is not None
    return writer.manifest, skipped


def write_dataset_from_texts(
    chunks: Iterable[pl.Series | Sequence[str]],
    directory: PathLike,
    *,
    overwrite: bool = False,
    on_progress: OnProgress | None = None,
) -> Manifest:
    """Write a dataset from job JSON texts given a chunk at a time (more jobs than memory).

    Each chunk is indexed (:meth:`Snapshot.from_texts`) and staged before the next one is
    asked for; at the end each month is sorted into its files. Every text must be a job with
    a ``JobId`` unique across all chunks (``DumpFormatError`` otherwise), as
    :func:`jobquery.synth.iter_line_chunks` generates them.
    """
    with DatasetWriter(directory, overwrite=overwrite, on_progress=on_progress) as writer:
        for chunk in chunks:
            writer.add(Snapshot.from_texts(chunk))
    assert writer.manifest is not None
    return writer.manifest
