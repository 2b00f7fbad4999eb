"""A small timing loop: warm-up runs, then the median of repeated runs within a time budget."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Timing:
    """Seconds per call: the median, the fastest, the slowest, and how many timed runs."""

    median: float
    best: float
    worst: float
    runs: int


def measure(
    call: Callable[[], object],
    *,
    warmup: int = 1,
    min_runs: int = 5,
    max_runs: int = 200,
    budget: float = 2.0,
) -> Timing:
    """Time ``call``: ``warmup`` untimed runs, then at least ``min_runs`` and at most
    ``max_runs`` timed runs, stopping once ``budget`` seconds of timed runs are spent.

    The garbage collector is paused while timing, as pytest-benchmark and timeit do, so a
    collection triggered by one engine's garbage is not billed to the next call.
    """
    for _ in range(warmup):
        call()
    samples: list[float] = []
    enabled = gc.isenabled()
    gc.disable()
    try:
        spent = 0.0
        while len(samples) < max_runs and (len(samples) < min_runs or spent < budget):
            began = time.perf_counter()
            call()
            elapsed = time.perf_counter() - began
            samples.append(elapsed)
            spent += elapsed
            if len(samples) % 16 == 0:
                gc.collect()  # outside the timed section: keep memory flat on long loops
    finally:
        if enabled:
            gc.enable()
    return Timing(statistics.median(samples), min(samples), max(samples), len(samples))


def format_seconds(seconds: float) -> str:
    """A duration in the unit that reads best: µs, ms or s, three significant digits."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.3g} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds:.3g} s"
