"""One reading of each job: a key the index reads, given twice in one object, is refused.

JSON parsers differ on which of two values of one key counts (orjson and Python's json keep
the last, Polars' reader kept the first): a job such as ``{"Accessibility": "PUBLIC", ...,
"Accessibility": "PRIVATE"}`` was indexed as public and returned as private, so another user
listed it. jobquery refuses such a record, naming its file and line (``lenient=True`` skips it
into ``store.skipped``) — at every size, through every format and the per-job reading alike.
A key the index never reads may repeat (the last one counts, as in the job returned).

The sizes straddle every threshold of the native build: below and above
``native_index._NATIVE_MIN_ROWS`` (Python or vectorised columns), the string sharing of
``_SHARING_MIN_ROWS``, and several pieces read apart (the record in a later piece).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobquery import Caller, DumpFormatError, synth
from jobquery.snapshot import (
    INDEX_FIELDS,
    Snapshot,
    layout,
    load_job,
    native_index,
    native_read,
    repeated_index_key,
    repeated_index_key_in,
)
from jobquery.snapshot.repeated_keys import _skeleton
from jobquery.store import JobStore
from tests.helpers.jsonvalues import SLOW, fewer, same_json, scratch
from tests.helpers.strategies import job_records

OWNER = Caller(user_id="owner-1", is_admin=False)
OTHER = Caller(user_id="someone-else", is_admin=False)
EVERYTHING = {"StartTime": "1970-01-01T00:00:00Z", "EndTime": "2100-01-01T00:00:00Z"}
SECRET = "dlc-secret-job"

#: Records whose index reading depends on which of two values counts, by the key repeated.
AMBIGUOUS = {
    "public-then-private": (
        '{"JobId":"%s","UserId":"owner-1","Accessibility":"PUBLIC",'
        '"GmtCreateTime":"2026-01-01T00:00:00Z","Accessibility":"PRIVATE"}',
        "Accessibility",
    ),
    "private-then-public": (
        '{"JobId":"%s","UserId":"owner-1","Accessibility":"PRIVATE",'
        '"GmtCreateTime":"2026-01-01T00:00:00Z","Accessibility":"PUBLIC"}',
        "Accessibility",
    ),
    "two-user-ids": (
        '{"JobId":"%s","UserId":"someone-else","Accessibility":"PRIVATE",'
        '"GmtCreateTime":"2026-01-01T00:00:00Z","UserId":"owner-1"}',
        "UserId",
    ),
    "two-job-ids": (
        '{"JobId":"decoy","UserId":"owner-1","Accessibility":"PRIVATE",'
        '"GmtCreateTime":"2026-01-01T00:00:00Z","JobId":"%s"}',
        "JobId",
    ),
    "escaped-spelling": (
        '{"JobId":"%s","UserId":"owner-1","Accessibility":"PUBLIC",'
        '"GmtCreateTime":"2026-01-01T00:00:00Z","Accessibilit\\u0079":"PRIVATE"}',
        "Accessibility",
    ),
    "nested-tag": (
        '{"JobId":"%s","UserId":"owner-1","Accessibility":"PRIVATE",'
        '"GmtCreateTime":"2026-01-01T00:00:00Z","Settings":{"Tags":{"team":"a","team":"b"}}}',
        "Settings.Tags.team",
    ),
    "nested-role": (
        '{"JobId":"%s","UserId":"owner-1","Accessibility":"PRIVATE",'
        '"GmtCreateTime":"2026-01-01T00:00:00Z",'
        '"JobSpecs":[{"Image":"a:1"},{"Image":"b:1","UseSpotInstance":true,"Image":"c:1"}]}',
        "JobSpecs[1].Image",
    ),
    "nested-history": (
        '{"JobId":"%s","UserId":"owner-1","Accessibility":"PRIVATE",'
        '"GmtCreateTime":"2026-01-01T00:00:00Z",'
        '"StatusHistory":[{"ReasonCode":"A","ReasonCode":"B"}]}',
        "StatusHistory[0].ReasonCode",
    ),
}
#: Snapshot sizes around the native build's thresholds.
SIZES = (
    3,
    native_index._NATIVE_MIN_ROWS - 1,
    native_index._NATIVE_MIN_ROWS,
    layout._SHARING_MIN_ROWS + 50,
)


@pytest.fixture(params=[False, True], ids=["one-piece", "small-pieces"])
def pieces(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[bool]:
    """Also read with pieces of about 64 KiB: the record then lies in a later piece."""
    if request.param:
        monkeypatch.setattr(native_index, "PIECE_BYTES", 1 << 16)
        monkeypatch.setattr(native_index, "_MIN_PIECE_BYTES", 1 << 16)
    yield request.param


def ordinary(count: int) -> list[str]:
    """Ordinary job texts (owned by others)."""
    return synth.generate_lines(count, seed=4).to_list() if count else []


def write(folder: Path, suffix: str, texts: list[str]) -> Path:
    path = folder / f"dump{suffix}"
    if suffix == ".ndjson":
        path.write_text("\n".join(texts) + "\n", "utf-8")
    elif suffix == ".json":
        path.write_text('{"Jobs":[' + ",".join(texts) + "]}", "utf-8")
    else:
        pq.write_table(pa.table({"job_json": texts}), path)
    return path


def assert_hidden_from_others(store: JobStore) -> None:
    """Another user neither lists nor gets the secret job; its owner may."""
    listed = store.list_jobs(EVERYTHING, caller=OTHER).jobs
    assert SECRET not in [job["JobId"] for job in listed]
    assert store.get_job(SECRET, caller=OTHER) is None


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("suffix", [".ndjson", ".json", ".parquet"])
@pytest.mark.parametrize("case", AMBIGUOUS, ids=list(AMBIGUOUS))
def test_a_repeated_key_the_index_reads_is_refused_with_its_place(
    case: str, suffix: str, size: int, pieces: bool
) -> None:
    text, path_named = AMBIGUOUS[case]
    texts = ordinary(size)
    at = len(texts) * 2 // 3  # in the last piece or near it
    texts.insert(at, text % SECRET)
    with scratch() as folder:
        path = write(folder, suffix, texts)
        with pytest.raises(DumpFormatError) as refused:
            JobStore.from_path(path)
        assert refused.value.path == str(path)
        assert f"{path_named} is given twice" in str(refused.value)
        if suffix == ".ndjson":
            assert refused.value.line == at + 1
        else:
            assert refused.value.record == at
        store = JobStore.from_path(path, lenient=True)
        assert [(s.line or s.record) for s in store.skipped] == [
            at + 1 if suffix == ".ndjson" else at
        ]
        assert len(store) == size
        assert store.get_job(SECRET) is None
        assert_hidden_from_others(store)


@pytest.mark.parametrize("lenient", [False, True], ids=["strict", "lenient"])
def test_a_page_that_gives_jobs_twice_is_refused(tmp_path: Path, lenient: bool) -> None:
    """Which list counts is the parser's choice: orjson kept the second, without a word."""
    jobs = [json.dumps({"JobId": name, "GmtCreateTime": "2026-11-27T00:00:00Z"}) for name in "ab"]
    page = tmp_path / "page.json"
    page.write_text(f'{{"Jobs":[{jobs[0]}],"TotalCount":1,"Jobs":[{jobs[1]}]}}')
    with pytest.raises(DumpFormatError, match=r"key Jobs is given twice.*the page is refused"):
        JobStore.from_path(page, lenient=lenient)


@pytest.mark.parametrize("size", SIZES)
def test_the_snapshot_build_refuses_a_repeated_key_by_record(size: int, pieces: bool) -> None:
    texts = ordinary(size)
    texts.append(AMBIGUOUS["public-then-private"][0] % SECRET)
    with pytest.raises(DumpFormatError, match="Accessibility is given twice") as refused:
        Snapshot.from_texts(texts)
    assert refused.value.record == size


@pytest.mark.parametrize("size", SIZES)
def test_records_and_upserts_are_read_one_way(size: int) -> None:
    """In-memory records are dicts: a key cannot repeat, and the job stored is the one given."""
    records = [json.loads(text) for text in ordinary(size)]
    # a dict display with a key twice keeps the last value, as every JSON reader here does
    secret = {"JobId": SECRET, "UserId": "owner-1", "Accessibility": "PUBLIC"}
    secret.update({"GmtCreateTime": "2026-01-01T00:00:00Z", "Accessibility": "PRIVATE"})
    store = JobStore.from_records([*records, secret])
    assert store.get_job(SECRET) == secret
    assert_hidden_from_others(store)
    assert store.get_job(SECRET, caller=OWNER) == secret
    updated = JobStore.from_records(records)
    updated.upsert([secret])
    assert updated.get_job(SECRET) == secret
    assert_hidden_from_others(updated)


# ---------------------------------------------------------------------------------------------
# Any job, any key repeated anywhere: refused exactly when the index reads it.

#: The objects the index reads, and the keys it reads in each (None: every key).
READ_KEYS: dict[str, frozenset[str] | None] = {
    "": frozenset(INDEX_FIELDS.top_level_keys()),
    "Settings": frozenset((*native_read.SETTINGS_KEYS, "Tags")),
    "Settings.Tags": None,
    "JobSpecs[]": frozenset(native_read.ROLE_KEYS),
    "JobSpecs[].AssignNodeSpec": frozenset({"EnableAssignNode"}),
    "StatusHistory[]": frozenset(native_read.HISTORY_KEYS),
}


def spelled(value: Any, path: str, extra: tuple[str, str, Any] | None) -> Iterator[str]:
    """JSON text of ``value``; the object at ``extra[0]`` gets the pair ``extra[1:]`` first,
    before its own members (the value read is then the object's own, the last one)."""
    if isinstance(value, dict):
        members = list(value.items())
        if extra is not None and extra[0] == path:
            members.insert(0, (extra[1], extra[2]))
        yield "{"
        for number, (key, item) in enumerate(members):
            yield ("," if number else "") + json.dumps(key) + ":"
            inner = f"{path}.{key}" if path else key
            yield from spelled(item, inner, extra)
        yield "}"
    elif isinstance(value, list):
        yield "["
        for number, item in enumerate(value):
            yield "," if number else ""
            yield from spelled(item, f"{path}[]", extra)
        yield "]"
    else:
        yield json.dumps(value)


def objects_of(value: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object in a job, with its path (``JobSpecs[]``: any element)."""
    if isinstance(value, dict):
        yield path, value
        for key, item in value.items():
            yield from objects_of(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for item in value:
            yield from objects_of(item, f"{path}[]")


@st.composite
def repeated_jobs(draw: st.DrawFn) -> tuple[str, bool, dict[str, Any]]:
    """A job text with one key given twice in one of its objects (and given first to the other
    objects at the same path): the text, whether the index reads that key, and the job as
    read (the last value)."""
    job = draw(job_records(max_size=1).filter(bool))[0]
    # the nested objects the index reads, where the job has none
    job.setdefault("Settings", {"Tags": {"team": "x"}})
    job.setdefault("JobSpecs", [{"Image": "a:1", "AssignNodeSpec": {"EnableAssignNode": True}}])
    job.setdefault("StatusHistory", [{"ReasonCode": "A"}])
    where, holder = draw(st.sampled_from(list(objects_of(job))))
    key = draw(st.one_of(st.sampled_from(sorted(holder) or ["Other"]), st.just("Unread")))
    if key not in holder:
        holder[key] = "kept"
    earlier = draw(st.sampled_from(["PUBLIC", 7, None, {"a": 1}, "owner-1"]))
    text = "".join(spelled(job, "", (where, key, earlier)))
    for path, other in list(objects_of(job)):
        if path == where:  # every object at that path got the pair; the own value counts
            other.setdefault(key, earlier)
    read_keys = READ_KEYS.get(where, frozenset())
    return text, read_keys is None or key in read_keys, job


@settings(SLOW, max_examples=fewer(2, cap=120))
@given(case=repeated_jobs(), size=st.sampled_from([0, native_index._NATIVE_MIN_ROWS]))
def test_a_key_given_twice_is_refused_exactly_when_the_index_reads_it(
    case: tuple[str, bool, dict[str, Any]], size: int
) -> None:
    text, refused, job = case
    assert (repeated_index_key(text) is not None) == refused
    assert repeated_index_key_in(_skeleton(text)) == repeated_index_key(text)
    texts = [*ordinary(size), text]
    if refused:
        with pytest.raises(DumpFormatError, match="is given twice"):
            Snapshot.from_texts(texts)
        return
    built = Snapshot.from_texts(texts)
    stored = built.frame.filter(built.frame["JobId"] == job["JobId"])
    assert same_json(load_job(built.json_texts(stored)[0]), job)


def test_a_text_nested_beyond_the_standard_parsers_limit_is_checked_too() -> None:
    deep = '{"JobId":"a","Pods":' + "[" * 1000 + "]" * 1000
    assert repeated_index_key(deep + ',"Status":"x","Status":"y"}') == "Status"
    assert repeated_index_key(deep + ',"Other":"x","Other":"y"}') is None
