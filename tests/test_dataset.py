"""Job datasets: the format, the SQL rules, the writers and the engines on chosen cases.

The differential test (``test_dataset_differential.py``) holds the answers equal to the
reference's for generated jobs; this module pins what generation reaches rarely or not at
all: a compile rule per predicate kind, literal needles full of SQL and escape syntax, texts
ordered by code point, partitions that are really skipped, atomic and refused writes, chunked
writes equal to a direct one, duplicates across dump files, damaged datasets, timestamps of
year 1, and integers beyond 64 bits.
"""

from __future__ import annotations

import inspect
import json
import re
import shutil
import typing
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlglot import exp

from jobquery import synth
from jobquery.dataset import (
    JobDataset,
    job_dataset,
    read_manifest,
    write_dataset,
    write_dataset_from_texts,
)
from jobquery.dataset import sql as dataset_sql
from jobquery.dataset.format import (
    MANIFEST_NAME,
    TAG_SEPARATOR,
    DatasetWriter,
    stored_columns,
    tag_needle,
    tags_text,
    workspace_bucket,
)
from jobquery.errors import DatasetError, DumpFormatError, InternalError, InvalidParameterError
from jobquery.plan.filters import REGISTRY
from jobquery.plan.predicates import (
    EqualsAny,
    Flag,
    MatchNothing,
    NumericRange,
    Predicate,
    Substring,
    TagsContain,
    TimeRange,
    TokenSearch,
    Visibility,
)
from jobquery.request import NUMERIC_FIELDS, TIME_FIELDS, Caller
from jobquery.snapshot import Snapshot
from jobquery.store import JobStore

NOW = datetime(2026, 11, 28, tzinfo=UTC)
ALL_TIME = {"StartTime": "0001-01-01T00:00:00Z", "EndTime": "9999-12-31T23:59:59Z"}
ENGINES = ("duckdb", "spark")
#: The Spark tests of the run go to one worker (see pyproject's addopts), which starts the JVM.
ON_THE_SPARK_WORKER = pytest.mark.xdist_group("spark")


@pytest.fixture(params=["duckdb", pytest.param("spark", marks=ON_THE_SPARK_WORKER)])
def open_dataset(
    request: pytest.FixtureRequest,
) -> Iterator[Callable[[Path], JobDataset]]:
    """Opens a dataset on DuckDB, or on Spark with the test run's one local session."""
    opened: list[JobDataset] = []

    def opener(path: Path) -> JobDataset:
        if request.param == "spark":
            session = request.getfixturevalue("spark_session")
            dataset = JobDataset.open(path, "spark", session=session)
        else:
            dataset = JobDataset.open(path, "duckdb")
        opened.append(dataset)
        return dataset

    yield opener
    for dataset in opened:
        dataset.close()


def page_ids(answer: Any) -> list[str]:
    return [job["JobId"] for job in answer.jobs]


def same_answers(
    store: JobStore, dataset: JobDataset, requests: list[dict[str, str]]
) -> list[dict[str, Any]]:
    """The dataset's answers (on the wire) to the requests, each the store's."""
    answers = []
    for request in requests:
        expected = store.list_jobs(request, now=NOW, request_id="X").to_wire()
        got = dataset.list_jobs(request, now=NOW, request_id="X").to_wire()
        assert got == expected, request
        answers.append(got)
    return answers


# ---------------------------------------------------------------------------------------------
# The SQL rules


def example_of(kind: type) -> Predicate:
    """One predicate of each kind (the values do not matter: only that each compiles)."""
    examples: dict[type, Predicate] = {
        Substring: Substring("DisplayName", "ix_DisplayName", "a"),
        EqualsAny: EqualsAny("Status", "ix_Status", ("running", "failed")),
        TimeRange: TimeRange("StartTime/EndTime", "GmtCreateTime", NOW, NOW),
        NumericRange: NumericRange("NumericRange", "RequestGPU", 1, None),
        TagsContain: TagsContain("Tags", "ix_tags", ("1:a=b",), (("a", "b"),)),
        TokenSearch: TokenSearch("ImageSearch", "ix_image_tokens", ("torch",), True),
        Flag: Flag("EnableAssignNode", "ix_EnableAssignNode", True),
        Visibility: Visibility("u-1"),
        MatchNothing: MatchNothing("ReasonSearch", "no token"),
    }
    return examples[kind]


def test_every_predicate_kind_has_exactly_one_sql_rule() -> None:
    kinds = typing.get_args(Predicate)
    source = inspect.getsource(dataset_sql.compile_predicate)
    for kind in kinds:
        assert len(re.findall(rf"\bcase {kind.__name__}\(", source)) == 1, kind.__name__
        compiled = dataset_sql.compile_predicate(example_of(kind))
        assert isinstance(compiled, exp.Expression)
        for engine in ENGINES:
            assert dataset_sql.render(compiled, engine)
    assert source.count("case ") == len(kinds) + 1  # the kinds, and the assert_never arm


def test_every_column_a_filter_reads_is_stored() -> None:
    stored = {name for name, _ in stored_columns(JobStore.from_records([]).snapshot)}
    read = {row.column for row in REGISTRY if not row.column.startswith("(")}
    read |= {"ix_Accessibility", "UserId", *NUMERIC_FIELDS, *TIME_FIELDS}
    assert read <= stored, read - stored


def test_sql_renders_literals_per_dialect_never_as_patterns() -> None:
    needle = "50%_off\\'x"
    rule = dataset_sql.compile_predicate(Substring("DisplayName", "ix_DisplayName", needle))
    assert dataset_sql.render(rule, "duckdb") == "CONTAINS(\"ix_DisplayName\", '50%_off\\''x')"
    assert dataset_sql.render(rule, "spark") == "CONTAINS(`ix_DisplayName`, '50%_off\\\\\\'x')"
    assert "LIKE" not in dataset_sql.render(rule, "duckdb").upper()


#: tag pairs built of the characters that could fool a substring test: the separator, the
#: escape character and what follows it
_TAG_PAIRS = st.text(alphabet=["a", "=", ":", "\\", "s", TAG_SEPARATOR], max_size=6)


@given(pairs=st.lists(_TAG_PAIRS, max_size=5), pair=_TAG_PAIRS)
def test_the_tags_text_holds_a_needle_exactly_when_the_job_has_the_pair(
    pairs: list[str], pair: str
) -> None:
    text = pl.select(tags_text(pl.lit(pl.Series([pairs], dtype=pl.List(pl.String))))).item()
    assert (tag_needle(pair) in text) == (pair in pairs)


def test_order_keys_always_say_where_missing_values_go() -> None:
    plan = JobStore.from_records([]).plan({"SortBy": "Status", "Order": "asc"}, now=NOW)
    query = dataset_sql.keys_query(plan, "jobs", offset=0)
    for engine in ENGINES:
        order = dataset_sql.render(query, engine).split("ORDER BY")[1]
        assert order.count("NULLS FIRST") == 5 and "NULLS LAST" not in order


# ---------------------------------------------------------------------------------------------
# Answers on chosen cases, on both engines


def job(job_id: str, created: str | None, **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {"JobId": job_id, **fields}
    if created is not None:
        record["GmtCreateTime"] = created
    return record


HOSTILE_NAMES = (
    "50% off",
    "under_score",
    "back\\slash",
    "it's",
    'say "hi"',
    "nul\x00byte",
    "new\nline",
    "tab\tbed",
    "\\u0041 not an escape",
    "%_%",
    "emoji 😀",
    "训练 模型",
    "'; DROP TABLE jobs; --",
)


def test_hostile_needles_match_literally(tmp_path: Path, open_dataset: Any) -> None:
    jobs = [
        job(f"j{i}", f"2026-11-2{i % 7}T00:00:00Z", DisplayName=name, UserCommand=name)
        for i, name in enumerate(HOSTILE_NAMES)
    ]
    jobs.append(job("plain", "2026-11-27T00:00:00Z", DisplayName="plain"))
    store = JobStore.from_records(jobs)
    write_dataset(store, tmp_path / "ds")
    dataset = open_dataset(tmp_path / "ds")
    requests = [{"DisplayName": name, **ALL_TIME} for name in HOSTILE_NAMES]
    requests += [
        {"DisplayName": name, "DisplayNameSearchMode": mode, **ALL_TIME}
        for name in ("50%", "%_%", "it'", "nul\x00", "\\")
        for mode in ("exact", "prefix")
    ]
    requests += [{"UserCommandSearch": "训练 模型", **ALL_TIME}, {"Username": "%", **ALL_TIME}]
    answers = same_answers(store, dataset, requests)
    # and the needles did match something: the test is not vacuous (on Spark, every answer
    # costs jobs of its own: those just compared are counted, not asked for again)
    assert [answer["TotalCount"] for answer in answers[:11]] == [1] * 11


ORDERED_NAMES = (
    "a", "B", "b", "ß", "ss", "SS", "İ", "i̇", "é", "e\u0301", "\uffff", "😀",
    "z", "Z", "训", "", None, 0, "ǅ", "ǆ", "Ǆ",
)  # fmt: skip


def test_texts_are_ordered_by_casefold_then_code_point(tmp_path: Path, open_dataset: Any) -> None:
    jobs = [
        job(f"j{i:02d}", "2026-11-27T00:00:00Z" if i % 3 else None, DisplayName=name)
        for i, name in enumerate(ORDERED_NAMES)
    ]
    jobs += [job(f"DLC-{i}", "2026-11-27T00:00:00Z", DisplayName="tie") for i in range(3)]
    jobs += [job(f"dlc-{i}", "2026-11-27T00:00:00Z", DisplayName="tie") for i in range(3)]
    store = JobStore.from_records(jobs)
    write_dataset(store, tmp_path / "ds")
    dataset = open_dataset(tmp_path / "ds")
    requests = [
        {"SortBy": key, "Order": order, "PageSize": "100", "TimeRangeField": "GmtFinishTime"}
        | {"StartTime": "0001-01-01T00:00:00Z"}
        for key in ("DisplayName", "GmtCreateTime")
        for order in ("asc", "desc")
    ]
    # a window on a field no job has selects nothing; one on GmtCreateTime all timed jobs
    requests += [{**r, "TimeRangeField": "GmtCreateTime", **ALL_TIME} for r in requests]
    same_answers(store, dataset, requests)
    listed = dataset.list_jobs({**requests[-4], "SortBy": "DisplayName"}, now=NOW)
    assert listed.total_count > 10


@pytest.mark.parametrize("counted_per_value", [True, False], ids=["per-value", "top-n"])
def test_pages_ordered_by_a_text_cross_its_values(
    tmp_path: Path, open_dataset: Any, monkeypatch: pytest.MonkeyPatch, counted_per_value: bool
) -> None:
    """A page starting, ending or lying inside a run of equal names, missing names included,
    whether the matches are counted per name or the engine keeps a top-N heap."""
    if not counted_per_value:
        monkeypatch.setattr(job_dataset, "VALUE_COUNTS_MAX", -1)
    names = ["b", "B", None, "a", "b", "c", None, "b", "a", "C", "b", "d"]
    jobs = [
        job(f"j{i:02d}", f"2026-11-{10 + i % 4:02d}T00:00:00Z", DisplayName=name)
        for i, name in enumerate(names)
    ]
    store = JobStore.from_records(jobs)
    write_dataset(store, tmp_path / "ds")
    dataset = open_dataset(tmp_path / "ds")
    requests = [
        {"SortBy": key, "Order": order, "PageSize": "3", "PageNumber": str(number), **ALL_TIME}
        for key in ("DisplayName", "Status")
        for order in ("asc", "desc")
        for number in range(1, 6)
    ]
    same_answers(store, dataset, requests)
    assert ("matches per value of" in dataset.explain(requests[0], now=NOW)) == counted_per_value


@pytest.mark.parametrize("every_key", [True, False], ids=["every-key", "count-then-keys"])
def test_requests_naming_job_ids(
    tmp_path: Path, open_dataset: Any, monkeypatch: pytest.MonkeyPatch, every_key: bool
) -> None:
    """``JobIds`` (ids differing by case only, ids of no job, hidden and deleted jobs among
    them): the same answers and frames whether the keys of every match are read and counted,
    or the matches counted first and the page's keys read then."""
    if not every_key:
        monkeypatch.setattr(job_dataset, "NAMED_JOBS_MAX", -1)
    jobs = [
        job(f"dlc-{i:02d}", f"2026-{1 + i % 11:02d}-1{i % 9}T00:00:00Z", DisplayName=f"n{i % 4}")
        for i in range(30)
    ]
    jobs += [
        job("DLC-03", "2026-05-05T00:00:00Z", DisplayName="upper"),
        job("dlc-hidden", "2026-06-06T00:00:00Z", Accessibility="PRIVATE", UserId="other"),
        job("dlc-gone", "2026-07-07T00:00:00Z", IsDeleted=True),
    ]
    store = JobStore.from_records(jobs)
    write_dataset(store, tmp_path / "ds")
    dataset = open_dataset(tmp_path / "ds")
    named = "dlc-03,dlc-07,dlc-11,dlc-12,dlc-29,dlc-hidden,dlc-gone,dlc-none"
    requests = [
        {"JobIds": named, "SortBy": key, "Order": order, "PageSize": "2", "PageNumber": number}
        | ALL_TIME
        for key in ("DisplayName", "GmtCreateTime")
        for order in ("asc", "desc")
        for number in ("1", "3", "9")
    ]
    answers = same_answers(store, dataset, requests)
    assert answers[0]["TotalCount"] == 7  # DLC-03 and dlc-03, dlc-hidden; not dlc-gone
    caller = Caller(user_id="me")
    for request in requests[:3]:
        expected = store.list_jobs(request, now=NOW, caller=caller, request_id="X")
        got = dataset.list_jobs(request, now=NOW, caller=caller, request_id="X")
        assert got == expected
        frame, total = dataset.page_frame(request, now=NOW)
        assert total == store.list_jobs(request, now=NOW).total_count
        assert frame["JobId"].to_list() == page_ids(store.list_jobs(request, now=NOW))
    shown = dataset.explain(requests[0], now=NOW)
    assert ("names 8 JobIds" in shown) == every_key


def test_ancient_times_and_long_integers(tmp_path: Path, open_dataset: Any) -> None:
    jobs = [
        job("old", "0001-01-01T00:00:00Z", GmtFinishTime="1582-10-04T12:00:00Z"),
        job("big", "2026-11-27T00:00:00Z", NodeCount=2**70, Custom={"n": 123456789012345678901}),
        job("neg", "1969-12-31T23:59:59.999999Z", RequestGPU="-0.5"),
    ]
    store = JobStore.from_records(jobs)
    write_dataset(store, tmp_path / "ds")
    dataset = open_dataset(tmp_path / "ds")
    requests = [
        {**ALL_TIME, "SortBy": "GmtFinishTime", "Order": "asc"},
        {**ALL_TIME, "SortBy": "GmtCreateTime", "Order": "asc", "PageSize": "1", "PageNumber": "2"},
        {"StartTime": "0001-01-01T00:00:00Z", "EndTime": "0001-01-01T00:00:00Z"},
        {**ALL_TIME, "NumericRangeField": "RequestGPU", "NumericRangeMax": "0"},
    ]
    same_answers(store, dataset, requests)
    big = dataset.list_jobs({**ALL_TIME, "JobId": "big"}, now=NOW).jobs[0]
    assert big["NodeCount"] == 2**70 and big["Custom"]["n"] == 123456789012345678901
    assert dataset.query(ALL_TIME, now=NOW).equals(store.query(ALL_TIME, now=NOW))


def test_private_jobs_stay_private(tmp_path: Path, open_dataset: Any) -> None:
    jobs = [
        job("mine", "2026-11-27T00:00:00Z", UserId="u1", Accessibility="PRIVATE"),
        job("theirs", "2026-11-27T00:00:00Z", UserId="u2", Accessibility="private"),
        job("open", "2026-11-27T00:00:00Z", UserId="u2"),
    ]
    store = JobStore.from_records(jobs)
    write_dataset(store, tmp_path / "ds")
    dataset = open_dataset(tmp_path / "ds")
    for caller in (Caller("u1", False), Caller("U1", False), Caller(None, False), None):
        expected = store.list_jobs(ALL_TIME, now=NOW, caller=caller, request_id="X")
        got = dataset.list_jobs(ALL_TIME, now=NOW, caller=caller, request_id="X")
        assert got.to_wire() == expected.to_wire()
    assert page_ids(dataset.list_jobs(ALL_TIME, now=NOW, caller=Caller("u1", False))) == [
        "open",
        "mine",
    ]


def test_explain_to_a_user_is_the_same_with_or_without_others_private_jobs(
    tmp_path: Path, open_dataset: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SQL explained to (and run for) a user, and the table it reads, never depend on jobs
    hidden from them: not on their newest time (which picked the window's SQL), their values
    (which picked the count's form), nor on the files and buckets their number adds."""
    from jobquery.dataset import format as dataset_format  # noqa: PLC0415

    monkeypatch.setattr(job_dataset, "VALUE_COUNTS_MAX", 4)  # mine hold 3 names, with theirs 8
    monkeypatch.setattr(dataset_format, "WORKSPACE_BUCKET_JOBS", 6)  # mine 1 bucket, all 2
    mine = [
        job(f"v{i}", f"2026-11-1{i}T00:00:00Z", UserId="u1", DisplayName=f"name-{i % 3}")
        for i in range(5)
    ]
    theirs = [
        job(f"h{i}", created, UserId="u2", Accessibility="PRIVATE", DisplayName=f"secret-{i}")
        for i, created in enumerate(["2026-11-20T13:37:42Z", "2019-03-05T00:00:00Z", None])
    ]
    theirs += [
        job(
            f"h{i}",
            "2026-11-12T00:00:00Z",
            UserId="u2",
            Accessibility="PRIVATE",
            DisplayName=f"secret-{i}",
        )
        for i in range(3, 6)
    ]
    for job_ in mine + theirs:
        job_["WorkspaceId"] = "w1"
    write_dataset(JobStore.from_records(mine), tmp_path / "a")
    write_dataset(JobStore.from_records(mine + theirs), tmp_path / "b")
    without, with_theirs = open_dataset(tmp_path / "a"), open_dataset(tmp_path / "b")
    assert (without.manifest.workspace_buckets, with_theirs.manifest.workspace_buckets) == (1, 2)
    requests = [
        {"StartTime": "2026-11-01T00:00:00Z", "EndTime": "2026-11-20T13:37:41Z"},
        {"StartTime": "2026-11-01T00:00:00Z", "EndTime": "2026-11-30T00:00:00Z"},
        {**ALL_TIME, "SortBy": "DisplayName", "PageNumber": "2", "PageSize": "2"},
        {**ALL_TIME, "WorkspaceId": "w1", "SortBy": "GmtCreateTime"},
        {**ALL_TIME, "JobIds": "v1,h0"},
        {},
    ]

    def explained(dataset: JobDataset, folder: str, caller: Caller | None, request: Any) -> str:
        text = dataset.explain(request, now=NOW, caller=caller)
        text = text.replace(dataset.engine.table, "<view>")
        return text.replace(str((tmp_path / folder).resolve()), "<folder>")

    for caller in (Caller("u1", False), Caller(None, False)):
        for request in requests:
            shown = explained(without, "a", caller, request)
            assert shown == explained(with_theirs, "b", caller, request), (caller, request)
            assert (
                without.list_jobs(request, now=NOW, caller=caller, request_id="R").to_wire()
                == with_theirs.list_jobs(request, now=NOW, caller=caller, request_id="R").to_wire()
            )
    # what a user's SQL reads: the months of their jobs, not 2019-03 nor the jobs without a
    # time (NO_MONTH), which hold only jobs hidden from them
    shown = explained(with_theirs, "b", Caller("u1", False), ALL_TIME)
    assert re.search(r"create_month[`\"] IN \(\s*202611\s*\)", shown), shown
    write_dataset(JobStore.from_records(theirs), tmp_path / "c")
    hidden_only = explained(open_dataset(tmp_path / "c"), "c", Caller("u1", False), ALL_TIME)
    assert re.search(r"^\s+(AND )?FALSE$", hidden_only, re.MULTILINE), hidden_only  # no month
    assert not re.search(r"create_month[`\"] IN", hidden_only), hidden_only
    # the same comparison tells them apart for an administrator, who sees every job
    assert explained(without, "a", None, requests[0]) != explained(
        with_theirs, "b", None, requests[0]
    )


def test_the_newest_time_is_of_the_jobs_the_caller_can_see(
    tmp_path: Path, open_dataset: Any
) -> None:
    jobs = [
        job("public", "2026-11-01T00:00:00Z", Accessibility="PUBLIC"),
        job("gone", "2026-11-02T00:00:00Z", Accessibility="PUBLIC", IsDeleted=True),
        job("hidden", "2026-11-20T00:00:00Z", Accessibility="PRIVATE", UserId="u-2"),
    ]
    store = JobStore.from_records(jobs)
    write_dataset(store, tmp_path / "ds")
    dataset = open_dataset(tmp_path / "ds")
    for caller in (
        None,
        Caller(user_id="u-1", is_admin=False),
        Caller(user_id="u-2", is_admin=False),
        Caller(user_id=None, is_admin=False),
        Caller(user_id="u-1", is_admin=True),
    ):
        assert dataset.newest_time(caller=caller) == store.newest_time(caller=caller), caller
    assert dataset.newest_time(caller=Caller(user_id="u-1", is_admin=False)) == datetime(
        2026, 11, 2, tzinfo=UTC
    )


def test_next_token_is_refused_naming_it(tmp_path: Path) -> None:
    write_dataset(JobStore.from_records([job("a", "2026-11-27T00:00:00Z")]), tmp_path / "ds")
    with (
        JobDataset.open(tmp_path / "ds") as dataset,
        pytest.raises(InvalidParameterError) as refused,
    ):
        dataset.list_jobs({"NextToken": "*"}, now=NOW)
    assert refused.value.parameter == "NextToken"
    assert "PageNumber" in str(refused.value)


def test_an_empty_dataset_answers_and_still_validates(tmp_path: Path, open_dataset: Any) -> None:
    manifest = write_dataset(JobStore.from_records([]), tmp_path / "ds")
    assert manifest.job_count == 0 and len(manifest.files) == 1
    dataset = open_dataset(tmp_path / "ds")
    assert dataset.list_jobs({}, now=NOW).to_wire()["TotalCount"] == 0
    assert dataset.query({}, now=NOW).height == 0
    with pytest.raises(InvalidParameterError) as refused:
        dataset.list_jobs({"ShowOwn": "true"}, now=NOW)
    assert refused.value.parameter == "ShowOwn"


# ---------------------------------------------------------------------------------------------
# Partitions that are really skipped


def spoil(path: Path) -> None:
    path.write_bytes(b"PAR1 this is not a Parquet file PAR1")


def test_a_window_reads_only_its_months(tmp_path: Path, open_dataset: Any) -> None:
    jobs = [
        job("november", "2026-11-27T00:00:00Z"),
        job("march", "2026-03-01T00:00:00Z"),
        job("timeless", None),
    ]
    manifest = write_dataset(JobStore.from_records(jobs), tmp_path / "ds")
    # the first file stays readable: DuckDB reads its footer for the columns when opening
    for item in manifest.files[1:]:
        if item.month != 202611:
            spoil(tmp_path / "ds" / item.path)
    assert manifest.files[0].month == 0
    dataset = open_dataset(tmp_path / "ds")
    assert page_ids(dataset.list_jobs({}, now=NOW)) == ["november"]
    assert dataset.query({"StartTime": "2026-11-01T00:00:00Z"}, now=NOW).height == 1
    with pytest.raises(InternalError):  # the spoiled months are read: the failure shows
        dataset.list_jobs({"StartTime": "2026-01-01T00:00:00Z"}, now=NOW)


def window_plan(start: str, end: str) -> Any:
    return JobStore.from_records([]).plan({"StartTime": start, "EndTime": end}, now=NOW)


@pytest.mark.parametrize(
    ("start", "end", "newest", "covered"),
    [
        # from a month's first instant to its last µs, or on past the newest time
        ("2026-09-01T00:00:00Z", "2026-11-15T00:00:00Z", None, (202609, 202610)),
        ("2026-09-01T00:00:00Z", "2026-11-15T00:00:00Z", "2026-11-15T00:00:00Z", (202609, 202611)),
        ("2026-09-01T00:00:00Z", "2026-11-15T00:00:00Z", "2026-11-15T00:00:01Z", (202609, 202610)),
        ("2026-08-31T23:59:59Z", "2026-11-30T23:59:59.999999Z", None, (202609, 202611)),
        ("2026-08-31T23:59:59Z", "2026-11-30T23:59:59.999Z", None, (202609, 202610)),
        # across a new year, either way
        ("2025-12-01T00:00:00Z", "2026-01-31T23:59:59.999999Z", None, (202512, 202601)),
        ("2025-11-02T00:00:00Z", "2026-02-01T00:00:00Z", None, (202512, 202601)),
        # no whole month
        ("2025-12-02T00:00:00Z", "2026-01-15T00:00:00Z", None, None),
        ("2026-11-02T00:00:00Z", "2026-11-20T00:00:00Z", None, None),
        ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z", None, (101, 999912)),
    ],
)
def test_the_months_a_window_covers(
    start: str, end: str, newest: str | None, covered: tuple[int, int] | None
) -> None:
    plan = window_plan(start, end)
    newest_time = None if newest is None else datetime.fromisoformat(newest)
    assert dataset_sql.covered_months(plan, newest_time) == covered


def test_covered_months_are_read_without_the_time_condition(
    tmp_path: Path, open_dataset: Any
) -> None:
    # jobs on both sides of every month edge and window edge
    times = [
        "2026-08-31T23:59:59.999999Z",
        "2026-09-01T00:00:00Z",
        "2026-09-15T12:00:00Z",
        "2026-09-30T23:59:59.999999Z",
        "2026-10-01T00:00:00Z",
        "2026-10-17T00:00:00Z",
        "2026-10-17T00:00:00.000001Z",
        "2026-11-27T00:00:00Z",
    ]
    jobs = [job(f"j{i}", created) for i, created in enumerate(times)]
    jobs += [job("deleted", "2026-09-20T00:00:00Z", IsDeleted=True), job("timeless", None)]
    store = JobStore.from_records(jobs)
    write_dataset(store, tmp_path / "ds")
    dataset = open_dataset(tmp_path / "ds")
    windows = {
        # every month whole (the last ends after the newest job): months, no time condition
        "months": {"StartTime": "2026-09-01T00:00:00Z"},
        # some months whole: those UNION ALL the others with the time condition
        "union": {"StartTime": "2026-08-31T23:59:59.999999Z", "EndTime": "2026-10-17T00:00:00Z"},
        "union_late": {"StartTime": "2026-09-15T12:00:00Z"},
        # none whole
        "none": {"StartTime": "2026-09-15T12:00:00Z", "EndTime": "2026-10-17T00:00:00Z"},
    }
    for name, window in windows.items():
        for order in (
            {},
            {"SortBy": "GmtCreateTime", "Order": "asc", "PageSize": "3", "PageNumber": "2"},
            {"SortBy": "DisplayName", "Order": "asc"},
        ):
            same_answers(store, dataset, [{**window, **order}])
        text = dataset.explain(window, now=NOW).split("1. TotalCount")[1].split("2. The")[0]
        assert ("UNION ALL" in text) == name.startswith("union"), name
        assert ('GmtCreateTime" BETWEEN' in text.replace("`", '"')) == (name != "months"), name
        frame = dataset.query(window, now=NOW)
        assert frame["JobId"].to_list() == store.query(window, now=NOW)["JobId"].to_list()


def test_a_workspace_filter_reads_only_its_bucket(tmp_path: Path, open_dataset: Any) -> None:
    workspaces = [f"ws-{i}" for i in range(12)]
    jobs = [
        job(f"j{i}", "2026-11-27T00:00:00Z", WorkspaceId=workspace)
        for i, workspace in enumerate(workspaces)
    ]
    jobs.append(job("october", "2026-10-01T00:00:00Z"))  # its file is first: DuckDB reads it
    with DatasetWriter(tmp_path / "ds", workspace_buckets=4) as writer:
        writer.add(JobStore.from_records(jobs).snapshot)
    assert writer.manifest is not None
    wanted = workspace_bucket("ws-3", 4)
    november = [item for item in writer.manifest.files if item.month == 202611]
    assert len(november) == 4 and writer.manifest.files[0].month == 202610
    for item in november:
        if item.bucket != wanted:
            spoil(tmp_path / "ds" / item.path)
    dataset = open_dataset(tmp_path / "ds")
    # casefolded like every equality filter: "WS-3" is in the bucket of "ws-3"
    assert page_ids(dataset.list_jobs({"WorkspaceId": "WS-3"}, now=NOW)) == ["j3"]
    with pytest.raises(InternalError):
        dataset.list_jobs({}, now=NOW)


# ---------------------------------------------------------------------------------------------
# Writing


def test_chunks_write_the_same_files_as_one_snapshot(tmp_path: Path) -> None:
    lines = synth.generate_lines(3_000, seed=5)
    with DatasetWriter(tmp_path / "whole", workspace_buckets=2) as writer:
        writer.add(Snapshot.from_texts(lines))
    with DatasetWriter(tmp_path / "chunks", workspace_buckets=2, file_rows=100) as writer:
        for begin in range(0, 3_000, 700):
            writer.add(Snapshot.from_texts(lines.slice(begin, 700)))
    with DatasetWriter(tmp_path / "split", workspace_buckets=2, file_rows=100) as writer:
        writer.add(Snapshot.from_texts(lines))
    whole, chunks = read_manifest(tmp_path / "whole"), read_manifest(tmp_path / "chunks")
    assert (whole.job_count, whole.deleted_count, whole.newest_time) == (
        chunks.job_count,
        chunks.deleted_count,
        chunks.newest_time,
    )

    def rows(folder: Path, manifest: Any) -> pl.DataFrame:
        return pl.concat([pl.read_parquet(folder / f.path) for f in manifest.files])

    assert rows(tmp_path / "whole", whole).equals(rows(tmp_path / "chunks", chunks))
    split = read_manifest(tmp_path / "split")
    assert split.files == chunks.files
    assert rows(tmp_path / "split", split).equals(rows(tmp_path / "chunks", chunks))
    assert max(f.rows for f in chunks.files) == 100 < max(f.rows for f in whole.files)


def test_pages_read_from_partitions_of_several_files(tmp_path: Path, open_dataset: Any) -> None:
    """The page's texts are read from each partition's own files (DuckDB) or the view."""
    lines = synth.generate_lines(1_500, seed=7)
    with DatasetWriter(tmp_path / "ds", workspace_buckets=2, file_rows=60) as writer:
        writer.add(Snapshot.from_texts(lines))
    assert len(read_manifest(tmp_path / "ds").files) > 2 * 13
    dataset = open_dataset(tmp_path / "ds")
    store = JobStore(Snapshot.from_texts(lines))
    requests = [
        {"PageSize": "50", "PageNumber": number, "SortBy": key, **ALL_TIME}
        for number in ("1", "7")
        for key in ("GmtCreateTime", "DisplayName")
    ]
    answers = same_answers(store, dataset, requests)
    assert all(len(answer["Jobs"]) == 50 for answer in answers)
    if dataset.engine.name == "duckdb":
        assert "READ_PARQUET([" in dataset.explain(requests[0], now=NOW)


def test_texts_given_a_chunk_at_a_time(tmp_path: Path) -> None:
    chunks = synth.iter_line_chunks(1_500, seed=9, chunk_size=400)
    manifest = write_dataset_from_texts(chunks, tmp_path / "ds")
    store = JobStore(Snapshot.from_texts(synth.generate_lines(1_500, seed=9)))
    assert manifest.job_count == 1_500
    with JobDataset.open(tmp_path / "ds") as dataset:
        same_answers(
            store,
            dataset,
            [{"PageSize": "7", "PageNumber": "3"}, {**ALL_TIME, "SortBy": "Status"}],
        )


def test_a_job_id_in_two_dumps_keeps_the_newest_record(tmp_path: Path) -> None:
    first, second = tmp_path / "a.ndjson", tmp_path / "b.ndjson"
    old = job("dup", "2026-11-27T00:00:00Z", GmtModifiedTime="2026-11-27T02:00:00Z", Status="A")
    new = {**old, "GmtModifiedTime": "2026-11-27T03:00:00Z", "Status": "B"}
    later_but_older = {**old, "GmtModifiedTime": "2026-11-27T01:00:00Z", "Status": "C"}
    first.write_text(json.dumps(new) + "\n" + json.dumps(job("x", "2026-11-26T00:00:00Z")) + "\n")
    second.write_text(json.dumps(later_but_older) + "\n")
    manifest = write_dataset([first, second], tmp_path / "ds")
    assert (manifest.job_count, manifest.duplicates) == (2, 1)
    store = JobStore.from_path(first, second)
    with JobDataset.open(tmp_path / "ds") as dataset:
        same_answers(store, dataset, [ALL_TIME])
        assert dataset.list_jobs({**ALL_TIME, "JobId": "dup"}, now=NOW).jobs[0]["Status"] == "B"


def test_chunks_with_one_job_id_twice_are_refused(tmp_path: Path) -> None:
    one = JobStore.from_records([job("same", "2026-11-27T00:00:00Z")]).snapshot
    with pytest.raises(DumpFormatError, match="same"), DatasetWriter(tmp_path / "ds") as writer:
        writer.add(one)
        writer.add(one)
    assert not (tmp_path / "ds").exists()
    assert list(tmp_path.iterdir()) == []  # nothing half-written left behind


def test_a_failed_write_leaves_nothing(tmp_path: Path) -> None:
    snapshot = JobStore.from_records([job("a", "2026-11-27T00:00:00Z")]).snapshot
    with pytest.raises(RuntimeError), DatasetWriter(tmp_path / "ds") as writer:
        writer.add(snapshot)
        raise RuntimeError("the source failed")
    assert list(tmp_path.iterdir()) == []


def test_an_existing_folder_is_replaced_only_when_asked_and_only_a_dataset(
    tmp_path: Path,
) -> None:
    store = JobStore.from_records([job("a", "2026-11-27T00:00:00Z")])
    write_dataset(store, tmp_path / "ds")
    with pytest.raises(DatasetError, match="exists"):
        write_dataset(store, tmp_path / "ds")
    bigger = JobStore.from_records([job("a", "2026-11-27T00:00:00Z"), job("b", None)])
    assert write_dataset(bigger, tmp_path / "ds", overwrite=True).job_count == 2
    assert read_manifest(tmp_path / "ds").job_count == 2
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "precious.txt").write_text("keep me")
    with pytest.raises(DatasetError, match="not a jobquery dataset"):
        write_dataset(store, tmp_path / "other", overwrite=True)
    assert (tmp_path / "other" / "precious.txt").read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds", "other"]


# ---------------------------------------------------------------------------------------------
# Reading damaged or foreign folders


def test_folders_that_are_not_datasets_are_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        JobDataset.open(tmp_path / "nowhere")
    with pytest.raises(DumpFormatError, match="not a jobquery dataset"):
        JobDataset.open(tmp_path)
    manifest = write_dataset(
        JobStore.from_records([job("a", "2026-11-27T00:00:00Z")]), tmp_path / "ds"
    )
    (tmp_path / "ds" / manifest.files[0].path).unlink()
    with pytest.raises(DumpFormatError, match="incomplete"):
        JobDataset.open(tmp_path / "ds")
    document = json.loads((tmp_path / "ds" / MANIFEST_NAME).read_text())
    (tmp_path / "ds" / MANIFEST_NAME).write_text(json.dumps({**document, "format_version": 99}))
    with pytest.raises(DumpFormatError, match="version 99"):
        JobDataset.open(tmp_path / "ds")
    (tmp_path / "ds" / MANIFEST_NAME).write_text("{not json")
    with pytest.raises(DumpFormatError, match="damaged"):
        JobDataset.open(tmp_path / "ds")
    with pytest.raises(DatasetError, match="unknown engine"):
        JobDataset.open(tmp_path / "ds", "trino")  # type: ignore[arg-type]


def test_explain_shows_the_sql_of_the_engine(tmp_path: Path, open_dataset: Any) -> None:
    write_dataset(JobStore.from_records([job("a", "2026-11-27T00:00:00Z")]), tmp_path / "ds")
    dataset = open_dataset(tmp_path / "ds")
    text = dataset.explain({"DisplayName": "50%", "SortBy": "Status"}, now=NOW)
    quote = "`" if dataset.engine.name == "spark" else '"'
    assert f"CONTAINS({quote}ix_DisplayName{quote}, '50%')" in text
    assert "ORDER BY" in text and "COUNT(*)" in text
    assert dataset.engine.name in text.lower()


def test_the_copy_of_each_job_is_lossless(tmp_path: Path) -> None:
    store = JobStore.from_path(
        Path(__file__).resolve().parents[1] / "jobquery/sample/sample_jobs.ndjson"
    )
    manifest = write_dataset(store, tmp_path / "ds")
    texts = pl.concat(
        [pl.read_parquet(tmp_path / "ds" / f.path, columns=["job_json"]) for f in manifest.files]
    )["job_json"]
    assert sorted(texts.to_list()) == sorted(store.snapshot.json_texts().to_list())
    shutil.rmtree(tmp_path / "ds")


@ON_THE_SPARK_WORKER
def test_spark_reads_a_dataset_given_as_a_uri(tmp_path: Path, spark_session: Any) -> None:
    """A cluster's storage (``s3a://``, ``hdfs://``): the manifest is read through Spark too."""
    store = JobStore.from_records([job("a", "2026-11-27T00:00:00Z"), job("b", None)])
    write_dataset(store, tmp_path / "ds")
    uri = (tmp_path / "ds").as_uri()
    with JobDataset.open(uri, "spark", session=spark_session) as dataset:
        assert dataset.manifest == read_manifest(tmp_path / "ds")
        same_answers(store, dataset, [ALL_TIME, {}])
    with pytest.raises(DumpFormatError, match="not a jobquery dataset"):
        JobDataset.open(tmp_path.as_uri(), "spark", session=spark_session)
