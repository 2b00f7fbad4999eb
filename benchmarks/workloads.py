"""The named ListJobs workloads every engine is measured on, defined once.

A workload is a wire request (a mapping of strings, exactly as a query string decodes), the
clock ``now`` and the ``caller``. ``now`` is the end of the synthetic data's time span
(:data:`jobquery.synth.DEFAULT_END`), so that the windows hit data; the filter values are words
:mod:`jobquery.synth` puts into names, users, workspaces, tags and images (the TotalCount of
every workload is in the report, so a workload that stops matching shows).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from jobquery import synth
from jobquery.request import Caller, format_timestamp

#: The clock of every workload: the end of the synthetic creation-time window.
NOW: datetime = synth.DEFAULT_END
#: A user with many PRIVATE jobs in the synthetic platform (``yangli``), asking as non-admin.
PRIVATE_JOBS_OWNER = "23198756866041503"
PAGE_SIZE = "50"


@dataclass(frozen=True)
class Workload:
    """One ListJobs call: what is asked (``request``), when (``now``) and by whom (``caller``)."""

    name: str
    about: str
    request: Mapping[str, str]
    now: datetime = NOW
    caller: Caller | None = None


def _days_ago(days: int) -> str:
    return format_timestamp(NOW - timedelta(days=days))


WORKLOADS: tuple[Workload, ...] = (
    Workload(
        "default_listing",
        "no filter: the default 7-day window, newest first, 50 per page",
        {"PageSize": PAGE_SIZE},
    ),
    Workload(
        "fuzzy_name_running_30d",
        "`DisplayName=mnist` (case-insensitive substring) and `Status=Running` in the last 30 "
        "days, newest first",
        {
            "DisplayName": "mnist",
            "Status": "Running",
            "StartTime": _days_ago(30),
            "PageSize": PAGE_SIZE,
        },
    ),
    Workload(
        "user_in_workspace_with_tag",
        "`Username=dave` (substring), `WorkspaceId=103899`, `Tags={team: nlp}`, all time, "
        "sorted by `DisplayName` ascending",
        {
            "Username": "dave",
            "WorkspaceId": "103899",
            "Tags": '{"team":"nlp"}',
            "SortBy": "DisplayName",
            "Order": "asc",
            "StartTime": "2000-01-01T00:00:00Z",
            "PageSize": PAGE_SIZE,
        },
    ),
    Workload(
        "deep_page",
        "page 1000 (jobs 49,951-50,000) of the last 180 days, oldest first",
        {
            "StartTime": _days_ago(180),
            "SortBy": "GmtCreateTime",
            "Order": "asc",
            "PageNumber": "1000",
            "PageSize": PAGE_SIZE,
        },
    ),
    Workload(
        "status_list_sorted_by_finish",
        "`Status=Failed,Stopped,Succeeded` in the last 90 days, by `GmtFinishTime` newest first",
        {
            "Status": "Failed,Stopped,Succeeded",
            "SortBy": "GmtFinishTime",
            "Order": "desc",
            "StartTime": _days_ago(90),
            "PageSize": PAGE_SIZE,
        },
    ),
    Workload(
        "numeric_gpu_range",
        "`RequestGPU` between 4 and 8 in the last 90 days, newest first",
        {
            "NumericRangeField": "RequestGPU",
            "NumericRangeMin": "4",
            "NumericRangeMax": "8",
            "StartTime": _days_ago(90),
            "PageSize": PAGE_SIZE,
        },
    ),
    Workload(
        "full_text_image_search",
        "`ImageSearch=megatron` (a token of some role's image) in the last 30 days, newest first",
        {"ImageSearch": "megatron", "StartTime": _days_ago(30), "PageSize": PAGE_SIZE},
    ),
    Workload(
        "private_caller_view",
        "a non-admin caller with many PRIVATE jobs, `ShowOwn=false`: public jobs and their own "
        "private ones in the default window",
        {"ShowOwn": "false", "PageSize": PAGE_SIZE},
        caller=Caller(user_id=PRIVATE_JOBS_OWNER, is_admin=False),
    ),
)


def by_name(name: str) -> Workload:
    """The workload called ``name``."""
    for workload in WORKLOADS:
        if workload.name == name:
            return workload
    raise KeyError(f"no workload {name!r}; known: {', '.join(w.name for w in WORKLOADS)}")
