"""A column's dictionary: its distinct values, the code of each row's value, and postings.

The type lives apart from :mod:`jobquery.snapshot.derived` (which builds dictionaries) so that
:mod:`jobquery.snapshot.index`, which holds them, imports no builder.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from jobquery.snapshot.text_bytes import Mask, ValueTexts

Rows = npt.NDArray[np.int64]
Codes = npt.NDArray[np.uint8] | npt.NDArray[np.uint16] | npt.NDArray[np.int32]


@dataclass(frozen=True)
class ColumnDictionary:
    """The distinct values of one column of ``snapshot.live``, with codes and postings.

    Attributes
    ----------
    values : polars.DataFrame
        One column, named like the source column: the distinct values (null included); the
        code of a value is its row here.
    codes : numpy.ndarray
        Per row of ``live``, the code of its value (uint8, uint16 or int32: the narrowest
        that holds every code).
    postings : numpy.ndarray
        The rows of ``live`` grouped by code, ascending within a code (int64).
    offsets : numpy.ndarray
        The rows of code ``k`` are ``postings[offsets[k]:offsets[k + 1]]``.
    """

    values: pl.DataFrame
    codes: Codes
    postings: Rows
    offsets: npt.NDArray[np.int64]

    @property
    def size(self) -> int:
        """The number of distinct values."""
        return self.values.height

    @functools.cached_property
    def numbers(self) -> tuple[npt.NDArray[np.float64], Mask] | None:
        """For a Float64 column, the distinct values as numpy floats (nulls as 0.0) and which
        of them are null; None for any other column. Computed once, kept with the dictionary."""
        column = self.values.to_series()
        if column.dtype != pl.Float64:
            return None
        return column.fill_null(0.0).to_numpy(), column.is_null().to_numpy()

    @functools.cached_property
    def texts(self) -> ValueTexts | None:
        """For a String column, the distinct values as UTF-8 bytes (:class:`ValueTexts`);
        None for any other column. Computed once, kept with the dictionary."""
        column = self.values.to_series()
        if column.dtype != pl.String:
            return None
        return ValueTexts.of(column)

    def count(self, table: Mask) -> int:
        """How many rows have a value for which ``table`` (one flag per code) is true."""
        return int(np.diff(self.offsets)[table].sum())

    def unordered_rows_between(
        self, codes: npt.NDArray[np.int64], start: int, stop: int, *, max_slices: int
    ) -> Rows:
        """The rows in ``start..stop`` whose code is one of ``codes`` (many of them: a few are
        cut by :meth:`postings_between`), in no particular order: sorting many rows is costly,
        so callers sort what is left after their other filters."""
        # up to a few thousand codes, their postings are copied slice by slice, which is faster
        # than a gather by index
        if len(codes) <= max_slices:
            firsts, lasts = self.offsets[codes].tolist(), self.offsets[codes + 1].tolist()
            rows = np.concatenate(
                [self.postings[first:last] for first, last in zip(firsts, lasts, strict=True)]
            )
        else:
            sizes = self.offsets[codes + 1] - self.offsets[codes]
            ends = np.cumsum(sizes)
            where = np.arange(int(ends[-1]), dtype=np.int64) + np.repeat(
                self.offsets[codes] - (ends - sizes), sizes
            )
            rows = self.postings[where]
        if start > 0 or stop < len(self.codes):
            rows = rows[(rows >= start) & (rows < stop)]
        return rows

    def postings_between(self, codes: npt.NDArray[np.int64], start: int, stop: int) -> list[Rows]:
        """Per code (those with any), its rows in ``start..stop``: ascending views of
        ``postings``, found by a binary search per code, not merged."""
        pieces = []
        for code in codes.tolist():
            rows = self.postings[self.offsets[code] : self.offsets[code + 1]]
            low, high = np.searchsorted(rows, (start, stop))
            if high > low:
                pieces.append(rows[low:high])
        return pieces
