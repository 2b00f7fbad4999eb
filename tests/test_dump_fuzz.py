"""Hostile dumps: whatever a file holds, ingest gives a store or an error that says where.

The only allowed outcomes of ``JobStore.from_path(file)`` are a store, or
:class:`~jobquery.errors.DumpFormatError` naming the file (and, for NDJSON, the line). In
lenient mode every record left out is listed in ``store.skipped`` with its file and line or
record number, and nothing else is left out. Every record a store holds comes back unchanged
(the same JSON value, compared as parsed objects) when exported to any format and read again.

The inputs: arbitrary bytes under every extension, valid dumps cut short at every Nth byte or
with bytes flipped, valid JSON of the wrong shape, jobs whose fields have the wrong type,
duplicate keys, byte order marks, CRLF line ends, huge lines, empty files, non-UTF-8 bytes.
"""

from __future__ import annotations

import contextlib
import enum
import json
import math
import re
import subprocess
import sys
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import orjson
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pyarrow import feather

from jobquery import DumpFormatError, reference
from jobquery.io import dumps as ingest
from jobquery.snapshot import (
    JOB_JSON,
    may_hold_long_integer,
    native_index,
    native_read,
    repeated_index_key,
)
from jobquery.store import JobStore
from tests.helpers.jsonvalues import SLOW, assert_same_jobs, by_id, fewer, scratch

INPUT_FORMATS = (".json", ".ndjson", ".jsonl", ".parquet", ".arrow", ".feather")
OUTPUT_FORMATS = (".json", ".ndjson", ".parquet", ".arrow")
NOW = datetime(2026, 11, 29, tzinfo=UTC)


def assert_exports_unchanged(store: JobStore, folder: Path) -> None:
    """Every stored record survives an export to every format and a fresh read."""
    stored = store.snapshot.records()
    for suffix in OUTPUT_FORMATS:
        target = folder / f"export{suffix}"
        assert store.export(target) == len(stored)
        assert_same_jobs(stored, JobStore.from_path(target).snapshot.records())


# ---------------------------------------------------------------------------------------------
# Reading a file: a store or a located error, nothing else.


def read(path: Path, *, lenient: bool = False) -> JobStore | DumpFormatError:
    try:
        store = JobStore.from_path(path, lenient=lenient)
    except DumpFormatError as error:
        assert error.path == str(path)
        assert str(error).startswith(str(path))
        if path.suffix in (".ndjson", ".jsonl"):
            assert error.line is not None and error.line >= 1, str(error)
            assert f"line {error.line}" in str(error)
        return error
    for skipped in store.skipped:
        assert lenient
        assert skipped.path == str(path)
        assert str(skipped).startswith(str(path))
        assert skipped.line is not None or skipped.record is not None
    response = store.list_jobs({"StartTime": "1970-01-01T00:00:00Z"}, now=NOW)
    assert response.total_count <= len(store)
    return store


def check_file(path: Path, folder: Path) -> None:
    """Strict and lenient reads of one file; lenient NDJSON never fails and skips what strict
    refused; whatever loads exports unchanged."""
    strict = read(path)
    lenient = read(path, lenient=True)
    if isinstance(strict, JobStore):
        assert isinstance(lenient, JobStore)
        assert lenient.skipped == []
        assert_same_jobs(strict.snapshot.records(), lenient.snapshot.records())
    elif path.suffix in (".ndjson", ".jsonl"):
        assert isinstance(lenient, JobStore), "lenient NDJSON skips bad lines, it does not fail"
        assert strict.line in {skipped.line for skipped in lenient.skipped}
    if isinstance(lenient, JobStore) and len(lenient):
        assert_exports_unchanged(lenient, folder)


# ---------------------------------------------------------------------------------------------
# Valid dumps to start from.

JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=10),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=6), inner, max_size=4),
    ),
    max_leaves=15,
)
#: Known fields, often with a value of the wrong type (which must load and survive unchanged).
KNOWN_FIELDS = (
    "DisplayName", "Status", "JobType", "UserId", "Accessibility", "WorkspaceId", "Settings",
    "JobSpecs", "GmtCreateTime", "GmtFinishTime", "GmtModifiedTime", "RequestGPU", "NodeCount",
    "IsDeleted", "UserVpc", "Pods", "StatusHistory", "ReasonCode", "UserCommand", "Duration",
)  # fmt: skip
ODD_VALUES = st.one_of(
    JSON_VALUES,
    st.sampled_from(
        (
            "2026-02-30T25:61:00Z", "2026-06-30T23:59:60Z", "yesterday", "", "1", "1e3",
            [1, 2], {"Tags": {"a": {"b": [1]}}}, {"Tags": [["a", "b"]]}, "vpc-1",
            {"VpcId": "vpc-1", "ExtendedCidrs": []}, [{"Image": 5}], "Worker", 9007199254740993,
        )
    ),
)  # fmt: skip
JOB_IDS = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=12)


@st.composite
def odd_jobs(draw: st.DrawFn, max_size: int = 6) -> list[dict[str, Any]]:
    """Jobs with unique JobIds whose other fields hold any JSON value, wrong types included."""
    ids = draw(st.lists(JOB_IDS, min_size=1, max_size=max_size, unique=True))
    jobs = []
    for job_id in ids:
        job: dict[str, Any] = {"JobId": job_id}
        for field in draw(st.lists(st.sampled_from(KNOWN_FIELDS), max_size=6, unique=True)):
            job[field] = draw(ODD_VALUES)
        job.update(draw(st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=3)))
        job["JobId"] = job_id
        jobs.append(job)
    return jobs


def write_valid(path: Path, jobs: Sequence[dict[str, Any]]) -> None:
    """A valid dump of ``jobs`` in the format of ``path`` (written by the standard library or
    pyarrow, not by jobquery)."""
    suffix = path.suffix
    if suffix == ".json":
        path.write_text(json.dumps({"Jobs": list(jobs), "TotalCount": len(jobs)}), "utf-8")
    elif suffix in (".ndjson", ".jsonl"):
        path.write_text("".join(json.dumps(job) + "\n" for job in jobs), "utf-8")
    else:
        table = pa.table({"job_json": [json.dumps(job) for job in jobs]})
        if suffix == ".parquet":
            pq.write_table(table, path)
        else:
            feather.write_feather(table, path)


# ---------------------------------------------------------------------------------------------
# Arbitrary and damaged bytes.


@settings(SLOW, max_examples=fewer(1, cap=150))
@given(
    suffix=st.sampled_from(INPUT_FORMATS),
    data=st.one_of(
        st.binary(max_size=300),
        st.sampled_from((b"PAR1", b"PAR1\x00\x00\x00\x00PAR1", b"ARROW1\x00\x00", b"ARROW1")),
        st.binary(max_size=60).map(lambda tail: b"ARROW1\x00\x00" + tail + b"ARROW1"),
        st.binary(max_size=60).map(lambda tail: b"PAR1" + tail + b"PAR1"),
    ),
)
def test_arbitrary_bytes_give_a_store_or_a_located_error(suffix: str, data: bytes) -> None:
    with scratch() as folder:
        path = folder / f"dump{suffix}"
        path.write_bytes(data)
        check_file(path, folder)


@settings(SLOW, max_examples=fewer(6, cap=40))
@given(
    suffix=st.sampled_from((".json", ".ndjson")),
    jobs=odd_jobs(),
    edits=st.lists(
        st.tuples(
            st.sampled_from(("flip", "insert", "delete")),
            st.integers(0),
            st.binary(min_size=1, max_size=3),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_damaged_text_dumps_give_a_store_or_a_located_error(
    suffix: str, jobs: list[dict[str, Any]], edits: list[tuple[str, int, bytes]]
) -> None:
    with scratch() as folder:
        path = folder / f"dump{suffix}"
        write_valid(path, jobs)
        data = bytearray(path.read_bytes())
        for kind, where, chunk in edits:
            at = where % (len(data) + 1)
            if kind == "flip":
                data[at : at + len(chunk)] = chunk
            elif kind == "insert":
                data[at:at] = chunk
            else:
                del data[at : at + len(chunk)]
        path.write_bytes(bytes(data))
        check_file(path, folder)


@pytest.mark.parametrize("suffix", INPUT_FORMATS)
def test_dumps_cut_at_every_nth_byte(suffix: str) -> None:
    jobs = [
        {"JobId": f"dlc-{i}", "DisplayName": f"job {i}", "Pods": [{"HistoryPods": [{"i": i}]}]}
        for i in range(12)
    ]
    with scratch() as folder:
        whole = folder / f"whole{suffix}"
        write_valid(whole, jobs)
        data = whole.read_bytes()
        step = max(1, len(data) // 25)
        for cut in [*range(0, len(data), step), len(data) - 1]:
            path = folder / f"cut{suffix}"
            path.write_bytes(data[:cut])
            strict = read(path)
            lenient = read(path, lenient=True)
            if suffix in (".ndjson", ".jsonl"):
                # whole lines before the cut load; the cut line alone is skipped
                assert isinstance(lenient, JobStore)
                loaded = lenient.snapshot.records()
                assert_same_jobs(jobs[: len(loaded)], loaded)
                assert len(lenient.skipped) <= 1
                assert [s.line for s in lenient.skipped] in ([], [len(loaded) + 1])
                if isinstance(strict, DumpFormatError):
                    assert strict.line == len(loaded) + 1
            elif isinstance(strict, JobStore):
                assert_same_jobs(jobs, strict.snapshot.records())  # only a cut in trailing space


# ---------------------------------------------------------------------------------------------
# Valid JSON of the wrong shape.

#: A JSON document, and the records that lenient mode skips (None: the whole file is refused).
WRONG_SHAPES = {
    "number": (b"42", None),
    "string": (b'"jobs"', None),
    "null": (b"null", None),
    "empty-object": (b"{}", None),
    "jobs-not-a-list": (b'{"Jobs": {"JobId": "a"}}', None),
    "jobs-null": (b'{"Jobs": null}', None),
    "lower-case-jobs": (b'{"jobs": [{"JobId": "a"}]}', None),
    "array-of-numbers": (b"[1, 2]", [0, 1]),
    "array-of-arrays": (b'[[{"JobId": "a"}]]', [0]),
    "job-without-id": (b'[{"JobId": "a"}, {"DisplayName": "b"}]', [1]),
    "numeric-id": (b'[{"JobId": 7}]', [0]),
    "empty-id": (b'{"Jobs": [{"JobId": "a"}, {"JobId": "b"}, {"JobId": ""}]}', [2]),
    "null-id": (b'[{"JobId": null}, {"JobId": "a"}]', [0]),
    "object-id": (b'[{"JobId": {"id": "a"}}]', [0]),
}


@pytest.mark.parametrize(("document", "skipped"), WRONG_SHAPES.values(), ids=WRONG_SHAPES)
def test_json_of_the_wrong_shape_is_refused_with_its_place(
    document: bytes, skipped: list[int] | None
) -> None:
    with scratch() as folder:
        path = folder / "page.json"
        path.write_bytes(document)
        refused = read(path)
        assert isinstance(refused, DumpFormatError)
        lenient = read(path, lenient=True)
        if skipped is None:
            assert refused.record is None
            assert isinstance(lenient, DumpFormatError)
        else:
            assert refused.record == skipped[0]
            assert f"record {skipped[0]}" in str(refused)
            assert isinstance(lenient, JobStore)
            assert [place.record for place in lenient.skipped] == skipped


@pytest.mark.parametrize("suffix", [".ndjson", ".jsonl"])
def test_ndjson_lines_of_the_wrong_shape_are_refused_with_their_line(suffix: str) -> None:
    lines = [b'{"JobId": "a"}', b"[1]", b"42", b'"x"', b"null", b'{"JobId": 5}', b'{"JobId": "b"}']
    with scratch() as folder:
        path = folder / f"jobs{suffix}"
        path.write_bytes(b"\n".join(lines) + b"\n")
        refused = read(path)
        assert isinstance(refused, DumpFormatError) and refused.line == 2
        lenient = read(path, lenient=True)
        assert isinstance(lenient, JobStore)
        assert [skipped.line for skipped in lenient.skipped] == [2, 3, 4, 5, 6]
        assert sorted(by_id(lenient.snapshot.records())) == ["a", "b"]


# ---------------------------------------------------------------------------------------------
# Odd but valid content: it loads, and it exports unchanged.


def assert_loads_and_exports_unchanged(jobs: list[dict[str, Any]], suffix: str) -> None:
    """Jobs written as a dump of ``suffix`` load as they were and export unchanged."""
    with scratch() as folder:
        path = folder / f"dump{suffix}"
        write_valid(path, jobs)
        store = read(path)
        assert isinstance(store, JobStore), str(store)
        assert_same_jobs(jobs, store.snapshot.records())
        assert_exports_unchanged(store, folder)


@settings(SLOW, max_examples=fewer(8, cap=25))
@given(jobs=odd_jobs(), suffix=st.sampled_from(INPUT_FORMATS))
def test_fields_of_the_wrong_type_load_and_export_unchanged(
    jobs: list[dict[str, Any]], suffix: str
) -> None:
    assert_loads_and_exports_unchanged(jobs, suffix)


def test_wrong_typed_fields_count_as_missing_and_do_not_break_queries() -> None:
    jobs = [
        {"JobId": "a", "DisplayName": 5, "Settings": ["x"], "JobSpecs": "Worker"},
        {"JobId": "b", "GmtCreateTime": "2026-02-30T25:61:00Z", "Settings": {"Tags": {"k": {}}}},
        {"JobId": "c", "GmtCreateTime": 1763596800, "RequestGPU": "1e3", "Status": ["Running"]},
        {"JobId": "d", "UserVpc": "vpc-1", "Pods": [{"HistoryPods": [[[[[[{"x": 1}]]]]]]}]},
        {"JobId": "e", "GmtCreateTime": "2026-11-28T00:00:00Z", "IsDeleted": "true"},
    ]
    store = JobStore.from_records(jobs)
    wide = {"StartTime": "1970-01-01T00:00:00Z", "EndTime": "2100-01-01T00:00:00Z"}
    assert store.list_jobs(wide, now=NOW).total_count == 1  # only "e" has a readable time
    for wire in (
        {"DisplayName": "5"},
        {"Tags": '{"k":"{}"}'},
        {"Status": "Running"},
        {"NumericRangeField": "RequestGPU", "NumericRangeMin": "0"},
        {"ImageSearch": "Worker"},
    ):
        assert store.list_jobs({**wide, **wire}, now=NOW).total_count == 0
    with scratch() as folder:
        assert_exports_unchanged(store, folder)


@pytest.mark.parametrize("suffix", [".json", ".ndjson"])
def test_a_key_the_index_reads_given_twice_is_refused_with_its_place(suffix: str) -> None:
    record = (
        b'{"JobId": "a", "DisplayName": "first", "DisplayName": "second", '
        b'"GmtCreateTime": "2026-01-01T00:00:00Z"}'
    )
    other = b'{"JobId": "b", "GmtCreateTime": "2026-01-01T00:00:00Z"}'
    data = b"[" + other + b"," + record + b"]" if suffix == ".json" else other + b"\n" + record
    with scratch() as folder:
        path = folder / f"dump{suffix}"
        path.write_bytes(data)
        refused = read(path)
        assert isinstance(refused, DumpFormatError)
        assert "DisplayName is given twice" in str(refused)
        assert (refused.line, refused.record) == ((2, None) if suffix == ".ndjson" else (None, 1))
        store = read(path, lenient=True)
        assert isinstance(store, JobStore)
        assert [job["JobId"] for job in store.snapshot.records()] == ["b"]
        assert len(store.skipped) == 1


@pytest.mark.parametrize("suffix", [".json", ".ndjson"])
def test_duplicate_keys_the_index_does_not_read_read_as_the_last_one(suffix: str) -> None:
    record = (
        b'{"JobId": "a", "Pods": [1], "Pods": [2], "GmtCreateTime": "2026-01-01T00:00:00Z", '
        b'"Settings": {"Other": 1, "Other": 2}, "JobSpecs": [{"Type": "A", "Type": "B"}]}'
    )
    data = b"[" + record + b"]" if suffix == ".json" else record + b"\n"
    with scratch() as folder:
        path = folder / f"dump{suffix}"
        path.write_bytes(data)
        store = read(path)
        assert isinstance(store, JobStore)
        assert store.snapshot.records() == [
            {
                "JobId": "a",
                "Pods": [2],
                "GmtCreateTime": "2026-01-01T00:00:00Z",
                "Settings": {"Other": 2},
                "JobSpecs": [{"Type": "B"}],
            }
        ]
        assert store.list_jobs({"StartTime": "1970-01-01T00:00:00Z"}).total_count == 1
        assert_exports_unchanged(store, folder)


BOM = b"\xef\xbb\xbf"


@pytest.mark.parametrize(
    ("suffix", "data"),
    [
        (".json", BOM + b'[{"JobId": "a"},\r\n {"JobId": "b"}]\r\n'),
        (".json", b'{"Jobs": [\r\n{"JobId": "a"}, {"JobId": "b"}\r\n]}'),
        (".ndjson", BOM + b'{"JobId": "a"}\r\n{"JobId": "b"}\r\n'),
        (".ndjson", b'{"JobId": "a"}\r\n\r\n   \n{"JobId": "b"}'),
        (".jsonl", BOM + b'{"JobId": "a"}\n{"JobId": "b"}\r\n\r\n'),
    ],
    ids=["json-bom-crlf", "page-crlf", "ndjson-bom-crlf", "ndjson-blank-lines", "jsonl-bom"],
)
def test_byte_order_marks_and_crlf_line_ends_are_read(suffix: str, data: bytes) -> None:
    with scratch() as folder:
        path = folder / f"dump{suffix}"
        path.write_bytes(data)
        store = read(path)
        assert isinstance(store, JobStore)
        assert store.snapshot.records() == [{"JobId": "a"}, {"JobId": "b"}]


def test_a_byte_order_mark_inside_a_file_is_a_bad_line() -> None:
    with scratch() as folder:
        path = folder / "dump.ndjson"
        path.write_bytes(b'{"JobId": "a"}\n' + BOM + b'{"JobId": "b"}\n')
        refused = read(path)
        assert isinstance(refused, DumpFormatError) and refused.line == 2


@pytest.mark.parametrize("suffix", [".json", ".ndjson"])
def test_huge_lines_load_and_export_unchanged(suffix: str) -> None:
    jobs = [
        {"JobId": "big", "UserCommand": "python train.py " + "x" * 2_000_000},
        {"JobId": "wide", **{f"Field{i}": i for i in range(5_000)}},
        {"JobId": "small", "DisplayName": "mnist"},
    ]
    with scratch() as folder:
        path = folder / f"dump{suffix}"
        write_valid(path, jobs)
        store = read(path)
        assert isinstance(store, JobStore)
        assert_same_jobs(jobs, store.snapshot.records())
        assert_exports_unchanged(store, folder)


@pytest.mark.parametrize("suffix", [".json", ".parquet", ".arrow", ".feather"])
def test_empty_files_are_refused(suffix: str) -> None:
    with scratch() as folder:
        for data in (b"", b"   \n\t"):
            path = folder / f"empty{suffix}"
            path.write_bytes(data)
            assert isinstance(read(path), DumpFormatError)
            assert isinstance(read(path, lenient=True), DumpFormatError)


NON_UTF8 = {
    "latin-1": "Straße".encode("latin-1"),
    "lone-continuation": b"\x80",
    "overlong": b"\xc0\xaf",
    "encoded-surrogate": b"\xed\xa0\x80",
    "truncated-sequence": b"\xe4\xb8",
    "beyond-unicode": b"\xf4\x90\x80\x80",
    "utf-16": "训练".encode("utf-16-le"),
}


@pytest.mark.parametrize("raw", NON_UTF8.values(), ids=NON_UTF8)
def test_non_utf8_bytes_are_refused_with_their_line(raw: bytes) -> None:
    with scratch() as folder:
        lines = b'{"JobId": "a"}\n{"JobId": "b", "DisplayName": "' + raw + b'"}\n{"JobId": "c"}\n'
        ndjson = folder / "dump.ndjson"
        ndjson.write_bytes(lines)
        refused = read(ndjson)
        assert isinstance(refused, DumpFormatError) and refused.line == 2
        # the first byte that is not UTF-8, counted from 1 (orjson said "surrogates not allowed")
        line = lines.split(b"\n")[1]
        with pytest.raises(UnicodeDecodeError) as bad:
            line.decode("utf-8")
        at = bad.value.start
        assert f"not valid UTF-8: byte 0x{line[at]:02x} at byte {at + 1}" in str(refused)
        lenient = read(ndjson, lenient=True)
        assert isinstance(lenient, JobStore)
        assert [skipped.line for skipped in lenient.skipped] == [2]
        assert sorted(by_id(lenient.snapshot.records())) == ["a", "c"]
        page = folder / "dump.json"
        page.write_bytes(b"[\n" + lines.strip().replace(b"\n", b",\n") + b"\n]")
        refused = read(page)
        assert isinstance(refused, DumpFormatError) and refused.line == 3  # it said line 1
        assert "not valid UTF-8" in str(refused)


# ---------------------------------------------------------------------------------------------
# Lenient mode: every skipped record is reported, with its place; nothing else is dropped.

BAD_LINES = (
    b"{",
    b'{"JobId": "x"',
    b"[]",
    b"17",
    b'"job"',
    b"null",
    b"{}",
    b'{"JobId": ""}',
    b'{"JobId": 3}',
    b'{"JobId": ["a"]}',
    b'{"JobId": "a"} {"JobId": "b"}',
    b'{"JobId": "\xff"}',
    b'{"JobId": "\\ud800"}',
    b"\x00",
    BOM + b'{"JobId": "z"}',
    b'{"JobId": "a", }',
    b"NaN",
)


@settings(SLOW, max_examples=fewer(4, cap=50))
@given(
    lines=st.lists(
        st.one_of(
            st.tuples(st.just("good"), st.sampled_from(("a", "b", "c", "d", "训练", "😀"))),
            st.tuples(st.just("bad"), st.sampled_from(range(len(BAD_LINES)))),
            st.tuples(st.just("blank"), st.sampled_from(("", " ", "\t", "\r"))),
        ),
        max_size=25,
    ),
    suffix=st.sampled_from((".ndjson", ".jsonl")),
)
def test_lenient_ndjson_reports_every_skipped_line(
    lines: list[tuple[str, Any]], suffix: str
) -> None:
    text: list[bytes] = []
    bad_lines: list[int] = []
    good: dict[str, dict[str, Any]] = {}
    for number, (kind, value) in enumerate(lines, start=1):
        if kind == "good":
            record = {"JobId": value, "Line": number}
            good[value] = record  # the later record wins (no GmtModifiedTime)
            text.append(json.dumps(record, ensure_ascii=number % 2 == 0).encode())
        elif kind == "bad" and BAD_LINES[value].startswith(BOM) and number == 1:
            good["z"] = {"JobId": "z"}  # a byte order mark opens the file: it is ignored
            text.append(BAD_LINES[value])
        elif kind == "bad":
            bad_lines.append(number)
            text.append(BAD_LINES[value])
        else:
            text.append(value.encode())
    with scratch() as folder:
        path = folder / f"dump{suffix}"
        path.write_bytes(b"\n".join(text))
        if not good and not bad_lines:
            return  # no job line: test_an_ndjson_file_without_job_lines_is_an_empty_job_set
        store = read(path, lenient=True)
        assert isinstance(store, JobStore)
        assert [skipped.line for skipped in store.skipped] == bad_lines
        assert all(skipped.record is None for skipped in store.skipped)
        assert_same_jobs(list(good.values()), store.snapshot.records())
        strict = read(path)
        if bad_lines:
            assert isinstance(strict, DumpFormatError) and strict.line == bad_lines[0]


@pytest.mark.parametrize("suffix", [".json", ".parquet", ".arrow"])
def test_lenient_pages_and_tables_report_every_skipped_record(suffix: str) -> None:
    texts: list[str | None] = [
        '{"JobId": "a"}',
        None,
        "not json",
        "[1]",
        '{"JobId": 1}',
        '{"JobId": "b", "Settings": {"Tags": {"k": [1, {"x": null}]}}}',
        '{"DisplayName": "no id"}',
    ]
    with scratch() as folder:
        path = folder / f"dump{suffix}"
        if suffix == ".json":
            items = ", ".join(
                "null" if text is None or text == "not json" else text for text in texts
            )
            path.write_text(f'{{"Jobs": [{items}]}}', "utf-8")
        else:
            table = pa.table({"job_json": pa.array(texts, pa.string())})
            (pq.write_table if suffix == ".parquet" else feather.write_feather)(table, path)
        refused = read(path)
        assert isinstance(refused, DumpFormatError) and refused.record == 1
        store = read(path, lenient=True)
        assert isinstance(store, JobStore)
        assert [skipped.record for skipped in store.skipped] == [1, 2, 3, 4, 6]
        assert all(f"record {s.record}" in str(s) for s in store.skipped)
        assert sorted(by_id(store.snapshot.records())) == ["a", "b"]
        assert_exports_unchanged(store, folder)


def test_lenient_records_report_every_skipped_record() -> None:
    records: list[Any] = [{"JobId": "a"}, ["x"], {"JobId": None}, {"JobId": "b", "X": {1, 2}}]
    store = JobStore.from_records(records, lenient=True)
    assert [skipped.record for skipped in store.skipped] == [1, 2, 3]
    assert all(skipped.path == "<records>" for skipped in store.skipped)
    assert store.snapshot.records() == [{"JobId": "a"}]
    with pytest.raises(DumpFormatError) as refused:
        JobStore.from_records(records)
    assert refused.value.record == 1


class Colour(enum.Enum):
    RED = "Running"


class StatusText(enum.StrEnum):
    RUNNING = "Running"


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("GmtCreateTime", datetime(2026, 11, 27, 9), "GmtCreateTime holds a value of type dat"),
        ("Status", Colour.RED, "Status holds a value of type Colour"),
        ("UserId", uuid.UUID(int=7), "UserId holds a value of type UUID"),
        ("Pods", ({"PodId": "p"},), "Pods holds a value of type tuple"),
        ("RequestGPU", math.nan, "RequestGPU holds nan, which JSON cannot represent"),
        ("Settings", {"Tags": {1: "x"}}, "Settings.Tags has the key 1"),
        ("JobSpecs", [{"Image": "cut \ud83d"}], "JobSpecs[0].Image holds a string with a lone"),
        ("\udc80", 1, "the job has the key '\\udc80'"),
    ],
    ids=["datetime", "enum", "uuid", "tuple", "nan", "int-key", "lone-surrogate", "bad-key"],
)
def test_records_holding_what_json_cannot_are_refused_not_rewritten(
    field: str, value: Any, reason: str
) -> None:
    """orjson would write them as something else (or crash): the store would index a value
    the reference, reading the record itself, does not see."""
    base = {"JobId": "a", "GmtCreateTime": "2026-11-27T00:00:00Z"}
    records: list[Any] = [{**base, field: value}, {**base, "JobId": "b"}]
    with pytest.raises(DumpFormatError, match=re.escape(reason)) as refused:
        JobStore.from_records(records)
    assert refused.value.record == 0
    store = JobStore.from_records(records, lenient=True)
    assert [skipped.record for skipped in store.skipped] == [0]
    assert store.snapshot.records() == [records[1]]
    with pytest.raises(DumpFormatError, match=re.escape(reason)):
        JobStore.from_records([records[1]]).upsert([records[0]])


def test_str_and_int_subclasses_in_records_are_read_as_their_values() -> None:
    job = {"JobId": "a", "GmtCreateTime": "2026-11-27T00:00:00Z", "Status": StatusText.RUNNING}
    now = datetime(2026, 11, 28, tzinfo=UTC)
    request = {"Status": "Running"}
    assert JobStore.from_records([job]).list_jobs(request, now=now).total_count == 1
    assert reference.list_jobs([job], request, now=now)["TotalCount"] == 1


# ---------------------------------------------------------------------------------------------
# Regressions: each of these once escaped or lost data.

# A damaged Parquet/Arrow file (a name or a value that is not UTF-8, broken offsets) escaped as
# UnicodeDecodeError or SystemError.


@pytest.mark.parametrize("suffix", [".parquet", ".arrow"])
def test_a_column_name_that_is_not_utf8_is_a_dump_format_error(suffix: str) -> None:
    table = pa.table({"JobId": ["a"], "zzzz": [1]})
    with scratch() as folder:
        path = folder / f"dump{suffix}"
        (pq.write_table if suffix == ".parquet" else feather.write_feather)(table, path)
        path.write_bytes(path.read_bytes().replace(b"zzzz", b"\xff\xfe\xfd\xfc"))
        assert isinstance(read(path), DumpFormatError)


def test_a_job_json_value_that_is_not_utf8_is_a_dump_format_error() -> None:
    table = pa.table({"job_json": ['{"JobId": "a", "X": "zzzz"}']})
    with scratch() as folder:
        path = folder / "dump.arrow"
        feather.write_feather(table, path, compression="uncompressed")
        path.write_bytes(path.read_bytes().replace(b"zzzz", b"\xff\xfe\xfd\xfc"))
        refused = read(path)
        assert isinstance(refused, DumpFormatError)
        lenient = read(path, lenient=True)
        assert isinstance(lenient, DumpFormatError) or [s.record for s in lenient.skipped] == [0]


_FLIP_SCRIPT = """
import random, sys
from pathlib import Path
from jobquery import DumpFormatError, reference
from jobquery.snapshot import may_hold_long_integer, repeated_index_key
from jobquery.store import JobStore
source, seed, rounds = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
data = source.read_bytes()
rng = random.Random(seed)
target = source.with_name("damaged" + source.suffix)
for attempt in range(rounds):
    damaged = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        damaged[rng.randrange(len(damaged))] = rng.randrange(256)
    target.write_bytes(bytes(damaged))
    try:
        JobStore.from_path(target).snapshot.records()
    except DumpFormatError:
        pass
    except Exception as exc:
        print(f"attempt {attempt}: {type(exc).__name__}: {exc}")
"""


@pytest.mark.parametrize("suffix", [".parquet", ".arrow"])
def test_damaged_binary_dumps_give_a_store_or_a_located_error(suffix: str) -> None:
    """Flipped bytes in Parquet/Arrow files (in a child process: a damaged Arrow buffer may
    crash a reader that does not validate it, and a crash must fail this test, not the run)."""

    jobs = [
        {"JobId": f"dlc-{i}", "DisplayName": "x" * i, "Settings": {"Tags": {"k": i}}}
        for i in range(40)
    ]
    with scratch() as folder:
        source = folder / f"dump{suffix}"
        JobStore.from_records(jobs).export(source)
        run = subprocess.run(
            [sys.executable, "-c", _FLIP_SCRIPT, str(source), "20261129", "60"],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    assert run.returncode == 0, f"the reader crashed ({run.returncode}): {run.stderr[-2000:]}"
    assert run.stdout == "", f"exceptions other than DumpFormatError:\n{run.stdout}"


# An NDJSON file without a job line is an empty job set: it is what an export of zero jobs
# writes, and everything jobquery writes it reads back (an empty .json file is not JSON at all).


@pytest.mark.parametrize("suffix", [".ndjson", ".jsonl"])
def test_an_ndjson_file_without_job_lines_is_an_empty_job_set(suffix: str) -> None:
    with scratch() as folder:
        path = folder / f"empty{suffix}"
        for data in (b"", b"\n\n", b"  \r\n", BOM, BOM + b"\r\n\n"):
            path.write_bytes(data)
            for lenient in (False, True):
                store = read(path, lenient=lenient)
                assert isinstance(store, JobStore)
                assert len(store) == 0
                assert store.skipped == []


# A job nested deeper than 254 levels loaded from NDJSON but not from a .json page.


@pytest.mark.parametrize("suffix", INPUT_FORMATS)
def test_deeply_nested_jobs_load_from_every_format(suffix: str) -> None:
    deep: Any = {"Leaf": True}
    for _ in range(300):
        deep = {"HistoryPods": [deep]}
    jobs = [{"JobId": "deep", "Pods": [deep]}, {"JobId": "flat"}]
    assert_loads_and_exports_unchanged(jobs, suffix)


# Integers beyond 64 bits in a .json page came back as floats on export.


@pytest.mark.parametrize("suffix", [".json", ".ndjson", ".parquet", ".arrow"])
def test_numbers_beyond_int64_keep_their_digits_on_export(suffix: str) -> None:
    text = '{"JobId": "a", "Big": 123456789012345678901234567890, "Neg": -9223372036854775809}'
    with scratch() as folder:
        path = folder / f"dump{suffix}"
        if suffix == ".json":
            path.write_text(f"[{text}]", "utf-8")
        elif suffix == ".ndjson":
            path.write_text(text + "\n", "utf-8")
        else:
            write_valid(path, [json.loads(text)])
        store = read(path)
        assert isinstance(store, JobStore)
        for output in OUTPUT_FORMATS:
            target = folder / f"export{output}"
            store.export(target)
            exported = JobStore.from_path(target).snapshot.frame["job_json"].to_list()
            assert json.loads(exported[0]) == json.loads(text), output


# Stored times that parse_timestamp refuses (a leap second, year 0) were read as times.


@pytest.mark.parametrize("stored", ["2026-06-30T23:59:60Z", "0000-01-01T00:00:00Z"])
def test_times_that_parse_timestamp_refuses_count_as_missing(stored: str) -> None:
    store = JobStore.from_records([{"JobId": "a", "GmtCreateTime": stored}])
    assert store.snapshot.frame["GmtCreateTime"].null_count() == 1
    wide = {"StartTime": "0001-01-01T00:00:00Z", "EndTime": "9999-12-31T00:00:00Z"}
    assert store.list_jobs(wide, now=NOW).total_count == 0
    with scratch() as folder:
        store.export(folder / "typed.parquet")
        assert pq.read_table(folder / "typed.parquet").to_pylist()[0]["GmtCreateTime"] is None


# The check that sends a text to the exact (standard library) parser must find every run of
# 19 digits: it replaced the regular expression below, which was too slow for page building.


@given(st.text(alphabet=st.sampled_from('0123456789 ,.-e"{}:aé٣'), max_size=80))
def test_the_long_integer_check_finds_every_run_of_19_digits(text: str) -> None:
    assert may_hold_long_integer(text) == bool(re.search(r"[0-9]{19}", text))
    assert may_hold_long_integer(text.encode()) == may_hold_long_integer(text)


def test_pages_keep_integers_beyond_64_bits() -> None:
    job = {"JobId": "a", "GmtCreateTime": "2026-11-27T00:00:00Z", "Big": 2**70, "Small": 2**40}
    page = JobStore.from_records([job]).list_jobs({}, now=NOW).jobs
    assert page == [job]
    assert isinstance(page[0]["Big"], int)


# ---------------------------------------------------------------------------------------------
# The native check and orjson agree. NDJSON lines and job_json texts are checked in bulk by
# pyarrow.json; only texts where pyarrow and orjson could disagree go to orjson. Each text below
# is one such disagreement, found by fuzzing the two parsers against each other: pyarrow accepts
# it and orjson refuses it, or pyarrow refuses or misreads it and orjson reads it.

DISAGREEMENTS = {
    # pyarrow accepts, orjson refuses
    "nan": b'{"JobId": "a", "X": NaN}',
    "infinity": b'{"JobId": "a", "X": Infinity}',
    "minus-infinity": b'{"JobId": "a", "X": [-Infinity]}',
    "integer-beyond-double": b'{"JobId": "a", "X": ' + b"9" * 400 + b"}",
    "integer-with-exponent-beyond-double": b'{"JobId": "a", "X": 20000e306}',
    "four-digit-exponent-beyond-double": b'{"JobId": "a", "X": [20000e0306 ]}',
    "long-mantissa-beyond-double": b'{"JobId": "a", "X": 1' + b"0" * 250 + b"e60}",
    "rounds-beyond-double": b'{"JobId": "a", "X": 1.7976931348623158091891634896769e308}',
    "nested-1025-deep": b'{"JobId": "a", "X": ' + b"[" * 1024 + b"]" * 1024 + b"}",
    "nested-objects-1025-deep": b'{"JobId": "a", "X": ' + b'{"a":' * 1024 + b"1" + b"}" * 1025,
    "byte-order-mark": BOM + b'{"JobId": "a"}',
    # pyarrow refuses or misreads, orjson reads a job (or refuses it for its own reason)
    "two-objects": b'{"JobId": "a"} {"JobId": "b"}',
    "two-objects-no-space": b'{"JobId": "a"}{"JobId": "b"}',
    "repeated-job-id": b'{"JobId": "a", "JobId": "b"}',
    "repeated-job-id-escaped": b'{"JobId": "a", "Job\\u0049d": "b"}',
    "repeated-modified": b'{"JobId": "a", "GmtModifiedTime": "x", "GmtModifiedTime": "y"}',
    "numeric-job-id-then-string": b'{"JobId": 5, "JobId": "a"}',
    "string-job-id-then-number": b'{"JobId": "a", "JobId": 5}',
    "numeric-modified": b'{"JobId": "a", "GmtModifiedTime": 1763596800}',
    "object-modified": b'{"JobId": "a", "GmtModifiedTime": {"at": "2026-11-20T10:00:00Z"}}',
    "carriage-return-inside": b'{"JobId": "a",\r"X": 1}',
    "object-after-carriage-return": b'{"JobId": "a"}\r{"JobId": "b"}',
    "padded": b' \t{"JobId": "a"} \t',
    # both refuse (kept here so a change in either parser shows up)
    "lone-high-surrogate": b'{"JobId": "a", "X": "\\ud800"}',
    "lone-low-surrogate": b'{"JobId": "\\udc00"}',
    "number-beyond-double": b'{"JobId": "a", "X": 1e400}',
    "control-character": b'{"JobId": "a", "X": "tab\there"}',
    "trailing-garbage": b'{"JobId": "a"} x',
    "trailing-brace": b'{"JobId": "a"}}',
    "nested-1024-deep": b'{"JobId": "a", "X": ' + b"[" * 1023 + b"]" * 1023 + b"}",
}


def read_dump(
    path: Path, *, lenient: bool, native: bool = True, compress_texts: bool = False
) -> Any:
    """What ``read_dumps`` gives: the rows kept (every index column too, the texts
    decompressed when read compressed), the records skipped, or the error's text. Natively,
    the index columns of the texts the native reading vouches for are derived vectorised
    whatever their number."""
    with contextlib.ExitStack() as patches:
        if native:
            patches.enter_context(mock.patch.object(native_index, "_NATIVE_MIN_ROWS", 0))
        else:
            patches.enter_context(mock.patch.object(native_index, "read_fields", trust_nothing))
        try:
            dump = ingest.read_dumps([path], lenient=lenient, compress_texts=compress_texts)
        except DumpFormatError as error:
            return ("refused", str(error), error.line, error.record)
    frame = dump.frame
    if dump.codec is not None:
        frame = frame.with_columns(dump.codec.decompress(frame[JOB_JSON]))
    return ("read", frame.rows(named=True), dump.skipped, dump.duplicates)


def trust_nothing(*ignored: Any) -> native_read.FieldRead:
    """The native reading vouching for no text: every text goes to orjson (the contract)."""
    return native_read.FieldRead(np.empty(0, dtype=np.int64), pl.DataFrame())


def assert_native_equals_orjson(path: Path) -> None:
    for lenient in (False, True):
        native = read_dump(path, lenient=lenient)
        assert native == read_dump(path, lenient=lenient, native=False), f"lenient={lenient}"
        compressed = read_dump(path, lenient=lenient, compress_texts=True)
        assert compressed == native, f"compressed as read, lenient={lenient}"


@pytest.mark.parametrize("text", DISAGREEMENTS.values(), ids=DISAGREEMENTS)
@pytest.mark.parametrize("suffix", [".ndjson", ".parquet"])
def test_texts_the_parsers_disagree_on_read_as_orjson_reads_them(text: bytes, suffix: str) -> None:
    lines = [b'{"JobId": "first"}', text, b'{"JobId": "last", "GmtModifiedTime": "2026-11-20"}']
    with scratch() as folder:
        path = folder / f"dump{suffix}"
        if suffix == ".ndjson":
            path.write_bytes(b"\n".join(lines) + b"\n")
        else:
            texts = [line.decode() for line in lines]
            pq.write_table(pa.table({"job_json": texts}), path)
        assert_native_equals_orjson(path)
        outcome = read_dump(path, lenient=True)
        try:
            job = orjson.loads(text)
        except orjson.JSONDecodeError:
            job = None
        readable = isinstance(job, dict) and isinstance(job.get("JobId"), str) and job["JobId"]
        # a key the index reads given twice is refused (the parsers differ on which counts)
        readable = readable and repeated_index_key(text.decode()) is None
        place = 2 if suffix == ".ndjson" else 1
        assert [s.line or s.record for s in outcome[2]] == ([] if readable else [place])
        assert len(outcome[1]) == (3 if readable else 2)


#: Lines that pyarrow, which reads newlines as whitespace, could join into one object: the keys
#: of the rows after them would then belong to the wrong lines.
SPANNING = {
    "object-spanning-lines": [
        b'{"JobId": "a", "X":',
        b'{"JobId": "b"}}',
        b'{"JobId": "c"} {"JobId": "d"}',
    ],
    "nested-close-spanning-lines": [b'{"JobId": "a", "X": {}', b'{"JobId": "b"}}', b"{}"],
    "string-spanning-lines": [b'{"JobId": "a", "X": "}', b'{"JobId": "b"}', b'{"JobId": "c"}'],
    "open-after-two-objects": [b'{"JobId": "a"} {"JobId": "b", "X": {}', b'{"JobId": "c"}}'],
}


@pytest.mark.parametrize("lines", SPANNING.values(), ids=SPANNING)
@pytest.mark.parametrize("suffix", [".ndjson", ".arrow"])
def test_objects_spanning_lines_do_not_shift_keys(lines: list[bytes], suffix: str) -> None:
    with scratch() as folder:
        path = folder / f"dump{suffix}"
        if suffix == ".ndjson":
            path.write_bytes(b"\n".join(lines))
        else:
            feather.write_feather(pa.table({"job_json": [line.decode() for line in lines]}), path)
        assert_native_equals_orjson(path)
        kept = read_dump(path, lenient=True)[1]
        assert all(orjson.loads(row["job_json"])["JobId"] == row["JobId"] for row in kept)


#: Pieces of JSON that have made the two parsers disagree, and some that should not.
ATOMS = [
    *("NaN", "Infinity", "-Infinity", "1e400", "20000e306", "9" * 320, "1" + "0" * 220 + "e99"),
    *("\\ud800", "\\udc00", "\\uDBFF\\uDFFF", "\\u0000", '"', "\\", "{", "}", "[", "]", ",", ":"),
    *(" ", "\t", "\r", "\x00", "\x7f", "\u2028", "\ufeff", "\x0c", "true", "nul", "-0", "01"),
    *('"JobId":', '"JobId":"x",', '"Job\\u0049d":"y",', '"GmtModifiedTime":', "1e-400", ".5"),
    *('"JobId":5,', '"GmtModifiedTime":7,', '"GmtModifiedTime":"2026-01-01T00:00:00Z",', "é"),
    *("[" * 1100, "]" * 1100, "1.7976931348623159e308", "😀", "1E+2", "{}", "[1,]", "e309"),
]
BASE_JOBS = [
    {"JobId": "dlc-1", "GmtModifiedTime": "2026-11-20T10:00:00Z", "Pods": [{"Id": 1}], "N": 2.5},
    {"JobId": "dlc-2", "DisplayName": "训练", "Settings": {"Tags": {"k": "v"}}, "Big": 10**20},
    {"JobId": "dlc-1", "GmtModifiedTime": "2026-11-20T09:00:00+08:00", "X": [None, True, -1]},
]


@st.composite
def edited_lines(draw: st.DrawFn) -> str:
    """A job line with a few pieces of ATOMS inserted, or replacing or deleting some text."""
    text = json.dumps(draw(st.sampled_from(BASE_JOBS)), ensure_ascii=draw(st.booleans()))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(("insert", "replace", "delete")))
        cut = at + draw(st.integers(1, 6))
        atom = draw(st.sampled_from(ATOMS))
        text = (
            text[:at] + ("" if kind == "delete" else atom) + text[cut if kind != "insert" else at :]
        )
    return text


@settings(SLOW, max_examples=fewer(2, cap=60))
@given(
    lines=st.lists(
        st.one_of(
            edited_lines(),
            st.sampled_from([text.decode() for text in DISAGREEMENTS.values()]),
            st.sampled_from(["", " ", "\r"]),
        ),
        min_size=1,
        max_size=12,
    ),
    suffix=st.sampled_from((".ndjson", ".parquet", ".arrow")),
    block=st.sampled_from((1, 2, 4096)),
)
@example(lines=["", '{"JobId": "a"} {"JobId": "b"}'], suffix=".parquet", block=4096)
@example(
    lines=["", '{"JobId": "a", "X": ' + "9" * 400 + "}", '{"JobId": "b"}'],
    suffix=".ndjson",
    block=4096,
)
@example(lines=["\ufeff" + '{"JobId": "a", "X": ' + "9" * 400 + "}"], suffix=".ndjson", block=4096)
@example(
    lines=['{"JobId": "a", "X":', '{"JobId": "b"}}', '{"JobId": "c"} {"JobId": "d"}'],
    suffix=".ndjson",
    block=4096,
)
@example(lines=[" \t", '{"JobId": "a"}{"JobId": "b"}', "{}"], suffix=".arrow", block=2)
def test_the_native_check_reads_every_text_as_orjson_does(
    lines: list[str], suffix: str, block: int
) -> None:
    """Kept rows (text, JobId, GmtModifiedTime), skipped records and errors, message for
    message, are the same whether the native reading runs or orjson reads every text. Small
    pieces make the texts parsed in many pieces, apart."""
    with (
        scratch() as folder,
        mock.patch.object(native_index, "PIECE_BYTES", block),
        mock.patch.object(native_index, "_MIN_PIECE_BYTES", block),
        mock.patch.object(native_read, "SCAN_BYTES", block),
    ):
        path = folder / f"dump{suffix}"
        if suffix == ".ndjson":
            path.write_bytes("\n".join(lines).encode("utf-8", "surrogatepass"))
        else:
            table = pa.table({"job_json": pa.array(lines, pa.string())})
            (pq.write_table if suffix == ".parquet" else feather.write_feather)(table, path)
        assert_native_equals_orjson(path)


def test_orjson_refuses_nesting_beyond_the_depth_the_native_check_assumes() -> None:
    """The native check sends texts with more brackets than this depth to orjson."""
    deepest = b"[" * ingest.ORJSON_MAX_DEPTH + b"]" * ingest.ORJSON_MAX_DEPTH
    orjson.loads(deepest)
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(b"[" + deepest + b"]")


#: Numbers at the edges of what orjson reads: beyond the double range it refuses them, and
#: integers beyond 64 bits it reads as floats.
EDGE_NUMBERS = [
    *("9" * 300, "9" * 301, "9" * 308, "9" * 309, "1" + "0" * 220 + "e99", "1" + "0" * 200 + "e99"),
    *("1e99", "1e-99", "1e100", "1e-400", "1.5e+99", "-1" + "0" * 299, "18446744073709551615"),
    *("18446744073709551616", "-9223372036854775809", "123456789012345678", "1234567890123456789"),
    *("0.1e1", "-0", "-0.0", "1E+2", "1e05", "10.5e-5"),
]


@pytest.mark.parametrize("field", ["X", "RequestGPU", "Tag"])
def test_numbers_near_the_edges_are_read_as_orjson_reads_them(field: str) -> None:
    """In a field the index does not read, in a numeric field and as a tag value."""

    def line(job: int, number: str) -> bytes:
        value = b'{"Tags": {"n": %s}}' % number.encode() if field == "Tag" else number.encode()
        name = b"Settings" if field == "Tag" else field.encode()
        return b'{"JobId": "j%d", "%s": %s}' % (job, name, value)

    with scratch() as folder:
        path = folder / "dump.ndjson"
        path.write_bytes(b"\n".join(line(job, number) for job, number in enumerate(EDGE_NUMBERS)))
        assert_native_equals_orjson(path)


def test_lines_after_undecodable_bytes_keep_their_order_of_errors() -> None:
    """A file that is not all UTF-8 is split in Python; its errors still come in line order."""
    lines = [b'{"JobId": "a"}', b'{"JobId": NaN}', b'{"JobId": "\xff"}', b"[1]", b'{"JobId": "b"}']
    with scratch() as folder:
        path = folder / "dump.ndjson"
        path.write_bytes(b"\n".join(lines))
        assert_native_equals_orjson(path)
        refused = read(path)
        assert isinstance(refused, DumpFormatError) and refused.line == 2
        lenient = read(path, lenient=True)
        assert isinstance(lenient, JobStore)
        assert [skipped.line for skipped in lenient.skipped] == [2, 3, 4]
        assert sorted(by_id(lenient.snapshot.records())) == ["a", "b"]


@pytest.mark.parametrize("suffix", [".ndjson", ".ndjson-with-blank-lines", ".parquet", ".arrow"])
def test_valid_jobs_are_checked_without_orjson(suffix: str) -> None:
    """The native check vouches for ordinary jobs: orjson reads none of them (else ingest is
    correct but as slow as before)."""
    jobs = [dict(job, JobId=f"dlc-{i}") for i, job in enumerate(BASE_JOBS * 5)]
    with scratch() as folder:
        path = folder / f"dump{suffix.partition('-')[0]}"
        if suffix == ".ndjson-with-blank-lines":
            path.write_text("\n\n".join(json.dumps(job) for job in jobs), "utf-8")
        else:
            write_valid(path, jobs)
        with mock.patch.object(ingest._TextSource, "check", side_effect=AssertionError("orjson")):
            dump = ingest.read_dumps([path])
        assert dump.frame["JobId"].to_list() == [job["JobId"] for job in jobs]
