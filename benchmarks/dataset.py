"""The benchmark data: synthetic jobs of one size and profile, held once by every engine.

For a size ``n`` and a profile (``default`` or ``high-cardinality``, see :mod:`jobquery.synth`),
:func:`load` generates ``n`` jobs with :mod:`jobquery.synth` (JSON texts),
builds the jobquery snapshot from them, and gives the baselines the snapshot's public columns
(:func:`benchmarks.baselines.baseline_table`) — the same Arrow buffers, not a copy. Python dicts
of the jobs are kept only for the reference, and only up to :data:`REFERENCE_LIMIT` jobs.

Above :data:`COMPRESS_ABOVE` jobs (or at any size with ``JOBQUERY_BENCH_COMPRESS=1``; ``=0``
never), the snapshot keeps its job texts compressed (``compress_texts=True``: ``job_json`` is
``pl.Binary``, one zstd frame per job with a trained dictionary, ``snapshot.codec``) and is
built from the generated texts a chunk at a time (``Snapshot.from_text_chunks``), so the plain
JSON of all jobs (23.5 GB at 10M) is never in memory at once. :attr:`BenchData.compressed` says
which way a size went.

The built snapshot frame can be cached on disk under ``bench-data/`` (git-ignored) as an Arrow
IPC file, read back memory-mapped; the cache key covers the size, the profile, the seed,
whether the texts are compressed, and the source of every jobquery module that shapes the
snapshot, so a changed
engine never reads a stale cache. A compressed frame's file holds its codec's dictionary (and
the plain JSON size) in the IPC schema metadata.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import polars as pl
import pyarrow as pa

import jobquery
from benchmarks.baselines import baseline_table
from benchmarks.workloads import Sample, sample_of
from jobquery import synth
from jobquery.snapshot import JOB_JSON, Snapshot
from jobquery.snapshot.textcodec import TextCodec
from jobquery.store import JobStore

ROOT = Path(__file__).resolve().parents[1]
BENCH_DATA = ROOT / "bench-data"
SEED = 20261129
#: The reference looks at every job in Python on every query: it runs up to this size only.
REFERENCE_LIMIT = 100_000
DEFAULT_SIZES = (100_000, 1_000_000)
DEFAULT_PROFILE = "default"
#: Sizes above this keep their job texts compressed and are built a chunk at a time: plain
#: texts take 2.35 KB per job (23.5 GB at 10M), compressed ones ~285 bytes.
COMPRESS_ABOVE = 2_000_000
#: Jobs generated (and indexed, compressed) per chunk of a streamed build: the build holds one
#: chunk's plain texts (~235 MB) and what indexing them takes on top of the snapshot so far.
CHUNK_JOBS = 100_000
#: Rows decompressed at a time when the plain texts of a compressed snapshot are read whole.
SLICE_JOBS = 250_000
#: IPC schema metadata keys of a cached frame.
DICTIONARY_KEY = b"jobquery.codec.dictionary"
JSON_BYTES_KEY = b"jobquery.bench.json_bytes"


def compressed_for(size: int) -> bool:
    """Whether the benchmark keeps ``size`` jobs' texts compressed: above
    :data:`COMPRESS_ABOVE`, unless ``JOBQUERY_BENCH_COMPRESS`` says ``1`` (always) or ``0``
    (never)."""
    forced = os.environ.get("JOBQUERY_BENCH_COMPRESS", "").strip()
    if forced in ("0", "1"):
        return forced == "1"
    return size > COMPRESS_ABOVE


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
        How long the snapshot build took (None when read from the disk cache); for a streamed
        (compressed) build, less the time it waited for the generator (whose threads also
        generate the next chunks while the build runs: an upper bound of the build alone).
    compressed : bool
        The snapshot keeps its job texts compressed (``job_json`` is ``pl.Binary``; the
        baselines' ``job_json`` too, decompressed with :attr:`codec` per page).
    profile : str
        The synthetic profile of the jobs.
    start : datetime, optional
        The start of their creation-time window (None: a year before ``synth.DEFAULT_END``).
    """

    size: int
    store: JobStore
    table: pa.Table
    records: list[dict[str, Any]] | None
    json_bytes: int
    build_seconds: float | None
    compressed: bool = False
    profile: str = DEFAULT_PROFILE
    start: datetime | None = None

    def sample(self) -> Sample:
        """The jobs the workloads draw their values from: the first ones of this data set."""
        return sample_of(self.profile, seed=SEED, start=self.start, jobs=min(self.size, 4_000))

    @property
    def codec(self) -> TextCodec | None:
        """The codec of the snapshot's job texts (None when they are plain)."""
        return self.store.snapshot.codec


def generate_lines(
    size: int, *, start: datetime | None = None, profile: str = DEFAULT_PROFILE
) -> pl.Series:
    """The benchmark's ``size`` synthetic jobs of a profile as JSON texts (deterministic).

    ``start`` narrows the creation-time window (it ends at ``synth.DEFAULT_END``), so that a
    small data set still has jobs in every workload's window.
    """
    return synth.generate_lines(size, seed=SEED, start=start, profile=profile)


def build_snapshot(texts: pl.Series) -> Snapshot:
    """The snapshot of some JSON texts, through the engine's public build step
    (``Snapshot.from_texts``: the texts become the ``job_json`` column without a copy)."""
    return Snapshot.from_texts(texts)


@dataclass
class Streamed:
    """A snapshot built from generated chunks, and what generating them took."""

    snapshot: Snapshot
    json_bytes: int
    build_seconds: float
    generate_seconds: float


def build_streamed(
    size: int,
    *,
    start: datetime | None = None,
    chunk_size: int = CHUNK_JOBS,
    profile: str = DEFAULT_PROFILE,
) -> Streamed:
    """Generate ``size`` jobs a chunk at a time and build a compressed snapshot of them.

    ``Snapshot.from_text_chunks`` pulls each chunk from :func:`jobquery.synth.iter_line_chunks`
    when it has indexed and compressed the one before, so the plain texts of at most one chunk
    are held. The JSON bytes are counted chunk by chunk. ``build_seconds`` is the whole call
    less the time spent waiting for the generator (timed around each chunk it yields). The
    generator's threads make the next chunks while the build works on this one, so on a
    2-core machine they take CPU from the build: ``build_seconds`` is an upper bound of the
    build's own time, and ``generate_seconds`` only the waits.
    """
    spent = [0.0]
    json_bytes = [0]

    def chunks() -> Iterator[pl.Series]:
        source = synth.iter_line_chunks(
            size, seed=SEED, start=start, chunk_size=chunk_size, profile=profile
        )
        while True:
            began = time.perf_counter()
            chunk = next(source, None)
            if chunk is not None:
                json_bytes[0] += int(chunk.str.len_bytes().sum())
            spent[0] += time.perf_counter() - began
            if chunk is None:
                return
            yield chunk
            del chunk

    began = time.perf_counter()
    snapshot = Snapshot.from_text_chunks(chunks(), compress_texts=True)
    total = time.perf_counter() - began
    return Streamed(snapshot, json_bytes[0], total - spent[0], spent[0])


def save_frame(snapshot: Snapshot, path: Path, *, json_bytes: int | None = None) -> None:
    """Write a snapshot's frame as an uncompressed Arrow IPC file (see :func:`read_frame`).

    The schema metadata keeps the codec's dictionary of a compressed frame, and the plain
    JSON size of its jobs when given.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    frame = snapshot.frame_with_ranks()  # saved whole: a load computes nothing
    if snapshot.codec is None and json_bytes is None:
        frame.write_ipc(partial)
    else:
        # the newest compat level exports strings and binaries as views of Polars' own
        # buffers (no copy); the writer streams the record batches to the file
        table = frame.to_arrow(compat_level=pl.CompatLevel.newest())
        metadata = dict(table.schema.metadata or {})
        if snapshot.codec is not None:
            metadata[DICTIONARY_KEY] = snapshot.codec.dictionary
        if json_bytes is not None:
            metadata[JSON_BYTES_KEY] = str(json_bytes).encode()
        table = table.replace_schema_metadata(metadata)
        with pa.OSFile(str(partial), "wb") as sink, pa.ipc.new_file(sink, table.schema) as out:
            out.write_table(table)
        del table
    partial.replace(path)


@dataclass
class SavedFrame:
    """A frame read back from the disk cache, with what its metadata kept."""

    frame: pl.DataFrame
    codec: TextCodec | None
    json_bytes: int | None


def read_saved(path: Path) -> SavedFrame:
    """A saved snapshot frame, memory-mapped: its pages are read from the file when touched,
    and stay reclaimable page cache instead of process memory."""
    table = pa.ipc.open_file(pa.memory_map(str(path))).read_all()
    metadata = table.schema.metadata or {}
    codec = TextCodec(metadata[DICTIONARY_KEY]) if DICTIONARY_KEY in metadata else None
    json_bytes = int(metadata[JSON_BYTES_KEY]) if JSON_BYTES_KEY in metadata else None
    frame = pl.from_arrow(table.replace_schema_metadata(None))
    assert isinstance(frame, pl.DataFrame)
    return SavedFrame(frame, codec, json_bytes)


def read_frame(path: Path) -> pl.DataFrame:
    """The frame of :func:`read_saved` alone."""
    return read_saved(path).frame


def read_snapshot(path: Path) -> Snapshot:
    """A saved snapshot, with its codec when the texts are compressed."""
    saved = read_saved(path)
    return Snapshot.from_frame(saved.frame, codec=saved.codec)


def cache_key(
    size: int,
    start: datetime | None = None,
    *,
    compressed: bool | None = None,
    profile: str = DEFAULT_PROFILE,
) -> str:
    """Size, profile, seed, compression, and a digest of the sources that decide what a
    snapshot holds (``compressed`` defaults to :func:`compressed_for`)."""
    if compressed is None:
        compressed = compressed_for(size)
    span = "" if start is None else f"-from-{start:%Y%m%d}"
    kind = "-zstd" if compressed else ""
    shape = "" if profile == DEFAULT_PROFILE else f"-{profile}"
    return f"snapshot-{size}{shape}{span}{kind}-{SEED}-{_sources_digest()}.arrow"


@functools.cache
def _sources_digest() -> str:
    """The digest of the sources, read once per process: the code this process runs (an edit
    during a long run must not send it looking for another cache file)."""
    digest = hashlib.sha256()
    package = Path(jobquery.__file__).parent
    for name in ("synth", "snapshot", "request.py"):
        source = package / name
        for path in sorted(source.glob("*.py")) if source.is_dir() else [source]:
            if path.exists():
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def json_bytes_of(snapshot: Snapshot) -> int:
    """The UTF-8 size of every job's plain JSON text (compressed texts decompressed
    :data:`SLICE_JOBS` rows at a time)."""
    column = snapshot.frame[JOB_JSON]
    if snapshot.codec is None:
        return int(column.str.len_bytes().sum())
    total = 0
    for begin in range(0, len(column), SLICE_JOBS):
        texts = snapshot.json_texts(snapshot.frame.slice(begin, SLICE_JOBS).select(JOB_JSON))
        total += int(texts.str.len_bytes().sum())
    return total


def load(
    size: int,
    *,
    disk_cache: bool = True,
    with_records: bool | None = None,
    start: datetime | None = None,
    compressed: bool | None = None,
    profile: str = DEFAULT_PROFILE,
) -> BenchData:
    """Generate, build and prepare ``size`` jobs of a profile for every engine.

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
    compressed : bool, optional
        Keep the job texts compressed, built a chunk at a time (default:
        :func:`compressed_for`).
    profile : str
        The synthetic profile (:data:`jobquery.synth.PROFILES`).
    """
    if with_records is None:
        with_records = size <= REFERENCE_LIMIT
    if compressed is None:
        compressed = compressed_for(size)
    path = BENCH_DATA / cache_key(size, start, compressed=compressed, profile=profile)
    build_seconds: float | None = None
    json_bytes: int | None = None
    if disk_cache and path.exists():
        saved = read_saved(path)
        snapshot = Snapshot.from_frame(saved.frame, codec=saved.codec)
        json_bytes = saved.json_bytes
        del saved
    elif compressed:
        streamed = build_streamed(size, start=start, profile=profile)
        snapshot, json_bytes, build_seconds = (
            streamed.snapshot,
            streamed.json_bytes,
            streamed.build_seconds,
        )
        del streamed
        gc.collect()
        if disk_cache:
            save_frame(snapshot, path, json_bytes=json_bytes)
    else:
        lines = generate_lines(size, start=start, profile=profile)
        began = time.perf_counter()
        snapshot = build_snapshot(lines)
        build_seconds = time.perf_counter() - began
        del lines
        gc.collect()
        if disk_cache:
            save_frame(snapshot, path)
    if json_bytes is None:
        json_bytes = json_bytes_of(snapshot)
    records = [orjson.loads(text) for text in snapshot.json_texts()] if with_records else None
    table = baseline_table(snapshot)
    store = JobStore(snapshot, background_warm_up=False)
    store.warm_up()  # queries are timed on a store that has been up a while: every structure
    return BenchData(
        size,
        store,
        table,
        records,
        json_bytes,
        build_seconds,
        compressed,
        profile,
        start,
    )
