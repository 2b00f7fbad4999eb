"""Deterministic synthetic PAI-DLC jobs, shaped and skewed like a real platform.

The jobs feed tests, the bundled sample and the benchmarks, so they must be realistic where
selectivity matters (how many jobs a filter keeps) and cheap at scale: a million jobs are
generated column-wise, with no Python loop per job.

How a job is made
-----------------
* **Every random choice is a function of (seed, stream, job index).** Each named stream is a
  PCG64 generator seeded by ``(seed, crc32(stream))`` and advanced to the first job of the block,
  so a job does not depend on the block or chunk it was generated in: ``generate_lines(n)``
  equals the concatenation of ``iter_line_chunks(n, chunk_size=k)`` for every ``k``.
* **The platform is fixed.** Users, workspaces, quotas, images, job-spec templates, commands and
  names are *catalogues* built once from a fixed generator, the same for every seed (one
  imaginary platform; the seed picks which jobs it ran). Each catalogue entry is pre-rendered
  JSON text; a job picks entries by index.
* **A job's text is assembled from pieces**, about 17 per job: catalogue fragments (gathered,
  not copied) and blocks of fixed-width text built in numpy (ids, timestamps, UIDs, IPs, numbers),
  where each row picks one of a few layouts (a job that never ran has no ``GmtRunningTime``, an
  unfinished interval has ``"EndTime":""``). One ``pl.concat_str`` per block of 32k jobs joins
  them; a null piece leaves its members out. Blocks are built by a small thread pool (numpy and
  polars release the GIL) and returned in order.

The skews
---------
Creation times grow linearly over the window and 15% of the jobs are spread over its last 30
days (more jobs recently: the default 7-day window holds about 7% of them); they cluster in
working hours (UTC+8), and some jobs share their creation second with the job before (pipeline
fan-out). Status depends on age (recent jobs are more often still active) and the times agree
with it: finished jobs carry ``GmtFinishTime`` and the matching ``GmtSuccessedTime``/
``GmtFailedTime``/``GmtStoppedTime``; active jobs have no finish time (the key is omitted, or
``""`` for a few jobs). About 300 users and 40 workspaces follow Zipf-like laws, and a user
mostly submits into a home workspace, so a workspace, user or quota filter keeps a realistic
share of jobs. A job is about 2.3 KB of JSON.

Profiles
--------
``profile="default"`` is the platform above: about 30,000 distinct DisplayNames per million
jobs (a few dozen name bases and a few hundred suffixes), 300 users, 40 workspaces, 0-3 tags
from small sets. Dictionaries of distinct values suit it well.

``profile="high-cardinality"`` is a platform whose columns are nearly unique, as real
histories are: every DisplayName is a model, a task and a random run suffix
(``qwen2-7b-sft-k3x9a2``; 6% are common names such as ``test``), 30,000 users whose shares of
jobs follow a Zipf-like law (the busiest submits about 3%), 400 workspaces, and at least three
tags per job: ``team`` (7 values; ``project`` and ``env`` in some jobs), ``experiment`` (4,000
values, skewed) and ``run_id`` (32 hex digits, unique per job). Everything else — the year of
creation times, statuses, specs, pods — is made as in the default profile. A job is about
2.5 KB of JSON. The default profile's jobs do not change with this one: the same seed gives
the same bytes as before it existed.
"""

from __future__ import annotations

import math
import os
import random
import zlib
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, Final

import numpy as np
import orjson
import polars as pl
import pyarrow as pa
from numpy.typing import NDArray

__all__ = [
    "DEFAULT_END",
    "DEFAULT_SPAN",
    "PROFILES",
    "STATUSES",
    "generate_lines",
    "generate_records",
    "iter_line_chunks",
    "write_ndjson",
]

#: End of the default creation-time window (a job may be created at this very second).
DEFAULT_END: Final = datetime(2026, 11, 28, tzinfo=UTC)
#: Length of the default window: it starts at ``DEFAULT_END - DEFAULT_SPAN``.
DEFAULT_SPAN: Final = timedelta(days=365)
#: The platforms the generator can make (see the module docstring): ``profile=`` of every
#: generating function.
PROFILES: Final = ("default", "high-cardinality")

#: Most jobs generated at once; bounds the memory of the intermediate columns.
_BLOCK_ROWS: Final = 32_768
#: Blocks generated concurrently.
_WORKERS: Final = min(4, os.cpu_count() or 1)
#: The job index is embedded, scrambled, in 7 base-36 characters of the JobId.
_ID_SPACE: Final = 36**7
_ID_MULTIPLIER: Final = 1_000_003  # coprime with 36; index * multiplier fits in uint64

_I64 = NDArray[np.int64]
_F64 = NDArray[np.float64]
_U64 = NDArray[np.uint64]
_U8 = NDArray[np.uint8]
_Mask = NDArray[np.bool_]

_ALNUM: Final = np.frombuffer(b"0123456789abcdefghijklmnopqrstuvwxyz", dtype=np.uint8)
_ALNUM_TEXT: Final = "abcdefghijklmnopqrstuvwxyz0123456789"


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _members(mapping: dict[str, Any]) -> str:
    """``,"A":1,"B":2``: object members, each with its leading comma."""
    return "".join(f",{_json(key)}:{_json(value)}" for key, value in mapping.items())


def _cumulative(weights: Sequence[float]) -> _F64:
    return np.cumsum(np.asarray(weights, dtype=np.float64))


def _zipf(count: int, exponent: float) -> list[float]:
    return [1.0 / rank**exponent for rank in range(1, count + 1)]


@dataclass(frozen=True)
class _Alias:
    """Walker's alias table: draws an index with given weights from one uniform, in O(1)."""

    keep: _F64  # the share of slot i that is i itself; the rest goes to other[i]
    other: _I64


def _alias(weights: Sequence[float]) -> _Alias:
    scaled = np.asarray(weights, dtype=np.float64)
    scaled = scaled * len(scaled) / scaled.sum()
    keep = np.ones(len(scaled), dtype=np.float64)
    other = np.arange(len(scaled), dtype=np.int64)
    small = [i for i, weight in enumerate(scaled) if weight < 1.0]
    large = [i for i, weight in enumerate(scaled) if weight >= 1.0]
    while small and large:
        low, high = small.pop(), large.pop()
        keep[low], other[low] = scaled[low], high
        scaled[high] += scaled[low] - 1.0
        (small if scaled[high] < 1.0 else large).append(high)
    return _Alias(keep, other)


# =============================================================================================
# Randomness: every draw is a function of (seed, stream, job index)


class _Draws:
    """Named random streams for the jobs ``first, ..., first + count - 1`` of one seed."""

    def __init__(self, seed: int, first: int, count: int) -> None:
        self.seed = seed
        self.first = first
        self.count = count

    def raw(self, stream: str, width: int = 1, lead: int = 0) -> _U64:
        """``width`` 64-bit words per job, shape ``(lead + count, width)``.

        The ``lead`` extra rows belong to the jobs just before ``first`` (for a job that copies
        a choice of its predecessor).
        """
        bits = np.random.PCG64(np.random.SeedSequence([self.seed, zlib.crc32(stream.encode())]))
        bits.advance((self.first - lead) * width)
        words = np.asarray(bits.random_raw((lead + self.count) * width), dtype=np.uint64)
        return words.reshape(lead + self.count, width)

    def uniform(self, stream: str, lead: int = 0) -> _F64:
        """A float in ``[0, 1)`` per job."""
        return _unit(self.raw(stream, 1, lead)[:, 0])

    def pick(self, stream: str, table: _Alias) -> _I64:
        """An index per job, drawn with the weights of ``table``."""
        scaled = self.uniform(stream) * len(table.keep)
        slot = scaled.astype(np.int64)
        return np.where(scaled - slot < table.keep[slot], slot, table.other[slot])

    def below(self, stream: str, bound: _I64 | int) -> _I64:
        """A uniform integer in ``[0, bound)`` per job (``bound`` may differ per job)."""
        return np.floor(self.uniform(stream) * bound).astype(np.int64)

    def chance(self, stream: str, probability: _F64 | float) -> _Mask:
        return self.uniform(stream) < probability

    def lognormal(self, stream: str, median: float, sigma: float) -> _F64:
        # Box–Muller, so that every job consumes exactly two words of its stream.
        words = self.raw(stream, 2)
        radius = np.sqrt(-2.0 * np.log(1.0 - _unit(words[:, 0])))
        normal = radius * np.cos(2.0 * np.pi * _unit(words[:, 1]))
        return np.asarray(median * np.exp(sigma * normal), dtype=np.float64)


def _unit(words: _U64) -> _F64:
    return (words >> np.uint64(11)).astype(np.float64) * 2.0**-53


# =============================================================================================
# Text built in numpy: timestamps, ids, UIDs, IPs, and blocks of fixed-width members


def _digits(values: _I64, width: int) -> _U8:
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return ((values[:, None] // powers) % 10 + ord("0")).astype(np.uint8)


def _as_bytes(texts: Sequence[str]) -> _U8:
    """Equal-length ASCII texts as a ``(len(texts), length)`` byte matrix."""
    joined = "".join(texts).encode("ascii")
    return np.frombuffer(joined, dtype=np.uint8).reshape(len(texts), -1)


@cache
def _clock() -> tuple[_U8, _U8]:
    """Per second of the day: ``hh:mm:ssZ`` and ``hhmmss``."""
    second = np.arange(86_400, dtype=np.int64)
    hhmmss = (second // 3_600) * 10_000 + (second // 60 % 60) * 100 + second % 60
    compact = _digits(hhmmss, 6)
    iso = np.empty((86_400, 9), dtype=np.uint8)
    iso[:, [0, 1, 3, 4, 6, 7]] = compact
    iso[:, [2, 5]] = ord(":")
    iso[:, 8] = ord("Z")
    return iso, compact


@cache
def _calendar(first_day: int, last_day: int) -> tuple[_U8, _U8]:
    """Per day (counted from 1970-01-01): ``YYYY-MM-DDT`` and ``YYYYMMDD``."""
    days = np.arange(first_day, last_day + 1, dtype="datetime64[D]")
    iso = _as_bytes([f"{day}T" for day in np.datetime_as_string(days)])
    return iso, iso[:, [0, 1, 2, 3, 5, 6, 8, 9]]


class _Clock:
    """Formats the Unix times of one window (negative times, meaning absent, as its start)."""

    def __init__(self, window: _Window) -> None:
        self.start = window.start
        self.first_day = window.start // 86_400
        self.days = _calendar(self.first_day, window.end // 86_400)
        self.seconds = _clock()

    def _split(self, seconds: _I64) -> tuple[_I64, _I64]:
        day, second = np.divmod(np.maximum(seconds, self.start), 86_400)
        return day - self.first_day, second

    def iso(self, seconds: _I64) -> _U8:
        """``2026-11-27T09:30:11Z`` per time, as an ``(n, 20)`` byte matrix."""
        day, second = self._split(seconds)
        return np.concatenate(
            [np.take(self.days[0], day, axis=0), np.take(self.seconds[0], second, axis=0)], axis=1
        )

    def compact(self, seconds: _I64) -> _U8:
        """``20261127093011`` per time, as an ``(n, 14)`` byte matrix."""
        day, second = self._split(seconds)
        return np.concatenate(
            [np.take(self.days[1], day, axis=0), np.take(self.seconds[1], second, axis=0)], axis=1
        )


_HEX_PAIRS: Final = _as_bytes([f"{b:02x}" for b in range(256)])
_OCTETS: Final = _as_bytes([f"{100 + b % 155:03d}" for b in range(256)])  # 100–254, 3 digits


def _base36(words: _U64, width: int) -> _U8:
    """``width`` (at most 12) lowercase alphanumeric characters from each word."""
    out = np.empty((len(words), width), dtype=np.uint8)
    rest = words.copy()
    for position in range(width):
        out[:, position] = _ALNUM[(rest % np.uint64(36)).astype(np.intp)]
        rest //= np.uint64(36)
    return out


def _uuids(words: _U64) -> _U8:
    """Version-4 UUID text (36 bytes) from two words per row."""
    octets = np.ascontiguousarray(words[:, :2]).view(np.uint8)
    text = _HEX_PAIRS[octets].reshape(len(words), 32)
    text[:, 12] = ord("4")
    text[:, 16] = np.frombuffer(b"89ab", dtype=np.uint8)[octets[:, 8] & 3]
    out = np.full((len(words), 36), ord("-"), dtype=np.uint8)
    for start, stop, source in ((0, 8, 0), (9, 13, 8), (14, 18, 12), (19, 23, 16), (24, 36, 20)):
        out[:, start:stop] = text[:, source : source + stop - start]
    return out


def _ips(words: _U64) -> _U8:
    """``10.ddd.ddd.ddd``, every octet 100–254, so always 14 bytes."""
    octets = np.ascontiguousarray(words[:, :1]).view(np.uint8)
    out = np.empty((len(words), 14), dtype=np.uint8)
    out[:, 0:3] = np.frombuffer(b"10.", dtype=np.uint8)
    for k in range(3):
        out[:, 3 + 4 * k : 6 + 4 * k] = _OCTETS[octets[:, k]]
    out[:, [6, 10]] = ord(".")
    return out


_Part = bytes | _U8


def _width(part: _Part) -> int:
    return len(part) if isinstance(part, bytes) else part.shape[1]


def _assemble(
    layouts: Sequence[Sequence[_Part]],
    choice: _I64 | None = None,
    valid: _Mask | None = None,
    number: _I64 | None = None,
) -> pl.Series:
    """Text made of fixed-width parts, one layout per row, as a String Series.

    A part is a literal (the same on every row) or a ``(rows, width)`` byte matrix; row ``i``
    is the concatenation of the parts of ``layouts[choice[i]]`` (of the only layout when
    ``choice`` is None), followed by the decimal digits of ``number[i]`` if given. Rows where
    ``valid`` is false are null. The Series is an Arrow string view over one byte block, so a
    row's text is not copied again, and rows of different layouts differ in length.
    """
    rows = next(len(part) for layout in layouts for part in layout if not isinstance(part, bytes))
    # Rows are sorted by layout, so that each layout fills a slice of the block.
    order = np.arange(rows) if choice is None else np.argsort(choice, kind="stable")
    bounds = (
        [0, rows] if choice is None else np.searchsorted(choice[order], range(len(layouts) + 1))
    )
    sorted_parts: dict[int, _U8] = {}

    def in_order(part: _U8) -> _U8:
        if id(part) not in sorted_parts:
            sorted_parts[id(part)] = part if choice is None else np.take(part, order, axis=0)
        return sorted_parts[id(part)]

    used = [k for k in range(len(layouts)) if bounds[k] < bounds[k + 1]]
    widths = {k: sum(_width(part) for part in layouts[k]) for k in used}
    digits: _U8 | None = None
    lengths = np.empty(rows, dtype=np.uint32)
    if number is not None:
        value = number[order]
        count = 1 + (value[:, None] >= 10 ** np.arange(1, 19, dtype=np.int64)).sum(axis=1)
        exponent = np.maximum(count[:, None] - 1 - np.arange(int(count.max(initial=1))), 0)
        digits = ((value[:, None] // 10**exponent) % 10 + ord("0")).astype(np.uint8)
    extra = 0 if digits is None else digits.shape[1]
    block = np.empty((rows, max(widths.values(), default=0) + extra), dtype=np.uint8)
    for k in used:
        low, high = int(bounds[k]), int(bounds[k + 1])
        column = 0
        for part in layouts[k] if digits is None else [*layouts[k], digits]:
            width = _width(part)
            # Copy whole fields (one fixed-size item per row), not rows of single bytes.
            target = _field(block, column, width)[low:high]
            if isinstance(part, bytes):
                target[:] = np.frombuffer(part, dtype=f"V{width}")[0]
            else:
                source = np.ascontiguousarray(part if part is digits else in_order(part))
                target[:] = _field(source, 0, width)[low:high]
            column += width
        lengths[low:high] = widths[k]
    if digits is not None:
        lengths += count.astype(np.uint32)
    slot = np.empty(rows, dtype=np.int64)
    slot[order] = np.arange(rows)
    return _string_view(block, lengths, slot, valid)


def _field(matrix: _U8, column: int, width: int) -> NDArray[np.void]:
    """Columns ``column : column + width`` of a byte matrix, as one ``V{width}`` item per row."""
    return np.ndarray(
        shape=(len(matrix),),
        dtype=f"V{width}",
        buffer=matrix,
        offset=column * matrix.strides[1] if matrix.ndim == 2 else 0,
        strides=(matrix.strides[0],),
    )


def _text(parts: Sequence[_Part], valid: _Mask | None = None) -> pl.Series:
    """Fixed-width parts concatenated row by row (see ``_assemble``)."""
    return _assemble([parts], valid=valid)


def _string_view(
    block: _U8, lengths: NDArray[np.uint32], slot: _I64, valid: _Mask | None
) -> pl.Series:
    """Row ``i`` is ``block[slot[i], :lengths[slot[i]]]``, in Arrow's string-view layout.

    A view is 16 bytes: the length, then either the value itself (up to 12 bytes) or its first
    4 bytes, a buffer index (0: the one data buffer) and the value's offset.
    """
    rows, width = block.shape
    length = lengths[slot]
    views = np.zeros((rows, 4), dtype=np.uint32)
    views[:, 0] = length
    views[:, 3] = slot.astype(np.uint32) * np.uint32(width)
    payload = views.view(np.uint8)[:, 4:]  # (rows, 12)
    head = min(12, width)
    first = np.take(block[:, :head], slot, axis=0)
    payload[:, : min(4, width)] = first[:, : min(4, width)]
    inline = length <= 12
    if inline.any():
        short = np.zeros((rows, 12), dtype=np.uint8)
        short[:, :head] = first * (np.arange(head) < length[:, None])
        payload[:] = np.where(inline[:, None], short, payload)
    buffers = [None, pa.py_buffer(views), pa.py_buffer(block)]
    if valid is not None:
        buffers[0] = pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pl.Series(pa.Array.from_buffers(pa.string_view(), rows, buffers))


# =============================================================================================
# The platform's vocabularies

#: The 13 job statuses of the API (spec §3.4).
STATUSES: Final = (
    "Creating",
    "Queuing",
    "Bidding",
    "EnvPreparing",
    "SanityChecking",
    "Running",
    "Restarting",
    "Stopping",
    "SucceededReserving",
    "FailedReserving",
    "Succeeded",
    "Failed",
    "Stopped",
)
# The share of each status among active jobs and among finished ones. How many jobs are still
# active depends on their age: _ACTIVE_BASE + _ACTIVE_RECENT * exp(-age / _ACTIVE_DAYS).
_ACTIVE_WEIGHTS: Final = {
    "Creating": 0.04,
    "Queuing": 0.08,
    "Bidding": 0.035,
    "EnvPreparing": 0.05,
    "SanityChecking": 0.035,
    "Running": 0.60,
    "Restarting": 0.04,
    "Stopping": 0.035,
    "SucceededReserving": 0.045,
    "FailedReserving": 0.04,
}
_FINISHED_WEIGHTS: Final = {"Succeeded": 0.58, "Failed": 0.24, "Stopped": 0.18}
_ACTIVE_BASE, _ACTIVE_RECENT, _ACTIVE_DAYS = 0.04, 0.9, 10.0
_RECENT_SHARE, _RECENT_SPAN = 0.15, 30 * 86_400

# A status's phase decides which times exist and which StatusHistory entries lead to it.
_CREATING, _WAITING, _ACTIVE, _RESERVING, _FINISHED = range(5)
_PHASE: Final = {
    "Creating": _CREATING,
    "Queuing": _WAITING,
    "Bidding": _WAITING,
    "EnvPreparing": _WAITING,
    "SanityChecking": _WAITING,
    "Running": _ACTIVE,
    "Restarting": _ACTIVE,
    "Stopping": _ACTIVE,
    "SucceededReserving": _RESERVING,
    "FailedReserving": _RESERVING,
    "Succeeded": _FINISHED,
    "Failed": _FINISHED,
    "Stopped": _FINISHED,
}
_END_TIME_KEY: Final = {  # "Successed" is the API's spelling
    "SucceededReserving": "GmtSuccessedTime",
    "FailedReserving": "GmtFailedTime",
    "Succeeded": "GmtSuccessedTime",
    "Failed": "GmtFailedTime",
    "Stopped": "GmtStoppedTime",
}
# The share of stopped and failed jobs that ended while still queuing.
_NEVER_RAN: Final = {"Stopped": 0.15, "Failed": 0.10}

# (ReasonCode, ReasonMessage, SubStatus) variants of each status.
_REASONS: Final[dict[str, list[tuple[str, str, str | None]]]] = {
    "Creating": [("JobCreating", "Job is being created.", None)],
    "Queuing": [
        ("JobEnqueued", "Job is enqueued and waiting for resources.", None),
        ("InsufficientQuota", "Waiting for resources: GPU quota exhausted.", None),
        ("JobEnqueued", "Job is queuing behind higher priority jobs.", None),
    ],
    "Bidding": [("JobBidding", "Bidding for spot instances at the price limit.", None)],
    "EnvPreparing": [
        ("JobEnvPreparing", "Preparing the job environment: pulling image.", None),
        ("JobEnvPreparing", "Mounting data sources.", None),
    ],
    "SanityChecking": [("JobSanityChecking", "Running node sanity checks.", None)],
    "Running": [
        ("JobRunning", "Job is running.", None),
        ("JobRunning", "Job is running.", "Normal"),
    ],
    "Restarting": [
        ("JobRestarting", "Job is restarting after a node failure.", "Restarting"),
        ("JobPreempted", "Job was preempted and is restarting.", "Restarting"),
    ],
    "Stopping": [("JobStopping", "Job is being stopped by user.", None)],
    "SucceededReserving": [("JobSucceeded", "Job succeeded; resources are reserved.", None)],
    "FailedReserving": [("JobFailed", "Job failed; resources are reserved.", None)],
    "Succeeded": [
        ("JobSucceeded", "Job has succeeded.", None),
        ("JobSucceeded", "Job has succeeded.", "Normal"),
        ("", "", None),
    ],
    "Failed": [
        ("JobFailed", "Pod worker-0 exited with code 1.", None),
        ("OOMKilled", "Container was killed: out of memory (OOMKilled).", None),
        ("ImagePullBackOff", "Failed to pull image: manifest unknown.", None),
        ("NodeFailure", "Node became NotReady; NCCL timeout on rank 3.", None),
        ("JobTimeout", "Job exceeded JobMaxRunningTimeMinutes and was killed.", None),
        ("InvalidParameter", "The specified EcsSpec is not available in this region.", None),
        ("JobFailed", "训练任务失败: CUDA error: out of memory", None),
    ],
    "Stopped": [
        ("JobStoppedByUser", "Job is stopped by user.", None),
        ("JobStoppedBySystem", "Job is stopped by the system: quota was reclaimed.", None),
        ("JobStoppedByUser", "Job is stopped by user.", "Evicted"),
    ],
}

_JOB_TYPES: Final = {
    "PyTorchJob": 0.52,
    "TFJob": 0.17,
    "XGBoostJob": 0.09,
    "OneFlowJob": 0.06,
    "ElasticBatchJob": 0.08,
    "MPIJob": 0.045,
    "RayJob": 0.035,
}
_ROLE_LAYOUTS: Final[dict[str, list[tuple[tuple[str, ...], float]]]] = {
    "PyTorchJob": [(("Worker",), 0.7), (("Master", "Worker"), 0.3)],
    "TFJob": [(("Worker",), 0.5), (("PS", "Worker"), 0.35), (("Chief", "PS", "Worker"), 0.15)],
    "XGBoostJob": [(("Worker",), 0.5), (("Master", "Worker"), 0.5)],
    "OneFlowJob": [(("Worker",), 1.0)],
    "ElasticBatchJob": [(("Worker",), 0.5), (("Master", "Worker"), 0.5)],
    "MPIJob": [(("Master", "Worker"), 1.0)],
    "RayJob": [(("Head", "Worker"), 1.0)],
}
_ROLES: Final = ("Worker", "Master", "PS", "Chief", "Head")
_CPU_ROLES: Final = frozenset({"PS", "Head"})
_MAX_ROLES: Final = 3

_PAI = "dsw-registry.cn-hangzhou.aliyuncs.com/pai"
_IMAGES: Final[dict[str, list[str]]] = {
    "PyTorchJob": [
        f"{_PAI}/pytorch-training:2.1-gpu-py310-cu121-ubuntu22.04",
        f"{_PAI}/pytorch-training:2.3-gpu-py311-cu121-ubuntu22.04",
        f"{_PAI}/pytorch-training:1.12-gpu-py39-cu113-ubuntu20.04",
        "dsw-registry-vpc.cn-shanghai.aliyuncs.com/pai/modelscope:1.14.0-pytorch2.1.2-gpu-py310",
        "registry.cn-hangzhou.aliyuncs.com/llm-team/megatron-lm:24.05-py3",
        "registry-vpc.cn-hangzhou.aliyuncs.com/nlp-lab/deepspeed-train:v0.14.2",
        "ghcr.io/custom/llama-factory:0.8.3",
    ],
    "TFJob": [
        f"{_PAI}/tensorflow-training:2.12-gpu-py310-cu118-ubuntu20.04",
        f"{_PAI}/tensorflow-training:1.15-cpu-py36-ubuntu18.04",
        "registry.cn-hangzhou.aliyuncs.com/pai-dlc/tensorflow-training:1.12.2PAI-cpu-py27-ubuntu16.04",
        f"{_PAI}/tensorflow-training:2.8-gpu-py38-cu112-ubuntu20.04",
    ],
    "XGBoostJob": [
        f"{_PAI}/xgboost:1.6.0-cpu-py36-ubuntu18.04",
        f"{_PAI}/xgboost:2.0.3-cpu-py310-ubuntu22.04",
        "registry.cn-shanghai.aliyuncs.com/risk-ml/xgb-fraud:2024.3",
    ],
    "OneFlowJob": [
        f"{_PAI}/oneflow-training:0.9.0-gpu-py38-cu112-ubuntu20.04",
        "registry.cn-beijing.aliyuncs.com/oneflow/oneflow:0.9.1-cuda11.7",
    ],
    "ElasticBatchJob": [
        f"{_PAI}/pytorch-inference:2.1-gpu-py310-cu121-ubuntu22.04",
        "registry.cn-hangzhou.aliyuncs.com/batch/offline-embedding:v2",
    ],
    "MPIJob": [
        f"{_PAI}/horovod-training:0.28.1-pytorch2.0-gpu-py310-cu118",
        "registry.cn-hangzhou.aliyuncs.com/hpc/nccl-tests:2.13.8-cuda12.2",
    ],
    "RayJob": [f"{_PAI}/ray:2.9.3-py310-gpu-cu118", "rayproject/ray-ml:2.10.0-py310-gpu"],
}

# Public-resource instance types by GPUs per pod: (EcsSpec, CPU, memory GiB, GPU type).
_ECS_SPECS: Final[dict[int, list[tuple[str, int, int, str]]]] = {
    0: [
        ("ecs.c6.large", 2, 4, ""),
        ("ecs.g6.2xlarge", 8, 32, ""),
        ("ecs.g7.4xlarge", 16, 64, ""),
        ("ecs.r7.8xlarge", 32, 256, ""),
    ],
    1: [
        ("ecs.gn6v-c8g1.2xlarge", 8, 32, "Tesla-V100-16G"),
        ("ecs.gn7i-c8g1.2xlarge", 8, 30, "NVIDIA-A10"),
        ("ecs.gn6i-c4g1.xlarge", 4, 15, "Tesla-T4"),
    ],
    2: [("ecs.gn7i-c32g1.16xlarge", 64, 376, "NVIDIA-A10")],
    4: [("ecs.gn6v-c8g1.8xlarge", 32, 128, "Tesla-V100-16G")],
    8: [
        ("ecs.gn6v-c8g1.16xlarge", 64, 256, "Tesla-V100-16G"),
        ("ecs.gn7e-c16g1.32xlarge", 128, 1024, "A100-SXM4-80GB"),
        ("ecs.ebmgn8v.48xlarge", 192, 1024, "H20"),
    ],
}
_QUOTA_GPU_TYPES: Final = ("A100-SXM4-80GB", "A800-SXM4-80GB", "H800", "L20", "GU8TF")
# Node names are "<region>.<ip>"; the regions have equal length so the text is fixed-width.
_REGIONS: Final = ("cn-hangzhou", "cn-shanghai", "cn-shenzhen")
_REGION_TEXT: Final = np.frombuffer("".join(_REGIONS).encode(), dtype=np.uint8).reshape(3, 11)

# Display names: (base, weight). ASCII bases also appear Title-cased and upper-cased.
_NAME_BASES: Final[list[tuple[str, float]]] = [
    ("tf-mnist-test", 2.0),
    ("pytorch-mnist-ddp", 1.5),
    ("mnist-cnn-baseline", 1.0),
    ("bert-base-finetune", 4.0),
    ("bert-large-pretrain", 2.0),
    ("llama2-7b-sft", 4.0),
    ("llama3-8b-lora", 4.0),
    ("qwen2-72b-pretrain", 3.0),
    ("qwen-7b-chat-sft", 4.0),
    ("chatglm3-6b-ptuning", 2.0),
    ("baichuan2-13b-sft", 1.5),
    ("resnet50-imagenet", 3.0),
    ("vit-b16-imagenet", 1.5),
    ("yolov8-detect", 2.5),
    ("sdxl-finetune", 1.5),
    ("whisper-asr-zh", 1.5),
    ("xgboost-ctr", 3.0),
    ("xgb-fraud-detection", 1.5),
    ("lightgbm-ranking", 1.0),
    ("wide-deep-rec", 2.0),
    ("deepfm-ctr", 2.0),
    ("dssm-recall", 1.5),
    ("din-rank", 1.0),
    ("mmoe-multitask", 1.0),
    ("gpt2-distill", 1.0),
    ("t5-summarize", 1.0),
    ("roberta-ner", 1.0),
    ("ocr-crnn", 1.0),
    ("unet-segmentation", 1.0),
    ("ppo-rlhf", 1.5),
    ("dpo-alignment", 1.5),
    ("reward-model", 1.0),
    ("embedding-bge", 1.0),
    ("eval-mmlu", 2.0),
    ("data-preprocess", 2.5),
    ("feature-extract", 1.5),
    ("hyperparam-search", 1.0),
    ("nightly-regression", 2.0),
    ("nccl-allreduce-bench", 1.0),
    ("dlc-job", 2.0),
    ("test", 2.0),
    ("demo", 1.0),
    ("debug_job", 1.0),
    ("训练-bert-大模型", 1.5),
    ("推荐模型-ctr-训练", 1.0),
    ("图像分类-resnet", 0.8),
    ("大模型-微调-qwen", 1.2),
    ("Straße-routing", 0.4),
    ("straße-eta-model", 0.3),
    ("İstanbul-traffic-forecast", 0.4),
    ("λόγος-nlp-train", 0.4),
    ("café-recsys", 0.3),
    ("Größe-estimator", 0.2),
]

_COMMANDS: Final[dict[str, list[str]]] = {
    "PyTorchJob": [
        "python /root/code/train.py --epochs {e} --batch-size {b} --lr 0.001",
        "torchrun --nproc_per_node=8 --nnodes=$WORLD_SIZE /mnt/code/llm/sft.py --config {cfg}",
        "python /root/code/mnist.py --epochs {e} --backend nccl",
        "deepspeed --num_gpus 8 /mnt/code/ds_train.py --deepspeed ds_config_zero3.json",
        "bash /mnt/workspace/scripts/run_pretrain.sh {cfg}",
        "python -m torch.distributed.run /root/code/resnet/main.py -a resnet50 --epochs {e}",
        "llamafactory-cli train /mnt/code/examples/{cfg}",
        "python /mnt/data/eval/run_mmlu.py --model /mnt/model --shots 5",
    ],
    "TFJob": [
        "python /root/code/mnist.py",
        "python /root/code/train_estimator.py --train_steps {s} --batch_size {b}",
        "python /root/code/deepfm/train.py --epochs {e} --ps_hosts=$PS_HOSTS",
        "python /root/code/wide_deep.py --model_dir oss://pai-bucket/models/wd --epochs {e}",
    ],
    "XGBoostJob": [
        "python /root/code/xgb_train.py --num_round {r} --max_depth 8",
        "python /root/code/fraud/train.py --num-round {r} --eta 0.1",
    ],
    "OneFlowJob": [
        "python3 -m oneflow.distributed.launch --nproc_per_node 8 /root/code/train.py",
        "python3 /root/code/libai/tools/train_net.py --config-file {cfg}",
    ],
    "ElasticBatchJob": [
        "python /root/code/batch_infer.py --input oss://pai-bucket/data --output oss://pai-out/",
        "python /root/code/embedding/encode.py --shards {e}",
    ],
    "MPIJob": [
        "mpirun -np {e} --allow-run-as-root python /root/code/horovod_train.py",
        "/opt/nccl-tests/build/all_reduce_perf -b 8 -e 8G -f 2 -g 1",
    ],
    "RayJob": [
        "python /root/code/ray_tune.py --num-samples {r}",
        "ray job submit -- python /root/code/rllib_ppo.py --stop-iters {e}",
    ],
}
_CONFIGS: Final = ("llama2_7b.yaml", "qwen2_7b_lora.yaml", "bert_base.yaml", "ds_z3.yaml")

_WORKSPACE_NAMES: Final = (
    "dlc-workspace", "nlp-research", "llm-pretrain", "推荐算法", "cv-prod", "speech-lab",
    "search-ranking", "ads-ctr", "risk-control", "autopilot-perception", "ocr-team", "default",
    "recsys-online", "multimodal", "aigc-studio", "bioinfo", "finance-quant", "edu-platform",
    "customer-service-bot", "map-eta", "video-understanding", "game-ai", "test-workspace",
    "benchmark", "data-platform", "robotics", "medical-imaging", "llm-eval", "智能客服",
    "translation", "e-commerce-search", "security-ml", "infra-sre", "sandbox",
    "intern-projects", "asr-zh", "tts", "kg-construction", "fraud-graph", "demo-ws",
)  # fmt: skip
_GIVEN_NAMES: Final = (
    "zhangwei", "wangfang", "li.na", "liuyang", "chenjie", "yangli", "zhaolei", "huangmin",
    "zhouxin", "wu_hao", "alice", "bob", "carol.smith", "dave", "erin", "frank", "grace",
    "heidi", "ivan", "judy", "mallory", "oscar", "peggy", "trent", "victor", "walter", "sunqi",
    "maxiao", "zhuyi", "hujun", "guoqiang", "linfeng", "heyu", "gaoyuan", "luosha", "zhengkai",
    "xieting", "hanmei", "tangwei", "fengtao",
)  # fmt: skip
_USER_COUNT: Final = 300
_SERVICE_ACCOUNTS: Final = 12  # BusinessUserIds that are not one of the users

_CALLERS: Final = (  # the pipeline callers come first (see _PIPELINE_CALLERS)
    ("PaiFlow", 0.18),
    ("SilkFlow", 0.05),
    ("console", 0.3),
    ("sdk", 0.15),
    ("DSW", 0.1),
    ("local", 0.06),
    ("openapi", 0.1),
    ("AIWorkSpace", 0.06),
)
_PIPELINE_CALLERS: Final = 2
_TAG_VALUES: Final = {
    "team": ("nlp", "cv", "speech", "rec", "search", "infra", "llm"),
    "project": ("bert", "llama", "qwen", "ctr", "ocr", "asr", "recall", "rank"),
    "env": ("dev", "test", "staging", "prod"),
    "cost-center": ("cc-1001", "cc-2002", "cc-3003"),
}
_OVERSOLD: Final = (
    ("", 0.72),
    ("ForbiddenQuotaOverSold", 0.1),
    ("ForceQuotaOverSold", 0.05),
    ("AcceptQuotaOverSold", 0.13),
)
# The high-cardinality profile: DisplayNames are "<model>-<task>-<run suffix>".
_MODELS: Final = (
    "llama3-8b", "llama3-70b", "qwen2-7b", "qwen2.5-72b", "qwen-vl-chat", "mistral-7b",
    "mixtral-8x7b", "deepseek-v2-lite", "baichuan2-13b", "chatglm3-6b", "yi-34b", "gemma-7b",
    "phi3-mini", "internlm2-20b", "glm4-9b", "minicpm-2b", "bert-base", "bert-large",
    "roberta-large", "t5-xl", "gpt2-medium", "bloom-7b", "falcon-40b", "vit-l16", "resnet50",
    "resnet101", "efficientnet-b7", "yolov8x", "sam-vit-h", "sdxl", "sd15-controlnet",
    "whisper-large", "wav2vec2", "mnist-cnn", "lenet-mnist", "xgboost-ctr", "deepfm", "din",
    "dien", "wide-deep", "dssm", "mmoe", "graphsage", "bge-m3", "clip-vit", "blip2",
    "internvl", "大模型", "推荐模型",
)  # fmt: skip
_TASKS: Final = (
    "sft", "pretrain", "lora", "qlora", "dpo", "rlhf-ppo", "eval", "eval-mmlu", "infer",
    "batch-infer", "distill", "quantize", "finetune", "continue-pretrain", "ablation", "hpo",
    "export", "data-clean", "tokenize", "embedding", "rerank", "benchmark", "debug",
    "smoke-test", "nightly", "canary", "train", "train-ddp", "train-fsdp", "train-zero3",
)  # fmt: skip
#: Names without a run suffix, shared by many jobs (6% of them).
_COMMON_NAMES: Final = (
    ("test", 2.0), ("debug", 1.5), ("tmp", 1.0), ("my-job", 0.8), ("untitled", 0.6),
    ("demo", 0.5), ("dlc-job", 0.5), ("测试任务", 0.3),
)  # fmt: skip
_COMMON_NAME_SHARE: Final = 0.06
_HIGH_USER_COUNT: Final = 30_000
_HIGH_WORKSPACE_COUNT: Final = 400
_EXPERIMENT_COUNT: Final = 4_000
_PRIORITIES: Final = (0.45, 0.08, 0.12, 0.05, 0.1, 0.05, 0.06, 0.04, 0.05)  # Priority 1..9
_MAX_MINUTES: Final = (
    (0, 0.6), (60, 0.05), (120, 0.05), (720, 0.1), (1440, 0.1), (4320, 0.05), (10080, 0.05),
)  # fmt: skip
_RETRIES: Final = ((None, 0.75), (0, 0.1), (1, 0.05), (2, 0.04), (3, 0.04), (5, 0.02))
# EnablePreemptibleJob and EnabledDebugger: absent, or (preemptible, debugger).
_JOB_SWITCHES: Final = ((None, 0.7), ((False, False), 0.27), ((True, False), 0.025),
                        ((False, True), 0.005))  # fmt: skip
_RESTARTS: Final = (0.88, 0.07, 0.025, 0.012, 0.007, 0.003, 0.003)  # RestartTimes 0..6
_HISTORY_DEPTH: Final = 3  # HistoryPods levels kept for a pod that restarted that often
_POD_RETENTION: Final = 30 * 86_400  # finished jobs older than this list no pods
_POD_STATES: Final = (
    ("Running", "Normal"),
    ("Pending", "Normal"),
    ("Succeeded", "Normal"),
    ("Failed", "Normal"),
    ("Failed", "Evicted"),
    ("Stopped", "Normal"),
)
_POD_STATE_OF: Final = {  # pod state of a job's current pods, by job status
    "Running": 0,
    "Restarting": 1,
    "Stopping": 0,
    "SucceededReserving": 0,
    "FailedReserving": 3,
    "Succeeded": 2,
    "Failed": 3,
    "Stopped": 5,
}
_EVICTED: Final = 4
# Optional pod members: none, the profiling kinds, or the secondary (RDMA) interfaces.
_POD_EXTRAS: Final = (
    ("", 0.8),
    (',"supportedProfilingTypes":"sysom"', 0.1),
    (',"PodIps":[{"InterfaceName":"eth1","Ip":"192.168.10.23"},'
     '{"InterfaceName":"eth2","Ip":"192.168.11.23"}]', 0.1),
)  # fmt: skip


# =============================================================================================
# Catalogues: pre-rendered fragments, chosen per job by index


def _catalogue(fragments: Sequence[str | None]) -> pl.Series:
    """A catalogue whose last entry is null, so that index ``-1`` means "absent"."""
    return pl.Series([*fragments, None], dtype=pl.String)


def _pick(catalogue: pl.Series, index: _I64, present: _Mask | None = None) -> pl.Series:
    if present is not None:
        index = np.where(present, index, len(catalogue) - 1)
    return catalogue.gather(index)


@dataclass(frozen=True)
class _Weighted:
    fragments: pl.Series
    weights: _Alias


def _weighted(entries: Sequence[tuple[str, float]]) -> _Weighted:
    return _Weighted(
        _catalogue([fragment for fragment, _ in entries]),
        _alias([weight for _, weight in entries]),
    )


@dataclass(frozen=True)
class _Grouped:
    """Catalogue entries in groups (per job type, per status, ...); a job picks in its group."""

    fragments: pl.Series
    start: _I64
    size: _I64

    def pick(self, draws: _Draws, stream: str, group: _I64) -> _I64:
        return self.start[group] + draws.below(stream, self.size[group])


def _grouped(groups: Sequence[Sequence[str]]) -> _Grouped:
    sizes = [len(group) for group in groups]
    return _Grouped(
        _catalogue([fragment for group in groups for fragment in group]),
        np.cumsum([0, *sizes[:-1]]).astype(np.int64),
        np.array(sizes, dtype=np.int64),
    )


@dataclass(frozen=True)
class _Platform:
    """The imaginary platform: the catalogues and the attributes that tie them together.

    Catalogues that always follow each other in a job are stored as their product, so that a
    job picks one fragment (index ``i * len(b) + j``) instead of two.
    """

    users: pl.Series  # per (user, business user): ,"UserId":..,"Username":..,"Settings":{"Busi..
    user_weights: _Alias
    user_home: _I64  # home workspace of each user
    user_private: _F64  # share of a user's jobs that are PRIVATE
    workspace_weights: _Alias
    workspace_region: _I64
    workspace_vpc: _Mask
    placements: pl.Series  # per (workspace, resource): without, then with UserVpc
    placement_start: _I64  # first entry of each workspace
    placement_weights: _F64  # (workspaces, entries) running totals, padded with the total
    placement_public: _Mask
    display_names: pl.Series  # per (name, suffix): ,"DisplayName":".."
    name_weights: _Alias
    suffix_weights: _Alias
    job_type_weights: _Alias
    templates: _Grouped  # per (job type, public?): ,"JobType":..,"JobSpecs":[..],"RequestGPU":..
    template_roles: _I64  # (templates, _MAX_ROLES): index into _ROLES, -1 past the last role
    code: _Grouped  # per job type: ,"UserCommand":..,...
    statuses: _Grouped  # per status: the end of StatusHistory, then ,"Status":..,"ReasonCode":..
    policy_flags: pl.Series  # per (policy, flags): ,"Priority":..,..,"IsDeleted":..,..
    extras: _Weighted  # optional top-level families
    callers: pl.Series  # per (pipeline caller, pipeline), then the other callers
    caller_weights: _Alias
    pipeline_weights: _Alias
    tags_oversold: pl.Series  # per (tags, oversold kind): ,"Tags":{..},"OversoldType":..
    tag_weights: _Alias
    settings_tail: pl.Series  # the rarer settings, closing Settings with }
    pod_roles: pl.Series  # per (role, state, extra): -worker-0","Type":..,"Status":..,..
    #: what the high-cardinality profile makes differently (None: the default profile)
    high: _HighCardinality | None = None


@dataclass(frozen=True)
class _HighCardinality:
    """The catalogues of the high-cardinality profile that replace the default ones.

    A user is two pieces (``users`` then ``business``) instead of a product with the service
    accounts; a DisplayName is a ``name_prefixes`` entry and, for the first ``named_runs``
    entries, a run suffix made per job; Tags are a head (``team``, maybe ``project`` and
    ``env``), an ``experiment`` and a ``run_id`` made per job, then the OversoldType.
    """

    business: pl.Series  # per user: its own id ("..."), then the service accounts
    name_prefixes: pl.Series  # ,"DisplayName":"<model>-<task>; then whole common names
    name_weights: _Alias
    named_runs: int  # prefixes below this index take a run suffix
    tag_heads: pl.Series  # ,"Tags":{"team":..[,"project":..][,"env":..]
    tag_head_weights: _Alias
    experiments: pl.Series  # ,"experiment":"exp-0421"
    experiment_weights: _Alias
    oversold: pl.Series  # per oversold kind: "" or ,"OversoldType":..


def _product(first: Sequence[str], second: Sequence[str]) -> list[str]:
    return [a + b for a in first for b in second]


@cache
def _platform(profile: str = "default") -> _Platform:
    """Build the platform of a profile once; it is the same for every seed."""
    if profile == "high-cardinality":
        return _high_cardinality_platform()
    workspaces = _workspaces(random.Random(1))
    users = _users(random.Random(2), len(workspaces))
    placements, placement_start, placement_weights, placement_public = _placements(workspaces)
    templates, template_roles = _templates(random.Random(3))
    names, suffixes = _names(), _suffixes(random.Random(5))
    tags, pipelines = _tags(random.Random(9)), _pipelines(random.Random(8))
    business = [_json(uid) for uid, *_ in users]
    service_accounts = [f'"{166_924 + 7_919 * k}"' for k in range(_SERVICE_ACCOUNTS)]
    return _Platform(
        users=_catalogue(
            [
                _members({"UserId": uid, "Username": name}) + f',"Settings":{{"BusinessUserId":{b}'
                for (uid, name, *_), own in zip(users, business, strict=True)
                for b in [own, *service_accounts]
            ]
        ),
        user_weights=_alias(_zipf(len(users), 0.85)),
        user_home=np.array([home for _, _, home, _ in users], dtype=np.int64),
        user_private=np.array([private for *_, private in users], dtype=np.float64),
        workspace_weights=_alias(_zipf(len(workspaces), 0.9)),
        workspace_region=np.array([ws["region"] for ws in workspaces], dtype=np.int64),
        workspace_vpc=np.array([ws["vpc"] is not None for ws in workspaces], dtype=np.bool_),
        placements=placements,
        placement_start=placement_start,
        placement_weights=placement_weights,
        placement_public=placement_public,
        display_names=_catalogue(_product([n for n, _ in names], [s for s, _ in suffixes])),
        name_weights=_alias([w for _, w in names]),
        suffix_weights=_alias([w for _, w in suffixes]),
        job_type_weights=_alias(list(_JOB_TYPES.values())),
        templates=templates,
        template_roles=template_roles,
        code=_code(random.Random(6)),
        statuses=_statuses_catalogue(),
        policy_flags=_catalogue(_product(_policy(), _flags())),
        extras=_weighted(_extras(random.Random(7))),
        callers=_catalogue(
            [
                _members({"Caller": caller}) + pipeline
                for caller, _ in _CALLERS[:_PIPELINE_CALLERS]
                for pipeline, _ in pipelines
            ]
            + [_members({"Caller": caller}) for caller, _ in _CALLERS[_PIPELINE_CALLERS:]]
        ),
        caller_weights=_alias([w for _, w in _CALLERS]),
        pipeline_weights=_alias([w for _, w in pipelines]),
        tags_oversold=_catalogue(
            _product(
                [t for t, _ in tags],
                [_members({"OversoldType": kind}) if kind else "" for kind, _ in _OVERSOLD],
            )
        ),
        tag_weights=_alias([w for _, w in tags]),
        settings_tail=_catalogue([extra + "}" for extra in _settings_extras(random.Random(4))]),
        pod_roles=_catalogue(
            [
                f'-{role.lower()}-0"'
                + _members({"Type": role, "Status": state, "SubStatus": sub})
                + extra
                for role in _ROLES
                for state, sub in _POD_STATES
                for extra, _ in _POD_EXTRAS
            ]
        ),
    )


def _high_cardinality_platform() -> _Platform:
    """The default platform with many users and workspaces, nearly unique names and tags."""
    names = [f"{_WORKSPACE_NAMES[k % len(_WORKSPACE_NAMES)]}-{k // len(_WORKSPACE_NAMES) + 1}"
             for k in range(_HIGH_WORKSPACE_COUNT)]  # fmt: skip
    workspaces = _workspaces(random.Random(11), names)
    # hundreds of workspaces: ids drawn without repetition
    for workspace, number in zip(
        workspaces,
        random.Random(12).sample(range(100_000, 1_000_000), len(workspaces)),
        strict=True,
    ):
        workspace["id"] = str(number)
    users = _users(random.Random(13), len(workspaces), _HIGH_USER_COUNT)
    placements, placement_start, placement_weights, placement_public = _placements(workspaces)
    prefixes, weights = [], []
    for model, model_weight in zip(_MODELS, _zipf(len(_MODELS), 0.8), strict=True):
        variants = [(model, 1.0)] if not model.isascii() else [(model, 0.85), (model.title(), 0.15)]
        for variant, share in variants:
            for task, task_weight in zip(_TASKS, _zipf(len(_TASKS), 0.7), strict=True):
                prefixes.append(',"DisplayName":' + _json(f"{variant}-{task}")[:-1])
                weights.append(model_weight * share * task_weight)
    total = sum(weights)
    weights = [weight * (1 - _COMMON_NAME_SHARE) / total for weight in weights]
    common_total = sum(weight for _, weight in _COMMON_NAMES)
    for name, weight in _COMMON_NAMES:
        prefixes.append(_members({"DisplayName": name}))
        weights.append(weight * _COMMON_NAME_SHARE / common_total)
    heads, head_weights = [], []
    teams = _TAG_VALUES["team"]
    projects: list[tuple[str | None, float]] = [(None, 0.4)]
    projects += [(project, 0.6 / 8) for project in _TAG_VALUES["project"]]
    envs: list[tuple[str | None, float]] = [(None, 0.5)]
    envs += [(env, 0.5 / 4) for env in _TAG_VALUES["env"]]
    for team, team_weight in zip(teams, _zipf(len(teams), 0.6), strict=True):
        for project, project_weight in projects:
            for env, env_weight in envs:
                tags = {"team": team}
                if project is not None:
                    tags["project"] = project
                if env is not None:
                    tags["env"] = env
                heads.append(',"Tags":' + _json(tags)[:-1])
                head_weights.append(team_weight * project_weight * env_weight)
    default = _platform()
    return replace(
        default,
        users=_catalogue(
            [
                _members({"UserId": uid, "Username": name}) + ',"Settings":{"BusinessUserId":'
                for uid, name, *_ in users
            ]
        ),
        user_weights=_alias(_zipf(len(users), 0.8)),
        user_home=np.array([home for _, _, home, _ in users], dtype=np.int64),
        user_private=np.array([private for *_, private in users], dtype=np.float64),
        workspace_weights=_alias(_zipf(len(workspaces), 0.9)),
        workspace_region=np.array([ws["region"] for ws in workspaces], dtype=np.int64),
        workspace_vpc=np.array([ws["vpc"] is not None for ws in workspaces], dtype=np.bool_),
        placements=placements,
        placement_start=placement_start,
        placement_weights=placement_weights,
        placement_public=placement_public,
        high=_HighCardinality(
            business=_catalogue(
                [_json(uid) for uid, *_ in users]
                + [f'"{166_924 + 7_919 * k}"' for k in range(_SERVICE_ACCOUNTS)]
            ),
            name_prefixes=_catalogue(prefixes),
            name_weights=_alias(weights),
            named_runs=len(prefixes) - len(_COMMON_NAMES),
            tag_heads=_catalogue(heads),
            tag_head_weights=_alias(head_weights),
            experiments=_catalogue(
                [_members({"experiment": f"exp-{k:04d}"}) for k in range(1, _EXPERIMENT_COUNT + 1)]
            ),
            experiment_weights=_alias(_zipf(_EXPERIMENT_COUNT, 0.7)),
            oversold=_catalogue(
                [_members({"OversoldType": kind}) if kind else "" for kind, _ in _OVERSOLD]
            ),
        ),
    )


def _random_id(rng: random.Random, length: int) -> str:
    return "".join(rng.choices(_ALNUM_TEXT, k=length))


def _workspaces(
    rng: random.Random, names: Sequence[str] = _WORKSPACE_NAMES
) -> list[dict[str, Any]]:
    workspaces = []
    for k, name in enumerate(names):
        vpc: dict[str, Any] | None = None
        if rng.random() < 0.85:
            suffix = _random_id(rng, 17)
            vpc = {
                "VpcId": f"vpc-bp1{suffix}",
                "SwitchId": f"vsw-bp1{suffix[::-1]}",
                "SecurityGroupId": f"sg-bp1{suffix[4:]}{k:03d}",
            }
            if rng.random() < 0.2:
                vpc["DefaultRoute"] = rng.choice(["eth0", "eth1"])
            if rng.random() < 0.1:
                vpc["ExtendedCidrs"] = [f"192.168.{k}.0/24", f"172.16.{16 * k}.0/20"]
        quotas = []
        slug = name if name.isascii() else f"ws{k}"
        for q in range(rng.choice([1, 1, 2, 2, 3])):
            kind = rng.choices(["Lingjun", "ECS", "ACS"], [0.4, 0.5, 0.1])[0]
            gpu = rng.choice(["a100", "l20", "h800", "a10", "cpu"])
            quota = {
                "ResourceId": f"quota-{_random_id(rng, 10)}",
                "ResourceQuotaName": rng.choice(
                    [f"{slug}-{gpu}", f"{slug}-quota-{q}", f"{gpu}-shared-pool", f"team{k}-{gpu}"]
                ),
                "ResourceName": f"rg-{slug}-{q}",
                "ResourceType": kind,
            }
            if kind == "Lingjun":
                quota["ResourceLevel"] = rng.choice(["L0", "L1", "L2"])
            quota["ClusterId"] = "" if kind == "ECS" else f"c-{rng.randrange(16**10):010x}"
            quotas.append(quota)
        workspaces.append(
            {
                "id": str(rng.choice([268, 1_000, 10_000, 100_000]) + k * rng.randrange(7, 997)),
                "name": name,
                "region": rng.randrange(len(_REGIONS)),
                "vpc": vpc,
                "public": rng.choice([0.1, 0.25, 0.4, 0.6]),
                "quotas": quotas,
            }
        )
    return workspaces


def _users(
    rng: random.Random, workspace_count: int, count: int = _USER_COUNT
) -> list[tuple[str, str, int, float]]:
    home_weights = _cumulative(_zipf(workspace_count, 0.9))
    users = []
    for k in range(count):
        digits = 16 if rng.random() < 0.8 else 17
        uid = str(rng.randrange(10 ** (digits - 1), 10**digits))
        base = rng.choice(_GIVEN_NAMES)
        style = rng.random()
        if style < 0.55:
            name = base if k < len(_GIVEN_NAMES) else f"{base}{k}"
        elif style < 0.75:
            name = f"ram-{base}-{k:03d}"
        elif style < 0.9:
            name = f"{base.title()}.{rng.choice(['Chen', 'Li', 'Wang', 'Smith', 'Kim'])}{k}"
        elif style < 0.96:
            name = f"pai-dlc-role-{k}"
        else:
            name = rng.choice(["张伟", "王芳", "李娜", "刘洋", "Jürgen", "Zoë"]) + str(k)
        home = int(np.searchsorted(home_weights, rng.random() * home_weights[-1], side="right"))
        private = rng.choices([0.02, 0.15, 0.45, 0.9], [0.35, 0.3, 0.25, 0.1])[0]
        users.append((uid, name, min(home, workspace_count - 1), private))
    return users


def _placements(workspaces: list[dict[str, Any]]) -> tuple[pl.Series, _I64, _F64, _Mask]:
    """Workspace and resource members of a job: the public pool or one of the quotas."""
    fragments: list[str] = []
    public: list[bool] = []
    starts: list[int] = []
    width = 1 + max(len(ws["quotas"]) for ws in workspaces)
    weights = np.ones((len(workspaces), width), dtype=np.float64)
    for w, ws in enumerate(workspaces):
        starts.append(len(public))
        base = {"WorkspaceId": ws["id"], "WorkspaceName": ws["name"]}
        entries = [{**base, "ResourceId": "", "ResourceType": "ECS"}]
        entries += [{**base, **quota} for quota in ws["quotas"]]
        quota_shares = [0.6, 0.3, 0.1][: len(ws["quotas"])]
        shares = [ws["public"]]
        shares += [(1 - ws["public"]) * q / sum(quota_shares) for q in quota_shares]
        weights[w, :] = sum(shares)
        weights[w, : len(shares)] = np.cumsum(shares)
        for entry in entries:
            public.append(entry["ResourceId"] == "")
            fragments.append(_members(entry))
            fragments.append(
                _members(entry) + (_members({"UserVpc": ws["vpc"]}) if ws["vpc"] else "")
            )
    return (
        _catalogue(fragments),
        np.array(starts, dtype=np.int64),
        weights,
        np.array(public, dtype=np.bool_),
    )


def _names() -> list[tuple[str, float]]:
    entries = []
    for base, weight in _NAME_BASES:
        variants = [(base, 1.0)]
        if base.isascii():
            variants = [(base, 0.72), (base.title(), 0.2), (base.upper(), 0.08)]
        for name, share in variants:
            entries.append((',"DisplayName":' + _json(name)[:-1], weight * share))
    return entries


def _suffixes(rng: random.Random) -> list[tuple[str, float]]:
    entries = [("", 14.0)]
    entries += [(f"-{n}", 30.0 / n**0.9) for n in range(1, 301)]
    entries += [(f"_v{n}", 8.0 / n) for n in range(1, 21)]
    entries += [(f"-exp{n:02d}", 0.12) for n in range(1, 100)]
    entries += [(f"-run-{n}", 0.1) for n in range(1, 40)]
    first_day = datetime(2025, 11, 1, tzinfo=UTC)
    days = sorted(rng.sample(range(400), 120))
    entries += [(f"-{first_day + timedelta(days=d):%Y%m%d}", 0.08) for d in days]
    entries += [("-copy", 1.5), ("-debug", 1.0), ("-final", 0.6), ("-baseline", 0.6)]
    return [(suffix + '"', weight) for suffix, weight in entries]


def _templates(rng: random.Random) -> tuple[_Grouped, _I64]:
    groups: list[list[str]] = []
    roles: list[list[int]] = []
    for job_type in _JOB_TYPES:
        for public in (False, True):
            group = []
            for _ in range(140 if job_type in ("PyTorchJob", "TFJob") else 60):
                fragment, layout = _template(rng, job_type, public)
                group.append(fragment)
                indices = [_ROLES.index(role) for role in layout]
                roles.append(indices + [-1] * (_MAX_ROLES - len(indices)))
            groups.append(group)
    return _grouped(groups), np.array(roles, dtype=np.int64)


def _gpu_split(rng: random.Random, total: int) -> tuple[int, int]:
    """(pods, GPUs per pod) of a job that asks for ``total`` GPUs."""
    if total == 0:
        return rng.choice([1, 1, 1, 2, 4]), 0
    return rng.choice([(total // g, g) for g in (8, 4, 2, 1) if total % g == 0 and total <= 4 * g])


def _template(rng: random.Random, job_type: str, public: bool) -> tuple[str, tuple[str, ...]]:
    """One job-spec template: the roles with their images and resources, and the totals."""
    layouts = _ROLE_LAYOUTS[job_type]
    roles = rng.choices([layout for layout, _ in layouts], [w for _, w in layouts])[0]
    gpu_weights = [0.2, 0.22, 0.12, 0.14, 0.22, 0.1]
    if job_type in ("XGBoostJob", "ElasticBatchJob"):
        gpu_weights = [0.7, 0.15, 0.05, 0.05, 0.05, 0.0]
    total_gpu = rng.choices([0, 1, 2, 4, 8, 16], gpu_weights)[0]
    pods, per_pod = _gpu_split(rng, total_gpu)
    trainers = [role for role in roles if role not in _CPU_ROLES]
    if len(trainers) > pods:  # too few pods for a leader and workers: workers only
        roles = tuple(role for role in roles if role == "Worker" or role in _CPU_ROLES)
        trainers = ["Worker"]
    image = rng.choice(_IMAGES[job_type])
    if per_pod == 0:
        image = image.replace("-gpu-", "-cpu-")
    quota_gpu_type = rng.choice(_QUOTA_GPU_TYPES)
    spot = public and rng.random() < 0.25
    specs = []
    total_cpu = total_memory = node_count = 0
    for role in roles:
        if role in _CPU_ROLES:
            gpu, count = 0, (rng.choice([1, 1, 2]) if role == "PS" else 1)
        else:
            gpu, count = per_pod, (pods - len(trainers) + 1 if role == "Worker" else 1)
        spec: dict[str, Any] = {"Type": role, "Image": image, "PodCount": count}
        if public:
            ecs, cpu, memory, gpu_type = rng.choice(_ECS_SPECS[gpu])
        else:
            ecs = ""
            cpu = rng.choice([4, 8, 16, 32]) if gpu == 0 else gpu * rng.choice([8, 12, 16])
            memory = cpu * rng.choice([2, 4, 8])
            gpu_type = quota_gpu_type if gpu else ""
        if ecs:
            spec["EcsSpec"] = ecs
        resources = {"CPU": str(cpu), "GPU": str(gpu), "Memory": f"{memory}Gi"}
        if rng.random() < 0.6:
            resources["SharedMemory"] = f"{max(1, memory // 2)}Gi"
        if gpu_type:
            resources["GPUType"] = gpu_type
        spec["ResourceConfig"] = resources
        if spot or rng.random() < 0.6:
            spec["UseSpotInstance"] = spot
        spec.update(
            _spec_options(
                rng,
                job_type=job_type,
                public=public,
                spot=spot,
                role=role,
                roles=roles,
                image=image,
                count=count,
            )
        )
        specs.append(spec)
        total_cpu += cpu * count
        total_memory += memory * count
        node_count += count
    fragment = _members(
        {
            "JobType": job_type,
            "JobSpecs": specs,
            "RequestGPU": str(total_gpu),
            "RequestCPU": total_cpu,
            "RequestMemory": f"{total_memory}Gi",
            "NodeCount": str(node_count),
        }
    )
    return fragment, roles


def _spec_options(
    rng: random.Random,
    *,
    job_type: str,
    public: bool,
    spot: bool,
    role: str,
    roles: tuple[str, ...],
    image: str,
    count: int,
) -> dict[str, Any]:
    """The optional members of one JobSpec, each present in a share of templates."""
    spec: dict[str, Any] = {}
    if spot:
        spec["SpotSpec"] = {
            "SpotStrategy": rng.choice(["SpotWithPriceLimit", "SpotAsPriceGo"]),
            "SpotDiscountLimit": rng.choice([0.1, 0.3, 0.5]),
            "SpotPriceLimit": rng.choice([0, 1.2, 3.5]),
        }
        if rng.random() < 0.3:
            spec["ElasticSpotSpecs"] = [
                {
                    "InstanceType": "ecs.gn7i-c8g1.2xlarge",
                    "SpotStrategy": rng.choice(["LowestPrice", "CapacityOptimized"]),
                    "SpotDiscountLimit": 0.5,
                    "SpotPriceLimit": 2.0,
                }
            ]
    elif rng.random() < 0.05:
        spec["SpotSpec"] = {"SpotStrategy": "", "SpotDiscountLimit": 0, "SpotPriceLimit": 0}
    if not public and rng.random() < 0.2:
        assign = rng.random() < 0.45
        nodes = ",".join(f"lingjun-{rng.randrange(10**6):06d}" for _ in range(rng.randint(1, 3)))
        spec["AssignNodeSpec"] = {
            "EnableAssignNode": assign,
            "NodeNames": nodes if assign else "",
            "AntiAffinityNodeNames": f"lingjun-{rng.randrange(10**6):06d}"
            if rng.random() < 0.2
            else "",
        }
        if rng.random() < 0.15:
            spec["AssignNodeSpec"]["HyperNodes"] = [
                {"HyperNodeName": f"hn-{rng.randrange(100):02d}", "NodeNames": nodes}
            ]
            spec["AssignNodeSpec"]["AntiAffinityHyperNodes"] = (
                [{"HyperNodeName": f"hn-{rng.randrange(100):02d}", "NodeNames": ""}]
                if rng.random() < 0.5
                else []
            )
    if "/pai/" not in image and rng.random() < 0.3:
        spec["ImageConfig"] = {
            "DockerRegistry": image.split("/", maxsplit=1)[0],
            "Username": rng.choice(["", "cr_temp_user"]),
            "Password": "",
            "Auth": "",
        }
    if rng.random() < 0.1:
        spec["SystemDisk"] = {
            "Category": rng.choice(["cloud_essd", "cloud_auto"]),
            "PerformanceLevel": rng.choice(["PL0", "PL1"]),
            "Size": rng.choice([100, 200, 500]),
        }
    if rng.random() < 0.15:
        spec["RestartPolicy"] = rng.choice(["Always", "Never", "OnFailure", "ExitCode"])
    if role == "Chief":
        spec["IsChief"] = True
        spec["IsCheif"] = True  # the deprecated misspelling is still on the wire
    if not public and rng.random() < 0.06:
        spec["OversoldType"] = rng.choice([kind for kind, _ in _OVERSOLD if kind])
    if rng.random() < 0.02:
        spec["ExtraPodSpec"] = _extra_pod_spec(rng)
    if rng.random() < 0.02 or (job_type == "ElasticBatchJob" and rng.random() < 0.2):
        spec["AutoScalingSpec"] = {
            "MinReplicas": 1,
            "MaxReplicas": rng.choice([4, 8, 16]),
            "ScalingStrategy": "Metric",
            "PodsToDelete": [],
            "AutoscalingMetricSpec": {
                "MetricName": "gpu_util",
                "TargetValue": 80,
                "Tolerance": "10",
                "StabilizationWindowSeconds": 300,
            },
        }
    if not public and rng.random() < 0.08:
        spec["HyperNodeSchedulingConfig"] = {
            "MinAvailable": count,
            "QualityPolicy": rng.choice(["BestEffort", "Strict"]),
        }
    if rng.random() < 0.03:
        spec["LocalMountSpecs"] = [
            {"LocalPath": "/mnt/nvme0", "MountPath": "/root/cache", "MountMode": "ReadWrite"}
        ]
    if role == "Head" or rng.random() < 0.02:
        spec["ServiceSpec"] = {
            "ServiceMode": rng.choice(["PerRole", "PerPod"]),
            "DefaultPort": rng.choice([8265, 6006, 8000]),
            "ExtraPorts": [10001],
        }
    if role == "Worker" and len(roles) > 1 and rng.random() < 0.15:
        spec["StartupDependencies"] = [{"Type": roles[0], "OnPhase": "Running", "MinReplicas": "1"}]
    if rng.random() < 0.02:
        spec["ConsiderInSuccessPolicy"] = role != "PS"
        spec["QuotaId"] = ""
        spec["Driver"] = "535.161.08"
        spec["UserCommand"] = "nvidia-smi && sleep 5"
    return spec


def _extra_pod_spec(rng: random.Random) -> dict[str, Any]:
    security = {
        "RunAsUser": 1000,
        "RunAsGroup": 1000,
        "Privileged": False,
        "Capabilities": {"Add": ["IPC_LOCK"], "Drop": ["NET_RAW"]},
        "SeccompProfile": {
            "Type": rng.choice(["RuntimeDefault", "Unconfined"]),
            "LocalhostProfile": "",
        },
    }
    container = {
        "Name": "data-init",
        "Image": "registry.cn-hangzhou.aliyuncs.com/pai-dlc/curl:v1.0.0",
        "Command": ["sh", "-c", "curl -sSf http://oss-internal/ready"],
        "Args": [""],
        "WorkingDir": "/root",
        "Env": [{"Name": "ENABLE_DEBUG", "Value": rng.choice(["true", "false"])}],
        "Resources": {"Limits": {"cpu": "1", "memory": "1Gi"}, "Requests": {"cpu": "500m"}},
    }
    if rng.random() < 0.5:
        container["SecurityContext"] = security
    sidecars = [{**container, "Name": "log-agent", "SecurityContext": security}]
    return {
        "InitContainers": [container],
        "SideCarContainers": sidecars if rng.random() < 0.5 else [],
        "PodAnnotations": {"sidecar.istio.io/inject": "false"},
        "PodLabels": {"team": rng.choice(["nlp", "cv", "rec"])},
        "SharedVolumeMountPaths": ["/root/share/"],
        "Lifecycle": {
            "PreStop": {"Exec": {"Command": ["sh", "-c", "sleep 10"]}},
            "PostStart": {"Exec": {"Command": ["sh", "-c", "echo started"]}},
        },
        "MainContainerSecurityContext": security,
    }


def _code(rng: random.Random) -> _Grouped:
    """Per job type: the command and what it runs on (code, data, libraries)."""
    groups = []
    for job_type in _JOB_TYPES:
        group = []
        for _ in range(80):
            command = rng.choice(_COMMANDS[job_type]).format(
                e=rng.choice([1, 3, 5, 10, 20, 50, 100]),
                b=rng.choice([32, 64, 128, 256, 1024]),
                s=rng.choice([1_000, 10_000, 100_000]),
                r=rng.choice([50, 100, 200, 500]),
                cfg=rng.choice(_CONFIGS),
            )
            code: dict[str, Any] = {"UserCommand": command}
            if rng.random() < 0.6:
                code["WorkingDir"] = rng.choice(["/root/code/", "/mnt/workspace", "/root"])
            if rng.random() < 0.25:
                code["CodeSource"] = {
                    "CodeSourceId": f"code-2025{rng.randrange(10**10):010d}-{_random_id(rng, 12)}",
                    "Branch": rng.choice(["master", "main", "dev", "feature/sft"]),
                    "Commit": f"{rng.randrange(16**40):040x}",
                    "MountPath": "/root/code/",
                }
            if rng.random() < 0.35:
                code["DataSources"] = [
                    {
                        "DataSourceId": f"data-2025{rng.randrange(10**10):010d}-"
                        + _random_id(rng, 12),
                        "MountPath": path,
                    }
                    for path in ["/mnt/data", "/mnt/model"][: rng.randint(1, 2)]
                ]
            if rng.random() < 0.2:
                libraries = ["numpy==1.26.4", "transformers==4.41.2", "datasets", "peft>=0.10"]
                code["ThirdpartyLibs"] = rng.sample(libraries, rng.randint(1, 3))
                code["ThirdpartyLibDir"] = "/root/code/"
            if rng.random() < 0.08:
                code["UserScript"] = "pip install -r requirements.txt && " + command
            group.append(_members(code))
        groups.append(group)
    return _grouped(groups)


def _statuses_catalogue() -> _Grouped:
    """Per status variant: the last StatusHistory entry's status and reason, closing the
    history, then the job's own Status, ReasonCode, ReasonMessage (and SubStatus)."""
    groups = []
    for status in STATUSES:
        group = []
        for code, message, sub_status in _REASONS[status]:
            members = {"Status": status, "ReasonCode": code, "ReasonMessage": message}
            last_entry = _members(members)[1:] + "}]"
            if sub_status is not None:
                members["SubStatus"] = sub_status
            group.append(last_entry + _members(members))
        groups.append(group)
    return _grouped(groups)


def _empty_times(status: str, ran: bool) -> str:
    """The times a job in ``status`` does not have, written as ``""`` (some clients do)."""
    phase = _PHASE[status]
    absent = []
    if phase == _CREATING:
        absent.append("GmtSubmittedTime")
    if not ran:
        absent.append("GmtRunningTime")
    if phase != _FINISHED:
        absent.append("GmtFinishTime")
    absent += [
        key for key in sorted(set(_END_TIME_KEY.values())) if key != _END_TIME_KEY.get(status)
    ]
    return "".join(f',"{key}":""' for key in absent)


def _policy() -> list[str]:
    fragments = []
    for priority in range(1, 10):
        for minutes, _ in _MAX_MINUTES:
            for retries, _ in _RETRIES:
                for switches, _ in _JOB_SWITCHES:
                    members: dict[str, Any] = {
                        "Priority": priority,
                        "JobMaxRunningTimeMinutes": minutes,
                    }
                    if retries is not None:
                        members["RetryCount"] = retries
                    if switches is not None:
                        members["EnablePreemptibleJob"] = switches[0]
                        members["EnabledDebugger"] = switches[1]
                    fragments.append(_members(members))
    return fragments


def _flags() -> list[str]:
    fragments = []
    for accessibility in ("PUBLIC", "PRIVATE", None):
        for deleted in (False, True):
            for oversold in (False, True):
                members: dict[str, Any] = (
                    {} if accessibility is None else {"Accessibility": accessibility}
                )
                members["IsDeleted"] = deleted
                members["UseOversoldResource"] = oversold
                fragments.append(_members(members))
    return fragments


def _extras(rng: random.Random) -> list[tuple[str, float]]:
    """Optional top-level families: envs, templates, credentials, elastic training, ..."""
    entries = [("", 55.0)]
    for _ in range(400):
        extra: dict[str, Any] = {}
        if rng.random() < 0.25:
            pairs = [("NCCL_DEBUG", "INFO"), ("PYTHONUNBUFFERED", "1"), ("WANDB_MODE", "offline"),
                     ("HF_HOME", "/mnt/data/hf"), ("OMP_NUM_THREADS", "8")]  # fmt: skip
            extra["Envs"] = dict(rng.sample(pairs, rng.randint(1, 3)))
        if rng.random() < 0.15:
            extra["SystemEnvs"] = {"PAI_REGION": rng.choice(_REGIONS), "ENABLE_DEBUG_MODE": "false"}
        if rng.random() < 0.15:
            template = rng.randrange(12)
            extra["TemplateId"] = f"tmpl-{template:02d}{_ALNUM_TEXT[template]}x9q"
            kind = rng.choice(["llm-sft", "cv-train", "ctr-daily", "eval"])
            extra["TemplateName"] = f"{kind}-{template}"
        if rng.random() < 0.12:
            extra["supportedProfilingTypes"] = rng.choice(["sysom", "sysom,torch", ""])
        if rng.random() < 0.1:
            extra["SchedulingStrategy"] = rng.choice(["Gang", "Spread", "BinPack"])
        if rng.random() < 0.08:
            extra["Description"] = rng.choice(
                ["nightly retrain of the CTR model", "ablation: no warmup", "复现论文结果", ""]
            )
        if rng.random() < 0.06:
            extra["TenantId"] = str(rng.randrange(10**15, 10**16))
        if rng.random() < 0.05:
            extra["CredentialConfig"] = _credentials(rng)
        if rng.random() < 0.05:
            extra["ElasticSpec"] = _elastic_spec(rng)
        if rng.random() < 0.06:
            extra["JobReplicaStatuses"] = [
                {
                    "Type": "Worker",
                    "Active": rng.randint(0, 4),
                    "Queuing": rng.randint(0, 2),
                    "Dequeued": 0,
                    "EstimatedPodCount": 4,
                    "CurrentSpotInstanceType": "",
                    "EstimatedResourceConfig": {
                        "CPU": "16",
                        "GPU": "1",
                        "Memory": "64Gi",
                        "SharedMemory": "32Gi",
                        "GPUType": "L20",
                    },
                    "EstimatedAutoScalingSpec": {
                        "MinReplicas": 1,
                        "MaxReplicas": 4,
                        "ScalingStrategy": "Metric",
                        "PodsToDelete": [],
                        "AutoscalingMetricSpec": {
                            "MetricName": "qps",
                            "TargetValue": 100,
                            "Tolerance": "5",
                            "StabilizationWindowSeconds": 60,
                        },
                    },
                }
            ]
        entries.append((_members(extra), 45.0 / 400))
    return entries


def _credentials(rng: random.Random) -> dict[str, Any]:
    role = {
        "RoleArn": f"acs:ram::{rng.randrange(10**15, 10**16)}:role/pai-dlc-oss",
        "RoleType": "service",
        "AssumeRoleFor": "",
        "Policy": "",
        "AssumeUserInfo": {"SecurityToken": "", "AccessKeyId": "", "Type": "", "Id": ""},
    }
    return {
        "EnableCredentialInject": True,
        "AliyunEnvRoleKey": rng.choice(["", "0"]),
        "CredentialConfigItems": [{"Key": "oss-reader", "Type": "Role", "Roles": [role]}],
    }


def _elastic_spec(rng: random.Random) -> dict[str, Any]:
    return {
        "EnableElasticTraining": True,
        "MinParallelism": 1,
        "MaxParallelism": rng.choice([4, 8, 16]),
        "AIMasterType": "",
        "AIMasterDockerImage": "",
        "EnableAIMaster": rng.random() < 0.5,
        "EnablePsJobElasticWorker": False,
        "EnablePsResourceEstimate": False,
        "EnablePsJobElasticPS": False,
        "PSMinParallelism": 0,
        "PSMaxParallelism": 0,
        "ElasticStrategy": rng.choice(["", "ResourceAware"]),
        "EnableEDP": False,
        "EDPMaxParallelism": 0,
        "EDPMinParallelism": 0,
    }


def _pipelines(rng: random.Random) -> list[tuple[str, float]]:
    weights = _zipf(600, 0.9)
    return [(f',"PipelineId":"flow-{_random_id(rng, 12)}"', weight) for weight in weights]


def _tags(rng: random.Random) -> list[tuple[str, float]]:
    entries = [("", 15.0), (',"Tags":{}', 25.0)]
    for size, share in ((1, 30.0), (2, 20.0), (3, 10.0)):
        for _ in range(120):
            keys = rng.sample(list(_TAG_VALUES), size)
            tags = {key: rng.choice(_TAG_VALUES[key]) for key in keys}
            entries.append((_members({"Tags": tags}), share / 120))
    return entries


def _settings_extras(rng: random.Random) -> list[str]:
    """The rarer Settings members; 60 of the 100 entries have none."""
    extras = [""] * 60
    for _ in range(40):
        extra: dict[str, Any] = {}
        if rng.random() < 0.5:
            extra["EnableRDMA"] = rng.random() < 0.7
        if rng.random() < 0.3:
            extra["Driver"] = rng.choice(["535.54.03", "550.54.15", "470.82.01"])
        if rng.random() < 0.3:
            extra["EnableErrorMonitoringInAIMaster"] = True
            extra["ErrorMonitoringArgs"] = "--enable-log-hang-detection true"
        if rng.random() < 0.25:
            extra["EnableTideResource"] = rng.random() < 0.5
        if rng.random() < 0.2:
            extra["AdvancedSettings"] = rng.choice(
                [{"test": "test", "test2": 1}, {"ReleaseResourcePolicy": "all", "retry": True}]
            )
        if rng.random() < 0.2:
            extra["EnableSanityCheck"] = True
            extra["SanityCheckArgs"] = "--sanity-check-timing=AfterJobFaultTolerant"
        if rng.random() < 0.15:
            extra["JobReservedMinutes"] = rng.choice([30, 60, 120])
            extra["JobReservedPolicy"] = rng.choice(["Always", "OnFailure"])
        if rng.random() < 0.15:
            extra["EnableOssAppend"] = True
            extra["EnableCPUAffinity"] = rng.random() < 0.5
            extra["DisableEcsStockCheck"] = False
        if rng.random() < 0.1:
            extra["AllocateAllRDMADevices"] = True
            extra["AllowUnschedulableNodes"] = False
        if rng.random() < 0.1:
            extra["ElasticSpotJobMaxRestartTimes"] = rng.choice([3, 10])
            extra["EnableDSWDev"] = rng.random() < 0.5
        if rng.random() < 0.1:
            extra["Shell"] = "/bin/bash"
            extra["TerminationGracePeriodSeconds"] = rng.choice([30, 120])
        if rng.random() < 0.06:
            extra["DataJuicerConfig"] = {
                "CommandType": rng.choice(["shell", "config"]),
                "ExecutionMode": rng.choice(["standalone", "distributed"]),
                "EnableResourceEstimation": True,
                "ResourceLimit": {"CPU": "16", "GPU": "0", "Memory": "64"},
            }
        if rng.random() < 0.06:
            extra["ModelConfig"] = {
                "ModelName": "qwen2-7b-instruct",
                "ModelTemplate": {
                    "ModelName": "Qwen2-7B-Instruct",
                    "Provider": "modelscope",
                    "Collections": "qwen",
                },
            }
        extras.append(_members(extra))
    return extras


# =============================================================================================
# One block of jobs


@dataclass(frozen=True)
class _Window:
    start: int  # Unix seconds, both bounds inclusive
    end: int


def _window(start: datetime | None, end: datetime | None) -> _Window:
    end = DEFAULT_END if end is None else end
    start = end - DEFAULT_SPAN if start is None else start
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware datetimes")
    first, last = math.ceil(start.timestamp()), math.floor(end.timestamp())
    if first > last:
        raise ValueError(f"start {start.isoformat()} is after end {end.isoformat()}")
    return _Window(first, last)


def _created(draws: _Draws, window: _Window) -> _I64:
    """Creation times: volume grows over the window, working hours, fan-out pairs.

    85% of the jobs follow a density that grows linearly over the window, 15% fall in its
    last 30 days (this month's projects), so the default 7-day window holds about 7% of them.
    """
    lead = min(draws.first, 1)  # the fan-out copies the time of the job before
    span = window.end - window.start
    position = np.sqrt(draws.uniform("created.ramp", lead)) * span
    recent = span - _unit(draws.raw("created.recent", 1, lead)[:, 0]) * min(span, _RECENT_SPAN)
    burst = _unit(draws.raw("created.burst", 1, lead)[:, 0]) < _RECENT_SHARE
    seconds = window.start + np.floor(np.where(burst, recent, position)).astype(np.int64)
    # 70% of the jobs are submitted 09:00–23:00 in UTC+8 (01:00–15:00 UTC).
    words = draws.raw("created.hour", 1, lead)[:, 0]
    office = _unit(words) < 0.7
    in_office = (
        seconds - seconds % 86_400 + 3_600 + (words % np.uint64(14 * 3_600)).astype(np.int64)
    )
    keep = office & (in_office >= window.start) & (in_office <= window.end)
    seconds = np.where(keep, in_office, seconds)
    previous = seconds[:-1] if lead else np.concatenate([seconds[:1], seconds[:-1]])
    seconds = seconds[lead:]
    return np.where(draws.chance("created.fan_out", 0.04), previous, seconds)


def _statuses(draws: _Draws, created: _I64, window: _Window) -> _I64:
    age_days = (window.end - created) / 86_400.0
    active = draws.chance(
        "status.active", _ACTIVE_BASE + _ACTIVE_RECENT * np.exp(-age_days / _ACTIVE_DAYS)
    )
    codes = {name: STATUSES.index(name) for name in STATUSES}
    active_codes = np.array([codes[name] for name in _ACTIVE_WEIGHTS], dtype=np.int64)
    finished_codes = np.array([codes[name] for name in _FINISHED_WEIGHTS], dtype=np.int64)
    return np.where(
        active,
        active_codes[draws.pick("status.active.which", _alias(list(_ACTIVE_WEIGHTS.values())))],
        finished_codes[
            draws.pick("status.finished.which", _alias(list(_FINISHED_WEIGHTS.values())))
        ],
    )


@dataclass(frozen=True)
class _Times:
    """Unix seconds of a block's job times; -1 where a job has no such time."""

    created: _I64
    submitted: _I64
    running: _I64
    ended: _I64  # the status's own end time (GmtSuccessedTime, GmtFailedTime, GmtStoppedTime)
    modified: _I64
    duration: _I64
    ran: _Mask
    finished: _Mask  # in a terminal status, so GmtFinishTime = ended


def _times(draws: _Draws, created: _I64, status: _I64, window: _Window) -> _Times:
    phase = np.array([_PHASE[name] for name in STATUSES], dtype=np.int64)[status]
    never_ran = np.zeros(len(status), dtype=np.bool_)
    for name, share in _NEVER_RAN.items():
        chance = draws.chance(f"times.never_ran.{name}", share)
        never_ran |= (status == STATUSES.index(name)) & chance
    submit_delay = np.floor(draws.lognormal("times.submit", 2.0, 0.8)).astype(np.int64)
    submitted_at = np.minimum(created + submit_delay, window.end)
    queued = np.minimum(np.floor(draws.lognormal("times.queue", 45.0, 1.8)), 3 * 86_400)
    running_at = np.minimum(submitted_at + queued.astype(np.int64), window.end)
    run_median = np.where(status == STATUSES.index("Failed"), 360.0, 2_400.0)
    run = np.minimum(np.floor(draws.lognormal("times.run", 1.0, 1.7) * run_median), 20 * 86_400)
    ran = np.isin(phase, [_ACTIVE, _RESERVING, _FINISHED]) & ~never_ran
    has_end = np.isin(phase, [_RESERVING, _FINISHED])
    ended_at = np.minimum(np.where(ran, running_at + run.astype(np.int64), running_at), window.end)
    submitted = np.where(phase == _CREATING, -1, submitted_at)
    running = np.where(ran, running_at, -1)
    ended = np.where(has_end, ended_at, -1)
    latest = np.maximum(np.maximum(created, submitted), np.maximum(running, ended))
    modified = np.minimum(latest + draws.below("times.modified", 60), window.end)
    duration = np.where(ran, np.where(has_end, ended, window.end) - running, 0)
    return _Times(created, submitted, running, ended, modified, duration, ran, phase == _FINISHED)


@dataclass(frozen=True)
class _Block:
    """What the pieces of one block of jobs are built from."""

    draws: _Draws
    platform: _Platform
    window: _Window
    clock: _Clock
    times: _Times
    status: _I64
    job_id: _U8  # (count, 32)


def _job_ids(draws: _Draws, clock: _Clock, created: _I64) -> _U8:
    """``dlc-<creation time>-<13 chars>``; the last 7 encode the job index, so ids are unique."""
    offset = np.random.SeedSequence([draws.seed, 0x10B]).generate_state(1, np.uint64)[0]
    index = np.arange(draws.first, draws.first + draws.count, dtype=np.uint64)
    space = np.uint64(_ID_SPACE)
    scrambled = (index * np.uint64(_ID_MULTIPLIER) + offset % space) % space
    return np.concatenate(
        [
            np.broadcast_to(np.frombuffer(b"dlc-", dtype=np.uint8), (draws.count, 4)),
            clock.compact(created),
            np.full((draws.count, 1), ord("-"), dtype=np.uint8),
            _base36(draws.raw("job_id")[:, 0], 6),
            _base36(scrambled, 7),
        ],
        axis=1,
    )


def _policy_flags(draws: _Draws, platform: _Platform, user: _I64, oversold: _I64) -> _I64:
    """Index into ``_Platform.policy_flags``; UseOversoldResource agrees with the oversold kind."""
    policy = draws.pick("policy.priority", _alias(_PRIORITIES))
    for stream, choices in (
        ("policy.max_minutes", _MAX_MINUTES),
        ("policy.retries", _RETRIES),
        ("policy.switches", _JOB_SWITCHES),
    ):
        policy = policy * len(choices) + draws.pick(stream, _alias([w for _, w in choices]))
    private = draws.chance("accessibility.private", platform.user_private[user])
    accessibility = np.where(draws.chance("accessibility.missing", 0.05), 2, private)
    used_idle = (oversold == 2) | ((oversold == 3) & draws.chance("oversold.used", 0.5))
    flags = (accessibility * 2 + draws.chance("deleted", 0.01)) * 2 + used_idle
    return np.asarray(policy * 12 + flags, dtype=np.int64)


def _head(block: _Block, restarts: _I64) -> pl.Series:
    """The job's id and times, RestartTimes and Duration: one layout per status.

    Absent times are omitted; a few jobs (``empty``) write them as ``""`` instead.
    """
    times, clock = block.times, block.clock
    empty = block.draws.chance("times.empty_style", 0.08)
    created, modified = clock.iso(times.created), clock.iso(times.modified)
    submitted, running, ended = (
        clock.iso(times.submitted),
        clock.iso(times.running),
        clock.iso(times.ended),
    )
    restart_digit = (restarts[:, None] + ord("0")).astype(np.uint8)
    layouts = []
    for status in STATUSES:
        phase = _PHASE[status]
        for ran in (False, True):
            for empty_style in (False, True):
                parts: list[_Part] = [
                    b'{"JobId":"', block.job_id, b'","GmtCreateTime":"', created,
                    b'","GmtModifiedTime":"', modified, b'"',
                ]  # fmt: skip
                if phase != _CREATING:
                    parts += [b',"GmtSubmittedTime":"', submitted, b'"']
                if ran:
                    parts += [b',"GmtRunningTime":"', running, b'"']
                if status in _END_TIME_KEY:
                    parts += [f',"{_END_TIME_KEY[status]}":"'.encode(), ended, b'"']
                if phase == _FINISHED:
                    parts += [b',"GmtFinishTime":"', ended, b'"']
                if empty_style:
                    parts.append(_empty_times(status, ran).encode())
                parts += [b',"RestartTimes":"', restart_digit, b'","Duration":']
                layouts.append(parts)
    choice = (block.status * 2 + times.ran) * 2 + empty
    return _assemble(layouts, choice, number=times.duration)


def _settings_pieces(block: _Block, oversold: _I64) -> list[pl.Series]:
    """Caller (and PipelineId), Tags and OversoldType, the rarer settings and the ``}``."""
    draws, platform = block.draws, block.platform
    caller = draws.pick("settings.caller", platform.caller_weights)
    pipeline = draws.pick("settings.pipeline", platform.pipeline_weights)
    pipelines = len(platform.pipeline_weights.keep)
    caller_index = np.where(
        caller < _PIPELINE_CALLERS,
        caller * pipelines + pipeline,
        _PIPELINE_CALLERS * pipelines + caller - _PIPELINE_CALLERS,
    )
    high = platform.high
    if high is None:
        tags = draws.pick("settings.tags", platform.tag_weights)
        tag_pieces = [_pick(platform.tags_oversold, tags * len(_OVERSOLD) + oversold)]
    else:
        run_id = _HEX_PAIRS[np.ascontiguousarray(draws.raw("settings.run_id", 2)).view(np.uint8)]
        tag_pieces = [
            _pick(high.tag_heads, draws.pick("settings.tag_head", high.tag_head_weights)),
            _pick(high.experiments, draws.pick("settings.experiment", high.experiment_weights)),
            _text([b',"run_id":"', run_id.reshape(draws.count, 32), b'"}']),
            _pick(high.oversold, oversold),
        ]
    extra = draws.below("settings.extra", len(platform.settings_tail) - 1)
    return [
        _pick(platform.callers, caller_index),
        *tag_pieces,
        _pick(platform.settings_tail, extra),
    ]


def _display_name_pieces(block: _Block, high: _HighCardinality) -> list[pl.Series]:
    """A high-cardinality DisplayName: ``<model>-<task>`` and a run suffix made per job —
    ``-k3x9a2``, ``-20261103-a7k2`` (the creation date) or ``-v3-x81qz`` — or a common name."""
    draws = block.draws
    prefix = draws.pick("name", high.name_weights)
    words = draws.raw("name.run")[:, 0]
    date = block.clock.compact(block.times.created)[:, :8]
    version = (draws.below("name.version", 9) + ord("1")).astype(np.uint8)[:, None]
    layouts: list[list[_Part]] = [
        [b"-", _base36(words, 6), b'"'],
        [b"-", date, b"-", _base36(words, 4), b'"'],
        [b"-v", version, b"-", _base36(words, 5), b'"'],
    ]
    choice = draws.pick("name.suffix", _alias([0.6, 0.25, 0.15]))
    suffix = _assemble(layouts, choice, valid=prefix < high.named_runs)
    return [_pick(high.name_prefixes, prefix), suffix]


def _history(block: _Block) -> pl.Series:
    """StatusHistory up to the last entry's times; the status catalogue continues it.

    Entries start at submission (at creation for a job still being created), at the start of
    the run and at the end; the last entry of an unfinished job is open (``EndTime`` "").
    """
    times, clock = block.times, block.clock
    created, submitted = clock.iso(times.created), clock.iso(times.submitted)
    running, ended = clock.iso(times.running), clock.iso(times.ended)

    def entry(start: _U8, end: _U8 | None, status: bytes = b"") -> list[_Part]:
        closing = [b'"', end, b'"'] if end is not None else [b'""']
        tail = b',"Status":"' + status + b'"},' if status else b","
        return [b'{"StartTime":"', start, b'","EndTime":', *closing, tail]

    layouts: list[list[_Part]] = [
        entry(created, None),  # creating
        entry(submitted, None),  # waiting
        [*entry(submitted, running, b"Queuing"), *entry(running, None)],  # active
        [  # reserving
            *entry(submitted, running, b"Queuing"),
            *entry(running, ended, b"Running"),
            *entry(ended, None),
        ],
        [  # finished
            *entry(submitted, running, b"Queuing"),
            *entry(running, ended, b"Running"),
            *entry(ended, ended),
        ],
        [*entry(submitted, ended, b"Queuing"), *entry(ended, ended)],  # finished, never ran
    ]
    phase = np.array([_PHASE[name] for name in STATUSES], dtype=np.int64)[block.status]
    choice = np.where((phase == _FINISHED) & ~times.ran, 5, phase)
    return _assemble([[b',"StatusHistory":[', *layout] for layout in layouts], choice)


def _joined(pieces: Sequence[pl.Series], rows: NDArray[np.intp], total: int) -> pl.Series:
    """The concatenation of ``pieces`` (given for ``rows`` only); null on every other row."""
    frame = pl.DataFrame({f"p{k}": piece for k, piece in enumerate(pieces)})
    text = frame.select(pl.concat_str(frame.columns)).to_series()
    return pl.repeat(None, total, dtype=pl.String, eager=True).scatter(rows, text)


def _pod_body(
    block: _Block,
    stream: str,
    *,
    rows: NDArray[np.intp],
    start: _I64,
    finish: _I64,
    region: _I64,
) -> tuple[pl.Series, _U8]:
    """The fixed-width members of pods of ``rows``, and their IPs."""
    ip = _ips(block.draws.raw(f"{stream}.ip")[rows])
    created = np.maximum(start - 4, block.times.created[rows])
    parts: list[_Part] = [
        b',"PodUid":"', _uuids(block.draws.raw(f"{stream}.uid", 2)[rows]),
        b'","Ip":"', ip, b'","NodeName":"', _REGION_TEXT[region], b".", ip,
        b'","GmtCreateTime":"', block.clock.iso(created),
        b'","GmtStartTime":"', block.clock.iso(start),
        b'","GmtFinishTime":',
    ]  # fmt: skip
    finished: list[_Part] = [b'"', block.clock.iso(finish), b'"']
    pod_ip: list[_Part] = [b',"PodIp":"', ip, b'"']
    layouts: list[list[_Part]] = [
        [*parts, *finished],
        [*parts, b'""'],
        [*parts, *finished, *pod_ip],
        [*parts, b'""', *pod_ip],
    ]
    with_pod_ip = _unit(block.draws.raw(f"{stream}.pod_ip")[rows, 0]) < 0.3
    choice = (~block.times.finished[rows]).astype(np.int64) + 2 * with_pod_ip
    return _assemble(layouts, choice), ip


def _pod_pieces(block: _Block, roles: _I64, region: _I64, restarts: _I64) -> list[pl.Series]:
    """Pods (one per role; the first with its HistoryPods) and NodeNames, closing the job.

    Jobs that never ran, and finished jobs older than ``_POD_RETENTION``, list no pods. A pod
    that restarted ``h`` times keeps ``min(h, 3)`` earlier incarnations, nested: the run is cut
    into ``h + 1`` equal spans and the oldest incarnation ran first.
    """
    draws, times, platform = block.draws, block.times, block.platform
    listed = times.ran & (~times.finished | (block.window.end - times.ended <= _POD_RETENTION))
    state = np.array([_POD_STATE_OF.get(name, 0) for name in STATUSES], dtype=np.int64)
    state = state[block.status]
    evicted = (block.status == STATUSES.index("Failed")) & draws.chance("pods.evicted", 0.2)
    state = np.where(evicted, _EVICTED, state)
    run_end = np.where(times.ended >= 0, times.ended, block.window.end)
    span = np.maximum(run_end - times.running, 0)
    # A quarter of the multi-role jobs list every role's pod, the others only the first role's
    # (listing them all would add half to the size of the average job).
    every_role = draws.chance("pods.every_role", 0.25)
    extra = draws.pick("pods.extra", _alias([w for _, w in _POD_EXTRAS]))
    pieces = []
    first_ip = np.zeros((draws.count, 14), dtype=np.uint8)
    for k in range(_MAX_ROLES):
        rows = np.flatnonzero(listed & (roles[:, k] >= 0) & (every_role | (k == 0)))
        start = times.running[rows]
        if k == 0:  # the current incarnation started at the last restart
            start = start + span[rows] * restarts[rows] // (restarts[rows] + 1)
        body, ip = _pod_body(
            block, f"pod{k}", rows=rows, start=start, finish=times.ended[rows], region=region[rows]
        )
        pod = [
            _text([b',"Pods":[{"PodId":"' if k == 0 else b',{"PodId":"', block.job_id[rows]]),
            _pick(platform.pod_roles, _pod_role(roles[rows, k], state[rows], extra[rows])),
            body,
        ]
        if k == 0:
            first_ip[rows] = ip
            pod.append(
                _history_pods(
                    block,
                    rows=rows,
                    region=region[rows],
                    restarts=restarts,
                    span=span,
                    role=roles[rows, 0],
                )
            )
        else:
            pod.append(pl.repeat(',"HistoryPods":[]}', len(rows), eager=True))
        pieces.append(_joined(pod, rows, draws.count))
    node: list[_Part] = [b'],"NodeNames":["', _REGION_TEXT[region], b".", first_ip, b'"]}']
    pieces.append(_assemble([node, [b',"Pods":[]}']], (~listed).astype(np.int64)))
    return pieces


def _pod_role(role: _I64, state: _I64 | int, extra: _I64 | int) -> _I64:
    """Index into ``_Platform.pod_roles``."""
    return (role * len(_POD_STATES) + state) * len(_POD_EXTRAS) + extra


def _history_pods(
    block: _Block,
    *,
    rows: NDArray[np.intp],
    region: _I64,
    restarts: _I64,
    span: _I64,
    role: _I64,
) -> pl.Series:
    """``HistoryPods`` of the first pods (of ``rows``), nested, closing the pods."""
    empty = ',"HistoryPods":[]'
    result = pl.repeat(empty + "}", len(rows), eager=True)
    restarted = np.flatnonzero(restarts[rows] > 0)
    if len(restarted) == 0:
        return result
    jobs = rows[restarted]
    running, total = block.times.running[jobs], restarts[jobs] + 1
    columns = {
        "head": _text([b'{"PodId":"', block.job_id[jobs]]),
        "role": _pick(block.platform.pod_roles, _pod_role(role[restarted], 3, 0)),
        "depth": pl.Series(np.minimum(restarts[jobs], _HISTORY_DEPTH)),
    }
    for level in range(1, _HISTORY_DEPTH + 1):
        # Level 1 ran just before the current pod: from restart h - 1 to restart h.
        before = np.maximum(restarts[jobs] - level, 0)
        start = running + span[jobs] * before // total
        finish = running + span[jobs] * (before + 1) // total
        stream = f"history{level}"
        body, _ = _pod_body(
            block, stream, rows=jobs, start=start, finish=finish, region=region[restarted]
        )
        columns[f"body{level}"] = body
    inner: pl.Expr = pl.lit(empty)
    for level in range(_HISTORY_DEPTH, 0, -1):
        pod = pl.concat_str("head", "role", f"body{level}", inner, pl.lit("}"))
        inner = (
            pl.when(pl.col("depth") >= level)
            .then(pl.concat_str(pl.lit(',"HistoryPods":['), pod, pl.lit("]")))
            .otherwise(pl.lit(empty))
        )
    text = pl.DataFrame(columns).select(pl.concat_str(inner, pl.lit("}"))).to_series()
    return result.scatter(restarted, text)


def _job_block(
    seed: int, first: int, count: int, window: _Window, profile: str = "default"
) -> pl.Series:
    """The JSON text of the jobs ``first, ..., first + count - 1``."""
    platform = _platform(profile)
    draws = _Draws(seed, first, count)
    clock = _Clock(window)
    created = _created(draws, window)
    status = _statuses(draws, created, window)
    times = _times(draws, created, status, window)
    block = _Block(draws, platform, window, clock, times, status, _job_ids(draws, clock, created))

    user = draws.pick("user", platform.user_weights)
    business = np.where(
        draws.chance("settings.service_account", 0.12),
        1 + draws.below("settings.service", _SERVICE_ACCOUNTS),
        0,
    )
    workspace = np.where(
        draws.chance("workspace.home", 0.8),
        platform.user_home[user],
        draws.pick("workspace", platform.workspace_weights),
    )
    weights = platform.placement_weights[workspace]
    entry = (draws.uniform("placement")[:, None] * weights[:, -1:] >= weights).sum(axis=1)
    placement = platform.placement_start[workspace] + entry
    public = platform.placement_public[placement]
    with_vpc = platform.workspace_vpc[workspace] & draws.chance("user_vpc", 0.8)
    oversold = np.where(public, 0, draws.pick("oversold", _alias([w for _, w in _OVERSOLD])))
    job_type = draws.pick("job_type", platform.job_type_weights)
    template = platform.templates.pick(draws, "template", job_type * 2 + public)
    restarts = np.where(times.ran, draws.pick("restarts", _alias(_RESTARTS)), 0)
    restarts = np.where(status == STATUSES.index("Restarting"), np.maximum(restarts, 1), restarts)
    high = platform.high
    if high is None:
        name = draws.pick("name", platform.name_weights)
        suffix = draws.pick("name.suffix", platform.suffix_weights)
        names = [_pick(platform.display_names, name * len(platform.suffix_weights.keep) + suffix)]
        users = [_pick(platform.users, user * (1 + _SERVICE_ACCOUNTS) + business)]
    else:
        names = _display_name_pieces(block, high)
        own_or_service = np.where(business > 0, len(platform.user_home) + business - 1, user)
        users = [_pick(platform.users, user), _pick(high.business, own_or_service)]
    pieces = [
        _head(block, restarts),
        *names,
        _pick(platform.templates.fragments, template),
        *users,
        *_settings_pieces(block, oversold),
        _pick(platform.placements, 2 * placement + with_vpc),
        _pick(platform.policy_flags, _policy_flags(draws, platform, user, oversold)),
        _pick(platform.code.fragments, platform.code.pick(draws, "code", job_type)),
        _pick(platform.extras.fragments, draws.pick("extras", platform.extras.weights)),
        _history(block),
        _pick(platform.statuses.fragments, platform.statuses.pick(draws, "status.reason", status)),
        *_pod_pieces(
            block,
            platform.template_roles[template],
            platform.workspace_region[workspace],
            restarts,
        ),
    ]
    frame = pl.DataFrame({f"p{k}": piece for k, piece in enumerate(pieces)})
    return frame.select(pl.concat_str(frame.columns, ignore_nulls=True).alias("job")).to_series()


# =============================================================================================
# Public API


def _check_profile(profile: str) -> None:
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}, not {profile!r}")


def _check_count(count: int, seed: int) -> None:
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"count must be a non-negative integer, not {count!r}")
    if count > _ID_SPACE:
        raise ValueError(f"count must be at most {_ID_SPACE} (unique JobIds), not {count}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, not {seed!r}")


def iter_line_chunks(
    count: int,
    *,
    seed: int = 0,
    start: datetime | None = None,
    end: datetime | None = None,
    chunk_size: int = 100_000,
    profile: str = "default",
) -> Iterator[pl.Series]:
    """Generate ``count`` synthetic jobs as JSON text, ``chunk_size`` jobs at a time.

    Parameters
    ----------
    count : int
        How many jobs.
    seed : int, default 0
        Non-negative; the same seed always gives the same jobs.
    start, end : datetime, optional
        Timezone-aware bounds of the jobs' ``GmtCreateTime`` (inclusive, whole seconds).
        ``end`` defaults to :data:`DEFAULT_END`, ``start`` to ``end - DEFAULT_SPAN``.
    chunk_size : int, default 100_000
        Jobs per yielded Series (the last one may be shorter).
    profile : {"default", "high-cardinality"}
        The platform the jobs come from (:data:`PROFILES`, see the module docstring):
        ``"high-cardinality"`` makes names, users, workspaces and tags nearly unique.

    Yields
    ------
    polars.Series
        Utf8 Series named ``job``: one compact JSON object per job, wire-shaped (PascalCase
        keys, as ``ListJobs`` returns them). Job ``i`` is the same whatever ``chunk_size``.

    Raises
    ------
    ValueError
        For a negative or non-integer ``count``, ``seed`` or ``chunk_size``, naive datetimes,
        ``start`` after ``end``, or an unknown ``profile``.
    """
    _check_count(count, seed)
    _check_profile(profile)
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, not {chunk_size!r}")
    window = _window(start, end)
    return _chunks(count, seed, window, chunk_size, profile)


def _chunks(
    count: int, seed: int, window: _Window, chunk_size: int, profile: str
) -> Iterator[pl.Series]:
    """Chunks of ``chunk_size`` jobs, each made of blocks generated by a small thread pool.

    numpy and polars release the GIL, so blocks are built concurrently; they are collected in
    order, a few ahead of the consumer, so memory stays bounded.
    """
    _platform(profile)  # build the catalogues once, before the threads need them
    plan = (
        (chunk, first, min(_BLOCK_ROWS, chunk_end - first))
        for chunk, chunk_start in enumerate(range(0, count, chunk_size))
        for chunk_end in [min(chunk_start + chunk_size, count)]
        for first in range(chunk_start, chunk_end, _BLOCK_ROWS)
    )
    workers = _WORKERS
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque[tuple[int, Future[pl.Series]]] = deque()
        blocks: list[pl.Series] = []
        current = 0
        for chunk, first, size in plan:
            pending.append((chunk, pool.submit(_job_block, seed, first, size, window, profile)))
            if len(pending) <= workers:
                continue
            chunk_done, future = pending.popleft()
            if chunk_done != current:
                yield _concat(blocks)
                blocks, current = [], chunk_done
            blocks.append(future.result())
        for chunk_done, future in pending:
            if chunk_done != current:
                yield _concat(blocks)
                blocks, current = [], chunk_done
            blocks.append(future.result())
        if blocks:
            yield _concat(blocks)


def _concat(blocks: list[pl.Series]) -> pl.Series:
    return blocks[0] if len(blocks) == 1 else pl.concat(blocks, rechunk=False)


def generate_lines(
    count: int,
    *,
    seed: int = 0,
    start: datetime | None = None,
    end: datetime | None = None,
    profile: str = "default",
) -> pl.Series:
    """Generate ``count`` synthetic jobs as JSON text.

    Parameters
    ----------
    count : int
        How many jobs; a million take a few seconds.
    seed : int, default 0
        Non-negative; the same seed always gives the same jobs.
    start, end : datetime, optional
        Timezone-aware bounds of the jobs' ``GmtCreateTime``; see :func:`iter_line_chunks`.
    profile : {"default", "high-cardinality"}
        The platform the jobs come from; see :func:`iter_line_chunks`.

    Returns
    -------
    polars.Series
        Utf8 Series named ``job``, one compact JSON object per job; equal to the concatenation
        of :func:`iter_line_chunks` for any chunk size.

    Examples
    --------
    >>> lines = generate_lines(3, seed=1)
    >>> lines.len()
    3
    >>> lines[0].startswith('{"JobId":"dlc-')
    True
    """
    chunks = list(iter_line_chunks(count, seed=seed, start=start, end=end, profile=profile))
    if not chunks:
        return pl.Series("job", [], dtype=pl.String)
    return pl.concat(chunks, rechunk=False) if len(chunks) > 1 else chunks[0]


def generate_records(
    count: int,
    *,
    seed: int = 0,
    start: datetime | None = None,
    end: datetime | None = None,
    profile: str = "default",
) -> list[dict[str, Any]]:
    """Generate ``count`` synthetic jobs as dicts (for small counts: tests, examples).

    Parameters
    ----------
    count, seed, start, end, profile
        As for :func:`generate_lines`.

    Returns
    -------
    list of dict
        The parsed jobs, wire-shaped (PascalCase keys).
    """
    lines = generate_lines(count, seed=seed, start=start, end=end, profile=profile)
    return [orjson.loads(line) for line in lines]


def write_ndjson(
    path: str | os.PathLike[str],
    count: int,
    *,
    seed: int = 0,
    start: datetime | None = None,
    end: datetime | None = None,
    on_progress: Callable[[int], None] | None = None,
    profile: str = "default",
) -> int:
    """Write ``count`` synthetic jobs to ``path`` as NDJSON (one job per line, UTF-8).

    Parameters
    ----------
    path : str or os.PathLike
        The file to create or overwrite.
    count, seed, start, end, profile
        As for :func:`generate_lines`.
    on_progress : callable, optional
        Called after every chunk with the number of jobs written so far.

    Returns
    -------
    int
        The number of jobs written (``count``).
    """
    written = 0
    with open(path, "wb") as sink:
        chunks = iter_line_chunks(count, seed=seed, start=start, end=end, profile=profile)
        for chunk in chunks:
            # Lines hold no raw newlines or quotes to escape at this level: write them verbatim.
            pl.DataFrame({"job": chunk}).write_csv(sink, include_header=False, quote_style="never")
            written += chunk.len()
            if on_progress is not None:
                on_progress(written)
    return written
