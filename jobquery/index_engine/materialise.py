"""The last step: the stored job dicts of a page's rows, parsed from their JSON texts.

Filtering, ordering and paging run on narrow index columns; full job dicts are built only for
the rows of the requested page.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from jobquery.derived import job_texts
from jobquery.snapshot import Snapshot, may_hold_long_integer

#: The key of a snapshot's :class:`LongIntegerNotes` in ``snapshot.structures``.
LONG_INTEGER_NOTES = "long_integer_notes"


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


def long_integer_notes(snapshot: Snapshot) -> LongIntegerNotes:
    """The notes of a snapshot (made on first use, every row not checked yet)."""
    found: LongIntegerNotes = snapshot.structures.get(
        LONG_INTEGER_NOTES,
        lambda: LongIntegerNotes(snapshot.live.height),
    )
    return found


def materialise(snapshot: Snapshot, rows: list[int]) -> list[dict[str, Any]]:
    """The stored job dicts of some rows of ``snapshot.live``, in the given order.

    Each text is parsed as :func:`~jobquery.snapshot.load_job` does: by orjson, or by the
    standard library when it may hold an integer beyond 64 bits (decided once per row, noted
    in :class:`LongIntegerNotes`).
    """
    if not rows:
        return []
    taken = job_texts(snapshot).take(rows)
    notes = long_integer_notes(snapshot)
    checked = notes.of(rows)
    unknown = np.flatnonzero(checked == 0)
    if len(unknown):
        # one test of all of them joined by a space (no run of digits crosses it): a page
        # without 19 digits in a row anywhere, the usual case, costs one pass
        if may_hold_long_integer(b" ".join(taken[index] for index in unknown.tolist())):
            for index in unknown.tolist():
                checked[index] = 2 if may_hold_long_integer(bytes(taken[index])) else 1
        else:
            checked[unknown] = 1
        notes.note(np.asarray(rows)[unknown], checked[unknown])
    return [
        json.loads(bytes(text)) if flag == 2 else orjson.loads(text)
        for text, flag in zip(taken, checked.tolist(), strict=True)
    ]
