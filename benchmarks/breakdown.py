"""Where jobquery's time goes, per workload: the stages of ``list_jobs`` and each filter alone.

Usage::

    python -m benchmarks.breakdown --size 1000000 [--workloads deep_page,numeric_gpu_range]
    python -m benchmarks.breakdown --size 100000 --profile user_in_workspace_with_tag
    python -m benchmarks.breakdown --size 1000000 --jobs high-cardinality

For every workload it times (median and best of runs) the stages ``JobStore.list_jobs`` goes
through — parsing the wire request, building the plan, finding the page's rows
(``page.page_rows``: filter and order on index columns) and materialising the page
(``materialise.materialise``: the page's ``job_json`` texts parsed into dicts) — then selecting
the matching rows (``select.select``) with the snapshot's remembered predicate tables and
without them (the first query with a new filter value), how each predicate runs (tabulated on
its column's distinct values, or tested by Polars), and, for comparison, the Polars pipeline
``polars_engine.matches`` that ``query`` runs. With ``--profile`` it also prints the top of a
cProfile of ``list_jobs``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
from collections.abc import Sequence

from benchmarks import dataset
from benchmarks.timing import Timing, measure
from benchmarks.workloads import PROFILES, SPECS, named, workloads_for
from jobquery.index_engine.materialise import materialise
from jobquery.index_engine.page import page_rows
from jobquery.index_engine.policy import DEFAULT_POLICY
from jobquery.index_engine.select import prepare, select
from jobquery.plan import build_plan
from jobquery.plan.window import Scan, order_column, plan_scan
from jobquery.polars_engine import matches
from jobquery.request import ListJobsRequest
from jobquery.snapshot import ROW


def _ms(timing: Timing) -> str:
    return f"{timing.median * 1e3:9.3f} {timing.best * 1e3:9.3f}"


def breakdown(size: int, jobs: str, names: Sequence[str], profile: Sequence[str]) -> None:
    data = dataset.load(size, with_records=False, profile=jobs)
    store = data.store
    snapshot = store.snapshot
    workloads = workloads_for(data.sample())
    print(f"{size:,} jobs ({jobs}); times in ms as 'median best'")
    for name in names or [w.name for w in workloads]:
        workload = named(workloads, name)
        request = ListJobsRequest.parse(workload.request)
        plan = build_plan(request, now=workload.now, caller=workload.caller)
        found = page_rows(plan, snapshot, DEFAULT_POLICY)
        scan = plan_scan(plan, snapshot)
        print(
            f"\n## {name}: scans rows {scan.start:,}..{scan.stop:,} "
            f"({scan.stop - scan.start:,} of {snapshot.live.height:,}), orders by "
            f"{order_column(plan.ordering)}, {found.total_count:,} matches"
        )
        stages = {
            "list_jobs (all)": lambda w=workload: store.list_jobs(
                w.request, now=w.now, caller=w.caller
            ),
            "parse request": lambda w=workload: ListJobsRequest.parse(w.request),
            "build plan": lambda r=request, w=workload: build_plan(r, now=w.now, caller=w.caller),
            "page rows": lambda p=plan: page_rows(p, snapshot, DEFAULT_POLICY),
            "materialise page": lambda rows=found.rows: materialise(snapshot, rows),
        }
        for stage, call in stages.items():
            print(f"   {stage:<44} {_ms(measure(call, min_runs=10, budget=1.0))}")
        select_timing = measure(
            lambda s=scan: select(snapshot, s, DEFAULT_POLICY), min_runs=10, budget=1.0
        )
        print(f"   {'select rows (remembered tables)':<44} {_ms(select_timing)}")

        def select_cold(s: Scan = scan) -> None:
            snapshot.index.remembered.clear()
            select(snapshot, s, DEFAULT_POLICY)

        print(f"   {'select rows (tables built anew)':<44} {_ms(measure(select_cold, budget=1.0))}")
        for predicate in scan.filters:
            step = prepare(snapshot, predicate, scan.start, scan.stop, DEFAULT_POLICY)
            column = getattr(predicate, "column", predicate.parameter)
            if step.lookup is not None:
                how = f"a lookup index: at most {step.estimate:,} rows of the window"
            elif step.table is None:
                how = "tested by Polars row by row"
            else:
                sizes = " x ".join(str(d.size) for d in step.dictionaries)
                how = f"tabulated on {sizes} distinct values, keeps {step.share:.1%} of all rows"
            print(f"   - {type(predicate).__name__} {column}: {how}")
        if scan.filters:
            timing = measure(
                lambda p=plan, s=scan: matches(p, snapshot, s).select(ROW).collect(),
                min_runs=5,
                budget=1.0,
            )
            print(f"   {'for comparison: the Polars pipeline filter':<44} {_ms(timing)}")
        if name in profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(10):
                store.list_jobs(workload.request, now=workload.now, caller=workload.caller)
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(12)
            print(out.getvalue())


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.breakdown", description=__doc__)
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument(
        "--jobs", choices=PROFILES, default=PROFILES[0], help="the synthetic profile"
    )
    parser.add_argument(
        "--workloads",
        default="",
        help="comma-separated workloads (default: all of the profile: "
        f"{', '.join(spec.name for spec in SPECS)})",
    )
    parser.add_argument("--profile", default="", help="workloads to cProfile (comma-separated)")
    args = parser.parse_args(argv)
    names = [name for name in args.workloads.split(",") if name]
    breakdown(args.size, args.jobs, names, [p for p in args.profile.split(",") if p])


if __name__ == "__main__":
    main()
