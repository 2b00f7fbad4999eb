"""Reading Arrow string columns as bytes: a search over distinct values, and page texts.

:class:`ValueTexts` holds the distinct values of a String column as one UTF-8 byte array,
so that a substring, a prefix or an equality is tested on all of them at once with numpy.
:class:`JobTexts` reads the job texts of a page straight from their Arrow string views,
without a Polars query per page.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa

from jobquery.snapshot.textcodec import TextCodec

Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class ValueTexts:
    """The values of a String column as one UTF-8 byte array, to test them with numpy.

    A substring, a prefix or an equality is tested on all values at once, much faster than a
    Polars query on them (any Polars query pays for handing work to its threads). Bytes
    compare as Polars compares strings: a UTF-8 needle occurs in a value's bytes exactly when
    it occurs in the value.

    Attributes
    ----------
    data : numpy.ndarray
        The values' bytes, one after the other (uint8).
    offsets : numpy.ndarray
        Value ``k`` is ``data[offsets[k]:offsets[k + 1]]`` (int64, one more than the values).
    null : numpy.ndarray
        Which values are null (they match nothing).
    """

    data: npt.NDArray[np.uint8]
    offsets: npt.NDArray[np.int64]
    null: Mask

    @classmethod
    def of(cls, column: pl.Series) -> ValueTexts:
        """The texts of a String series (copied out of its Arrow buffers)."""
        array = column.to_arrow(compat_level=pl.CompatLevel.oldest())
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks()
        if array.type != pa.large_string():
            array = array.cast(pa.large_string())
        null = column.is_null().to_numpy()
        buffers = array.buffers()
        offsets = np.frombuffer(buffers[1], dtype=np.int64)
        offsets = offsets[array.offset : array.offset + len(array) + 1]
        data = np.empty(0, dtype=np.uint8)
        if buffers[2] is not None and len(array):
            data = np.frombuffer(buffers[2], dtype=np.uint8)[offsets[0] : offsets[-1]].copy()
        return cls(data, offsets - offsets[0], null)

    @property
    def size(self) -> int:
        """The number of values."""
        return len(self.null)

    def contains(self, needle: str) -> Mask:
        """Which values contain ``needle``: its first byte's places, narrowed byte by byte,
        then kept when the match ends inside the value that holds its start."""
        wanted = _utf8(needle)
        if not len(wanted):
            return ~self.null
        data, offsets = self.data, self.offsets
        keep = np.zeros(self.size, dtype=np.bool_)
        if len(wanted) > len(data):
            return keep
        places = np.flatnonzero(data[: len(data) - len(wanted) + 1] == wanted[0])
        for index in range(1, len(wanted)):
            places = places[data[places + index] == wanted[index]]
        owner = np.searchsorted(offsets, places, side="right") - 1
        keep[owner[places + len(wanted) <= offsets[owner + 1]]] = True
        keep &= ~self.null
        return keep

    def starts_with(self, needle: str) -> Mask:
        """Which values start with ``needle``."""
        return self._matching_start(needle, exact=False)

    def equals_any(self, values: Iterable[str]) -> Mask:
        """Which values equal one of ``values``."""
        keep = np.zeros(self.size, dtype=np.bool_)
        for value in values:
            keep |= self._matching_start(value, exact=True)
        return keep

    def _matching_start(self, needle: str, *, exact: bool) -> Mask:
        wanted = _utf8(needle)
        lengths = np.diff(self.offsets)
        codes = np.flatnonzero(lengths == len(wanted) if exact else lengths >= len(wanted))
        starts = self.offsets[codes]
        for index in range(len(wanted)):
            hit = self.data[starts + index] == wanted[index]
            codes, starts = codes[hit], starts[hit]
        keep = np.zeros(self.size, dtype=np.bool_)
        keep[codes] = True
        keep &= ~self.null
        return keep


def _utf8(text: str) -> npt.NDArray[np.uint8]:
    # a lone surrogate encodes to bytes no valid UTF-8 value holds: it matches nothing
    return np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)


@dataclass(frozen=True)
class JobTexts:
    """The ``job_json`` texts of ``live`` read straight from their Arrow string views.

    Gathering a page's texts through Polars costs mostly per-call overhead; slicing the shared
    buffers costs a fraction of it. Compressed texts (``codec``) are decompressed as they are
    taken.
    """

    views: npt.NDArray[np.int32]
    buffers: tuple[memoryview, ...]
    codec: TextCodec | None = None

    @classmethod
    def of(cls, column: pl.Series, codec: TextCodec | None = None) -> JobTexts:
        """The reader of a String (or compressed Binary) column; its buffers are shared."""
        array = column.to_arrow(compat_level=pl.CompatLevel.newest())  # one chunk
        views = np.frombuffer(array.buffers()[1], dtype=np.int32).reshape(-1, 4)
        views = views[array.offset : array.offset + len(array)]
        buffers = tuple(memoryview(buffer) for buffer in array.buffers()[2:])
        return cls(views, buffers, codec)

    def take(self, rows: Iterable[int]) -> Sequence[bytes | memoryview]:
        """The texts of some rows (UTF-8), in the given order."""
        texts: list[bytes | memoryview] = []
        for length, prefix, buffer, offset in self.views[np.asarray(rows)].tolist():
            if length <= _INLINE_VIEW:
                # a short string lives in the view itself, after its length
                inline = np.array([prefix, buffer, offset], dtype=np.int32).tobytes()
                texts.append(inline[:length])
            else:
                texts.append(self.buffers[buffer][offset : offset + length])
        if self.codec is not None:
            return self.codec.decompress_each(texts)
        return texts


#: Arrow string views hold strings up to 12 bytes inline.
_INLINE_VIEW = 12


class LongIntegerNotes:
    """Per row of ``live``, whether its text may hold an integer beyond 64 bits (0: not checked
    yet, 1: no, 2: maybe), so the check runs once per job, not once per page served.

    A mutable memo, on purpose (not a frozen structure written behind its back): pages note
    their rows as they are served. Threads may note the same rows at once: a row's note only
    ever goes from 0 to the one value its text gives, so they write the same value.
    """

    __slots__ = ("_flags",)

    def __init__(self, rows: int) -> None:
        self._flags = np.zeros(rows, dtype=np.int8)

    def of(self, rows: list[int]) -> npt.NDArray[np.int8]:
        """The notes of some rows (a copy)."""
        found: npt.NDArray[np.int8] = self._flags[rows]
        return found

    def note(self, rows: npt.NDArray[np.int64], flags: npt.NDArray[np.int8]) -> None:
        """Note the checks of some rows."""
        self._flags[rows] = flags

    def forget(self) -> None:
        """Back to every row not checked yet (to time a first page again)."""
        self._flags[:] = 0
