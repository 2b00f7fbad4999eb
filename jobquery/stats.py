"""Statistics over the jobs a request matches: counts, rates, durations, GPU-hours, queueing.

The computations behind ``jobquery stats``, usable from Python on any frame of
:meth:`JobStore.query <jobquery.store.JobStore.query>` (or a job dataset's ``query``)::

    frame = store.query({"StartTime": "2026-11-01T00:00:00Z"})
    keys, labels = resolve_group_fields(frame, "user,status")
    groups, total = compute_stats(frame, keys, labels, order_by="gpu_hours")

Each metric is a Polars aggregation (:func:`stats_aggregations`), so one group and every
group are computed the same way. The command line only prints the result.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from jobquery.snapshot import JOB_JSON

#: Status categories (casefolded status → category). Terminal: succeeded, failed, stopped.
STATUS_CATEGORIES: dict[str, tuple[str, ...]] = {
    "pending": ("Creating", "Queuing", "Bidding", "EnvPreparing", "SanityChecking"),
    "running": ("Running", "Restarting", "Stopping"),
    "succeeded": ("Succeeded", "SucceededReserving"),
    "failed": ("Failed", "FailedReserving"),
    "stopped": ("Stopped",),
}
CATEGORIES = (*STATUS_CATEGORIES, "other")
TERMINAL = ("succeeded", "failed", "stopped")
GROUP_ALIASES = {
    "status": "Status",
    "type": "JobType",
    "user": "UserId",
    "workspace": "WorkspaceId",
    "quota": "ResourceQuotaName",
}
METRICS = (
    "jobs",
    *CATEGORIES,
    "success_rate",
    "failure_rate",
    "duration_p50_s",
    "duration_p90_s",
    "duration_p99_s",
    "gpu_hours",
    "queue_mean_s",
    "queue_p50_s",
)


def _category() -> pl.Expr:
    mapping = {
        status.casefold(): category
        for category, statuses in STATUS_CATEGORIES.items()
        for status in statuses
    }
    return pl.col("Status").str.to_lowercase().replace_strict(mapping, default="other")


def stats_aggregations() -> list[pl.Expr]:
    """The metrics of one group of jobs, as polars expressions over ``store.query`` columns."""
    category = _category()
    counts = [(category == name).sum().alias(name) for name in CATEGORIES]
    terminal = sum(((category == name).sum() for name in TERMINAL), pl.lit(0))
    duration = pl.col("Duration")
    queue = (pl.col("GmtRunningTime") - pl.col("GmtSubmittedTime")).dt.total_microseconds() / 1e6
    return [
        pl.len().alias("jobs"),
        *counts,
        pl.when(terminal > 0)
        .then((category == "succeeded").sum() / terminal)
        .alias("success_rate"),
        pl.when(terminal > 0).then((category == "failed").sum() / terminal).alias("failure_rate"),
        *(
            duration.quantile(q, "linear").alias(f"duration_p{round(q * 100)}_s")
            for q in (0.5, 0.9, 0.99)
        ),
        (pl.col("RequestGPU") * duration / 3600).sum().alias("gpu_hours"),
        queue.mean().alias("queue_mean_s"),
        queue.quantile(0.5, "linear").alias("queue_p50_s"),
    ]


def resolve_group_fields(frame: pl.DataFrame, by: str | None) -> tuple[list[str], list[str]]:
    """``by`` (``--by``: comma-separated fields or aliases) as (group keys, the columns that
    label a group: keys and companions).

    A user is grouped by ``UserId`` and labelled with the ``Username`` too. A field that is
    neither an alias nor a top-level column raises ValueError.
    """
    return group_fields(by, _job_fields(frame))


def group_fields(by: str | None, fields: Sequence[str]) -> tuple[list[str], list[str]]:
    """:func:`resolve_group_fields` over the names of a frame's top-level ``fields``."""
    if by is None:
        return [], []
    known = {name.casefold(): name for name in fields}
    keys: list[str] = []
    labels: list[str] = []
    for item in by.split(","):
        name = item.strip()
        if not name:
            continue
        column = GROUP_ALIASES.get(name.casefold()) or known.get(name.casefold())
        if column is None:
            raise ValueError(
                f"unknown field {name!r} (use {', '.join(GROUP_ALIASES)} or a top-level "
                f"column: {', '.join(fields)})"
            )
        if column in keys:
            continue
        keys.append(column)
        labels.append(column)
        if column == "UserId":
            labels.append("Username")
    # a companion that is also a key of its own is shown once, where the key is
    if labels.count("Username") > 1:
        labels.remove("Username")
    return keys, labels


def compute_stats(
    frame: pl.DataFrame, keys: Sequence[str], labels: Sequence[str], order_by: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per-group metrics (sorted by ``order_by`` descending, then the keys) and the total row.

    A companion label (the ``Username`` of a ``UserId``) is the first one in query order.
    """
    aggregations = stats_aggregations()
    total = frame.select(aggregations)
    if not keys:
        return total, total
    shown = [pl.col(name).drop_nulls().first().alias(name) for name in labels if name not in keys]
    groups = frame.group_by(list(keys)).agg([*shown, *aggregations])
    groups = groups.sort(
        [order_by, *keys],
        descending=[True] + [False] * len(keys),
        nulls_last=True,
    )
    return groups, total


def _job_fields(frame: pl.DataFrame) -> list[str]:
    """The top-level job fields of a query frame (no ``ix_*`` index columns, no ``job_json``)."""
    return [name for name in frame.columns if not name.startswith("ix_") and name != JOB_JSON]
