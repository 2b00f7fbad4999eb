"""Text built in numpy: timestamps, ids, UIDs, IPs, and blocks of fixed-width members.

A million jobs cannot afford a Python loop per job: their fixed-width parts are byte
matrices, joined row by row into one Arrow string-view block.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, Final

import numpy as np
import orjson
import polars as pl
import pyarrow as pa
from numpy.typing import NDArray

from jobquery.synth.draws import _I64, _U8, _U64, _Mask
from jobquery.synth.window import _Window

_ALNUM: Final = np.frombuffer(b"0123456789abcdefghijklmnopqrstuvwxyz", dtype=np.uint8)


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _members(mapping: dict[str, Any]) -> str:
    """``,"A":1,"B":2``: object members, each with its leading comma."""
    return "".join(f",{_json(key)}:{_json(value)}" for key, value in mapping.items())


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
