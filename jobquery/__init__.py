"""jobquery: the PAI-DLC ListJobs API answered in-process over snapshots of job records."""

from jobquery.errors import (
    DumpFormatError,
    InternalError,
    InvalidParameterError,
    JobQueryError,
)
from jobquery.request import Caller, ListJobsRequest
from jobquery.response import ListJobsResponse

__version__ = "0.1.0"

__all__ = [
    "Caller",
    "DumpFormatError",
    "InternalError",
    "InvalidParameterError",
    "JobQueryError",
    "ListJobsRequest",
    "ListJobsResponse",
    "__version__",
]
