"""Structures computed from an immutable snapshot on first use, each exactly once.

A snapshot never changes, so anything derived from it (a rank column, a column dictionary, a
rank order) stays true for its lifetime. :class:`Structures` holds such values by key: the
first caller builds a value, and any thread asking for the same key meanwhile waits for that
build instead of starting its own — a store's background warm-up and its first queries share
the work, never repeat it, and never see half a structure (a value is published whole, after
its build returns). Different keys build in parallel. :class:`Once` is the same for a single
value.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

Key = TypeVar("Key", bound=Hashable)
Value = TypeVar("Value")


class Structures(Generic[Key, Value]):
    """Values built on first use, once per key (thread-safe; see the module docstring)."""

    def __init__(self) -> None:
        self._values: dict[Key, Value] = {}
        self._locks: dict[Key, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: Key, build: Callable[[], Value]) -> Value:
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

    def peek(self, key: Key) -> Value | None:
        """The value of ``key`` if it was built, else None (never builds)."""
        return self._values.get(key)

    def put(self, key: Key, value: Value) -> None:
        """Publish a value built elsewhere (unless one is there already)."""
        with self._guard:
            self._values.setdefault(key, value)

    def __contains__(self, key: object) -> bool:
        """Whether a value of ``key`` was built (or put)."""
        return key in self._values

    def items(self) -> list[tuple[Key, Value]]:
        """The values built so far with their keys, in the order they were published."""
        return list(self._values.items())


class Once(Generic[Value]):
    """One value built on first use, once (thread-safe, as :class:`Structures`)."""

    def __init__(self) -> None:
        self._value: Structures[None, Value] = Structures()

    def get(self, build: Callable[[], Value]) -> Value:
        """The value, built by ``build()`` if no thread has built it yet."""
        return self._value.get(None, build)

    def peek(self) -> Value | None:
        """The value if it was built, else None (never builds)."""
        return self._value.peek(None)
