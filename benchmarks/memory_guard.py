"""Stop the benchmark before the machine runs out of memory.

A snapshot build needs several times the memory of the snapshot it makes, and the machine may be
shared: rather than let the kernel's OOM killer pick a victim (possibly someone else's process),
the benchmark exits when ``MemAvailable`` falls below a floor (``JOBQUERY_BENCH_MIN_FREE_GIB``,
default 1 GiB), saying so.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from types import TracebackType

EXIT_CODE = 75  # EX_TEMPFAIL: try again when the machine has room


def available_gib() -> float | None:
    """``MemAvailable`` from /proc/meminfo, in GiB (None where there is no /proc)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable"):
                return int(line.split()[1]) / 2**20
    except OSError:
        return None
    return None


class MemoryGuard:
    """A background thread that ends the process when available memory drops below a floor."""

    def __init__(self, floor_gib: float | None = None, interval: float = 0.25) -> None:
        if floor_gib is None:
            floor_gib = float(os.environ.get("JOBQUERY_BENCH_MIN_FREE_GIB", "1.0"))
        self.floor_gib = floor_gib
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="memory-guard", daemon=True)

    def __enter__(self) -> MemoryGuard:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            available = available_gib()
            if available is not None and available < self.floor_gib:
                sys.stderr.write(
                    f"\nbenchmark stopped: only {available:.1f} GiB of memory left "
                    f"(floor {self.floor_gib} GiB, JOBQUERY_BENCH_MIN_FREE_GIB); "
                    "run it again when the machine has room\n"
                )
                sys.stderr.flush()
                os._exit(EXIT_CODE)
