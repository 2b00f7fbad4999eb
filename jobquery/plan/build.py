"""The plan itself: a validated request, the clock and the caller resolved into what to compute.

A plan is backend-neutral: a conjunction of predicates (:mod:`jobquery.plan.predicates`), an
ordering with its tie-breaks, and a page. Every default is resolved here (spec §3.6): the 7-day
window relative to ``now``, ``SortBy``/``Order``, ``PageNumber``/``PageSize``, ``JobId`` over
``JobIds``, ``FromAllWorkspaces`` over ``WorkspaceId``; deleted jobs are excluded by the snapshot
(its ``live`` rows), and a non-admin caller adds the visibility predicate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from jobquery.plan.filters import FilterContext, build_predicates
from jobquery.plan.predicates import Predicate, TimeRange, Visibility
from jobquery.request import DEFAULT_PAGE_SIZE, Caller, ListJobsRequest, checked_caller

DEFAULT_SORT_KEY = "GmtCreateTime"
DEFAULT_ORDER = "desc"
DEFAULT_PAGE_NUMBER = 1


@dataclass(frozen=True)
class Ordering:
    """Sort by ``key``, then GmtCreateTime, then JobId, all ``descending`` or all ascending."""

    key: str
    descending: bool

    def describe(self) -> str:
        direction = "descending" if self.descending else "ascending"
        return (
            f"order: {self.key} {direction}, ties by GmtCreateTime then JobId; "
            "missing values count as the smallest"
        )


@dataclass(frozen=True)
class Page:
    """Offset paging: ``size`` jobs from ``offset``."""

    number: int
    size: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    def describe(self) -> str:
        last = self.offset + self.size
        return f"page: {self.number} of size {self.size} (jobs {self.offset + 1}-{last})"


@dataclass(frozen=True)
class Plan:
    """What a request asks for, with every default resolved."""

    request: ListJobsRequest
    now: datetime
    predicates: tuple[Predicate, ...]
    ordering: Ordering
    page: Page

    @property
    def window(self) -> TimeRange:
        """The time window (every plan has one: spec §7 Q2)."""
        return next(p for p in self.predicates if isinstance(p, TimeRange))

    def describe(self) -> list[str]:
        """The plan in plain words, one line per filter, then the order and the page."""
        lines = [predicate.describe() for predicate in self.predicates]
        lines.append("deleted jobs (IsDeleted=true) are never listed")
        lines += [self.ordering.describe(), self.page.describe()]
        return lines


def build_plan(
    request: ListJobsRequest, *, now: datetime | None = None, caller: Caller | None = None
) -> Plan:
    """Resolve a request into a plan.

    Parameters
    ----------
    request : ListJobsRequest
        The validated request.
    now : datetime, optional
        The clock for the default window; the current UTC time when omitted.
    caller : Caller, optional
        Who asks; None means administrator visibility.

    Raises
    ------
    InvalidParameterError
        ``ShowOwn=true`` without a caller identity.
    TypeError
        ``now`` is not a datetime (a text or a number would be a guess at its zone and
        format), or ``caller`` is not a Caller.
    """
    caller = checked_caller(caller)
    if now is None:
        now = datetime.now(UTC)
    elif not isinstance(now, datetime):
        raise TypeError(f"now must be a datetime, not {type(now).__name__}: {now!r}")
    elif now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    predicates = build_predicates(request, FilterContext(now=now, caller=caller))
    if caller is not None and not caller.is_admin:
        predicates.append(Visibility(caller.user_id))
    return Plan(
        request=request,
        now=now,
        predicates=tuple(predicates),
        ordering=Ordering(
            key=request.sort_by or DEFAULT_SORT_KEY,
            descending=(request.order or DEFAULT_ORDER) == "desc",
        ),
        page=Page(
            number=request.page_number or DEFAULT_PAGE_NUMBER,
            size=request.page_size or DEFAULT_PAGE_SIZE,
        ),
    )
