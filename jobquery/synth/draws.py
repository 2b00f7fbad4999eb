"""Randomness: every draw is a function of (seed, stream, job index).

Named PCG64 streams advanced to the first job of a block, so that a job does not depend on
the block it is generated in; weighted choices through Walker's alias tables.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

_I64 = NDArray[np.int64]
_F64 = NDArray[np.float64]
_U64 = NDArray[np.uint64]
_U8 = NDArray[np.uint8]
_Mask = NDArray[np.bool_]


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
