"""A progress bar on stderr for work that lasts (reading dumps, writing files, caching).

Kept apart from the renderers: it runs on a timer thread and imports rich's progress module
only when a bar is actually shown.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

#: A progress bar shows when the work it follows lasts longer than this (seconds).
BAR_DELAY_SECONDS = 1.0


class ProgressBar:
    """A transient rich progress bar on stderr for work that lasts.

    Nothing shows when stderr is not a terminal, nor before ``delay`` seconds have passed (a
    quick run prints no bar, and does not even import rich's progress module). Amounts are
    bytes (``in_bytes``) or counts; a :meth:`phase` starts the next step, of unknown length
    unless a total is given. Callbacks may come from any thread. ``stream``: where the bar is
    drawn (default stderr).
    """

    def __init__(
        self,
        enabled: bool,
        description: str,
        total: float | None,
        *,
        in_bytes: bool = False,
        delay: float = BAR_DELAY_SECONDS,
        stream: Any = None,
    ) -> None:
        self._enabled = enabled
        self._delay = delay
        self._stream = stream  # default: sys.stderr when shown
        self._description = description
        self._total = total
        self._in_bytes = in_bytes
        self._completed = 0.0
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._progress: Any = None  # a rich Progress once shown
        self._task: Any = None
        self._closed = False

    def __enter__(self) -> ProgressBar:
        if self._enabled:
            self._timer = threading.Timer(self._delay, self._show)
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
            if self._progress is not None:
                self._progress.stop()

    @property
    def shown(self) -> bool:
        """Whether the bar is on the screen."""
        return self._progress is not None

    def _show(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        with self._lock:
            if self._closed:
                return
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[amount]}"),
                TimeElapsedColumn(),
                console=Console(file=self._stream or sys.stderr),
                transient=True,
            )
            self._add_task()
            self._progress.start()

    def _add_task(self) -> None:
        self._task = self._progress.add_task(
            self._description, total=self._total, completed=self._completed, amount=self._amount()
        )

    def _amount(self) -> str:
        if self._total is None and not self._completed:
            return ""  # a step of unknown length that counts nothing: no "0" that never moves
        if self._in_bytes:
            from rich.filesize import decimal

            done = decimal(int(self._completed))
            return done if self._total is None else f"{done} of {decimal(int(self._total))}"
        done = f"{int(self._completed):,}"
        return done if self._total is None else f"{done} of {int(self._total):,}"

    def _refresh(self) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=self._completed, amount=self._amount())

    def advance(self, amount: float) -> None:
        with self._lock:
            self._completed += amount
            self._refresh()

    def update(self, completed: float) -> None:
        with self._lock:
            self._completed = completed
            self._refresh()

    def phase(
        self, description: str, total: float | None = None, *, in_bytes: bool = False
    ) -> None:
        """Go on with the next step: of unknown length (a pulsing bar) unless ``total``."""
        with self._lock:
            self._description, self._total, self._in_bytes = description, total, in_bytes
            self._completed = 0.0
            if self._progress is not None:
                self._progress.update(self._task, visible=False)
                self._add_task()
