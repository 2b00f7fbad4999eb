"""How long the largest legal ListJobs request takes on a million jobs.

The request bounds (``jobquery.request``: 1024-character texts, 1000-element lists, 50 tags,
PageSize 100, ...) exist so that no single request can cost more than a bounded amount. This
script builds a store of ``--jobs`` synthetic jobs (``jobquery.synth``; its own generator when
synth is missing), then times requests that put every parameter at its largest legal size:

``all-maximal``
    every filter at once, each at its limit: 1024-character texts for every text filter and
    every search, 1000-element ``JobIds``/``ResourceIds``/``JobType``/``Status`` lists (the
    longest elements allowed), 50 tags of 600-character keys and values, a numeric range, the
    widest time window (no pruning by time), ``SortBy=DisplayName``, ``PageSize=100`` and
    ``PageNumber=1000``. ``JobId`` is left out, since it would switch ``JobIds`` off.
``all-maximal+JobId``
    the same with a 1024-character ``JobId`` (so ``JobIds`` is ignored).
``maximal-lists-that-match``
    1000 real JobIds, every real status and job type padded to 1000 elements, the widest
    window, sorted by ``DisplayName``, ``PageSize=100``, page 5: the lists match and the page
    is materialised.
``deep-page``
    the widest window over all jobs, ``PageSize=100`` and the last page (a deep offset).
``parse-only``
    ``ListJobsRequest.from_wire`` of the ``all-maximal`` request: the cost of validation.

It prints one line per request (median, min and max of ``--repeat`` runs, TotalCount) and the
build time. The built snapshot is cached as an Arrow file under ``bench-data/`` (git-ignored).

Usage::

    python benchmarks/bench_largest_request.py                # 1,000,000 jobs
    python benchmarks/bench_largest_request.py --jobs 100000 --repeat 5
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import jobquery  # noqa: E402
from jobquery.request import (  # noqa: E402
    INT64_MAX,
    INT64_MIN,
    MAX_ENUM_TEXT_LENGTH,
    MAX_LIST_ITEMS,
    MAX_TAG_PAIRS,
    MAX_TAGS_TEXT_LENGTH,
    MAX_TEXT_LENGTH,
    PAGE_SIZE_MAX,
    ListJobsRequest,
)
from jobquery.snapshot import JOB_JSON, Snapshot  # noqa: E402
from jobquery.store import JobStore  # noqa: E402

CHUNK = 100_000
SEED = 20261129
TEXT_FILTERS = (
    "Accessibility", "BusinessUserId", "Caller", "Description", "DisplayName", "ImageSearch",
    "OversoldInfo", "PaymentType", "PipelineId", "ReasonSearch", "ResourceId",
    "ResourceQuotaName", "TemplateId", "UserCommandSearch", "UserIdForFilter", "Username",
    "WorkspaceId",
)  # fmt: skip
STATUSES = (
    "Creating", "Queuing", "Bidding", "EnvPreparing", "SanityChecking", "Running", "Restarting",
    "Stopping", "SucceededReserving", "FailedReserving", "Succeeded", "Failed", "Stopped",
)  # fmt: skip
JOB_TYPES = (
    "TFJob", "PyTorchJob", "XGBoostJob", "OneFlowJob", "ElasticBatchJob", "MPIJob", "RayJob",
    "SlurmJob", "DataJuicerJob",
)  # fmt: skip


# ---------------------------------------------------------------------------------------------
# The jobs.


def own_lines(count: int, first: int) -> list[str]:
    """A fallback generator (when jobquery.synth is missing): plain but realistic jobs."""
    end = datetime(2026, 11, 29, tzinfo=UTC)
    lines = []
    for index in range(first, first + count):
        created = end - timedelta(seconds=(index * 7919) % (365 * 86400))
        lines.append(
            json.dumps(
                {
                    "JobId": f"dlc{index:012x}",
                    "DisplayName": f"train-{index % 997}-{'mnist' if index % 3 else 'bert'}",
                    "JobType": JOB_TYPES[index % 5],
                    "Status": STATUSES[index % len(STATUSES)],
                    "UserId": str(100000 + index % 300),
                    "WorkspaceId": str(200 + index % 40),
                    "Accessibility": "PRIVATE" if index % 4 else "PUBLIC",
                    "GmtCreateTime": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "RequestGPU": str(index % 9),
                    "UserCommand": f"python train.py --epochs {index % 50}",
                    "Settings": {"Tags": {"team": f"t{index % 20}"}, "Caller": "local"},
                    "JobSpecs": [{"Type": "Worker", "Image": "pai-dlc/pytorch:2.1"}],
                }
            )
        )
    return lines


def line_chunks(count: int) -> Iterator[list[str]]:
    try:
        from jobquery import synth  # noqa: PLC0415 - optional: written alongside this script
    except ImportError:
        for first in range(0, count, CHUNK):
            yield own_lines(min(CHUNK, count - first), first)
        return
    for chunk in synth.iter_line_chunks(count, seed=SEED, chunk_size=CHUNK):
        yield chunk.to_list()


def cache_paths(count: int) -> tuple[Path, Path]:
    """This script's cache file, and the benchmark suite's (``benchmarks/dataset.py``) for the
    same jobs (same seed, same synth window, same sources), which is used when it exists."""
    digest = hashlib.sha256()
    package = Path(jobquery.__file__).parent
    for name in ("synth", "snapshot", "request.py"):
        source = package / name
        for path in sorted(source.glob("*.py")) if source.is_dir() else [source]:
            if path.exists():
                digest.update(path.read_bytes())
    key = f"{count}-{SEED}-{digest.hexdigest()[:12]}.arrow"
    return ROOT / "bench-data" / f"largest-request-{key}", ROOT / "bench-data" / f"snapshot-{key}"


def build_store(
    count: int, *, use_cache: bool, snapshot_file: Path | None = None
) -> tuple[JobStore, float | None]:
    """The store of ``count`` jobs: from a cache, or built chunk by chunk (bounded memory)."""
    path, suite_cache = cache_paths(count)
    for cached in (snapshot_file, path, suite_cache):
        if cached is not None and (use_cache or cached == snapshot_file) and cached.exists():
            print(f"reading {cached}", flush=True)
            return JobStore(Snapshot.from_frame(pl.read_ipc(cached))), None
    began = time.perf_counter()
    snapshot: Snapshot | None = None
    for version, texts in enumerate(line_chunks(count)):
        jobs = [orjson.loads(text) for text in texts]
        if snapshot is None:
            snapshot = Snapshot.from_parsed(jobs, texts)
        else:
            snapshot = snapshot.with_changes(jobs, texts, (), version=version)
        del jobs, texts
        gc.collect()
        built = snapshot.frame.height
        print(f"  built {built:,} jobs ({time.perf_counter() - began:.0f} s)", flush=True)
    assert snapshot is not None
    seconds = time.perf_counter() - began
    if use_cache:
        path.parent.mkdir(exist_ok=True)
        partial = path.with_suffix(".partial")
        snapshot.frame.write_ipc(partial)
        partial.replace(path)
    return JobStore(snapshot), seconds


def replicated_store(source: Path, count: int) -> JobStore:
    """``count`` jobs made of copies of a saved snapshot's jobs (``--replicate-from``).

    For a shared machine where building a million jobs is too slow or too big: copy ``k`` gets
    the JobIds ``<id>-r<k>``, every other column (the index columns filters and sorts read)
    is copied as it is, and ``job_json`` is cut down to ``{"JobId": ...}`` to save memory, so
    only the materialisation of the 100 jobs of a page is cheaper than with full jobs. Rows are
    then put in snapshot order and ranked again.
    """
    from jobquery.snapshot.layout import _put_in_order  # noqa: PLC0415 - the snapshot's own ordering

    frame = pl.read_ipc(source).drop(JOB_JSON)
    copies = []
    for copy in range(-(-count // frame.height)):
        suffix = f"-r{copy}"
        copies.append(
            frame.with_columns(pl.col("JobId") + suffix, pl.col("ix_JobId") + suffix).with_columns(
                pl.concat_str(pl.lit('{"JobId":"'), pl.col("JobId"), pl.lit('"}')).alias(JOB_JSON)
            )
        )
    replicated = pl.concat(copies).head(count)
    del copies, frame
    gc.collect()
    return JobStore(Snapshot.from_frame(_put_in_order(replicated.get_columns())))


# ---------------------------------------------------------------------------------------------
# The requests.


def padded(values: list[str], limit: int) -> list[str]:
    """``values`` first, then filler elements of the longest legal length, MAX_LIST_ITEMS in all."""
    filler = [f"pad{index:05d}".ljust(limit, "z") for index in range(MAX_LIST_ITEMS - len(values))]
    return [*values, *filler]


def maximal_tags() -> str:
    size = 600  # 50 pairs of 600 + 600 characters stay under MAX_TAGS_TEXT_LENGTH
    tags = {f"{index:03d}".ljust(size, "k"): "v" * size for index in range(MAX_TAG_PAIRS)}
    text = json.dumps(tags, separators=(",", ":"))
    assert len(text) <= MAX_TAGS_TEXT_LENGTH
    return text


def all_maximal(job_ids: list[str]) -> dict[str, str]:
    text = "x" * MAX_TEXT_LENGTH
    return {
        **dict.fromkeys(TEXT_FILTERS, text),
        "JobIds": ",".join(padded(job_ids[:MAX_LIST_ITEMS], MAX_TEXT_LENGTH)),
        "ResourceIds": ",".join(padded([], MAX_TEXT_LENGTH)),
        "JobType": ",".join(padded(list(JOB_TYPES), MAX_ENUM_TEXT_LENGTH)),
        "Status": ",".join(padded(list(STATUSES), MAX_ENUM_TEXT_LENGTH)),
        "Tags": maximal_tags(),
        "DisplayNameSearchMode": "wildcard",
        "EnableAssignNode": "false",
        "StartTime": "1970-01-01T00:00:00Z",
        "EndTime": "2100-01-01T00:00:00Z",
        "TimeRangeField": "GmtCreateTime",
        "NumericRangeField": "RequestGPU",
        "NumericRangeMin": str(INT64_MIN),
        "NumericRangeMax": str(INT64_MAX),
        "SortBy": "DisplayName",
        "Order": "asc",
        "PageSize": str(PAGE_SIZE_MAX),
        "PageNumber": "1000",
    }


def maximal_lists_that_match(job_ids: list[str]) -> dict[str, str]:
    return {
        "JobIds": ",".join(padded(job_ids[:MAX_LIST_ITEMS], MAX_TEXT_LENGTH)),
        "JobType": ",".join(padded(list(JOB_TYPES), MAX_ENUM_TEXT_LENGTH)),
        "Status": ",".join(padded(list(STATUSES), MAX_ENUM_TEXT_LENGTH)),
        "StartTime": "1970-01-01T00:00:00Z",
        "EndTime": "2100-01-01T00:00:00Z",
        "SortBy": "DisplayName",
        "PageSize": str(PAGE_SIZE_MAX),
        "PageNumber": "5",
    }


def deep_page(store: JobStore, now: datetime) -> dict[str, str]:
    """The last non-empty page of everything, sorted by name: the deepest offset there is."""
    wire = {
        "StartTime": "1970-01-01T00:00:00Z",
        "EndTime": "2100-01-01T00:00:00Z",
        "SortBy": "DisplayName",
        "PageSize": str(PAGE_SIZE_MAX),
    }
    total = store.list_jobs(wire, now=now).total_count
    return {**wire, "PageNumber": str(max(1, -(-total // PAGE_SIZE_MAX)))}


def timed(call: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    result = call()  # warm-up (and the answer to report)
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        call()
        times.append(time.perf_counter() - began)
    return times, result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1_000_000, help="how many synthetic jobs")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per request")
    parser.add_argument(
        "--no-cache", action="store_true", help="neither read nor write bench-data/"
    )
    parser.add_argument(
        "--snapshot",
        type=Path,
        help="a snapshot frame saved as Arrow IPC (such as the suite's bench-data/ file) to use",
    )
    parser.add_argument(
        "--replicate-from",
        type=Path,
        help="build the store from copies of a saved snapshot's jobs (see replicated_store)",
    )
    args = parser.parse_args(argv)

    if args.replicate_from is not None:
        began = time.perf_counter()
        store = replicated_store(args.replicate_from, args.jobs)
        build_seconds: float | None = time.perf_counter() - began
        built = f"replicated from {args.replicate_from.name} in {build_seconds:.1f} s"
    else:
        store, build_seconds = build_store(
            args.jobs, use_cache=not args.no_cache, snapshot_file=args.snapshot
        )
        built = "read from a file" if build_seconds is None else f"built in {build_seconds:.1f} s"
    print(f"store: {len(store):,} jobs ({built})")
    job_ids = store.snapshot.frame["JobId"].gather_every(max(1, len(store) // 1000)).to_list()
    now = datetime(2026, 11, 29, tzinfo=UTC)

    requests = {
        "all-maximal": all_maximal(job_ids),
        "all-maximal+JobId": {**all_maximal(job_ids), "JobId": "x" * MAX_TEXT_LENGTH},
        "maximal-lists-that-match": maximal_lists_that_match(job_ids),
        "deep-page": deep_page(store, now),
    }
    size = sum(len(key) + len(value) for key, value in requests["all-maximal"].items())
    print(f"all-maximal request: {size:,} characters of parameters")
    print(f"{'request':26} {'median':>10} {'min':>10} {'max':>10}  TotalCount  jobs")
    for name, wire in requests.items():
        times, response = timed(lambda wire=wire: store.list_jobs(wire, now=now), args.repeat)
        print(
            f"{name:26} {statistics.median(times) * 1e3:8.1f}ms {min(times) * 1e3:8.1f}ms "
            f"{max(times) * 1e3:8.1f}ms  {response.total_count:>10,}  {len(response.jobs)}"
        )
    times, _ = timed(lambda: ListJobsRequest.from_wire(requests["all-maximal"]), args.repeat)
    print(
        f"{'parse-only':26} {statistics.median(times) * 1e3:8.1f}ms {min(times) * 1e3:8.1f}ms "
        f"{max(times) * 1e3:8.1f}ms"
    )


if __name__ == "__main__":
    main()
