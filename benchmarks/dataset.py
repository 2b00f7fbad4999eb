"""The benchmark data: synthetic jobs of one size, held once by every engine.

For a size ``n``, :func:`load` generates ``n`` jobs with :mod:`jobquery.synth` (JSON texts),
builds the jobquery snapshot from them, and gives the baselines the snapshot's public columns
(:func:`benchmarks.baselines.baseline_table`) — the same Arrow buffers, not a copy. Python dicts
of the jobs are kept only for the reference, and only up to :data:`REFERENCE_LIMIT` jobs.

The built snapshot frame can be cached on disk under ``bench-data/`` (git-ignored) as an Arrow
IPC file, read back memory-mapped; the cache key covers the size, the seed and the source of
every jobquery module that shapes the snapshot, so a changed engine never reads a stale cache.
"""

from __future__ import annotations

import gc
import hashlib
import os
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import polars as pl
import pyarrow as pa

import jobquery
from benchmarks.baselines import baseline_table
from jobquery import synth
from jobquery.snapshot import JOB_JSON, Snapshot
from jobquery.store import JobStore

ROOT = Path(__file__).resolve().parents[1]
BENCH_DATA = ROOT / "bench-data"
SEED = 20261129
#: The reference looks at every job in Python on every query: it runs up to this size only.
REFERENCE_LIMIT = 100_000
DEFAULT_SIZES = (100_000, 1_000_000)


def sizes_from_env(default: tuple[int, ...] = DEFAULT_SIZES) -> tuple[int, ...]:
    """``JOBQUERY_BENCH_SIZES=100000,1000000,10000000`` (commas; ``_`` allowed in numbers)."""
    text = os.environ.get("JOBQUERY_BENCH_SIZES", "").strip()
    if not text:
        return default
    return tuple(int(part.replace("_", "")) for part in text.split(",") if part.strip())


@dataclass
class BenchData:
    """Everything the engines read for one size.

    Attributes
    ----------
    size : int
        Number of jobs.
    store : JobStore
        jobquery over the snapshot.
    table : pyarrow.Table
        The baselines' table: the snapshot's public columns plus ``Tags`` and ``Images``.
    records : list of dict, optional
        The jobs as dicts, for the reference (None above :data:`REFERENCE_LIMIT`).
    json_bytes : int
        Total size of the jobs' JSON texts (UTF-8).
    build_seconds : float, optional
        How long the snapshot build took (None when read from the disk cache).
    """

    size: int
    store: JobStore
    table: pa.Table
    records: list[dict[str, Any]] | None
    json_bytes: int
    build_seconds: float | None


def generate_lines(size: int, *, start: datetime | None = None) -> pl.Series:
    """The benchmark's ``size`` synthetic jobs as JSON texts (deterministic).

    ``start`` narrows the creation-time window (it ends at ``synth.DEFAULT_END``), so that a
    small data set still has jobs in every workload's window.
    """
    return synth.generate_lines(size, seed=SEED, start=start)


def build_snapshot(texts: pl.Series) -> Snapshot:
    """The snapshot of some JSON texts, through the engine's public build step
    (``Snapshot.from_texts``: the texts become the ``job_json`` column without a copy)."""
    return Snapshot.from_texts(texts)


def save_frame(snapshot: Snapshot, path: Path) -> None:
    """Write a snapshot's frame as an uncompressed Arrow IPC file (see :func:`read_frame`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    snapshot.frame.write_ipc(partial)
    partial.replace(path)


def read_frame(path: Path) -> pl.DataFrame:
    """A saved snapshot frame, memory-mapped: its pages are read from the file when touched,
    and stay reclaimable page cache instead of process memory."""
    table = pa.ipc.open_file(pa.memory_map(str(path))).read_all()
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame


def cache_key(size: int, start: datetime | None = None) -> str:
    """Size, seed, and a digest of the sources that decide what a snapshot holds."""
    digest = hashlib.sha256()
    package = Path(jobquery.__file__).parent
    for name in ("synth.py", "snapshot.py", "request.py"):
        source = package / name
        if source.exists():
            digest.update(source.read_bytes())
    span = "" if start is None else f"-from-{start:%Y%m%d}"
    return f"snapshot-{size}{span}-{SEED}-{digest.hexdigest()[:12]}.arrow"


def load(
    size: int,
    *,
    disk_cache: bool = True,
    with_records: bool | None = None,
    start: datetime | None = None,
) -> BenchData:
    """Generate, build and prepare ``size`` jobs for every engine.

    Parameters
    ----------
    size : int
        Number of jobs.
    disk_cache : bool
        Read/write the built snapshot frame under ``bench-data/``.
    with_records : bool, optional
        Keep dicts for the reference (default: when ``size <= REFERENCE_LIMIT``).
    start : datetime, optional
        Start of the creation-time window (default: a year before ``synth.DEFAULT_END``).
    """
    if with_records is None:
        with_records = size <= REFERENCE_LIMIT
    path = BENCH_DATA / cache_key(size, start)
    build_seconds: float | None = None
    if disk_cache and path.exists():
        snapshot = Snapshot.from_frame(read_frame(path))
    else:
        lines = generate_lines(size, start=start)
        began = time.perf_counter()
        snapshot = build_snapshot(lines)
        build_seconds = time.perf_counter() - began
        del lines
        gc.collect()
        if disk_cache:
            save_frame(snapshot, path)
    texts = snapshot.frame[JOB_JSON]
    json_bytes = int(texts.str.len_bytes().sum())
    records = [orjson.loads(text) for text in texts] if with_records else None
    table = baseline_table(snapshot)
    return BenchData(size, JobStore(snapshot), table, records, json_bytes, build_seconds)
