"""The ListJobs response: a page of stored jobs, the total count, and a request id."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jobquery.errors import new_request_id


@dataclass(frozen=True)
class ListJobsResponse:
    """One answer of ``ListJobs``.

    Attributes
    ----------
    jobs : list of dict
        The jobs of the requested page, in order, exactly as they were stored.
    total_count : int
        How many visible jobs match the filters, across all pages.
    request_id : str
        An upper-case UUID4 unless one was given.
    next_token : str, optional
        With keyset paging (the ``NextToken`` extension), the token of the next page; ``""``
        after the last page; ``None`` when the request used offset paging.
    """

    jobs: list[dict[str, Any]]
    total_count: int
    request_id: str = field(default_factory=new_request_id)
    next_token: str | None = None

    def to_wire(self) -> dict[str, Any]:
        """The body the service sends: ``{"Jobs": [...], "TotalCount": n, "RequestId": ...}``.

        ``NextToken`` is added only for requests that asked for keyset paging.
        """
        wire: dict[str, Any] = {
            "Jobs": self.jobs,
            "TotalCount": self.total_count,
            "RequestId": self.request_id,
        }
        if self.next_token is not None:
            wire["NextToken"] = self.next_token
        return wire
