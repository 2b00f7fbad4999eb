"""Structures computed from an immutable snapshot on first use, each exactly once.

A snapshot never changes, so anything derived from it (a rank column, a column dictionary, a
rank order) stays true for its lifetime. :class:`Structures` holds such values by name: the
first caller builds a value, and any thread asking for the same name meanwhile waits for that
build instead of starting its own — a store's background warm-up and its first queries share
the work, never repeat it, and never see half a structure (a value is published whole, after
its build returns). Different names build in parallel.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any


class Structures:
    """Values built on first use, once per key (thread-safe; see the module docstring)."""

    def __init__(self) -> None:
        self._values: dict[Hashable, Any] = {}
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """The value of ``key``, built by ``build()`` if no thread has built it yet.

        A build that raises publishes nothing: the next caller builds again. ``build`` must
        not ask for ``key`` itself (other keys are fine).
        """
        try:
            return self._values[key]
        except KeyError:
            pass
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            try:
                return self._values[key]
            except KeyError:
                value = build()
                self._values[key] = value
                return value

    def peek(self, key: Hashable) -> Any:
        """The value of ``key`` if it was built, else None (never builds)."""
        return self._values.get(key)

    def put(self, key: Hashable, value: Any) -> None:
        """Publish a value built elsewhere (unless one is there already)."""
        with self._guard:
            self._values.setdefault(key, value)
