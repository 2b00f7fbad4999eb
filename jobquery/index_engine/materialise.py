"""The last step: the stored job dicts of a page's rows, parsed from their JSON texts.

Filtering, ordering and paging run on narrow index columns; full job dicts are built only for
the rows of the requested page.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import orjson

from jobquery.snapshot import Snapshot, may_hold_long_integer
from jobquery.snapshot.derived import job_texts
from jobquery.snapshot.text_bytes import LongIntegerNotes


def long_integer_notes(snapshot: Snapshot) -> LongIntegerNotes:
    """The notes of a snapshot (made on first use, every row not checked yet)."""
    return snapshot.index.long_integer_notes.get(lambda: LongIntegerNotes(snapshot.live.height))


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
