"""The window of creation times the jobs are generated in: its defaults and its bounds."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

#: End of the default creation-time window (a job may be created at this very second).
DEFAULT_END: Final = datetime(2026, 11, 28, tzinfo=UTC)
#: Length of the default window: it starts at ``DEFAULT_END - DEFAULT_SPAN``.
DEFAULT_SPAN: Final = timedelta(days=365)


@dataclass(frozen=True)
class _Window:
    start: int  # Unix seconds, both bounds inclusive
    end: int


def _window(start: datetime | None, end: datetime | None) -> _Window:
    end = DEFAULT_END if end is None else end
    start = end - DEFAULT_SPAN if start is None else start
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware datetimes")
    first, last = math.ceil(start.timestamp()), math.floor(end.timestamp())
    if first > last:
        raise ValueError(f"start {start.isoformat()} is after end {end.isoformat()}")
    return _Window(first, last)
