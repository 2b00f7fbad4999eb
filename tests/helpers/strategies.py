"""Hypothesis strategies for job records, callers and ListJobs requests.

The value domains are tiny on purpose: a handful of statuses, users, names and instants, so
that filters match, sort keys tie and results span several pages (``test_strategies.py``
checks that they do). Request values are mostly drawn from the generated jobs themselves (a
fragment of a real name in another case, a tag pair that exists, a real JobId...), and stored
values include every kind of oddity the engine must survive: nulls, missing keys, empty
strings, values of the wrong JSON type, timestamps with offsets and fractions, numbers sent as
strings.

Entry points:

- :func:`job_records` — a list of wire-shaped job dicts with unique ``JobId``;
- :func:`callers` — who asks (None, an admin, a user, a stranger, a caller without user id);
- :func:`nows` — the clock, often near the job times so the default 7-day window matters;
- :func:`requests` — a *wire* mapping of strings over all 37 parameters, always valid;
- :func:`typed_request` — the same request built from typed values;
- :func:`cases` — all of the above drawn together;
- :func:`single_filter_cases` — one filter alone, for the rule families that :func:`cases`
  exercises rarely (:data:`RULE_FAMILIES`).
"""

from __future__ import annotations

import copy
import json
import operator
import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from hypothesis import strategies as st

from jobquery.request import (
    NUMERIC_FIELDS,
    PARAMETERS,
    SORT_KEYS,
    TIME_FIELDS,
    Caller,
    ListJobsRequest,
    parse_timestamp,
)

Job = dict[str, Any]
Wire = dict[str, str]

#: Stands for "leave the key out of the object" in the value pools below.
MISSING: Any = object()

# ---------------------------------------------------------------------------------------------
# Value pools for stored jobs.

#: Values of the wrong JSON type (or empty) for a string field: all count as missing.
JUNK: tuple[Any, ...] = (MISSING, None, "", 0, 1.5, True, ["x"], {"a": 1})

#: Letters whose casefold differs from their lower case (``ß``/``ẞ`` fold to ``ss``, ``ς`` to
#: ``σ``, the ligature ``ﬁ`` to ``fi``): only casefolding matches them with their other forms.
CASEFOLD_PIECES = ("ß", "Straße", "ẞ", "Maße", "ς", "λόγος", "ﬁle")
NAME_PIECES = (
    "test", "Test", "TEST", "job", "JOB", "-", "_", "1", "2", "t1", "mnist",
    "SS", "STRASSE", "İ", "i", "σ", "Σ", "训练", "模型", *CASEFOLD_PIECES,
    ".", "*", "?", "%", "[", "]", "(", ")", "{", "}", "^", "$", "|", "\\", " ",
)  # fmt: skip
STATUSES = ("Running", "RUNNING", "Failed", "failed", "Succeeded")
JOB_TYPES = ("PyTorchJob", "pytorchjob", "TFJob", "MPIJob")
WORKSPACES = ("268", "ws-A", "WS-a", "ws-Straße")
#: ``u-X`` and ``U-x`` are casefold-equal but not equal: visibility and ShowOwn compare exactly.
USER_IDS = ("1001", "1002", "u-X", "U-x")
USERNAMES = ("alice", "Alice", "bob", "BOB-ß", "straße")
RESOURCE_IDS = ("quota-1", "QUOTA-1", "quota-2")
TEMPLATE_IDS = ("tpl-1", "TPL-1", "tpl-ß")
QUOTA_NAMES = ("test", "Prod", "prod-TEST")
ACCESSIBILITIES: tuple[Any, ...] = (
    "PUBLIC", "PRIVATE", "private", "Public", "SHARED", "", MISSING, None, 1,
)  # fmt: skip
CALLER_NAMES = ("SilkFlow", "silkflow", "ΛΟΓΟΣ")
BUSINESS_USER_IDS = ("166924", "b-1", "B-1")
PIPELINE_IDS = ("pid-1", "PID-1", "pid-2")
OVERSOLD_TYPES = (
    "AcceptQuotaOverSold", "acceptquotaoversold", "ForbiddenQuotaOverSold",
    "ForceQuotaOverSold", "AcceptQuotaOverSold-true", "",
)  # fmt: skip
TAG_KEYS = ("team", "Team", "env", "k")
TAG_VALUES: tuple[Any, ...] = ("rec", "REC", "", "中文", 1, 1.5, True, None, {"a": 1}, ["x"])
IMAGES = (
    "registry.cn-hangzhou.aliyuncs.com/pai-dlc/pytorch-training:2.1-gpu",
    "registry.cn-hangzhou.aliyuncs.com/pai-dlc/tensorflow-training:1.12.2PAI-cpu-py27",
    "dsw/PyTorch:2.1",
    "镜像/训练:latest",
    "my_image:v1",
)
USER_COMMANDS = (
    "python /root/code/train.py",
    "python train.py --epochs 3",
    "torchrun --nproc_per_node 8 train.py",
    "bash run.sh && echo 完成训练",
    "PYTHON Train.PY",
    "İstanbul straße",
)
REASON_CODES = ("JobStoppedByUser", "InvalidParameter", "OOMKilled", "JobSucceeded")
REASON_MESSAGES = (
    "Job is stopped by user.",
    "Out of memory: container killed",
    "节点故障 node failure",
    "image pull failed",
)
DESCRIPTIONS = ("Fine-tune BERT", "bert STRASSE run", "描述 test", "Maße ﬁle", "λόγος")

#: Pieces of the texts full-text search reads, for the token rules (docs/semantics.md,
#: "Tokens"): runs of CJK ideographs from each of the four blocks (every ideograph is a token
#: of its own), kana and hangul runs (ordinary letters: one token per run), Latin words in
#: several cases, ASCII and full-width digits, letters whose casefold differs from lower().
SEARCH_PIECES = (
    "训练", "模型", "节点故障", "训", "数据集v2", "完成",
    "\u3400\u3401",  # extension A
    "\uf900\uf901",  # compatibility ideographs
    "\U00020000\U00020001",  # extension B, outside the Basic Multilingual Plane
    "テスト", "한국어",
    "python", "Train", "PY", "v2", "2.1", "１２", "straße", "STRASSE", "İstanbul",
)  # fmt: skip
#: What goes between two pieces: nothing (so scripts run into each other), ASCII separators,
#: and CJK punctuation (not letters: it separates tokens like a space).
SEARCH_SEPARATORS = ("", "", " ", "/", "-", ":", "_", ".", "，", "。")
#: Numbers as JSON numbers, decimal strings, and strings that are *not* decimal numbers
#: (``1e3``, ``1_0``, `` 4``, full-width and Arabic-Indic digits, ``NaN``...). The two long
#: ones differ by one but share a float64 value: only an exact reading tells them apart.
NUMBERS: tuple[Any, ...] = (
    0, 1, 2, 4, 8, -1, 1.5, 4.0, -0.5,
    "1", "4", "4.0", "+2", "-3", ".5", "8.", "0.25", "007",
    "9007199254740993", "9007199254740992",
    "1e3", "1_0", " 4", "４", "١٢", "0x10", "Gi", "", "NaN", "inf",
    None, True, False, MISSING,
)  # fmt: skip

#: Instants the jobs are created at (few, so times tie). One has a sub-microsecond fraction.
BASE = datetime(2026, 11, 20, tzinfo=UTC)
INSTANTS = (
    BASE - timedelta(days=2),
    BASE,
    BASE + timedelta(days=1),
    BASE + timedelta(days=3, hours=12, minutes=30),
    BASE + timedelta(days=6),
    BASE + timedelta(days=9, microseconds=999999),
)
#: Stored timestamps that are missing or that ``parse_timestamp`` refuses (so: missing), some of
#: which a looser parser would accept: an hour 24, a leap second, a zone of +24:00, a date
#: alone, Arabic-Indic digits, epoch seconds.
BAD_TIMES: tuple[Any, ...] = (
    MISSING,
    None,
    "",
    "yesterday",
    "2026-13-01T00:00:00Z",
    "2026-11-20T24:00:00Z",
    "2026-12-31T23:59:60Z",
    "2026-11-20T00:00:00+24:00",
    "2026-11-20",
    "\u0662\u0660\u0662\u0666-11-20T00:00:00Z",
    1763596800,
)


def _time_text(moment: datetime, style: int) -> str:
    """One of several spellings of the same instant (all accepted by ``parse_timestamp``)."""
    utc = moment.astimezone(UTC)
    plain = utc.strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f".{utc.microsecond:06d}" if utc.microsecond else ""
    if style == 0:
        return f"{plain}{fraction}Z"
    if style == 1:
        east = utc + timedelta(hours=8)
        return east.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "+08:00"
    if style == 2:
        return f"{plain}{fraction}"  # no zone: UTC
    if style == 3:
        return (f"{plain}{fraction}z").replace("T", "t")
    if style == 4:
        west = utc - timedelta(hours=5, minutes=30)
        return west.strftime("%Y-%m-%d %H:%M:%S") + fraction + "-05:30"
    # style 5: more fraction digits than microseconds (truncated when parsed)
    return f"{plain}.{utc.microsecond:06d}9Z"


TIME_STYLES = 6


#: Every accepted spelling of every instant.
STORED_TIME_TEXTS = tuple(
    _time_text(moment, style) for moment in INSTANTS for style in range(TIME_STYLES)
)
BOOLEANS: tuple[Any, ...] = (True, False, True, False, "true", 1, None, MISSING)

# Each Hypothesis draw costs tens of microseconds, and a job has dozens of fields. So a job is
# put together from four parts, each drawn in ONE draw from a fixed pool of variants built by a
# seeded generator: its scalar fields, its timestamps, its nested objects, its numbers. Jobs
# of one example still differ in every field (the parts combine freely), and the first variant
# of each pool is the plainest, so a failing example shrinks to something readable.

_POOL_SIZE = 256


def _variant_pool(
    name: str, plainest: Job, build: Callable[[random.Random], Job]
) -> st.SearchStrategy[Job]:
    generator = random.Random(f"jobquery-strategies-{name}")
    return st.sampled_from((plainest, *(build(generator) for _ in range(_POOL_SIZE - 1))))


def _pick(generator: random.Random, values: Sequence[Any], junk: float = 0.2) -> Any:
    """A value from ``values``, or with probability ``junk`` a missing or ill-typed one."""
    return generator.choice(JUNK) if generator.random() < junk else generator.choice(values)


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    if value is not MISSING:
        target[key] = value


def _mixed_script_text(generator: random.Random) -> str:
    """A searchable text of one to four pieces, often with no separator between scripts."""
    pieces = generator.choices(SEARCH_PIECES, k=generator.randint(1, 4))
    text = pieces[0]
    for piece in pieces[1:]:
        text += generator.choice(SEARCH_SEPARATORS) + piece
    return text


def _searchable(generator: random.Random, realistic: Sequence[str], junk: float = 0.2) -> Any:
    """A text full-text search reads: a realistic one or a mixed-script one, or junk."""
    if generator.random() < junk:
        return generator.choice(JUNK)
    if generator.random() < 0.5:
        return _mixed_script_text(generator)
    return generator.choice(realistic)


def _display_name(generator: random.Random) -> Any:
    if generator.random() < 0.15:
        return generator.choice(JUNK)
    return "".join(generator.choices(NAME_PIECES, k=generator.randint(1, 4)))


def _build_scalars(generator: random.Random) -> Job:
    fields: Job = {}
    _put(fields, "DisplayName", _display_name(generator))
    _put(fields, "JobType", _pick(generator, JOB_TYPES))
    _put(fields, "Status", _pick(generator, STATUSES))
    _put(fields, "WorkspaceId", _pick(generator, WORKSPACES))
    _put(fields, "UserId", _pick(generator, USER_IDS))
    _put(fields, "Username", _pick(generator, USERNAMES))
    _put(fields, "ResourceId", _pick(generator, RESOURCE_IDS, 0.5))
    _put(fields, "TemplateId", _pick(generator, TEMPLATE_IDS, 0.5))
    _put(fields, "ResourceQuotaName", _pick(generator, QUOTA_NAMES))
    _put(fields, "Accessibility", generator.choice(ACCESSIBILITIES))
    _put(fields, "UseOversoldResource", generator.choice(BOOLEANS))
    _put(fields, "UserCommand", _searchable(generator, USER_COMMANDS))
    _put(fields, "ReasonCode", _pick(generator, REASON_CODES, 0.4))
    _put(fields, "ReasonMessage", _searchable(generator, REASON_MESSAGES, 0.4))
    _put(
        fields,
        "IsDeleted",
        generator.choice((False, False, False, False, True, "true", MISSING, MISSING)),
    )
    if generator.random() < 0.3:
        _put(fields, "Description", _pick(generator, DESCRIPTIONS))
    if generator.random() < 0.2:
        fields["UserVpc"] = generator.choice(("vpc-1", {"VpcId": "vpc-1", "ExtendedCidrs": []}))
    return fields


def _stored_time(generator: random.Random) -> Any:
    if generator.random() < 0.1:
        return generator.choice(BAD_TIMES)
    return generator.choice(STORED_TIME_TEXTS)


def _build_times(generator: random.Random) -> Job:
    """``GmtCreateTime`` (nearly always) and the other timestamps (each more often than not)."""
    times: Job = {}
    for field in TIME_FIELDS:
        if field == "GmtCreateTime" or generator.random() < 0.6:
            _put(times, field, _stored_time(generator))
    return times


def _build_settings(generator: random.Random) -> Any:
    if generator.random() < 0.1:
        return generator.choice((MISSING, None, "x", []))
    result: Job = {}
    if generator.random() < 0.6:
        if generator.random() < 0.15:
            result["Tags"] = generator.choice((None, "team=rec", []))
        else:
            keys = generator.sample(TAG_KEYS, generator.randint(0, 3))
            result["Tags"] = {key: generator.choice(TAG_VALUES) for key in keys}
    _put(result, "Caller", _pick(generator, CALLER_NAMES))
    _put(result, "BusinessUserId", _pick(generator, BUSINESS_USER_IDS))
    _put(result, "PipelineId", _pick(generator, PIPELINE_IDS))
    _put(result, "OversoldType", _pick(generator, OVERSOLD_TYPES, 0.4))
    return result


def _build_spec(generator: random.Random) -> Any:
    if generator.random() < 0.1:
        return generator.choice((None, "x", 1))
    spec: Job = {"Type": generator.choice(("Worker", "PS", "Master"))}
    _put(spec, "Image", _searchable(generator, IMAGES))
    _put(spec, "UseSpotInstance", generator.choice(BOOLEANS))
    if generator.random() < 0.1:
        spec["AssignNodeSpec"] = "node-1"
    elif (flag := generator.choice(BOOLEANS)) is not MISSING:
        spec["AssignNodeSpec"] = {"EnableAssignNode": flag, "NodeNames": "lingjun-1"}
    _put(spec, "OversoldType", _pick(generator, OVERSOLD_TYPES, 0.5))
    return spec


def _build_history(generator: random.Random) -> Any:
    if generator.random() < 0.1:
        return generator.choice((MISSING, None, "Failed"))
    entries: list[Any] = []
    for _ in range(generator.randint(0, 3)):
        if generator.random() < 0.1:
            entries.append(generator.choice((None, "x")))
            continue
        entry: Job = {"Status": generator.choice(STATUSES)}
        _put(entry, "ReasonCode", _pick(generator, REASON_CODES))
        _put(entry, "ReasonMessage", _searchable(generator, REASON_MESSAGES))
        entries.append(entry)
    return entries


def _build_nested(generator: random.Random) -> Job:
    """``Settings``, ``JobSpecs`` (0-3 roles) and ``StatusHistory``, each sometimes junk."""
    nested: Job = {}
    _put(nested, "Settings", _build_settings(generator))
    if generator.random() < 0.1:
        specs: Any = generator.choice((MISSING, None, "Worker", {"Image": IMAGES[0]}))
    else:
        specs = [_build_spec(generator) for _ in range(generator.randint(0, 3))]
    _put(nested, "JobSpecs", specs)
    _put(nested, "StatusHistory", _build_history(generator))
    return nested


def _build_numbers(generator: random.Random) -> Job:
    numbers: Job = {}
    for field in NUMERIC_FIELDS:
        if generator.random() < 2 / 3:
            _put(numbers, field, generator.choice(NUMBERS))
    return numbers


_SCALARS = _variant_pool("scalars", {"DisplayName": "test"}, _build_scalars)
#: Hypothesis often draws the first variant of a pool: a time most windows hold.
_TIMES = _variant_pool("times", {"GmtCreateTime": _time_text(INSTANTS[4], 0)}, _build_times)
_NESTED = _variant_pool("nested", {}, _build_nested)
_NUMBER_FIELDS = _variant_pool("numbers", {}, _build_numbers)

JOB_ID_PREFIXES = ("dlc", "DLC", "Dlc")
JOB_ID_SUFFIXES = ("a1", "A1", "b2", "ab", "x", "X", "1")
#: Some ids are casefold-equal (``dlc-a1``/``DLC-A1``): the JobId tie-break must then fall back
#: to code points.
ALL_JOB_IDS = tuple(
    f"{prefix}-{suffix}{tail}"
    for tail in ("", "7", "-z")
    for suffix in JOB_ID_SUFFIXES
    for prefix in JOB_ID_PREFIXES
)


@st.composite
def job(draw: st.DrawFn, job_id: str) -> Job:
    """One wire-shaped job (fresh objects: no two jobs share a nested value)."""
    record: Job = {"JobId": job_id}
    for part in (_SCALARS, _TIMES, _NESTED, _NUMBER_FIELDS):
        record.update(draw(part))
    return copy.deepcopy(record)


@st.composite
def job_records(draw: st.DrawFn, max_size: int = 24) -> list[Job]:
    """Lists of wire-shaped job dicts with unique JobIds (possibly empty)."""
    size = draw(st.integers(0, max_size))
    ids = draw(st.lists(st.sampled_from(ALL_JOB_IDS), min_size=size, max_size=size, unique=True))
    return [draw(job(job_id)) for job_id in ids]


# ---------------------------------------------------------------------------------------------
# Callers and clocks.


def _user_ids_of(jobs: Sequence[Mapping[str, Any]]) -> list[str]:
    found = {j["UserId"] for j in jobs if isinstance(j.get("UserId"), str) and j["UserId"]}
    return sorted(found) or list(USER_IDS[:1])


def callers(jobs: Sequence[Mapping[str, Any]]) -> st.SearchStrategy[Caller | None]:
    """None (admin view), admins, owners of some jobs, a stranger, a caller without user id."""
    owners = st.sampled_from(_user_ids_of(jobs))
    return st.one_of(
        st.none(),
        st.builds(Caller, user_id=st.one_of(st.none(), owners), is_admin=st.just(True)),
        st.builds(Caller, user_id=owners, is_admin=st.just(False)),
        st.builds(Caller, user_id=owners, is_admin=st.just(False)),
        st.just(Caller(user_id="stranger", is_admin=False)),
        st.just(Caller(user_id=None, is_admin=False)),
    )


_CLOCK_OFFSETS = (
    timedelta(0),
    timedelta(seconds=1),
    timedelta(days=2),
    timedelta(days=7),  # the oldest job of the pool sits exactly on the window start
    timedelta(days=7, microseconds=1),
    timedelta(days=8),
)
_ANY_NOW = st.builds(operator.add, st.sampled_from(INSTANTS), st.sampled_from(_CLOCK_OFFSETS))
#: Just after the newest job: the default window then holds the jobs of the last 7 days.
_LATE_NOW = st.sampled_from((timedelta(0), timedelta(seconds=1), timedelta(days=1))).map(
    lambda offset: INSTANTS[-1] + offset
)
_FAR_NOW = st.sampled_from((datetime(2020, 1, 1, tzinfo=UTC), datetime(2030, 6, 1, tzinfo=UTC)))


def nows() -> st.SearchStrategy[datetime]:
    """The clock: on or just after job times (the default window bites), or far away."""
    return st.one_of(*[_LATE_NOW] * 4, _ANY_NOW, _ANY_NOW, _FAR_NOW)


# ---------------------------------------------------------------------------------------------
# Requests, as wire mappings of strings.


def _case_variants(text: str) -> st.SearchStrategy[str]:
    """The text as it is or in another case; upper case and casefold turn ``ß`` into ``ss``."""
    return st.sampled_from(
        (text, text.upper(), text.lower(), text.swapcase(), text.casefold(), text.title())
    )


@st.composite
def _recased(draw: st.DrawFn, text: str) -> str:
    return draw(_case_variants(text))


@st.composite
def _fragment(draw: st.DrawFn, text: str) -> str:
    """A non-empty substring of ``text`` (or the whole), in some case."""
    start = draw(st.integers(0, len(text) - 1))
    end = draw(st.integers(start + 1, len(text)))
    piece = text[start:end] if draw(st.integers(0, 3)) else text
    return draw(_recased(piece))


def _strings_at(
    jobs: Sequence[Mapping[str, Any]], path: Callable[[Mapping[str, Any]], Any]
) -> list[str]:
    values: list[str] = []
    for record in jobs:
        try:
            value = path(record)
        except (AttributeError, KeyError, TypeError, IndexError):
            continue
        if isinstance(value, str) and value and value not in values:
            values.append(value)
    return values


def _top(field: str) -> Callable[[Mapping[str, Any]], Any]:
    return lambda record: record.get(field)


def _setting(field: str) -> Callable[[Mapping[str, Any]], Any]:
    return lambda record: record["Settings"].get(field)


def _spec_values(jobs: Sequence[Mapping[str, Any]], field: str) -> list[str]:
    values: list[str] = []
    for record in jobs:
        specs = record.get("JobSpecs")
        for spec in specs if isinstance(specs, list) else []:
            if isinstance(spec, dict) and isinstance(spec.get(field), str) and spec[field]:
                values.append(spec[field])
    return values


def _reasons(jobs: Sequence[Mapping[str, Any]]) -> list[str]:
    texts = _strings_at(jobs, _top("ReasonCode")) + _strings_at(jobs, _top("ReasonMessage"))
    for record in jobs:
        history = record.get("StatusHistory")
        for entry in history if isinstance(history, list) else []:
            if isinstance(entry, dict):
                texts += [
                    v
                    for k in ("ReasonCode", "ReasonMessage")
                    if isinstance(v := entry.get(k), str) and v
                ]
    return texts


@st.composite
def _from_jobs_or(
    draw: st.DrawFn,
    found: Sequence[str],
    fallback: Sequence[str],
    transform: Callable[[str], st.SearchStrategy[str]],
) -> str:
    """Mostly a transformed value seen in the jobs; sometimes one from a fixed pool."""
    if found and draw(st.integers(0, 4)) > 0:
        return draw(transform(draw(st.sampled_from(found))))
    return draw(transform(draw(st.sampled_from(fallback))))


@st.composite
def _comma_list(draw: st.DrawFn, elements: st.SearchStrategy[str]) -> str:
    items = draw(st.lists(elements, min_size=1, max_size=3))
    separator = draw(st.sampled_from((",", ", ", " ,", ",,")))
    text = separator.join(items)
    return text + draw(st.sampled_from(("", "", ",", " ")))


_WORD_SPLIT = re.compile(r"[\W_]+")
#: A CJK ideograph (the blocks of docs/semantics.md, "Tokens").
IDEOGRAPH = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")


@st.composite
def _ideographs_of(draw: st.DrawFn, text: str) -> str:
    """Some ideographs of ``text``, each a token of its own, in any order, with or without
    spaces between them: one out of a run, a run cut short, a run read backwards; now and
    then run together with a word of another script from the text (``训v2``)."""
    found = IDEOGRAPH.findall(text)
    chosen = draw(st.lists(st.sampled_from(found), min_size=1, max_size=3))
    query = draw(st.sampled_from(("", " "))).join(chosen)
    others = [word for word in _WORD_SPLIT.split(IDEOGRAPH.sub(" ", text)) if word]
    if others and draw(st.booleans()):
        word = draw(st.sampled_from(others))
        query = draw(st.sampled_from((query + word, word + query)))
    return query


@st.composite
def _search_text(draw: st.DrawFn, texts: Sequence[str], fallback: Sequence[str]) -> str:
    """A full-text query: whole words of a real text, a word prefix, a raw fragment, or some
    of its ideographs."""
    source = draw(st.sampled_from(list(texts) or list(fallback)))
    words = [word for word in _WORD_SPLIT.split(source) if word]
    kind = draw(st.integers(0, 12))
    if kind in (0, 1) or not words:
        return draw(_fragment(source))
    if kind in (2, 3):
        word = draw(st.sampled_from(words))
        return draw(_recased(word[: draw(st.integers(1, len(word)))]))  # often not a token
    if kind == 4:  # no token at all: matches no job
        return draw(st.sampled_from(("...", "-", " / ", "。，", "_", "*")))
    if kind == 5:
        return draw(
            st.sampled_from(("nomatch", "训", "训 练", "练训", "TRAIN.PY", "python train.py"))
        )
    if kind in (6, 7, 8) and IDEOGRAPH.search(source):
        return draw(_ideographs_of(source))
    picked = draw(st.lists(st.sampled_from(words), min_size=1, max_size=2))
    return draw(_recased(draw(st.sampled_from((" ", "/", "-", ":", "  "))).join(picked)))


def _wire_time(moment: datetime) -> st.SearchStrategy[str]:
    return st.builds(_time_text, st.just(moment), st.integers(0, TIME_STYLES - 1))


def _bool_text(value: bool) -> st.SearchStrategy[str]:
    return st.sampled_from(("True", "true", "TRUE", "1") if value else ("False", "false", "0"))


def _int_text(value: int) -> st.SearchStrategy[str]:
    variants = [str(value)]
    if value >= 0:
        variants += [f"+{value}", f"0{value}"]
    return st.sampled_from(variants)


#: The parameters that filter (drawn in small groups so that results are often non-empty).
FILTER_PARAMETERS = (
    "Accessibility", "BusinessUserId", "Caller", "Description", "DisplayName",
    "EnableAssignNode", "ImageSearch", "JobId", "JobIds", "JobType", "NumericRangeField",
    "OversoldInfo", "PaymentType", "PipelineId", "ReasonSearch", "ResourceId", "ResourceIds",
    "ResourceQuotaName", "ShowOwn", "Status", "Tags", "TemplateId", "UserCommandSearch",
    "UserIdForFilter", "Username", "WorkspaceId",
)  # fmt: skip


#: The wire entries of one filter: its parameter, and the one it comes in a pair with.
Entries = dict[str, str]
#: How the entries of a filter are drawn: ``draw`` of a composite strategy, the parameter, and
#: the jobs (so values found in them are drawn often).
Draw = Callable[[st.DrawFn, str, Sequence[Mapping[str, Any]]], Entries]


@st.composite
def _filter_value(draw: st.DrawFn, name: str, jobs: Sequence[Mapping[str, Any]]) -> Entries:
    """The wire entries for one filter parameter (some parameters come in pairs)."""
    if name not in _FILTER_VALUES:
        raise AssertionError(f"no strategy for {name}")
    return _FILTER_VALUES[name](draw, name, jobs)


def _job_ids(jobs: Sequence[Mapping[str, Any]]) -> list[str]:
    return [record["JobId"] for record in jobs] or ["dlc-a1"]


def _job_id_entries(draw: st.DrawFn, name: str, jobs: Sequence[Mapping[str, Any]]) -> Entries:
    ids = _job_ids(jobs)
    entries = {name: draw(_fragment(draw(st.sampled_from(ids))))}
    if draw(st.integers(0, 2)) == 0:  # JobIds too, which JobId then overrides
        entries["JobIds"] = draw(_comma_list(st.sampled_from(ids).flatmap(_case_variants)))
    return entries


def _job_ids_entries(draw: st.DrawFn, name: str, jobs: Sequence[Mapping[str, Any]]) -> Entries:
    return {name: draw(_comma_list(st.sampled_from(_job_ids(jobs)).flatmap(_case_variants)))}


def _display_name_entries(draw: st.DrawFn, name: str, jobs: Sequence[Mapping[str, Any]]) -> Entries:
    names = _strings_at(jobs, _top("DisplayName"))
    mode = draw(
        st.sampled_from(("wildcard", "Exact", "PREFIX", "WILDCARD", "exact", "prefix", None))
    )
    if mode is not None and mode.lower() == "exact":
        value = draw(_from_jobs_or(names, ("test", "job-Test"), _case_variants))
    elif mode is not None and mode.lower() == "prefix":
        value = draw(
            _from_jobs_or(names, ("test",), lambda text: _recased(text[: max(1, len(text) // 2)]))
        )
    else:
        value = draw(_from_jobs_or(names, ("test", "ss", "*", "%", "_", ".", "(", "\\"), _fragment))
    entries = {name: value}
    if mode is not None:
        entries["DisplayNameSearchMode"] = mode
    return entries


def _substring_entries(draw: st.DrawFn, name: str, jobs: Sequence[Mapping[str, Any]]) -> Entries:
    pools = {"Username": USERNAMES, "ResourceQuotaName": QUOTA_NAMES, "Description": DESCRIPTIONS}
    return {name: draw(_from_jobs_or(_strings_at(jobs, _top(name)), pools[name], _fragment))}


def _enum_list_entries(draw: st.DrawFn, name: str, jobs: Sequence[Mapping[str, Any]]) -> Entries:
    pool = JOB_TYPES if name == "JobType" else STATUSES
    known = _strings_at(jobs, _top(name))
    element = st.sampled_from(list(known) + list(pool) + ["Unknown"]).flatmap(_case_variants)
    return {name: draw(_comma_list(element))}


def _exact_entries(draw: st.DrawFn, name: str, jobs: Sequence[Mapping[str, Any]]) -> Entries:
    where = {
        "WorkspaceId": (_top("WorkspaceId"), WORKSPACES),
        "UserIdForFilter": (_top("UserId"), USER_IDS),
        "ResourceId": (_top("ResourceId"), RESOURCE_IDS),
        "TemplateId": (_top("TemplateId"), TEMPLATE_IDS),
        "BusinessUserId": (_setting("BusinessUserId"), BUSINESS_USER_IDS),
        "Caller": (_setting("Caller"), CALLER_NAMES),
        "PipelineId": (_setting("PipelineId"), PIPELINE_IDS),
    }
    path, known_values = where[name]
    found = _strings_at(jobs, path)
    return {name: draw(_from_jobs_or(found, known_values, _case_variants))}


def _resource_ids_entries(draw: st.DrawFn, name: str, jobs: Sequence[Mapping[str, Any]]) -> Entries:
    known = _strings_at(jobs, _top("ResourceId")) + list(RESOURCE_IDS)
    return {name: draw(_comma_list(st.sampled_from(known).flatmap(_case_variants)))}


def _one_of(values: Sequence[str]) -> Draw:
    """Entries of a parameter whose value is drawn from ``values`` whatever the jobs."""
    return lambda draw, name, _jobs: {name: draw(st.sampled_from(values))}


def _enable_assign_node_entries(
    draw: st.DrawFn, name: str, _jobs: Sequence[Mapping[str, Any]]
) -> Entries:
    return {name: draw(st.booleans().flatmap(_bool_text))}


def _show_own_entries(draw: st.DrawFn, name: str, _jobs: Sequence[Mapping[str, Any]]) -> Entries:
    show_own = draw(st.sampled_from((True, True, False)))
    entries = {name: draw(_bool_text(show_own))}
    if show_own and draw(st.booleans()):
        entries["FromAllWorkspaces"] = draw(st.booleans().flatmap(_bool_text))
    elif draw(st.integers(0, 3)) == 0:
        entries["FromAllWorkspaces"] = draw(_bool_text(False))
    return entries


def _tags_entries(draw: st.DrawFn, name: str, jobs: Sequence[Mapping[str, Any]]) -> Entries:
    return {name: draw(_tags_text(jobs))}


def _numeric_range_entries(
    draw: st.DrawFn, _name: str, jobs: Sequence[Mapping[str, Any]]
) -> Entries:
    return draw(_numeric_range(jobs))


def _search_entries(draw: st.DrawFn, name: str, jobs: Sequence[Mapping[str, Any]]) -> Entries:
    texts = {
        "ImageSearch": lambda: (_spec_values(jobs, "Image"), IMAGES),
        "UserCommandSearch": lambda: (_strings_at(jobs, _top("UserCommand")), USER_COMMANDS),
        "ReasonSearch": lambda: (_reasons(jobs), REASON_MESSAGES),
    }
    found, fallback = texts[name]()
    return {name: draw(_search_text(found, fallback))}


@st.composite
def _tags_text(draw: st.DrawFn, jobs: Sequence[Mapping[str, Any]]) -> str:
    """A ``Tags`` JSON object, mostly of pairs that exist (values sometimes in non-string form)."""
    pairs: list[tuple[str, Any]] = []
    for record in jobs:
        tags = (
            record.get("Settings", {}).get("Tags")
            if isinstance(record.get("Settings"), dict)
            else None
        )
        if isinstance(tags, dict):
            pairs += [
                (k, v) for k, v in tags.items() if v is None or isinstance(v, str | int | float)
            ]
    pairs += [("team", "rec"), ("team", 1), ("env", ""), ("k", True), ("k", None)]
    chosen = draw(st.lists(st.sampled_from(pairs), max_size=2))
    if draw(st.integers(0, 3)) == 0:  # a non-string stored value, asked for as a string
        chosen = [(k, v if isinstance(v, str) else json.dumps(v)) for k, v in chosen]
    return json.dumps(dict(chosen), ensure_ascii=False, separators=(",", ":"))


_DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, str) and _DECIMAL.fullmatch(value):
        return Decimal(value)
    return None


@st.composite
def _numeric_range(draw: st.DrawFn, jobs: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """A field and one or two bounds around a value some job has (or extreme bounds).

    A bound one below a long decimal string (``9007199254740993`` against a maximum of
    ``9007199254740992``) tells an exact reading from a float64 one.
    """
    field = draw(st.sampled_from(NUMERIC_FIELDS))
    values = [number for record in jobs if (number := _decimal(record.get(field))) is not None]
    value = draw(st.sampled_from(values)) if values else Decimal(draw(st.integers(-1, 9)))
    floor, ceiling = (
        int(value.to_integral_value(ROUND_FLOOR)),
        int(value.to_integral_value(ROUND_CEILING)),
    )
    low = draw(st.sampled_from((floor, floor, floor - 1, ceiling, -(2**63))))
    high = draw(st.sampled_from((ceiling, ceiling, ceiling + 1, floor - 1, 2**63 - 1)))
    entries = {"NumericRangeField": draw(_case_variants(field))}
    which = draw(st.sampled_from(("both", "max", "min", "both")))
    if which in ("min", "both"):
        entries["NumericRangeMin"] = draw(_int_text(max(low, -(2**63))))
    if which in ("max", "both"):
        entries["NumericRangeMax"] = draw(_int_text(min(high, 2**63 - 1)))
    return entries


#: Filter parameter → the strategy of its wire entries (given the parameter and the jobs).
_FILTER_VALUES: dict[str, Draw] = {
    "JobId": _job_id_entries,
    "JobIds": _job_ids_entries,
    "DisplayName": _display_name_entries,
    "Username": _substring_entries,
    "ResourceQuotaName": _substring_entries,
    "Description": _substring_entries,
    "JobType": _enum_list_entries,
    "Status": _enum_list_entries,
    "Accessibility": _one_of(("PUBLIC", "private", "Private", "public", "SHARED")),
    "WorkspaceId": _exact_entries,
    "UserIdForFilter": _exact_entries,
    "ResourceId": _exact_entries,
    "TemplateId": _exact_entries,
    "BusinessUserId": _exact_entries,
    "Caller": _exact_entries,
    "PipelineId": _exact_entries,
    "ResourceIds": _resource_ids_entries,
    "OversoldInfo": _one_of((
        "AcceptQuotaOverSold-true", "acceptquotaoversold-FALSE", "ForbiddenQuotaOverSold",
        "forcequotaoversold", "AcceptQuotaOverSold", "Unknown",
    )),
    "PaymentType": _one_of(("Spot", "prepaid", "POSTPAID", "PostPaid", "Other")),
    "EnableAssignNode": _enable_assign_node_entries,
    "ShowOwn": _show_own_entries,
    "Tags": _tags_entries,
    "NumericRangeField": _numeric_range_entries,
    "ImageSearch": _search_entries,
    "UserCommandSearch": _search_entries,
    "ReasonSearch": _search_entries,
}  # fmt: skip


_EARLY, _LATE = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
_BOUNDS = st.one_of(
    st.sampled_from(INSTANTS),
    st.sampled_from(INSTANTS).map(lambda moment: moment + timedelta(seconds=1)),
    st.sampled_from(INSTANTS).map(lambda moment: moment - timedelta(microseconds=1)),
)

_TIME_RANGE_FIELDS = st.sampled_from(("GmtCreateTime",) * 3 + TIME_FIELDS).flatmap(_case_variants)
# Wide bounds first: Hypothesis draws the first branch of a one_of more often than the others.
_START_BOUNDS = st.one_of(st.just(_EARLY), st.none(), st.just(_EARLY), st.none(), _BOUNDS)
_END_BOUNDS = st.one_of(st.just(_LATE), st.none(), st.none(), st.just(_LATE), _BOUNDS)


@st.composite
def _window(draw: st.DrawFn) -> dict[str, str]:
    """``StartTime``/``EndTime``/``TimeRangeField``: each often present, often wide.

    Bounds sit exactly on job times (inclusive edges) or just beside them; a reversed window
    (start after end, so nothing matches) is kept only now and then.
    """
    start = draw(_START_BOUNDS)
    end = draw(_END_BOUNDS)
    if start is not None and end is not None and start > end and draw(st.integers(0, 9)) > 0:
        start, end = end, start
    entries: dict[str, str] = {}
    if start is not None:
        entries["StartTime"] = draw(_wire_time(start))
    if end is not None:
        entries["EndTime"] = draw(_wire_time(end))
    if draw(st.integers(0, 3)) == 0:
        entries["TimeRangeField"] = draw(_TIME_RANGE_FIELDS)
    return entries


_SORT_BY = st.sampled_from(SORT_KEYS).flatmap(_case_variants)
_ORDER = st.sampled_from(("asc", "desc", "ASC", "Desc"))
#: Small pages (so that several pages exist); absent means the default of 10.
_PAGE_SIZE = st.sampled_from((None, 1, 1, 2, 2, 3, 3, 4, 5))
_PAGE_NUMBER = st.sampled_from((None, 1, 1, 2, 2, 3, 4, 2**31 - 1))


@st.composite
def _paging(draw: st.DrawFn) -> dict[str, str]:
    entries: dict[str, str] = {}
    if draw(st.integers(0, 4)) > 0:
        entries["SortBy"] = draw(_SORT_BY)
    if draw(st.integers(0, 4)) > 0:
        entries["Order"] = draw(_ORDER)
    for name, strategy in (("PageSize", _PAGE_SIZE), ("PageNumber", _PAGE_NUMBER)):
        value = draw(strategy)
        if value is not None:
            entries[name] = draw(_int_text(value))
    return entries


#: Values that mean "not supplied": an empty value, an empty tag object, a list of nothing.
_ABSENT_VALUES = (
    ("DisplayName", ""), ("Status", ""), ("PageSize", ""), ("StartTime", ""),
    ("Tags", ""), ("Tags", "{}"), ("JobIds", " , "), ("ShowOwn", ""),
)  # fmt: skip


_SOMETIMES = st.integers(0, 19).map(lambda value: value == 0)
_OFTEN = st.integers(0, 9).map(lambda value: value == 0)
_OFTEN_DRAWN = ("ShowOwn", "ImageSearch", "UserCommandSearch", "ReasonSearch")


def _likely_listed(
    jobs: Sequence[Mapping[str, Any]],
    window: Mapping[str, str],
    now: datetime | None,
    caller: Caller | None,
) -> list[Mapping[str, Any]]:
    """The jobs that are not deleted, fall in the window and are not someone else's private
    jobs (a rough cut, good enough to choose an anchor)."""
    if now is None:
        return list(jobs)
    start = parse_timestamp(window["StartTime"]) if "StartTime" in window else None
    end = parse_timestamp(window["EndTime"]) if "EndTime" in window else None
    start, end = start or now - timedelta(days=7), end or now
    field = next(
        (
            name
            for name in TIME_FIELDS
            if name.casefold() == window.get("TimeRangeField", "").casefold()
        ),
        "GmtCreateTime",
    )
    listed = []
    for record in jobs:
        text = record.get(field)
        moment = parse_timestamp(text) if isinstance(text, str) else None
        private = str(record.get("Accessibility")).casefold() == "private"
        hidden = private and caller is not None and not caller.is_admin
        hidden = hidden and caller is not None and record.get("UserId") != caller.user_id
        in_window = moment is not None and start <= moment <= end
        if record.get("IsDeleted") is not True and in_window and not hidden:
            listed.append(record)
    return listed


@st.composite
def requests(
    draw: st.DrawFn,
    jobs: Sequence[Mapping[str, Any]],
    now: datetime | None = None,
    caller: Caller | None = None,
) -> Wire:
    """A valid wire mapping (names and string values as a query string decodes to).

    The window, sorting and paging; a few filters at a time (so results are often non-empty),
    their values mostly taken from one anchor job, chosen (when ``now`` is given) among the jobs
    the window keeps and the caller may see; now and then an empty value (which means absent)
    or a name the API does not know (ignored).
    """
    wire: Wire = draw(_window())
    wire.update(draw(_paging()))
    # Filters combine with AND: values taken from one anchor job often all match that job.
    candidates = _likely_listed(jobs, wire, now, caller) or jobs
    anchor = [draw(st.sampled_from(candidates))] if candidates else []
    # Each filter on its own, rarely: about one or two filters per request.
    for name in FILTER_PARAMETERS:
        # ShowOwn more often, so that its refusal without a caller user id is common enough,
        # and the searches, whose token rules need many texts and queries to be exercised
        if draw(_OFTEN if name in _OFTEN_DRAWN else _SOMETIMES):
            source = anchor if draw(st.integers(0, 7)) > 0 else jobs
            wire.update(draw(_filter_value(name, source)))
    if draw(st.integers(0, 9)) == 0:
        blank, value = draw(st.sampled_from(_ABSENT_VALUES))
        wire.setdefault(blank, value)
    if draw(st.integers(0, 19)) == 0:
        wire["RegionId"] = "cn-hangzhou"
    return wire


# ---------------------------------------------------------------------------------------------
# The typed form of a wire request.

_BOOLEAN = {"EnableAssignNode", "FromAllWorkspaces", "ShowOwn"}
_INTEGER = {"PageNumber", "PageSize", "NumericRangeMin", "NumericRangeMax"}
_TIME = {"StartTime", "EndTime"}
_LIST = {"JobIds", "ResourceIds", "JobType", "Status"}


def typed_request(wire: Mapping[str, str]) -> ListJobsRequest:
    """The same request built from typed values, as an SDK-style caller would.

    Booleans become ``bool``, integers ``int``, timestamps aware ``datetime``, ``Tags`` a dict
    (values keep their JSON type), comma lists Python lists; empty values and unknown names are
    left out.
    """
    typed: dict[str, Any] = {}
    for name, text in wire.items():
        if name not in PARAMETERS or text == "":
            continue
        value: Any = text
        if name in _BOOLEAN:
            value = text.casefold() in ("true", "1")
        elif name in _INTEGER:
            value = int(text)
        elif name in _TIME:
            value = parse_timestamp(text)
        elif name == "Tags":
            value = json.loads(text)
        elif name in _LIST:
            value = text.split(",")
        typed[PARAMETERS[name][0]] = value
    return ListJobsRequest(**typed)


# ---------------------------------------------------------------------------------------------
# Everything together.


@dataclass(frozen=True)
class Case:
    """One generated question: the jobs, the wire request, the clock and the caller."""

    jobs: list[Job]
    wire: Wire
    now: datetime
    caller: Caller | None


@st.composite
def cases(draw: st.DrawFn, max_jobs: int = 24) -> Case:
    jobs = draw(job_records(max_size=max_jobs))
    now = draw(nows())
    caller = draw(callers(jobs))
    return Case(jobs, draw(requests(jobs, now, caller)), now, caller)


SEARCH_PARAMETERS = ("ImageSearch", "UserCommandSearch", "ReasonSearch")
#: Rule families whose cases are rare in :func:`cases` (one filter among many, a few jobs in
#: the window), each with the parameters that exercise it, for :func:`single_filter_cases`.
RULE_FAMILIES: dict[str, tuple[str, ...]] = {
    # the parameters whose stored values hold CASEFOLD_PIECES, DisplayName (the richest) twice
    "casefolded-text": ("DisplayName", "DisplayName", "Username", "Description", "WorkspaceId"),
    "full-text-search": SEARCH_PARAMETERS,
    "numbers": ("NumericRangeField",),
    "tags": ("Tags",),
    "derived-labels": ("PaymentType", "OversoldInfo", "EnableAssignNode"),
}
_EVERYTHING = {"StartTime": "2000-01-01T00:00:00Z", "EndTime": "2100-01-01T00:00:00Z"}


@st.composite
def single_filter_cases(draw: st.DrawFn, parameters: Sequence[str], max_jobs: int = 8) -> Case:
    """A few jobs and one filter of ``parameters`` over them, in a window that holds every job,
    asked by the administrator: the filter's rule alone decides the answer.

    In :func:`cases` a filter is one of many and meets only the jobs of its window, so the
    rarer rules (casefolding of ß and final sigma, full-text tokens, number reading, tag
    texts, derived labels) decide few answers; these cases give each of them many. Full-text
    texts are realistic or mixed-script (CJK runs, lone ideographs, kana, Latin and digits run
    together) and queries are drawn from them (see ``_search_text``).
    """
    jobs = draw(job_records(max_size=max_jobs))
    name = draw(st.sampled_from(tuple(parameters)))
    wire = {**_EVERYTHING, "PageSize": "100", **draw(_filter_value(name, jobs))}
    return Case(jobs, wire, INSTANTS[-1], None)


def search_cases() -> st.SearchStrategy[Case]:
    """One ImageSearch, UserCommandSearch or ReasonSearch (see :func:`single_filter_cases`)."""
    return single_filter_cases(SEARCH_PARAMETERS)
