"""jobquery: the PAI-DLC ListJobs API answered in-process over snapshots of job records.

The public API is importable from here::

    from jobquery import JobStore, ListJobsRequest, Caller, InvalidParameterError

Names are loaded on first use (PEP 562): ``import jobquery`` alone imports none of the heavy
libraries (Polars, pyarrow, pydantic), so the command line starts without paying for the
parts it does not use. The ``TYPE_CHECKING`` imports below tell type checkers and editors
what each name is.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jobquery.errors import (
        ApiError,
        DumpFormatError,
        InternalError,
        InvalidParameterError,
        JobQueryError,
        PageTokenError,
    )
    from jobquery.io.dumps import Skipped
    from jobquery.request import Caller, ListJobsRequest
    from jobquery.response import ListJobsResponse
    from jobquery.snapshot import Snapshot
    from jobquery.store import JobStore, StoreOptions

__version__ = "0.1.0"

#: Each public name and the module that defines it.
_LOCATIONS = {
    "ApiError": "jobquery.errors",
    "Caller": "jobquery.request",
    "DumpFormatError": "jobquery.errors",
    "InternalError": "jobquery.errors",
    "InvalidParameterError": "jobquery.errors",
    "JobQueryError": "jobquery.errors",
    "JobStore": "jobquery.store",
    "ListJobsRequest": "jobquery.request",
    "ListJobsResponse": "jobquery.response",
    "PageTokenError": "jobquery.errors",
    "Skipped": "jobquery.io.dumps",
    "Snapshot": "jobquery.snapshot",
    "StoreOptions": "jobquery.store",
}

__all__ = [
    "ApiError",
    "Caller",
    "DumpFormatError",
    "InternalError",
    "InvalidParameterError",
    "JobQueryError",
    "JobStore",
    "ListJobsRequest",
    "ListJobsResponse",
    "PageTokenError",
    "Skipped",
    "Snapshot",
    "StoreOptions",
    "__version__",
]


def __getattr__(name: str) -> Any:
    """Import a public name from its module the first time it is asked for."""
    module = _LOCATIONS.get(name)
    if module is None:
        # an AttributeError lets ``from jobquery import reference`` fall back to the submodule
        raise AttributeError(f"module 'jobquery' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups are plain module attributes
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
