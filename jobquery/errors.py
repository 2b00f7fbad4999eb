"""The errors jobquery raises.

Every error derives from one root, so a caller can catch them all with one clause::

    JobQueryError
    ├── InvalidParameterError (also ValueError)   a request parameter is refused (HTTP 400)
    ├── InternalError                             an unexpected failure inside the engine (HTTP 500)
    ├── DumpFormatError (also ValueError)         a dump file or record cannot be read
    ├── DatasetError                              a job dataset cannot be written or queried
    └── PageTokenError → InvalidParameterError    see ``InvalidParameterError``

Third-party exceptions (pydantic, Polars, Arrow, JSON parsers) are translated at the boundary
with ``raise ... from exc``; they never reach a caller of the public API.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

#: The ``Code`` of a request problem, as the PAI-DLC service sends it.
INVALID_PARAMETER = "InvalidParameter"
#: The ``Code`` of an unexpected failure.
INTERNAL_ERROR = "InternalError"


def new_request_id() -> str:
    """A fresh request id in the service's layout: an upper-case UUID4."""
    return str(uuid.uuid4()).upper()


class JobQueryError(Exception):
    """Root of every error raised by jobquery."""

    _init: tuple[tuple[Any, ...], dict[str, Any]] = ((), {})

    def __new__(cls, *args: Any, **kwargs: Any) -> JobQueryError:
        error = super().__new__(cls, *args)
        # remembered so that errors pickle (for example across worker processes)
        error._init = (args, kwargs)
        return error

    def __reduce__(self) -> tuple[Any, ...]:
        args, kwargs = self._init
        return (_rebuild, (type(self), args, kwargs))


def _rebuild(kind: type[JobQueryError], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    return kind(*args, **kwargs)


class ApiError(JobQueryError):
    """An error the ListJobs service itself could answer with (a status, a code, a message).

    Attributes
    ----------
    status : int
        The HTTP status the service would send.
    code : str
        The API error code (``InvalidParameter``, ``InternalError``).
    message : str
        A human-readable explanation.
    """

    status: int = 500
    code: str = INTERNAL_ERROR

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_wire(self, request_id: str | None = None) -> dict[str, str]:
        """The error body the service sends: ``{"RequestId", "Code", "Message"}``."""
        return {
            "RequestId": request_id or new_request_id(),
            "Code": self.code,
            "Message": self.message,
        }


class InvalidParameterError(ApiError, ValueError):
    """A request parameter is malformed, out of range, or not allowed in this combination.

    Attributes
    ----------
    parameter : str
        The wire name of the offending parameter (``PageSize``, ``Tags``, ...).
    value : object
        The value as it was given (shortened in the message if it is long).
    valid_values : tuple of str, optional
        For enumerated parameters, the accepted values.
    """

    status = 400
    code = INVALID_PARAMETER

    def __init__(
        self,
        parameter: str,
        value: Any,
        reason: str,
        valid_values: Iterable[str] | None = None,
    ) -> None:
        self.parameter = parameter
        self.value = value
        self.reason = reason
        self.valid_values = tuple(valid_values) if valid_values is not None else None
        message = f"Invalid parameter {parameter}={_shorten(value)}: {reason}"
        if self.valid_values:
            message += f" (valid values: {', '.join(self.valid_values)})"
        super().__init__(message)


class PageTokenError(InvalidParameterError):
    """A ``NextToken`` was tampered with, reused with other filters, or has expired."""

    def __init__(self, value: Any, reason: str) -> None:
        super().__init__("NextToken", value, reason)


class InternalError(ApiError):
    """An unexpected failure inside the engine; the message never carries a stack trace."""

    status = 500
    code = INTERNAL_ERROR

    def __init__(
        self, message: str = "The request processing has failed due to some unknown error."
    ) -> None:
        super().__init__(message)


class DumpFormatError(JobQueryError, ValueError):
    """A dump file, or one record in it, cannot be read as job records.

    Attributes
    ----------
    path : str
        The file (or ``<records>`` for in-memory input).
    line : int or None
        The 1-based line of a line-oriented file (NDJSON), when known.
    record : int or None
        The 0-based index of the record in the file, when known.
    reason : str
        What is wrong.
    """

    def __init__(
        self, path: str, reason: str, *, line: int | None = None, record: int | None = None
    ) -> None:
        self.path = path
        self.line = line
        self.record = record
        self.reason = reason
        where = path
        if line is not None:
            where += f", line {line}"
        if record is not None:
            where += f", record {record}"
        super().__init__(f"{where}: {reason}")


def _shorten(value: Any, limit: int = 80) -> str:
    try:
        text = repr(value)
    except ValueError:  # an integer too long to print
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else f"{text[: limit - 15]}...<{len(text)} chars>"


class DatasetError(JobQueryError):
    """A job dataset (:mod:`jobquery.dataset`) cannot be written or queried as asked.

    For example: the target folder exists and ``overwrite`` was not given, or the engine's
    package (duckdb, pyspark) is not installed. A folder that is not a readable dataset raises
    :class:`DumpFormatError` instead, naming the folder.
    """
