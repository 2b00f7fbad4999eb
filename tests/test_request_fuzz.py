"""Hostile requests: whatever a client sends, ``list_jobs`` answers or names the bad parameter.

The only allowed outcomes of ``store.list_jobs(wire)`` (and of ``store.query(wire)``) are a
well-formed response, or :class:`~jobquery.errors.InvalidParameterError` naming a parameter that
is present in the input, whose error body (``to_wire()``) a server could send as it is. Any other
exception is a bug. The inputs are every wire name of ``request.PARAMETERS`` plus unknown names,
with empty, huge (1 MB), surrogate, control-character, JSON-fragment, out-of-range and
wrong-typed values, single or repeated (a list: the last occurrence wins).

A second property builds a valid request and spoils exactly one parameter: the error must name
that parameter and no other.

The long run: ``JOBQUERY_FUZZ_EXAMPLES=100000 pytest tests/test_request_fuzz.py`` sets the number
of examples of the fuzz tests here (otherwise the Hypothesis profile decides).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from functools import cache
from typing import Any

import orjson
import polars as pl
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from jobquery import Caller, InternalError, InvalidParameterError, ListJobsRequest
from jobquery.errors import INTERNAL_ERROR, INVALID_PARAMETER
from jobquery.request import (
    DISPLAY_NAME_SEARCH_MODES,
    INT64_MAX,
    INT64_MIN,
    MAX_ENUM_TEXT_LENGTH,
    MAX_LIST_ITEMS,
    MAX_TAG_PAIRS,
    MAX_TAGS_TEXT_LENGTH,
    MAX_TEXT_LENGTH,
    MAX_TOKEN_LENGTH,
    NUMERIC_FIELDS,
    ORDERS,
    PAGE_NUMBER_MAX,
    PAGE_SIZE_MAX,
    PARAMETERS,
    SORT_KEYS,
    TIME_FIELDS,
    parse_timestamp,
)
from jobquery.store import JobStore

NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)
OWNER = Caller(user_id="1001")
CALLERS = (None, OWNER, Caller(user_id="1002"), Caller(is_admin=True), Caller(user_id=None))
_REQUEST_ID = re.compile(r"[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}")


def _fuzz_settings(**overrides: Any) -> Callable[[Any], Any]:
    """Settings of the fuzz tests: ``JOBQUERY_FUZZ_EXAMPLES`` overrides the profile's count."""
    examples = os.environ.get("JOBQUERY_FUZZ_EXAMPLES")
    if examples:
        overrides["max_examples"] = int(examples)
    return settings(
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        **overrides,
    )


@cache
def small_store() -> JobStore:
    """A few jobs inside the default window, so that valid requests often return something."""
    jobs = []
    for index in range(12):
        jobs.append(
            {
                "JobId": f"dlc-{index:02d}",
                "DisplayName": ["mnist", "bert-train", "Straße", "训练"][index % 4],
                "JobType": ["PyTorchJob", "TFJob"][index % 2],
                "Status": ["Running", "Failed", "Succeeded"][index % 3],
                "UserId": ["1001", "1002"][index % 2],
                "Accessibility": ["PRIVATE", "PUBLIC", "private", None][index % 4],
                "WorkspaceId": "268",
                "GmtCreateTime": f"2026-11-{23 + index % 6:02d}T10:00:{index:02d}Z",
                "GmtFinishTime": f"2026-11-{24 + index % 5:02d}T10:00:00Z",
                "RequestGPU": str(index % 5),
                "UserCommand": "python train.py --epochs 3",
                "ReasonCode": "JobStoppedByUser",
                "Settings": {"Tags": {"team": "rec", "n": index}, "Caller": "local"},
                "JobSpecs": [{"Image": "pai-dlc/pytorch-training:2.1", "UseSpotInstance": False}],
            }
        )
    return JobStore.from_records(jobs)


# ---------------------------------------------------------------------------------------------
# Hostile values.

SURROGATES = st.integers(0xD800, 0xDFFF).map(chr)
ANY_CHARACTERS = st.characters(exclude_categories=())  # surrogates and controls included
NASTY_TEXTS = (
    "", " ", "\t", "\x00", "a\x00b", "\ud800", "\udfff", "x\udc80y", "\u2028", "\ufeff",
    "\x1b[31m", "\r\n", "%00", "%", "_", "*", "?", ".*", "(?i)a", "[", "\\", "\\E", "'", '"',
    "'; DROP TABLE jobs; --", "${jndi:x}", "null", "None", "true", "True", "TRUE", "false", "1",
    "0", "-0", "+1", "01", "NaN", "nan", "Infinity", "-inf", "1e3", "1.0", "0x10", "1_000",
    " 1", "1 ", "１", "٣", "¹", "İ", "ß", "ﬀ", "训练", "😀", "\U0010ffff", "a,b", ",", ",,,",
    " , ", "{", "}", "[", "]", "[]", "{}", '{"a":', '{"a":{"b":1}}', '["a",1]', '{"a":[1]}',
    '{"a":null}', '{"a":1e999}', '{"a":-0}', '{"a":NaN}', '{"a":1,"a":2}', '{"\\ud800":"x"}',
    '{"a":"\\ud800"}', "2147483647", "2147483648", "-2147483648", "9223372036854775807",
    "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
    "2026-02-30T25:61:00Z", "2026-11-29T12:00:00Z", "2026-11-29", "2026-06-30T23:59:60Z",
    "0000-01-01T00:00:00Z", "0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-08:00",
    "9999-12-31T23:59:59.9999999999Z", "2026-11-29T12:00:00+24:00", "2026-11-29T12:00:00+23:59",
    "٢٠٢٦-11-20T00:00:00Z", "2026-11-29T12:00:00.Z", "2026-11-29t12:00:00z",
)  # fmt: skip
_HUGE_PIECES = ("a", "\ud800", ",", "x,", " ,", "[", '{"k":"v",', " ", "é", "😀", "\x00", "ab")
_HUGE_SIZES = (1023, 1024, 1025, 4096, 4097, 32 * 1024, 64 * 1024 + 1, 1_000_000)


class Repeated(str):
    """A long text built by repetition, whose repr is the short expression that builds it.

    Hypothesis prints failing examples with ``repr``; a 1 MB literal would drown the report.
    """

    expression: str

    def __new__(cls, piece: str, times: int, head: str = "", tail: str = "") -> Repeated:
        text = super().__new__(cls, head + piece * times + tail)
        text.expression = f"{head!r} + {piece!r} * {times} + {tail!r}"
        return text

    def __repr__(self) -> str:
        return self.expression


def plain(value: Any) -> Any:
    """The value with every ``Repeated`` turned into an ordinary ``str`` (what a server gets)."""
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {plain(key): plain(item) for key, item in value.items()}
    return value


#: Huge or deeply nested texts, built lazily (``[`` x 100 000, a 1 MB name, ...).
HUGE_TEXTS = st.one_of(
    st.builds(Repeated, st.sampled_from(_HUGE_PIECES), st.sampled_from(_HUGE_SIZES)),
    st.sampled_from(
        (
            Repeated("[", 100_000),
            Repeated('{"a":', 20_000),
            Repeated("[", 5_000),
            Repeated("9", 5_000, '{"a":', "}"),
            Repeated("x", 1025, '{"a":"', '"}'),
            Repeated('"k":"v",', 60, "{", '"z":1}'),
            Repeated(",", 1_000_000, "a", "b"),
            Repeated("x,", 1001),
            Repeated("0", 40, "", "1"),
        )
    ),
)


def _times() -> st.SearchStrategy[str]:
    """Timestamp-shaped texts with fields in and out of range, in many zone spellings."""
    return st.builds(
        "{:04d}-{:02d}-{:02d}{}{:02d}:{:02d}:{:02d}{}{}".format,
        st.integers(0, 10_000),
        st.integers(0, 99),
        st.integers(0, 99),
        st.sampled_from(("T", "t", " ", "_")),
        st.integers(0, 99),
        st.integers(0, 99),
        st.integers(0, 99),
        st.sampled_from(("", ".", ".5", ".123456789012")),
        st.sampled_from(("Z", "z", "", "+08:00", "-23:59", "+24:00", "+00:60", "+8", "UTC")),
    )


def _json_fragments() -> st.SearchStrategy[str]:
    """JSON texts of any shape (objects, arrays, nested), whole or cut short."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=8),
    )
    values = st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)
        ),
        max_leaves=12,
    )
    texts = values.map(json.dumps)
    return st.one_of(texts, st.tuples(texts, st.integers(0, 40)).map(lambda t: t[0][: t[1]]))


HOSTILE_TEXT = st.one_of(
    st.sampled_from(NASTY_TEXTS),
    st.text(ANY_CHARACTERS, max_size=30),
    HUGE_TEXTS,
    st.integers(-(2**80), 2**80).map(str),
    _times(),
    _json_fragments(),
    st.lists(st.text(max_size=6), max_size=6).map(",".join),
)  # fmt: skip
#: Values that are not strings at all (a typed caller, or a decoder that kept JSON types).
TYPED_JUNK = st.one_of(
    st.integers(-(2**70), 2**70),
    st.floats(),
    st.booleans(),
    st.none(),
    st.just({"team": "rec"}),
    st.just({"a": {"b": 1}}),
    st.just([["x"]]),
    st.just(b"bytes"),
    st.just(datetime(2026, 11, 29)),
)
WIRE_VALUE = st.one_of(
    HOSTILE_TEXT,
    HOSTILE_TEXT,
    HOSTILE_TEXT,
    st.lists(HOSTILE_TEXT, max_size=3),  # a repeated name: the last occurrence wins
    TYPED_JUNK,
)
UNKNOWN_NAMES = (
    "RegionId", "pagesize", "page_size", "PAGESIZE", "PageSize ", " DisplayName", "jobId",
    "Jobs", "", "\ud800", "Tags[team]", "__proto__",
)  # fmt: skip
WIRE_NAME = st.one_of(
    st.sampled_from(tuple(PARAMETERS)), st.sampled_from(UNKNOWN_NAMES), st.text(max_size=12)
)
WIRE_MAPPINGS = st.dictionaries(WIRE_NAME, WIRE_VALUE, max_size=8)


# ---------------------------------------------------------------------------------------------
# Outcome checks.


def check_response(wire: dict[str, Any]) -> None:
    """A response body as the service sends it (and JSON-serialisable as it is)."""
    assert set(wire) >= {"Jobs", "TotalCount", "RequestId"}
    jobs, total = wire["Jobs"], wire["TotalCount"]
    assert isinstance(jobs, list)
    assert all(isinstance(job, dict) and isinstance(job.get("JobId"), str) for job in jobs)
    assert type(total) is int
    assert total >= len(jobs)
    assert len(jobs) <= PAGE_SIZE_MAX
    assert _REQUEST_ID.fullmatch(wire["RequestId"])
    orjson.dumps(wire)


def check_refusal(error: InvalidParameterError, given: dict[Any, Any]) -> None:
    """The error names a parameter of the input, and its body can go on the wire as it is."""
    assert error.parameter in PARAMETERS
    assert error.parameter in given, f"{error.parameter} is not in the request: {error}"
    assert error.status == 400
    assert error.code == INVALID_PARAMETER
    body = error.to_wire("REQ-1")
    assert body == {"RequestId": "REQ-1", "Code": INVALID_PARAMETER, "Message": error.message}
    assert error.parameter in body["Message"]
    assert len(body["Message"]) < 2000, "a huge value must be shortened in the message"
    orjson.dumps(body)  # no lone surrogate or other unencodable text leaks into the body


def outcome(
    store: JobStore, wire: dict[Any, Any], caller: Caller | None
) -> InvalidParameterError | int:
    """Run list_jobs and query; both must agree. Returns the error or the total count."""
    try:
        response = store.list_jobs(plain(wire), now=NOW, caller=caller)
    except InvalidParameterError as error:
        check_refusal(error, wire)
        if "NextToken" in error.message:
            # query is unpaged: it may ignore a page token that list_jobs refuses
            try:
                store.query(plain(wire), now=NOW, caller=caller)
            except InvalidParameterError as again:
                check_refusal(again, wire)
            return error
        with pytest.raises(InvalidParameterError) as again:
            store.query(plain(wire), now=NOW, caller=caller)
        assert again.value.parameter == error.parameter
        return error
    check_response(response.to_wire())
    matches = store.query(plain(wire), now=NOW, caller=caller)
    assert isinstance(matches, pl.DataFrame)
    assert matches.height == response.total_count
    return response.total_count


@_fuzz_settings()
@given(wire=WIRE_MAPPINGS, caller=st.sampled_from(CALLERS))
def test_hostile_wire_mappings_answer_or_name_a_parameter(
    wire: dict[Any, Any], caller: Caller | None
) -> None:
    result = outcome(small_store(), wire, caller)
    event("refused" if isinstance(result, InvalidParameterError) else "answered")


# ---------------------------------------------------------------------------------------------
# Legal values: hostile-looking but inside the rules, so they must be answered, never refused.


def _legal(text: str) -> bool:
    return len(text) <= MAX_TEXT_LENGTH and not any(0xD800 <= ord(c) <= 0xDFFF for c in text)


LEGAL_CHARACTERS = st.characters(exclude_categories=("Cs",))  # every code point but surrogates
LEGAL_TEXT = st.one_of(
    st.sampled_from(tuple(text for text in NASTY_TEXTS if _legal(text))),
    st.text(LEGAL_CHARACTERS, max_size=40),
    st.builds(Repeated, st.sampled_from(("a", "é", "😀", "\x00", "%")), st.integers(1, 1024)),
)
FREE_TEXT_PARAMETERS = (
    "Accessibility", "BusinessUserId", "Caller", "Description", "DisplayName", "ImageSearch",
    "JobId", "OversoldInfo", "PaymentType", "PipelineId", "ReasonSearch", "ResourceId",
    "ResourceQuotaName", "TemplateId", "UserCommandSearch", "UserIdForFilter", "Username",
    "WorkspaceId",
)  # fmt: skip


@_fuzz_settings()
@given(
    values=st.dictionaries(st.sampled_from(FREE_TEXT_PARAMETERS), LEGAL_TEXT, min_size=1),
    mode=st.sampled_from((None, *DISPLAY_NAME_SEARCH_MODES)),
    caller=st.sampled_from(CALLERS[1:4]),
)
def test_legal_free_text_is_answered_never_refused(
    values: dict[str, str], mode: str | None, caller: Caller
) -> None:
    wire = dict(values)
    if mode is not None:
        wire["DisplayNameSearchMode"] = mode
    result = outcome(small_store(), wire, caller)
    assert isinstance(result, int), f"a legal request was refused: {result}"


# ---------------------------------------------------------------------------------------------
# Exactly one bad parameter: the error names it.

_TEXT_LIMITS = {name: MAX_TEXT_LENGTH for name in FREE_TEXT_PARAMETERS} | {
    "NextToken": MAX_TOKEN_LENGTH
}
_ENUMS = {
    "DisplayNameSearchMode": DISPLAY_NAME_SEARCH_MODES,
    "NumericRangeField": NUMERIC_FIELDS,
    "Order": ORDERS,
    "SortBy": SORT_KEYS,
    "TimeRangeField": TIME_FIELDS,
}
_BOOLEANS = ("EnableAssignNode", "FromAllWorkspaces", "ShowOwn")
_INTEGERS = {
    "PageNumber": (1, PAGE_NUMBER_MAX),
    "PageSize": (1, PAGE_SIZE_MAX),
    "NumericRangeMin": (INT64_MIN, INT64_MAX),
    "NumericRangeMax": (INT64_MIN, INT64_MAX),
}
_TIMES = ("StartTime", "EndTime")
_LISTS = {
    "JobIds": MAX_TEXT_LENGTH,
    "ResourceIds": MAX_TEXT_LENGTH,
    "JobType": MAX_ENUM_TEXT_LENGTH,
    "Status": MAX_ENUM_TEXT_LENGTH,
}


def _valid_text(name: str) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(("mnist", "dlc-01", "Running", "1001", "训练", "a%_*?")),
        st.text(LEGAL_CHARACTERS, min_size=1, max_size=20),
    )


def _valid_enum(name: str) -> st.SearchStrategy[str]:
    return st.sampled_from(_ENUMS[name]).flatmap(
        lambda value: st.sampled_from((value, value.upper(), value.lower()))
    )


def _valid_boolean(name: str) -> st.SearchStrategy[str]:
    return st.sampled_from(("true", "True", "FALSE", "false", "1", "0"))


def _valid_integer(name: str) -> st.SearchStrategy[str]:
    low, high = _INTEGERS[name]
    return st.integers(low, high).map(str)


def _valid_time(name: str) -> st.SearchStrategy[str]:
    return st.datetimes(
        min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
    ).map(lambda moment: moment.isoformat().replace("+00:00", "Z"))


def _valid_tags(name: str) -> st.SearchStrategy[str]:
    return st.dictionaries(
        st.text(LEGAL_CHARACTERS, max_size=8),
        st.one_of(st.text(LEGAL_CHARACTERS, max_size=8), st.integers(), st.booleans()),
        max_size=MAX_TAG_PAIRS,
    ).map(json.dumps)


def _valid_list(name: str) -> st.SearchStrategy[str]:
    element = st.text(
        st.characters(exclude_categories=("Cs",), exclude_characters=","),
        min_size=1,
        max_size=_LISTS[name],
    )
    return st.lists(element, min_size=1, max_size=5).map(",".join)


def _too_long(limit: int) -> st.SearchStrategy[str]:
    return st.builds(
        Repeated,
        st.sampled_from(("a", "é", "😀", "\x00")),
        st.sampled_from((limit + 1, limit + 2, limit + 1000, 1_000_000)),
    )


def _with_surrogate(text: str) -> st.SearchStrategy[str]:
    return st.builds(lambda s, at: text[:at] + s + text[at:], SURROGATES, st.integers(0, len(text)))


_NOT_STRINGS = st.one_of(
    st.integers(), st.floats(), st.just({"a": "b"}), st.just([["x"]]), st.just(b"x")
)


def _bad_text(name: str) -> st.SearchStrategy[Any]:
    return st.one_of(
        _too_long(_TEXT_LIMITS[name]),
        st.text(max_size=10).flatmap(_with_surrogate),
        _NOT_STRINGS.filter(lambda value: not isinstance(value, str)),
    )


def _bad_enum(name: str) -> st.SearchStrategy[Any]:
    allowed = {value.casefold() for value in _ENUMS[name]}
    return st.one_of(
        st.text(ANY_CHARACTERS, min_size=1, max_size=20).filter(
            lambda text: text.casefold() not in allowed
        ),
        st.sampled_from(_ENUMS[name]).map(lambda value: f" {value}"),
        _NOT_STRINGS,
    )


def _bad_boolean(name: str) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.text(ANY_CHARACTERS, min_size=1, max_size=10).filter(
            lambda text: text.casefold() not in {"true", "false", "1", "0"}
        ),
        st.sampled_from(("yes", "no", "on", "t", "2", "-1", "01", " true", "true\x00")),
        st.integers(),
        st.just({"a": 1}),
    )


def _bad_integer(name: str) -> st.SearchStrategy[Any]:
    low, high = _INTEGERS[name]
    return st.one_of(
        st.integers(high + 1, high + 2**70).map(str),
        st.integers(low - 2**70, low - 1).map(str),
        st.sampled_from(("1.0", "1e3", "0x10", "١", " 1", "1 ", "+", "-", "NaN", "1_0")),
        st.text(ANY_CHARACTERS, min_size=1, max_size=10).filter(
            lambda text: re.fullmatch(r"[+-]?[0-9]+", text) is None
        ),
        st.just(Repeated("1", 1000)),
        st.floats(),
        st.booleans(),
    )


def _bad_time(name: str) -> st.SearchStrategy[Any]:
    return st.one_of(
        _times().filter(lambda text: parse_timestamp(text) is None),
        st.text(ANY_CHARACTERS, min_size=1, max_size=30).filter(
            lambda text: parse_timestamp(text) is None
        ),
        st.just(Repeated(" ", 100, "2026-11-29T12:00:00Z")),
        st.integers(),
    )


def _bad_tags(name: str) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from(
            (
                "[]",
                '["a"]',
                "1",
                '"x"',
                "null",
                "{",
                '{"a":{"b":1}}',
                '{"a":[1]}',
            )
        ),
        st.sampled_from(
            (
                Repeated("[", 100_000),
                Repeated("[", 5000),
                Repeated('{"a":', 5000),
                Repeated("9", 5000, '{"a":', "}"),
                Repeated("v", MAX_TAGS_TEXT_LENGTH, '{"k":"', '"}'),
            )
        ),
        st.integers(MAX_TAG_PAIRS + 1, 200).map(
            lambda n: orjson.dumps({f"k{i}": "v" for i in range(n)}).decode()
        ),
        st.just(Repeated("k", MAX_TEXT_LENGTH + 1, '{"', '":"v"}')),
        st.just(Repeated("v", MAX_TEXT_LENGTH + 1, '{"k":"', '"}')),
        st.just('{"\\ud800":"x"}'),
        st.just(["a"]),
        st.just(7),
    )


def _bad_list(name: str) -> st.SearchStrategy[Any]:
    limit = _LISTS[name]
    return st.one_of(
        st.integers(MAX_LIST_ITEMS + 1, MAX_LIST_ITEMS + 50).map(
            lambda n: ",".join(f"x{i}" for i in range(n))
        ),
        st.builds(Repeated, st.just("y"), st.just(limit + 1), st.text("abc,", max_size=5)),
        st.text("ab,", max_size=10).flatmap(_with_surrogate),
        st.just([[5]]),  # repeated: the last value is a list holding a number
        st.just(5),
    )


ValueKind = tuple[
    Collection[str],
    Callable[[str], st.SearchStrategy[str]],
    Callable[[str], st.SearchStrategy[Any]],
]
#: Each kind of parameter: its names, a strategy of its legal non-empty wire values (pairings are
#: handled by the caller), and one of values that must be refused whatever the other
#: parameters are. The first kind that names a parameter is its kind.
_VALUE_KINDS: tuple[ValueKind, ...] = (
    (_TEXT_LIMITS, _valid_text, _bad_text),
    (_ENUMS, _valid_enum, _bad_enum),
    (_BOOLEANS, _valid_boolean, _bad_boolean),
    (_INTEGERS, _valid_integer, _bad_integer),
    (_TIMES, _valid_time, _bad_time),
    (("Tags",), _valid_tags, _bad_tags),
    (_LISTS, _valid_list, _bad_list),
)


def _value_kind(name: str) -> ValueKind:
    for kind in _VALUE_KINDS:
        if name in kind[0]:
            return kind
    raise AssertionError(f"no values for {name}")


def _valid_value(name: str) -> st.SearchStrategy[str]:
    """A legal, non-empty wire value of one parameter (pairings are handled by the caller)."""
    return _value_kind(name)[1](name)


def _bad_value(name: str) -> st.SearchStrategy[Any]:
    """A value of one parameter that must be refused, whatever the other parameters are."""
    return _value_kind(name)[2](name)


@st.composite
def valid_requests(draw: st.DrawFn) -> dict[str, Any]:
    """A legal wire mapping over several parameters, pairings respected; the caller is OWNER."""
    names = draw(
        st.lists(
            st.sampled_from(
                [
                    n
                    for n in PARAMETERS
                    if n not in ("NextToken", "NumericRangeMin", "NumericRangeMax")
                ]
            ),
            max_size=10,
            unique=True,
        )
    )
    wire: dict[str, Any] = {name: draw(_valid_value(name)) for name in names}
    if "NumericRangeField" in wire:
        bound = draw(st.sampled_from(("NumericRangeMin", "NumericRangeMax")))
        wire[bound] = draw(_valid_value(bound))
    if wire.get("FromAllWorkspaces", "").casefold() in ("true", "1"):
        wire["ShowOwn"] = "true"
    return wire


@_fuzz_settings()
@given(base=valid_requests(), data=st.data())
def test_exactly_one_bad_parameter_is_the_one_named(
    base: dict[str, Any], data: st.DataObject
) -> None:
    store = small_store()
    assert isinstance(outcome(store, base, OWNER), int), "the base request must be valid"
    bad = data.draw(st.sampled_from(tuple(PARAMETERS)), label="bad parameter")
    value = data.draw(_bad_value(bad), label="bad value")
    if data.draw(st.booleans(), label="repeated"):
        value = [data.draw(_valid_value(bad)), value]  # repeated: the bad one comes last
    wire = {**base, bad: value}
    with pytest.raises(InvalidParameterError) as refused:
        store.list_jobs(plain(wire), now=NOW, caller=OWNER)
    assert refused.value.parameter == bad, str(refused.value)
    check_refusal(refused.value, wire)


# ---------------------------------------------------------------------------------------------
# Pairings: refusals that come from a combination, each naming the parameter the rule is about.

PAIRINGS = {
    "all-workspaces-alone": ({"FromAllWorkspaces": "true"}, OWNER, "FromAllWorkspaces"),
    "all-workspaces-not-own": (
        {"FromAllWorkspaces": "True", "ShowOwn": "false"},
        OWNER,
        "FromAllWorkspaces",
    ),
    "range-field-without-bound": ({"NumericRangeField": "RequestGPU"}, None, "NumericRangeField"),
    "min-without-field": ({"NumericRangeMin": "1"}, None, "NumericRangeMin"),
    "max-without-field": ({"NumericRangeMax": "1"}, None, "NumericRangeMax"),
    "showown-without-caller": ({"ShowOwn": "true"}, None, "ShowOwn"),
    "showown-caller-without-id": ({"ShowOwn": "1"}, Caller(user_id=None), "ShowOwn"),
    "showown-admin-without-id": ({"ShowOwn": "TRUE"}, Caller(is_admin=True), "ShowOwn"),
}


@pytest.mark.parametrize(("wire", "caller", "parameter"), PAIRINGS.values(), ids=PAIRINGS)
def test_pairing_rules_name_their_parameter(
    wire: dict[str, str], caller: Caller | None, parameter: str
) -> None:
    store = small_store()
    with pytest.raises(InvalidParameterError) as refused:
        store.list_jobs(wire, now=NOW, caller=caller)
    assert refused.value.parameter == parameter
    check_refusal(refused.value, wire)
    with pytest.raises(InvalidParameterError) as again:
        store.query(wire, now=NOW, caller=caller)
    assert again.value.parameter == parameter


def test_unknown_names_and_empty_values_are_ignored() -> None:
    store = small_store()
    plain = store.list_jobs({}, now=NOW).total_count
    ignored = {name: "\ud800" * 10 for name in UNKNOWN_NAMES} | {name: "" for name in PARAMETERS}
    assert store.list_jobs(ignored, now=NOW).total_count == plain
    assert store.list_jobs({name: [] for name in PARAMETERS}, now=NOW).total_count == plain


def test_the_request_model_refuses_like_the_store() -> None:
    with pytest.raises(InvalidParameterError) as refused:
        ListJobsRequest.from_wire({"PageSize": "101"})
    assert refused.value.parameter == "PageSize"


# ---------------------------------------------------------------------------------------------
# An unexpected failure inside the engine: InternalError (HTTP 500), no details on the wire.


@pytest.mark.parametrize(
    ("target", "failure"),
    [
        ("jobquery.store.page_rows", RuntimeError("boom in /srv/secret/engine.py, line 12")),
        ("jobquery.store.page_rows", pl.exceptions.ComputeError("polars: secret column ix_x")),
        ("jobquery.store.materialise", MemoryError()),
        ("jobquery.polars_engine.compile", KeyError("ix_secret")),
    ],
    ids=["runtime-error", "polars-error", "memory-error", "key-error"],
)
def test_an_unexpected_failure_is_an_internal_error_without_details(
    monkeypatch: pytest.MonkeyPatch, target: str, failure: BaseException
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise failure

    monkeypatch.setattr(target, broken)
    store = small_store()
    ask = store.query if target.endswith("compile") else store.list_jobs
    with pytest.raises(InternalError) as failed:
        ask({"DisplayName": "mnist"}, now=NOW)
    error = failed.value
    assert (error.status, error.code) == (500, INTERNAL_ERROR)
    body = error.to_wire("REQ-1")
    assert body == {"RequestId": "REQ-1", "Code": INTERNAL_ERROR, "Message": error.message}
    for secret in ("secret", "Traceback", "line 12", "boom", "ix_"):
        assert secret not in str(body)
    assert error.__cause__ is failure  # chained for the logs, never sent
