"""The structures a snapshot derives from its columns on first use: one typed index per snapshot.

A snapshot never changes, so anything computed from its columns stays true for its lifetime,
and dies with it (a new version starts with an empty index). :class:`SnapshotIndex` holds each
kind of structure in a map of its own, named and typed: rank columns, column dictionaries,
rank orders, column arrays, the page-text reader (:mod:`jobquery.snapshot.derived`) and the
engine's lookup indexes. Each value is built once, whichever thread asks first, the others
waiting for it (:class:`~jobquery.snapshot.lazy.Structures`): a store's background warm-up and
its first queries share the work. Beside them: the columns queries used (carried over to the
next version) and the small tables queries remember, least recently used dropped first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, TypeVar, cast

import numpy as np
import numpy.typing as npt

from jobquery.snapshot.lazy import Once, Structures

if TYPE_CHECKING:
    from jobquery.snapshot.dictionary import ColumnDictionary, Rows
    from jobquery.snapshot.text_bytes import JobTexts, LongIntegerNotes

#: The type of a lookup index, fixed by its kind (``"trigrams"``, ``"hashes"``).
Lookup = TypeVar("Lookup")


class RememberedTables:
    """Small results queries leave behind (a predicate's table of codes), by key.

    Dashboards repeat the same filters; past a bound, the least recently used table goes first.
    """

    def __init__(self) -> None:
        self._tables: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def recall(self, key: Hashable) -> Any:
        """The table remembered under ``key``, or None."""
        with self._lock:
            found = self._tables.get(key)
            if found is not None:
                self._tables.move_to_end(key)
            return found

    def remember(self, key: Hashable, value: Any, *, size: int) -> None:
        """Keep ``value`` under ``key``, dropping the least recently used beyond ``size``."""
        with self._lock:
            self._tables[key] = value
            self._tables.move_to_end(key)
            while len(self._tables) > size:
                self._tables.popitem(last=False)

    def clear(self) -> None:
        """Forget every table."""
        with self._lock:
            self._tables.clear()

    def __len__(self) -> int:
        return len(self._tables)


class SnapshotIndex:
    """What a snapshot derived from its columns so far (see the module docstring).

    Attributes
    ----------
    ranks : Structures
        Each row's rank in the total order of a sort key (uint32), by sort key.
    dictionaries : Structures
        The dictionary of a column of ``live`` (None: too many distinct values), by column.
    rank_orders : Structures
        The rows of ``live`` ascending by a rank column, by rank column.
    ranks_in_order : Structures
        The ranks of a rank order's rows, ascending, by rank column.
    arrays : Structures
        A column of ``live`` as a numpy array, by column.
    job_texts : Once
        The page-text reader of ``live``.
    long_integer_notes : Once
        Per row of ``live``, whether its text may hold an integer beyond 64 bits (noted as
        pages are served).
    remembered : RememberedTables
        Small results queries left behind.
    """

    def __init__(self) -> None:
        self.ranks: Structures[str, npt.NDArray[np.uint32]] = Structures()
        self.dictionaries: Structures[str, ColumnDictionary | None] = Structures()
        self.rank_orders: Structures[str, Rows] = Structures()
        self.ranks_in_order: Structures[str, npt.NDArray[Any]] = Structures()
        self.arrays: Structures[str, npt.NDArray[Any]] = Structures()
        self.job_texts: Once[JobTexts] = Once()
        self.long_integer_notes: Once[LongIntegerNotes] = Once()
        self.remembered = RememberedTables()
        self._lookups: Structures[tuple[str, str], object] = Structures()
        self._used: dict[str, None] = {}

    def lookup(self, kind: str, column: str, build: Callable[[], Lookup]) -> Lookup:
        """The lookup index of a kind on a column, built by ``build()`` on first use."""
        # a kind always builds the same type, so the value found is the one ``build`` makes
        return cast(Lookup, self._lookups.get((kind, column), build))

    def lookups(self) -> list[tuple[tuple[str, str], object]]:
        """The lookup indexes built so far, as ``((kind, column), index)``, in build order."""
        return self._lookups.items()

    def kept(self) -> list[object]:
        """Every structure built so far and kept for later queries (ranks, dictionaries,
        rank orders, column arrays, lookup indexes): what the index adds to the snapshot's
        memory. Remembered tables and the page-text reader are left out."""
        held: list[Structures[Any, Any]] = [
            self.ranks,
            self.dictionaries,
            self.rank_orders,
            self.ranks_in_order,
            self.arrays,
            self._lookups,
        ]
        return [value for structures in held for _, value in structures.items()]

    def note_used(self, column: str) -> None:
        """Note that queries asked for the dictionary of a column."""
        self._used[column] = None

    def used_columns(self) -> list[str]:
        """The columns noted by :meth:`note_used`, in the order first noted."""
        return list(self._used)
