"""Ingest and export (issue 2): every format reads and writes jobs losslessly.

- Every fixture dump (``data/fixtures/*.json``, ``*.ndjson``: the seed page, the edge cases, a
  synthetic sample), a built-in sample and Hypothesis-generated jobs (arbitrary extra fields,
  deep ``Pods[].HistoryPods[]``, the string-or-object ``UserVpc``, numbers sent as strings,
  astral characters) go through ingest → snapshot → export → ingest in each format
  (``.json`` page, ``.ndjson``, ``.parquet``, ``.arrow``) and come back as the same JSON values.
- Parquet and Arrow exports carry typed columns that pyarrow, polars and duckdb read directly.
- Malformed dumps give ``DumpFormatError`` naming the file and line or record
  (``FileNotFoundError`` for a missing file); lenient mode reports what it skipped.
- Duplicate JobIds: the latest ``GmtModifiedTime`` wins, the later record on ties.
- Folders and glob patterns are read as one job set.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyarrow import feather

from jobquery import DumpFormatError, reference
from jobquery.io import dumps
from jobquery.io.dumps import NO_MODIFIED_TIME, find_dump_files, modified_micros
from jobquery.request import parse_timestamp
from jobquery.store import JobStore
from tests.helpers.jsonvalues import SLOW, assert_same_jobs, fewer, scratch

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "fixtures"
OUTPUT_FORMATS = (".json", ".ndjson", ".parquet", ".arrow")
NOW = datetime(2026, 11, 29, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def round_trip(store: JobStore, expected: Sequence[dict[str, Any]], folder: Path) -> None:
    """Export to every format and read each back; small sets also go through a chain of all
    formats (json → ndjson → parquet → arrow), each read from the previous one's export."""
    assert_same_jobs(expected, store.snapshot.records())
    for suffix in OUTPUT_FORMATS:
        target = folder / f"export{suffix}"
        assert store.export(target) == len(expected)
        assert_same_jobs(expected, JobStore.from_path(target).snapshot.records())
    if len(expected) > 100:
        return
    current = store
    for suffix in OUTPUT_FORMATS:
        chained = folder / f"chained{suffix}"
        current.export(chained)
        current = JobStore.from_path(chained)
    assert_same_jobs(expected, current.snapshot.records())


def latest_per_id(jobs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The dedup rule, written out independently: latest GmtModifiedTime (a missing or
    unreadable one before any), later record on ties."""
    kept: dict[str, dict[str, Any]] = {}
    for job in jobs:
        modified = job.get("GmtModifiedTime")
        parsed = parse_timestamp(modified) if isinstance(modified, str) else None
        moment = (False, EPOCH) if parsed is None else (True, parsed)
        seen = kept.get(job["JobId"])
        if seen is None or moment >= seen["moment"]:
            kept[job["JobId"]] = {"moment": moment, "job": job}
    return [entry["job"] for entry in kept.values()]


# ---------------------------------------------------------------------------------------------
# Dumps to read: the fixtures, a built-in sample and synthetic jobs.

SAMPLE_JOBS: list[dict[str, Any]] = [
    {
        "JobId": "dlc-sample-1",
        "DisplayName": "tf-mnist-test",
        "JobType": "TFJob",
        "Status": "Stopped",
        "UserId": "166924",
        "WorkspaceId": "268",
        "Accessibility": "PRIVATE",
        "GmtCreateTime": "2021-01-12T14:35:01Z",
        "GmtModifiedTime": "2021-01-12T15:36:08Z",
        "RequestGPU": "1",
        "RequestMemory": "1Gi",
        "NodeCount": "1",
        "UserVpc": "vpc-1",
        "Settings": {"Caller": "SilkFlow", "Tags": {"team": "rec", "k2": "中文", "n": 1}},
        "JobSpecs": [{"Type": "Worker", "Image": "registry/pai-dlc/tf:1.12.2PAI-cpu-py27"}],
        "Pods": [
            {
                "PodId": "dlc-sample-1-worker-0",
                "HistoryPods": [{"PodId": "h1", "HistoryPods": [{"PodId": "h2"}]}],
            }
        ],
        "StatusHistory": [{"Status": "Stopped", "ReasonCode": "JobStoppedByUser"}],
        "Duration": 3467,
    },
    {
        "JobId": "dlc-sample-2",
        "DisplayName": "训练 😀",
        "UserVpc": {"VpcId": "vpc-2", "ExtendedCidrs": ["10.0.0.0/8"], "DefaultRoute": "eth0"},
        "GmtCreateTime": "2026-11-28T10:02:11.123456+08:00",
        "RequestGPU": 2.5,
        "IsDeleted": False,
        "Unknown": {"nested": [1, -2.5e-300, None, True, {"deep": [[[]]]}]},
        "Priority": "-3",
    },
]


#: Files at the top of data/fixtures that are not job dumps: the API's parameter table.
NOT_DUMPS = ("listjobs_params.json",)


def fixture_dumps() -> list[Path]:
    """Dump fixtures written by the fixtures engineer (top level of data/fixtures)."""
    found = [*FIXTURES.glob("*.json"), *FIXTURES.glob("*.ndjson"), *FIXTURES.glob("*.jsonl")]
    return sorted(path for path in found if path.name not in NOT_DUMPS)


def parse_dump(path: Path) -> list[dict[str, Any]]:
    """The jobs of a JSON/NDJSON dump, read with the standard library (not jobquery)."""
    text = path.read_text("utf-8-sig")
    if path.suffix == ".json":
        document = json.loads(text)
        jobs = document["Jobs"] if isinstance(document, dict) else document
        return list(jobs)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_the_fixture_dumps_are_there() -> None:
    assert {path.name for path in fixture_dumps()} >= {
        "seed_page.json",
        "edge_cases.ndjson",
        "synthetic_small.ndjson",
    }


@pytest.mark.parametrize("path", fixture_dumps(), ids=[p.name for p in fixture_dumps()])
def test_every_fixture_dump_round_trips_through_every_format(path: Path) -> None:
    expected = latest_per_id(parse_dump(path))
    with scratch() as folder:
        round_trip(JobStore.from_path(path), expected, folder)


@pytest.mark.parametrize("suffix", [".json", ".ndjson"])
def test_the_built_in_sample_round_trips_through_every_format(suffix: str) -> None:
    with scratch() as folder:
        source = folder / f"sample{suffix}"
        if suffix == ".json":
            source.write_text(json.dumps({"Jobs": SAMPLE_JOBS, "TotalCount": 2}), "utf-8")
        else:
            source.write_text("".join(json.dumps(job) + "\n" for job in SAMPLE_JOBS), "utf-8")
        round_trip(JobStore.from_path(source), SAMPLE_JOBS, folder)


# ---------------------------------------------------------------------------------------------
# Generated jobs: any JSON-compatible extra fields.

TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
ASTRAL = st.text(st.characters(min_codepoint=0x10000, max_codepoint=0x10FFFF), max_size=4)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
    ASTRAL,
    st.integers(-(10**6), 10**6).map(str),  # numbers sent as strings
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=20,
)


@st.composite
def history_pods(draw: st.DrawFn, depth: int) -> dict[str, Any]:
    """A pod whose ``HistoryPods`` nest ``depth`` levels deep."""
    pod: dict[str, Any] = {"PodId": draw(TEXT), "Status": draw(st.sampled_from(("Stopped", "")))}
    if depth:
        pod["HistoryPods"] = [draw(history_pods(depth - 1))]
    return pod


@st.composite
def generated_jobs(draw: st.DrawFn) -> list[dict[str, Any]]:
    ids = draw(
        st.lists(
            st.one_of(TEXT.filter(bool), ASTRAL.filter(bool)), min_size=1, max_size=5, unique=True
        )
    )
    jobs = []
    for job_id in ids:
        job: dict[str, Any] = draw(st.dictionaries(TEXT, VALUES, max_size=5))
        job["JobId"] = job_id
        if draw(st.booleans()):
            job["Pods"] = [draw(history_pods(draw(st.integers(6, 12))))]
        job["UserVpc"] = draw(
            st.one_of(TEXT, st.fixed_dictionaries({"VpcId": TEXT, "ExtendedCidrs": st.lists(TEXT)}))
        )
        for field in ("RequestGPU", "NodeCount", "Priority"):
            if draw(st.booleans()):
                job[field] = draw(
                    st.one_of(st.integers(0, 64).map(str), st.integers(0, 64), st.floats(0, 64))
                )
        if draw(st.booleans()):
            job["GmtCreateTime"] = draw(
                st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1)).map(
                    lambda moment: moment.isoformat() + "Z"
                )
            )
        jobs.append(job)
    return jobs


@settings(SLOW, max_examples=fewer(10, cap=20))
@given(
    jobs=generated_jobs(),
    source=st.sampled_from(("records", ".json", ".ndjson", ".jsonl")),
    ascii_only=st.booleans(),
)
def test_generated_jobs_round_trip_through_every_format(
    jobs: list[dict[str, Any]], source: str, ascii_only: bool
) -> None:
    with scratch() as folder:
        if source == "records":
            store = JobStore.from_records(jobs)
        else:
            path = folder / f"input{source}"
            if source == ".json":
                path.write_text(json.dumps(jobs, ensure_ascii=ascii_only), "utf-8")
            else:
                lines = (json.dumps(job, ensure_ascii=ascii_only) for job in jobs)
                path.write_text("\n".join(lines), "utf-8")
            store = JobStore.from_path(path)
        round_trip(store, jobs, folder)


# ---------------------------------------------------------------------------------------------
# Typed columns for other tools.

TYPED_JOBS = [
    {
        "JobId": "dlc-a",
        "DisplayName": "mnist",
        "Status": "Running",
        "GmtCreateTime": "2026-11-28T10:02:11Z",
        "GmtFinishTime": "2026-11-28T18:02:11.5+08:00",
        "RequestGPU": "2",
        "NodeCount": 3,
        "Settings": {"Caller": "local"},
    },
    {"JobId": "dlc-b", "GmtCreateTime": "yesterday", "RequestGPU": "1Gi", "DisplayName": 5},
    {"JobId": "dlc-c", "IsDeleted": True},
]


@pytest.mark.parametrize("suffix", [".parquet", ".arrow"])
def test_exports_carry_typed_columns_other_tools_read(suffix: str) -> None:
    with scratch() as folder:
        path = folder / f"jobs{suffix}"
        JobStore.from_records(TYPED_JOBS).export(path)
        table = pq.read_table(path) if suffix == ".parquet" else feather.read_table(path)
        types = table.schema
        assert pa.types.is_string(types.field("JobId").type) or pa.types.is_large_string(
            types.field("JobId").type
        )
        for name in ("GmtCreateTime", "GmtFinishTime", "GmtModifiedTime"):
            assert types.field(name).type == pa.timestamp("us", tz="UTC"), name
        for name in ("RequestGPU", "NodeCount", "Duration"):
            assert types.field(name).type == pa.float64(), name
        assert types.field("IsDeleted").type == pa.bool_()
        rows = {row["JobId"]: row for row in table.to_pylist()}
        assert rows["dlc-a"]["GmtCreateTime"] == datetime(2026, 11, 28, 10, 2, 11, tzinfo=UTC)
        assert rows["dlc-a"]["GmtFinishTime"] == datetime(
            2026, 11, 28, 10, 2, 11, 500000, tzinfo=UTC
        )
        assert rows["dlc-a"]["RequestGPU"] == 2.0 and rows["dlc-a"]["NodeCount"] == 3.0
        assert rows["dlc-a"]["Caller"] == "local"
        assert rows["dlc-b"]["GmtCreateTime"] is None and rows["dlc-b"]["RequestGPU"] is None
        assert rows["dlc-b"]["DisplayName"] is None  # a number is not a name; job_json keeps it
        assert json.loads(rows["dlc-b"]["job_json"])["DisplayName"] == 5
        assert rows["dlc-c"]["IsDeleted"] is True

        frame = pl.read_parquet(path) if suffix == ".parquet" else pl.read_ipc(path)
        assert frame.schema["GmtCreateTime"] == pl.Datetime("us", "UTC")
        assert frame.schema["RequestGPU"] == pl.Float64
        assert frame.filter(pl.col("RequestGPU") > 1)["JobId"].to_list() == ["dlc-a"]


def test_duckdb_reads_the_exports_directly() -> None:
    duckdb = pytest.importorskip("duckdb")
    with scratch() as folder:
        store = JobStore.from_records(TYPED_JOBS)
        store.export(folder / "jobs.parquet")
        store.export(folder / "jobs.arrow")
        connection = duckdb.connect()
        found = connection.execute(
            "SELECT JobId, RequestGPU, GmtCreateTime, json_extract_string(job_json, '$.Status')"
            " FROM read_parquet(?) WHERE RequestGPU >= 2",
            [str(folder / "jobs.parquet")],
        ).fetchall()
        assert [(row[0], row[1], row[3]) for row in found] == [("dlc-a", 2.0, "Running")]
        assert found[0][2] == datetime(2026, 11, 28, 10, 2, 11, tzinfo=UTC)
        arrow_table = feather.read_table(folder / "jobs.arrow")  # noqa: F841 - read by duckdb
        count = connection.execute(
            "SELECT count(*) FROM arrow_table WHERE GmtCreateTime IS NOT NULL"
        ).fetchone()
        assert count == (1,)


def test_a_table_written_by_another_tool_reads_as_jobs() -> None:
    """A Parquet file of job fields without ``job_json`` (e.g. made with polars or duckdb)."""
    with scratch() as folder:
        path = folder / "other.parquet"
        pl.DataFrame(
            {"JobId": ["x", "y"], "DisplayName": ["a", None], "NodeCount": [1, 2]}
        ).write_parquet(path)
        records = JobStore.from_path(path).snapshot.records()
        assert records == [
            {"JobId": "x", "DisplayName": "a", "NodeCount": 1},
            {"JobId": "y", "NodeCount": 2},
        ]


# ---------------------------------------------------------------------------------------------
# Malformed dumps.


def write(folder: Path, name: str, data: bytes | str) -> Path:
    path = folder / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


MALFORMED = {
    "truncated-json": ("page.json", '{"Jobs": [{"JobId": "a"},\n {"JobId": "b"', {"line": 2}),
    "truncated-ndjson": ("jobs.ndjson", '{"JobId": "a"}\n{"JobId": "b"', {"line": 2}),
    "non-object-line": ("jobs.ndjson", '{"JobId": "a"}\n["b"]\n', {"line": 2}),
    "numeric-job-id-line": ("jobs.ndjson", '{"JobId": "a"}\n\n{"JobId": 17}\n', {"line": 3}),
    "numeric-job-id-record": (
        "page.json",
        '{"Jobs": [{"JobId": "a"}, {"JobId": 17}]}',
        {"record": 1},
    ),
    "missing-job-id-record": ("array.json", '[{"JobId": "a"}, {"Name": "b"}]', {"record": 1}),
    "empty-json": ("empty.json", "", {}),
    "not-a-page": ("page.json", '{"TotalCount": 0}', {}),
}


@pytest.mark.parametrize(("name", "data", "where"), MALFORMED.values(), ids=MALFORMED)
def test_malformed_dumps_name_the_file_and_place(
    name: str, data: str, where: dict[str, int]
) -> None:
    with scratch() as folder:
        path = write(folder, name, data)
        with pytest.raises(DumpFormatError) as refused:
            JobStore.from_path(path)
        error = refused.value
        assert error.path == str(path) and str(error).startswith(str(path))
        assert error.line == where.get("line")
        assert error.record == where.get("record")
        for key, value in where.items():
            assert f"{key} {value}" in str(error)


@pytest.mark.parametrize(
    ("name", "data", "skipped"),
    [
        ("jobs.ndjson", '{"JobId": "a"}\n["b"]\n{"JobId": 3}\n{"JobId": "c"}\n{"JobId"', [2, 3, 5]),
        ("page.json", '{"Jobs": [{"JobId": "a"}, 7, {"JobId": ""}, {"JobId": "c"}]}', [1, 2]),
    ],
    ids=["ndjson-lines", "page-records"],
)
def test_lenient_mode_reports_what_it_skipped(name: str, data: str, skipped: list[int]) -> None:
    with scratch() as folder:
        path = write(folder, name, data)
        store = JobStore.from_path(path, lenient=True)
        places = [s.line if name.endswith(".ndjson") else s.record for s in store.skipped]
        assert places == skipped
        assert all(s.path == str(path) and str(s).startswith(str(path)) for s in store.skipped)
        assert sorted(job["JobId"] for job in store.snapshot.records()) == ["a", "c"]


def test_a_missing_file_is_file_not_found() -> None:
    with scratch() as folder:
        with pytest.raises(FileNotFoundError):
            JobStore.from_path(folder / "nope.ndjson")
        with pytest.raises(FileNotFoundError):
            JobStore.from_path(folder / "*.ndjson")  # a pattern that matches nothing
        write(folder, "a.ndjson", '{"JobId": "a"}\n')
        with pytest.raises(FileNotFoundError):
            JobStore.from_path(folder / "a.ndjson", folder / "b.ndjson")


@pytest.mark.parametrize("name", ["jobs.csv", "jobs.txt", "jobs", "jobs.json.gz", "jobs.JSON5"])
def test_an_unknown_extension_is_refused(name: str) -> None:
    with scratch() as folder:
        path = write(folder, name, '{"JobId": "a"}\n')
        with pytest.raises(DumpFormatError) as refused:
            JobStore.from_path(path)
        assert refused.value.path == str(path)
        assert "unknown dump format" in str(refused.value)
        with pytest.raises(DumpFormatError):
            JobStore.from_records([{"JobId": "a"}]).export(folder / f"out-{name}")


def test_upper_case_extensions_are_known() -> None:
    with scratch() as folder:
        path = write(folder, "JOBS.NDJSON", '{"JobId": "a"}\n')
        assert len(JobStore.from_path(path)) == 1


# ---------------------------------------------------------------------------------------------
# Duplicate JobIds.


def lines(*jobs: dict[str, Any]) -> str:
    return "".join(json.dumps(job) + "\n" for job in jobs)


def test_the_latest_modification_wins_across_files() -> None:
    with scratch() as folder:
        first = write(
            folder,
            "1.ndjson",
            lines(
                {"JobId": "x", "GmtModifiedTime": "2026-11-20T10:00:00Z", "V": "newest"},
                {"JobId": "tie", "GmtModifiedTime": "2026-11-20T10:00:00Z", "V": "earlier"},
                {"JobId": "zone", "GmtModifiedTime": "2026-11-20T03:00:00Z", "V": "later-instant"},
                {"JobId": "untimed", "V": "no time"},
            ),
        )
        second = write(
            folder,
            "2.json",
            json.dumps(
                [
                    {"JobId": "x", "GmtModifiedTime": "2026-11-20T09:59:59Z", "V": "older"},
                    {"JobId": "tie", "GmtModifiedTime": "2026-11-20T10:00:00Z", "V": "later"},
                    {"JobId": "zone", "GmtModifiedTime": "2026-11-20T10:00:00+08:00", "V": "02Z"},
                    {"JobId": "untimed", "GmtModifiedTime": "garbage", "V": "unreadable"},
                ]
            ),
        )
        store = JobStore.from_path(first, second)
        kept = {job["JobId"]: job["V"] for job in store.snapshot.records()}
        assert kept == {
            "x": "newest",
            "tie": "later",
            "zone": "later-instant",
            "untimed": "unreadable",
        }
        assert store.duplicates == 4
        reversed_order = JobStore.from_path(second, first)
        kept = {job["JobId"]: job["V"] for job in reversed_order.snapshot.records()}
        assert kept == {
            "x": "newest",
            "tie": "earlier",
            "zone": "later-instant",
            "untimed": "no time",
        }


MODIFIED = st.one_of(
    st.none(),
    st.sampled_from(
        (
            "2026-11-20T10:00:00Z",
            "2026-11-20T18:00:00+08:00",  # the same instant
            "2026-11-20T10:00:00.000001Z",
            "2026-11-20T09:00:00Z",
            "2026-11-21T00:00:00-05:00",
            "not a time",
            "0001-01-01T00:00:00Z",  # the oldest moment, still newer than a missing time
            "2026-11-20t10:00:00z",  # shapes parsed by parse_timestamp, not natively
            "2026-11-20 10:00:00",
            "2026-11-20T10:00:00.5+00:00",
            "2026-06-30T23:59:60Z",  # refused: counts as missing
        )
    ),
)


@settings(SLOW, max_examples=fewer(5, cap=40))
@given(
    files=st.lists(
        st.lists(
            st.tuples(st.sampled_from(("a", "b", "c", "A")), MODIFIED),
            min_size=1,
            max_size=6,
        ),
        min_size=1,
        max_size=3,
    ),
    suffixes=st.lists(
        st.sampled_from((".json", ".ndjson", ".parquet", ".arrow")), min_size=3, max_size=3
    ),
)
def test_duplicates_keep_the_latest_then_the_later_record(
    files: list[list[tuple[str, str | None]]], suffixes: list[str]
) -> None:
    every: list[dict[str, Any]] = []
    paths = []
    with scratch() as folder:
        for number, (records, suffix) in enumerate(zip(files, suffixes, strict=False)):
            jobs = []
            for position, (job_id, modified) in enumerate(records):
                job: dict[str, Any] = {"JobId": job_id, "From": [number, position]}
                if modified is not None:
                    job["GmtModifiedTime"] = modified
                jobs.append(job)
            every += jobs
            path = folder / f"{number}{suffix}"
            if suffix == ".json":
                path.write_text(json.dumps({"Jobs": jobs}), "utf-8")
            elif suffix == ".ndjson":
                path.write_text(lines(*jobs), "utf-8")
            else:
                table = pa.table({"job_json": [json.dumps(job) for job in jobs]})
                (pq.write_table if suffix == ".parquet" else feather.write_feather)(table, path)
            paths.append(path)
        store = JobStore.from_path(*paths)
        expected = latest_per_id(every)
        assert_same_jobs(expected, store.snapshot.records())
        assert store.duplicates == len(every) - len(expected)


def test_records_given_in_memory_are_deduplicated_the_same_way() -> None:
    store = JobStore.from_records(
        [
            {"JobId": "a", "GmtModifiedTime": "2026-11-20T10:00:00Z", "V": 1},
            {"JobId": "a", "GmtModifiedTime": "2026-11-20T09:00:00Z", "V": 2},
            {"JobId": "b", "V": 3},
            {"JobId": "b", "V": 4},
        ]
    )
    assert sorted((job["JobId"], job["V"]) for job in store.snapshot.records()) == [
        ("a", 1),
        ("b", 4),
    ]


# ---------------------------------------------------------------------------------------------
# Folders and glob patterns.


def test_folders_and_patterns_read_as_one_set() -> None:
    with scratch() as folder:
        nested = folder / "dumps" / "2026" / "11"
        nested.mkdir(parents=True)
        write(folder / "dumps", "a.ndjson", lines({"JobId": "a"}, {"JobId": "b"}))
        write(folder / "dumps", "page.json", json.dumps({"Jobs": [{"JobId": "c"}]}))
        write(nested, "d.jsonl", lines({"JobId": "d"}))
        write(folder / "dumps", "README.txt", "not a dump")
        write(folder / "dumps", "notes.md", "# notes")
        JobStore.from_records([{"JobId": "e"}]).export(nested / "e.parquet")
        JobStore.from_records([{"JobId": "f"}, {"JobId": "a", "V": "dup"}]).export(
            nested / "f.arrow"
        )

        def ids(*paths: Path | str) -> list[str]:
            return sorted(job["JobId"] for job in JobStore.from_path(*paths).snapshot.records())

        assert ids(folder / "dumps") == ["a", "b", "c", "d", "e", "f"]
        assert ids(str(folder / "dumps" / "*.ndjson")) == ["a", "b"]
        assert ids(str(folder / "dumps" / "**" / "*.*json*")) == ["a", "b", "c", "d"]
        assert ids(str(folder / "dumps" / "2026" / "**" / "*.[pa]*")) == ["a", "e", "f"]
        assert ids(nested, folder / "dumps" / "page.json") == ["a", "c", "d", "e", "f"]
        assert len(JobStore.from_path(folder / "dumps")) == 6
        empty = folder / "empty"
        empty.mkdir()
        with pytest.raises(DumpFormatError):
            JobStore.from_path(empty)
        shutil.rmtree(nested)
        assert ids(folder / "dumps") == ["a", "b", "c"]


def test_a_file_found_twice_is_read_once() -> None:
    """By name twice, through a folder, a pattern and a link: once, so its jobs are not taken
    for repeated JobIds (the command line noted each as a duplicate)."""
    with scratch() as folder:
        dump = write(folder, "a.ndjson", lines({"JobId": "a"}, {"JobId": "b"}))
        (folder / "link.ndjson").symlink_to(dump)
        store = JobStore.from_path(dump, dump, folder, str(folder / "*.ndjson"))
        assert len(store) == 2 and store.duplicates == 0
        assert find_dump_files([dump, folder / "link.ndjson", folder])[0] == [dump]


TIMES = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)).map(
        lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%S") + "Z"
    ),
    st.from_regex(
        r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?"
        r"([Zz]|[+-][0-9]{2}:[0-9]{2})?",
        fullmatch=True,
    ),
    st.text(max_size=25),
)


@given(st.lists(st.one_of(st.none(), TIMES), max_size=20))
def test_modified_times_are_read_as_parse_timestamp_reads_them(texts: list[str | None]) -> None:
    """Duplicates are resolved on times parsed natively where the shape is simple: the same
    instants as parse_timestamp, and a moment before any where it gives none."""
    parsed = [parse_timestamp(text) if text is not None else None for text in texts]
    expected = [
        NO_MODIFIED_TIME if moment is None else (moment - EPOCH) // timedelta(microseconds=1)
        for moment in parsed
    ]
    assert modified_micros(pl.Series(texts, dtype=pl.String)).to_list() == expected


def test_a_time_of_year_one_is_newer_than_a_missing_time() -> None:
    """As the reference has it (Go writes 0001-01-01T00:00:00Z for a time it never set)."""
    created = {"JobId": "a", "GmtCreateTime": "2026-11-27T00:00:00Z"}
    dated = {**created, "GmtModifiedTime": "0001-01-01T00:00:00Z", "V": "dated"}
    undated = {**created, "GmtModifiedTime": "soon", "V": "undated"}
    window = {"StartTime": "2026-11-01T00:00:00Z"}
    now = datetime(2026, 11, 28, tzinfo=UTC)
    for jobs in ([dated, undated], [undated, dated], [dated, {**created, "V": "none"}]):
        assert JobStore.from_records(jobs).list_jobs(window, now=now).jobs == [dated]
        assert reference.list_jobs(jobs, window, now=now)["Jobs"] == [dated]


@pytest.mark.parametrize("suffix", [".parquet", ".arrow"])
def test_a_dictionary_encoded_job_json_column_reads_as_texts(suffix: str) -> None:
    texts = ['{"JobId": "a", "Status": "Running"}', '{"JobId": "b"}', '{"JobId": "a"}']
    table = pa.table({"job_json": pa.array(texts).dictionary_encode(), "Other": [1, 2, 3]})
    with scratch() as folder:
        path = folder / f"dump{suffix}"
        (pq.write_table if suffix == ".parquet" else feather.write_feather)(table, path)
        store = JobStore.from_path(path)
        assert sorted(store.snapshot.frame["job_json"].to_list()) == sorted(texts[1:])
        assert store.duplicates == 1


@pytest.mark.parametrize("suffix", [".parquet", ".arrow"])
def test_a_job_json_column_without_text_holds_no_job(suffix: str) -> None:
    table = pa.table({"job_json": [1, 2], "JobId": ["a", "b"]})
    with scratch() as folder:
        path = folder / f"dump{suffix}"
        (pq.write_table if suffix == ".parquet" else feather.write_feather)(table, path)
        with pytest.raises(DumpFormatError) as refused:
            JobStore.from_path(path)
        assert refused.value.record == 0 and "job_json is empty" in str(refused.value)
        store = JobStore.from_path(path, lenient=True)
        assert [skipped.record for skipped in store.skipped] == [0, 1] and len(store) == 0


# ---------------------------------------------------------------------------------------------
# Paths that are not plain files (issue 15, item 11): never a hang, never left out unsaid


def run_python(code: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run code in a fresh interpreter (what could hang must not hang the test run)."""
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=Path(__file__).resolve().parents[1],
    )


COUNT_JOBS = """
import sys
from jobquery.store import JobStore
store = JobStore.from_path(*sys.argv[1:])
print(len(store), sorted(str(skipped) for skipped in store.skipped))
"""


def test_symbolic_link_loops_are_not_followed_round() -> None:
    """A folder walk or a ``**`` pattern enters each folder once: a link back up (``again ->
    ..``) ends there, so the walk finishes and reads each file once."""
    with scratch() as folder:
        nested = folder / "dumps" / "2026"
        nested.mkdir(parents=True)
        write(folder / "dumps", "a.ndjson", lines({"JobId": "a"}))
        write(nested, "b.ndjson", lines({"JobId": "b"}))
        (nested / "again").symlink_to("..", target_is_directory=True)
        (nested / "self").symlink_to(".", target_is_directory=True)
        for path in (folder / "dumps", f"{folder}/dumps/**/*.ndjson", f"{folder}/**"):
            result = run_python(COUNT_JOBS, str(path), timeout=30)
            assert result.returncode == 0, result.stderr
            assert result.stdout.split(" ", 1)[0] == "2", (path, result.stdout)


def test_a_fifo_given_by_name_is_refused_without_reading_it() -> None:
    with scratch() as folder:
        fifo = folder / "jobs.ndjson"
        os.mkfifo(fifo)
        result = run_python(COUNT_JOBS, str(fifo), timeout=30)
        assert "DumpFormatError" in result.stderr
        assert "not a regular file but a FIFO" in result.stderr


def test_entries_that_are_not_files_are_listed_as_skipped() -> None:
    """A FIFO, a link to nothing and a link to a device named like dumps, in a folder or
    matched by a pattern, are not read (no hang) and are listed in ``store.skipped``."""
    with scratch() as folder:
        dumps = folder / "dumps"
        dumps.mkdir()
        write(dumps, "a.ndjson", lines({"JobId": "a"}))
        os.mkfifo(dumps / "fifo.ndjson")
        os.mkfifo(dumps / "pipe")  # no dump extension: not opened to look for a snapshot either
        (dumps / "gone.ndjson").symlink_to(dumps / "nowhere.ndjson")
        (dumps / "null.jsonl").symlink_to("/dev/null")
        for path in (dumps, f"{dumps}/*"):
            result = run_python(COUNT_JOBS, str(path), timeout=30)
            assert result.returncode == 0, result.stderr
            count, skipped = result.stdout.split(" ", 1)
            assert count == "1"
            assert f"{dumps}/fifo.ndjson: not a regular file (a FIFO); not read" in skipped
            assert f"{dumps}/gone.ndjson: not a regular file (a symbolic link to nothing)" in (
                skipped
            )
            assert f"{dumps}/null.jsonl: not a regular file (a device); not read" in skipped
        with pytest.raises(FileNotFoundError, match="a symbolic link to nothing"):
            JobStore.from_path(dumps / "gone.ndjson")


# ---------------------------------------------------------------------------------------------
# What jobquery writes (issue 15, item 13)


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o077])
def test_written_files_follow_the_umask(umask: int) -> None:
    store = JobStore.from_records([{"JobId": "a"}])
    previous = os.umask(umask)
    try:
        with scratch() as folder:
            written = [folder / f"jobs{suffix}" for suffix in OUTPUT_FORMATS]
            for path in written:
                store.export(path)
            store.save(folder / "jobs.snapshot")
            for path in [*written, folder / "jobs.snapshot"]:
                assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask, path.name
    finally:
        os.umask(previous)


@pytest.mark.parametrize("suffix", [*OUTPUT_FORMATS, ".jsonl", ".feather"])
def test_an_empty_job_set_reads_back_from_every_format(suffix: str) -> None:
    with scratch() as folder:
        target = folder / f"empty{suffix}"
        assert JobStore.from_records([]).export(target) == 0
        assert len(JobStore.from_path(target)) == 0


@pytest.mark.parametrize("suffix", [".parquet", ".arrow"])
def test_non_finite_numbers_in_a_foreign_table_are_refused_naming_the_column(
    suffix: str,
) -> None:
    """JSON has no NaN or infinity: a table written by another tool holding one is refused
    (its record skipped when lenient), naming the column, instead of reading it as null."""
    table = pa.table(
        {
            "JobId": ["a", "b", "c", "d", "e"],
            "Loss": [0.5, float("nan"), None, 1.0, 2.0],
            "Metrics": pa.array([{"Top1": 0.9}, None, {"Top1": float("inf")}, None, None]),
            "Curve": pa.array([[1.0], [], None, [float("-inf")], [2.0]], pa.list_(pa.float32())),
        }
    )
    with scratch() as folder:
        path = folder / f"foreign{suffix}"
        if suffix == ".parquet":
            pq.write_table(table, path)
        else:
            feather.write_feather(table, path)
        with pytest.raises(DumpFormatError) as refused:
            JobStore.from_path(path)
        assert refused.value.record == 1
        assert "column Loss holds NaN or an infinity" in str(refused.value)
        lenient = JobStore.from_path(path, lenient=True)
        assert sorted(job["JobId"] for job in lenient.snapshot.records()) == ["a", "e"]
        assert [(skipped.record, skipped.reason.split()[1]) for skipped in lenient.skipped] == [
            (1, "Loss"),
            (2, "Metrics.Top1"),
            (3, "Curve[]"),
        ]


@pytest.mark.parametrize("populate", [True, False], ids=["one-call", "page-by-page"])
def test_a_piece_is_read_whole_or_as_far_as_the_file_goes(
    populate: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A piece's bytes, in memory asked for in one call where the system can (and where it
    cannot); a file that shrank since its pieces were cut gives what is left."""
    if not populate:
        monkeypatch.setattr(dumps, "_POPULATE", 0)
    data = bytes(range(256)) * 64
    with scratch() as folder:
        path = folder / "bytes.bin"
        path.write_bytes(data)
        with path.open("rb") as file:
            handle = file.fileno()
            assert bytes(dumps._read_range(handle, 100, 9000)) == data[100:9000]
            assert bytes(dumps._read_range(handle, len(data) - 10, len(data) + 90)) == data[-10:]
            assert bytes(dumps._read_range(handle, len(data), len(data) + 90)) == b""


def test_a_spare_read_buffer_is_read_into_again_only_when_nothing_points_into_it() -> None:
    """With compressed texts a piece's bytes are read into its thread's last buffer: only
    once no Arrow buffer or view holds it, and never changing what a holder sees."""
    data = bytes(range(256)) * 64
    with scratch() as folder:
        path = folder / "bytes.bin"
        path.write_bytes(data)
        spares = dumps._SpareBuffers()
        with path.open("rb") as file:
            handle = file.fileno()
            first = spares.read(handle, 0, 2000)
            held = pa.py_buffer(first)
            second = spares.read(handle, 1000, 3000)  # as long, but held: a new buffer
            assert second is not first
            assert held.to_pybytes() == data[:2000] and bytes(second) == data[1000:3000]
            del held
            third = spares.read(handle, 3000, 3500)  # the second is free: read into again
            assert third is second and bytes(third) == data[3000:3500]
            fourth = spares.read(handle, 5000, 9000)  # larger than before, and free
            assert fourth is second and bytes(fourth) == data[5000:9000]
            shrunk = spares.read(handle, len(data) - 10, len(data) + 90)  # the file ended
            assert bytes(shrunk) == data[-10:]
