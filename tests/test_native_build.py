"""The native snapshot build equals the Python reading of every job, column by column.

``Snapshot.from_texts`` derives the index from the JSON texts with Polars (``_native_frame``);
``_extract_columns`` over the parsed jobs (``_job_row``) is the reference it must equal: same
columns, dtypes, values. Inputs: the fixtures (``edge_cases.ndjson`` is hand-written with nasty
cases), the bundled sample, synthetic jobs, and Hypothesis jobs with every field of every
JSON type (numbers as strings, huge integers, booleans, nulls, non-ASCII, odd ``Settings``,
``JobSpecs`` and ``Tags``), spelt compactly, with spaces, and with ASCII escapes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from jobquery import synth
from jobquery.errors import DumpFormatError
from jobquery.request import NUMERIC_FIELDS, TIME_FIELDS
from jobquery.snapshot import (
    INDEX_FIELDS,
    JOB_JSON,
    ROW_ORDER,
    SETTINGS_FIELDS,
    STRING_FIELDS,
    Snapshot,
    load_job,
    native_read,
)
from jobquery.snapshot.job_rows import _extract_columns
from jobquery.snapshot.layout import _put_in_order, _row_order
from jobquery.snapshot.native_index import _native_frame
from tests.helpers.buffers import data_buffers
from tests.helpers.strategies import job_records

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = [
    ROOT / "data" / "fixtures" / "edge_cases.ndjson",
    ROOT / "data" / "fixtures" / "synthetic_small.ndjson",
    ROOT / "jobquery" / "sample" / "sample_jobs.ndjson",
]


def python_frame(texts: list[str]) -> pl.DataFrame:
    """The reference: every job parsed and read by ``_job_row``."""
    columns = _extract_columns([load_job(text) for text in texts], "<test>")
    columns[JOB_JSON] = pl.Series(JOB_JSON, texts, dtype=pl.String)
    return pl.DataFrame(columns)


def assert_native_equals_python(texts: list[str]) -> None:
    native = _native_frame(pl.Series(JOB_JSON, texts, dtype=pl.String), "<test>")
    expected = python_frame(texts)
    assert native.columns == expected.columns
    native, expected = native.sort("JobId"), expected.sort("JobId")
    for name in expected.columns:
        # one column at a time, so that a failure names the column
        assert_frame_equal(native.select(name), expected.select(name))


@pytest.mark.parametrize("path", FIXTURES, ids=lambda path: path.name)
def test_native_build_equals_python_on_fixture(path: Path) -> None:
    assert_native_equals_python(path.read_text(encoding="utf-8").splitlines())


def test_native_build_equals_python_on_synthetic_jobs() -> None:
    assert_native_equals_python(synth.generate_lines(3000, seed=7).to_list())


@pytest.mark.parametrize("native_min_rows", [0, 10**6], ids=["native", "python"])
def test_from_texts_is_the_python_build_in_snapshot_order(
    native_min_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("jobquery.snapshot.native_index._NATIVE_MIN_ROWS", native_min_rows)
    texts = (ROOT / "data" / "fixtures" / "edge_cases.ndjson").read_text().splitlines()
    built = Snapshot.from_texts(texts).frame_with_ranks()
    expected = Snapshot(_put_in_order(python_frame(texts).get_columns())).frame_with_ranks()
    assert_frame_equal(built, expected)


def test_a_built_snapshot_stores_a_repeated_string_once() -> None:
    # 4,000 jobs in two chunks of a streamed build: 300 user ids, ids lower case already
    texts = synth.generate_lines(4000, seed=3)
    frame = Snapshot.from_text_chunks([texts.slice(0, 2000), texts.slice(2000)]).frame
    users = frame["UserId"]
    distinct_bytes = int(users.unique().drop_nulls().str.len_bytes().sum())
    assert users.n_unique() < 400
    # each distinct id once (Arrow buffers may round up), not each row's copy
    assert sum(data_buffers(users).values()) < 2 * distinct_bytes + 1024
    assert sum(data_buffers(users).values()) < int(users.str.len_bytes().sum()) / 4
    # an index column equal to its field is the field's buffers again
    assert frame["ix_JobId"].equals(frame["JobId"])
    assert data_buffers(frame["ix_JobId"]) == data_buffers(frame["JobId"])
    assert data_buffers(frame["ix_UserId"]) == data_buffers(users)


@pytest.mark.parametrize("native_min_rows", [0, 10**6], ids=["native", "python"])
def test_from_texts_refuses_a_duplicate_job_id(
    native_min_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("jobquery.snapshot.native_index._NATIVE_MIN_ROWS", native_min_rows)
    texts = ['{"JobId":"a"}', '{"JobId":"b"}', '{"JobId":"a","Status":"x"}']
    with pytest.raises(DumpFormatError, match="duplicate JobId 'a'"):
        Snapshot.from_texts(texts)


def test_a_text_without_a_string_job_id_is_refused_natively(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("jobquery.snapshot.native_index._NATIVE_MIN_ROWS", 0)
    with pytest.raises(DumpFormatError, match="non-empty string JobId"):
        Snapshot.from_texts(['{"JobId":"a"}', '{"JobId":7}'])


def test_from_arrow_reads_an_exported_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("jobquery.snapshot.native_index._NATIVE_MIN_ROWS", 0)
    texts = (ROOT / "data" / "fixtures" / "edge_cases.ndjson").read_text().splitlines()
    snapshot = Snapshot.from_texts(texts)
    again = Snapshot.from_arrow(snapshot.export_table())
    assert_frame_equal(again.frame, snapshot.frame)


# ---------------------------------------------------------------------------------------------
# Messy jobs: every field the index reads, with a value of any JSON type.

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["", "0", "1", "+2", "-3", ".5", "8.", "1e3", "true", "null", "{}", "[1]"]),
    st.sampled_from(["ß", "İstanbul", "Straße", "训练 模型", "K", "ſ", 'a"b', "back\\slash"]),
    st.sampled_from(["Static(x", "2026-11-20T08:00:00Z", "2026-11-20T08:00:00.5+08:00"]),
    st.sampled_from(["AcceptQuotaOverSold", "acceptquotaoversold", "ACCEPTQUOTAOVERſOLD"]),
    st.text(max_size=8),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
TOP_FIELDS = (
    *STRING_FIELDS[1:],
    *TIME_FIELDS,
    *NUMERIC_FIELDS,
    "IsDeleted",
    "UseOversoldResource",
    "StatusHistory",
)
TAGS = st.one_of(
    VALUES,
    st.dictionaries(st.sampled_from(["team", "Team", "k", "k:=", "ß", 'a"b', ""]), VALUES),
)
SETTINGS = st.one_of(
    VALUES,
    st.fixed_dictionaries(
        {},
        optional={
            **{name: VALUES for name in (*SETTINGS_FIELDS, "OversoldType")},
            "Tags": TAGS,
        },
    ),
)
ROLE = st.one_of(
    VALUES,
    st.fixed_dictionaries(
        {},
        optional={
            "Image": VALUES,
            "UseSpotInstance": VALUES,
            "OversoldType": VALUES,
            "AssignNodeSpec": st.one_of(
                VALUES, st.fixed_dictionaries({}, optional={"EnableAssignNode": VALUES})
            ),
        },
    ),
)
HISTORY = st.one_of(
    VALUES,
    st.lists(
        st.one_of(
            VALUES,
            st.fixed_dictionaries({}, optional={"ReasonCode": VALUES, "ReasonMessage": VALUES}),
        ),
        max_size=3,
    ),
)


@st.composite
def messy_job(draw: st.DrawFn, job_id: str) -> dict[str, Any]:
    job: dict[str, Any] = {"JobId": job_id}
    for name in draw(st.lists(st.sampled_from(TOP_FIELDS), max_size=8, unique=True)):
        job[name] = draw(HISTORY if name == "StatusHistory" else VALUES)
    if draw(st.booleans()):
        job["Settings"] = draw(SETTINGS)
    if draw(st.booleans()):
        job["JobSpecs"] = draw(st.one_of(VALUES, st.lists(ROLE, max_size=3)))
    return job


def spell(job: dict[str, Any], style: int) -> str:
    """A job's JSON text: compact (orjson, or json for integers beyond 64 bits), spaced, or
    with every non-ASCII character escaped."""
    if style == 0:
        try:
            return orjson.dumps(job).decode()
        except TypeError:
            return json.dumps(job, ensure_ascii=False, separators=(",", ":"))
    return json.dumps(job, ensure_ascii=style == 2, indent=None if style == 1 else 1)


@given(
    st.lists(st.integers(0, 10**6), min_size=1, max_size=12, unique=True).flatmap(
        lambda ids: st.tuples(*(messy_job(f"job-{i}") for i in ids))
    ),
    st.integers(0, 2),
)
def test_native_build_equals_python_on_messy_jobs(
    jobs: tuple[dict[str, Any], ...], style: int
) -> None:
    assert_native_equals_python([spell(job, style) for job in jobs])


@given(job_records(), st.integers(0, 2))
def test_native_build_equals_python_on_strategy_jobs(
    jobs: list[dict[str, Any]], style: int
) -> None:
    assert_native_equals_python([spell(job, style) for job in jobs])


# ---------------------------------------------------------------------------------------------
# Texts the native reading must decide about, written out: each is either read natively to the
# same columns, or left to the per-job reading (the equality above holds either way).

ODD_TEXTS = [
    # Settings.Tags the regular expressions read, or must not
    '{"JobId":"%s","Settings":{"Tags":{"k":-0,"n":0,"m":-12,"b":true,"z":null,"s":""}}}',
    '{"JobId":"%s","Settings":{"Tags":{"f":1.5,"e":1e3}}}',
    '{"JobId":"%s","Settings":{"Tags":{"a":10.5,"b":-0.0,"c":12,"d":1E2}}}',
    '{"JobId":"%s","Settings":{"Tags":{"x":"a,","y":"}","z":"b:c", "w" : "" }}}',
    '{"JobId":"%s","Settings":{"Tags":{"a" :  "b"  ,  "c"  : 12 ,"t":true,"n":null}}}',
    '{"JobId":"%s","Settings":{"Tags":{"deep":{"a":1},"list":[1]}}}',
    '{"JobId":"%s","Settings":{"Tags":{"q":"a\\"b","u":"\\u00e9"}}}',
    '{"JobId":"%s","Settings":{"Tags":{"k":"v"}},"Pods":[{"Tags":{"k":"other"}}]}',
    '{"JobId":"%s","Pods":[{"Tags":{"k":"other"}}],"Settings":{"Tags":{"k":"v"}}}',
    '{"JobId":"%s","Settings":{"Tag\\u0073":{"k":"v"}},"Pods":[{"Tags":{"x":"y"}}]}',
    '{"JobId":"%s","Settings":{"Tags":{ "spaced" : "out" , "n" : 3 }}}',
    '{"JobId":"%s","Settings":{"Tags":{}}}',
    '{"JobId":"%s","Settings":{"Tags":"not an object"}}',
    # numbers: as strings and as numbers in one piece, odd spellings, beyond the double range
    '{"JobId":"%s","RequestGPU":"2","NodeCount":3,"Duration":"1e3"}',
    '{"JobId":"%s","RequestGPU":2.5,"NodeCount":"3.","Duration":1e3}',
    '{"JobId":"%s","RequestGPU":true,"NodeCount":null,"Duration":[1]}',
    '{"JobId":"%s","RequestGPU":123456789012345678901234567890,"Priority":-0.0}',
    '{"JobId":"%s","RequestGPU":1.7976931348623157e308,"Priority":1e300,"NodeCount":"1e300"}',
    # strings of other JSON types, empty strings, escapes in keys and values
    '{"JobId":"%s","DisplayName":5,"Status":"","UserId":{"id":1},"Accessibility":null}',
    '{"Job\\u0049d":"%s","Display\\u004eame":"escaped key","Status":"Run\\u006eing"}',
    '{"JobId":"%s","GmtCreateTime":"2026-11-20T08:00:00.5+08:00","GmtFinishTime":"yesterday"}',
    '{"JobId":"%s","GmtCreateTime":"2026-06-30T23:59:60Z","GmtModifiedTime":7}',
    # nested parts of other shapes
    '{"JobId":"%s","JobSpecs":[null,{"Image":"a:1","UseSpotInstance":1},"x"]}',
    '{"JobId":"%s","JobSpecs":[{"AssignNodeSpec":{"EnableAssignNode":"true"}}]}',
    '{"JobId":"%s","JobSpecs":{"Image":"not a list"},"StatusHistory":"none"}',
    '{"JobId":"%s","StatusHistory":[null,{"ReasonCode":"A"},{"ReasonMessage":"b c"}]}',
    '{"JobId":"%s","Settings":[],"IsDeleted":"true","UseOversoldResource":1}',
    # not braced: left to the per-job reading
    '  {"JobId":"%s","Padded":true}  ',
    '{"JobId":"%s"}\r',
]


@pytest.mark.parametrize("scan_bytes", [None, 600], ids=["one-read", "reads-of-a-few-texts"])
@pytest.mark.parametrize("repeat", [1, 30], ids=["one-piece", "two-pieces"])
def test_native_build_equals_python_on_odd_texts(
    repeat: int, scan_bytes: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every odd text among ordinary ones, in one piece and in two, and read by the native
    reader a few texts at a time, whose columns are then joined."""
    if scan_bytes is not None:
        monkeypatch.setattr(native_read, "SCAN_BYTES", scan_bytes)
    lines = synth.generate_lines(40, seed=11).to_list()
    texts = [
        text % f"odd-{copy}-{number}"
        for copy in range(repeat)
        for number, text in enumerate(ODD_TEXTS)
    ]
    mixed = [text for pair in zip(lines * repeat, texts, strict=False) for text in pair]
    assert_native_equals_python(mixed)


ODD_TYPES: dict[str, Any] = {
    "RequestGPU": lambda i: i if i % 2 else str(i),  # numbers and numeric strings
    "DisplayName": lambda i: f"name-{i}" if i % 3 else i * 2**60,  # strings, numbers, big ones
    "GmtFinishTime": lambda i: "2026-11-20T08:00:00Z" if i % 5 else 2**70,  # and a big integer
    "IsDeleted": lambda i: i % 7 == 0 if i % 4 else "true",  # booleans and a string
}


@pytest.mark.parametrize("name", ODD_TYPES)
def test_a_field_of_several_json_types_is_read_natively(name: str) -> None:
    """A field whose JSON type varies from job to job is read natively, each value by the
    per-job rules (a value of another type than the field's is missing)."""
    value = ODD_TYPES[name]
    texts = [
        json.dumps({"JobId": f"j{i}", name: value(i), "NodeCount": "1", "Status": "Running"})
        for i in range(400)
    ]
    assert_native_equals_python(texts)
    layout = native_read.TextLayout.joined(pl.Series(texts))
    read = native_read.read_fields(layout, np.arange(len(texts)), INDEX_FIELDS)
    assert read.rows.tolist() == list(range(len(texts)))


@given(
    st.lists(
        st.tuples(
            st.booleans(),
            st.one_of(st.none(), st.integers(0, 3)),
            st.sampled_from(["a", "A", "b", "ß", "SS", ""]),
        ),
        max_size=40,
    )
)
def test_the_row_order_is_the_sort_by_the_four_columns(
    rows: list[tuple[bool, int | None, str]],
) -> None:
    """Rows ordered with numpy and only their ties sorted by id: the same as one sort."""
    frame = pl.DataFrame(
        {
            "IsDeleted": [deleted for deleted, _, _ in rows],
            "GmtCreateTime": [None if at is None else at * 10**6 for _, at, _ in rows],
            "ix_JobId": [name.casefold() for _, _, name in rows],
            "JobId": [f"{name}-{number}" for number, (_, _, name) in enumerate(rows)],
        },
        schema_overrides={"GmtCreateTime": pl.Datetime("us", "UTC")},
    )
    expected = frame.select(pl.arg_sort_by(list(ROW_ORDER), nulls_last=False)).to_series()
    found = _row_order(*frame.get_columns())
    assert found.to_list() == expected.to_list()


#: Pieces of JSON inserted into ordinary jobs: escapes, nesting, the parts the reader reads.
DAMAGE = [
    *('"', "\\", "{", "}", "[", "]", ",", ":", " ", "\\u00e9", "\\ud800", "\\uDBFF\\uDFFF", "é"),
    *('"JobId":"x",', '"Job\\u0049d":"y",', '"Display\\u004eame":"n\\"m",', "1e400", "-0", "NaN"),
    *('"Settings":{"Tags":{"a":1,"a\\u0062":"c\\n"}},', '"RequestGPU":"1\\u0032",', "[" * 1100),
    *('"JobSpecs":[{"Image":"a\\t","AssignNodeSpec":{"EnableAssignNode":true}},null,1],', "😀"),
    *('"StatusHistory":[{"ReasonCode":"x\\"y"},null],', '"Settings":{"Caller":"\\u20ac"},'),
]


@st.composite
def damaged_texts(draw: st.DrawFn) -> list[bytes]:
    lines = synth.generate_lines(8, seed=3).to_list()
    texts = []
    for _ in range(draw(st.integers(1, 8))):
        text = draw(st.sampled_from(lines))
        for _ in range(draw(st.integers(0, 4))):
            at = draw(st.integers(0, len(text)))
            cut = at + draw(st.integers(0, 6))
            text = text[:at] + draw(st.sampled_from(DAMAGE)) + text[cut:]
        texts.append(text.encode("utf-8", "surrogatepass"))
    return texts


@given(damaged_texts())
@example([b'{"JobId":"a","DisplayName":"a name with an escape: \\u00e9","X":NaN}'])
def test_the_native_reader_returns_valid_arrays_for_any_text(texts: list[bytes]) -> None:
    """Every array, the rows of texts not vouched for included, passes Arrow's full check
    (string views within their buffers, offsets in order): the build computes on them before
    it keeps only the rows vouched for."""
    data = b"\n".join(texts)
    ends = np.cumsum([len(text) + 1 for text in texts]) - 1
    starts = ends - [len(text) for text in texts]
    read = native_read.scan(pa.py_buffer(data), starts, ends, INDEX_FIELDS)
    for name, array in read.arrays.items():
        array.validate(full=True)
        assert len(array) == len(texts), name
