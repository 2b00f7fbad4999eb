"""The reference reading of jobs: the index columns of parsed jobs, one job at a time.

:func:`_extract_columns` reads each job by the rules of ``docs/semantics.md`` (``_job_row``)
and makes every column a snapshot holds but the job texts and the ranks. It is the reference
the native build (:mod:`jobquery.snapshot.native_index`) is held equal to, and what indexes the
texts that build cannot vouch for and the jobs of an update. The timestamp parsing and the
casefolding of string columns are shared with the native build.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
import polars as pl

from jobquery.errors import DumpFormatError
from jobquery.request import NUMERIC_FIELDS, TIME_FIELDS, parse_timestamp, tag_value_text
from jobquery.snapshot.columns import (
    CASEFOLDED_FIELDS,
    JOB_JSON,
    SETTINGS_FIELDS,
    STRING_FIELDS,
    index_column,
    tag_pair,
    token_text,
)
from jobquery.snapshot.layout import _SHARING_MIN_ROWS
from jobquery.snapshot.repeated_keys import repeated_key_error

_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")


#: Every ASCII digit becomes "0", every other byte a space: a run of 19 digits becomes
#: ``_DIGIT_RUN``. ``bytes.translate`` and a substring test are several times faster than the
#: regular expression ``[0-9]{19}``, which dominated the materialising of pages.
_DIGITS_ONLY = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_DIGIT_RUN = b"0" * 19


def may_hold_long_integer(text: str | bytes) -> bool:
    """Whether a JSON text holds 19 digits in a row, as every integer beyond 64 bits does."""
    raw = text.encode() if isinstance(text, str) else text
    return _DIGIT_RUN in raw.translate(_DIGITS_ONLY)


def load_job(text: str) -> dict[str, Any]:
    """Parse one stored job text, keeping integers beyond 64 bits exact.

    orjson reads such integers as floats; a text that may hold one (19 digits in a row) is
    read by the standard library instead, which keeps every digit.
    """
    job: dict[str, Any] = json.loads(text) if may_hold_long_integer(text) else orjson.loads(text)
    return job


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str) and _NUMBER.fullmatch(value):
        return float(value)
    return None


def _roles(job: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    specs = job.get("JobSpecs")
    if not isinstance(specs, list):
        return []
    return [spec for spec in specs if isinstance(spec, Mapping)]


def _job_row(job: Mapping[str, Any], source: str, index: int) -> tuple[Any, ...]:
    """Everything the index needs from one job, read by the rules of docs/semantics.md."""
    if not isinstance(job, Mapping):
        raise DumpFormatError(source, "a job must be a JSON object", record=index)
    if _string(job.get("JobId")) is None:
        raise DumpFormatError(source, "a job needs a non-empty string JobId", record=index)
    settings = job.get("Settings")
    if not isinstance(settings, Mapping):
        settings = {}
    roles = _roles(job)
    strings = tuple(_string(job.get(name)) for name in STRING_FIELDS)
    settings_strings = tuple(_string(settings.get(name)) for name in SETTINGS_FIELDS)
    times = tuple(_string(job.get(name)) for name in TIME_FIELDS)
    numbers = tuple(_number(job.get(name)) for name in NUMERIC_FIELDS)

    images = [
        image_tokens for role in roles if (image_tokens := token_text([_string(role.get("Image"))]))
    ]

    return (
        *strings,
        *settings_strings,
        *times,
        *numbers,
        job.get("IsDeleted") is True,
        _oversold_label(job, settings, roles),
        _payment_type(job, roles),
        _assigns_nodes(roles),
        _tag_pairs(settings),
        images,
        token_text([_string(job.get("UserCommand"))]),
        token_text(_reasons(job)),
    )


def _oversold_label(
    job: Mapping[str, Any], settings: Mapping[str, Any], roles: list[Mapping[str, Any]]
) -> str | None:
    """The ``OversoldInfo`` label: the job's oversold type, the first role's otherwise, with
    ``AcceptQuotaOverSold`` told apart by whether the job used oversold resources."""
    oversold = _string(settings.get("OversoldType"))
    if oversold is None:
        oversold = next(
            (kind for role in roles if (kind := _string(role.get("OversoldType")))), None
        )
    if oversold is not None and oversold.casefold() == "acceptquotaoversold":
        used = job.get("UseOversoldResource") is True
        oversold = f"AcceptQuotaOverSold-{'true' if used else 'false'}"
    return oversold


def _payment_type(job: Mapping[str, Any], roles: list[Mapping[str, Any]]) -> str:
    """The ``PaymentType`` label: Spot, PrePaid (a resource group) or PostPaid."""
    if any(role.get("UseSpotInstance") is True for role in roles):
        return "Spot"
    if _string(job.get("ResourceId")) is not None:
        return "PrePaid"
    return "PostPaid"


def _assigns_nodes(roles: list[Mapping[str, Any]]) -> bool:
    """Whether any role enables ``AssignNodeSpec.EnableAssignNode``."""
    return any(
        isinstance(spec := role.get("AssignNodeSpec"), Mapping)
        and spec.get("EnableAssignNode") is True
        for role in roles
    )


def _tag_pairs(settings: Mapping[str, Any]) -> list[str]:
    """The :func:`tag_pair` texts of ``Settings.Tags`` (values that have no text left out)."""
    tags = settings.get("Tags")
    pairs: list[str] = []
    if isinstance(tags, Mapping):
        for key, value in tags.items():
            text = tag_value_text(value)
            if text is not None:
                pairs.append(tag_pair(str(key), text))
    return pairs


def _reasons(job: Mapping[str, Any]) -> list[str | None]:
    """The reason codes and messages of a job and of every entry of its ``StatusHistory``."""
    history = job.get("StatusHistory")
    reasons: list[str | None] = [_string(job.get("ReasonCode")), _string(job.get("ReasonMessage"))]
    if isinstance(history, list):
        for entry in history:
            if isinstance(entry, Mapping):
                reasons += [_string(entry.get("ReasonCode")), _string(entry.get("ReasonMessage"))]
    return reasons


_ROW_LAYOUT = (
    *STRING_FIELDS,
    *(f"Settings.{name}" for name in SETTINGS_FIELDS),
    *(f"raw.{name}" for name in TIME_FIELDS),
    *NUMERIC_FIELDS,
    "IsDeleted",
    "ix_OversoldInfo",
    "ix_PaymentType",
    "ix_EnableAssignNode",
    "ix_tags",
    "ix_image_tokens",
    "ix_command_tokens",
    "ix_reason_tokens",
)


def _extract_columns(jobs: Sequence[Mapping[str, Any]], source: str) -> dict[str, pl.Series]:
    rows = [_job_row(job, source, index) for index, job in enumerate(jobs)]
    values: list[Sequence[Any]] = (
        list(zip(*rows, strict=True)) if rows else [[] for _ in _ROW_LAYOUT]
    )
    by_name = dict(zip(_ROW_LAYOUT, values, strict=True))
    columns: dict[str, pl.Series] = {}
    for name in STRING_FIELDS:
        columns[name] = pl.Series(name, by_name[name], dtype=pl.String)
    for name in SETTINGS_FIELDS:
        columns[name] = pl.Series(name, by_name[f"Settings.{name}"], dtype=pl.String)
    for name in TIME_FIELDS:
        columns[name] = parse_times(name, by_name[f"raw.{name}"])
    for name in NUMERIC_FIELDS:
        columns[name] = pl.Series(name, by_name[name], dtype=pl.Float64)
    columns["IsDeleted"] = pl.Series("IsDeleted", by_name["IsDeleted"], dtype=pl.Boolean)
    for name in CASEFOLDED_FIELDS:
        columns[index_column(name)] = _casefold(index_column(name), columns[name])
    accessibility = columns["Accessibility"].fill_null("PUBLIC")
    columns["ix_Accessibility"] = _casefold("ix_Accessibility", accessibility)
    for name in ("ix_OversoldInfo", "ix_PaymentType"):
        columns[name] = _casefold(name, pl.Series(name, by_name[name], dtype=pl.String))
    columns["ix_EnableAssignNode"] = pl.Series(
        "ix_EnableAssignNode", by_name["ix_EnableAssignNode"], dtype=pl.Boolean
    )
    for name in ("ix_tags", "ix_image_tokens"):
        columns[name] = pl.Series(name, by_name[name], dtype=pl.List(pl.String))
    for name in ("ix_command_tokens", "ix_reason_tokens"):
        columns[name] = pl.Series(name, by_name[name], dtype=pl.String)
    return columns


# only shapes where the native parser and parse_timestamp agree: no year 0, no leap second
_SIMPLE_TIME = (
    r"^(?:000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})-[0-9]{2}-[0-9]{2}"
    r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z$"
)


def parse_times(name: str, texts: Sequence[str | None] | pl.Series) -> pl.Series:
    """Parse timestamps natively where they have the common shape, by parse_timestamp otherwise.

    The native parser only sees strings of the exact shape ``YYYY-MM-DDTHH:MM:SSZ``, where it and
    :func:`parse_timestamp` agree; every other string goes through ``parse_timestamp`` itself.
    """
    raw = pl.Series(name, texts, dtype=pl.String)
    return _parsed_times(raw.to_frame(), [name])[name]


def _parsed_times(frame: pl.DataFrame, names: Sequence[str]) -> dict[str, pl.Series]:
    """:func:`parse_times` of several String columns of a frame, in one Polars query."""
    simple = frame.select(
        pl.col(name).str.contains(_SIMPLE_TIME).fill_null(False).alias(name) for name in names
    )
    found = frame.select(
        expression
        for name in names
        for expression in (
            pl.when(simple[name])
            .then(
                # no cache of converted values: job times are nearly all distinct
                pl.col(name).str.to_datetime(
                    "%Y-%m-%dT%H:%M:%SZ", time_unit="us", time_zone="UTC", strict=False, cache=False
                )
            )
            .alias(name),
            (pl.col(name).is_not_null() & ~simple[name]).alias(f"{name}.odd"),
        )
    )
    columns = {}
    for name in names:
        parsed = found[name]
        odd = found[f"{name}.odd"].arg_true()
        if len(odd):
            raw = frame[name].gather(odd).to_list()
            slow = pl.Series(name, [parse_timestamp(text) for text in raw], parsed.dtype)
            parsed = parsed.scatter(odd, slow)
        columns[name] = parsed
    return columns


def _casefold(name: str, column: pl.Series) -> pl.Series:
    """``str.casefold`` of a column: ASCII strings natively (there it equals lower-casing)."""
    return _casefolded(column.to_frame("value"), {name: "value"})[name]


def _casefolded(frame: pl.DataFrame, names: Mapping[str, str]) -> dict[str, pl.Series]:
    """:func:`_casefold` of several String columns of a frame (``names``: each result's name
    and its column), in one Polars query."""
    lowered = frame.select(
        pl.col(source).str.to_lowercase().alias(name) for name, source in names.items()
    )
    found = lowered.with_columns(
        expression
        for name, source in names.items()
        for expression in (
            # not ASCII: as many bytes as characters, a fifth of the time of a regex
            (frame[source].str.len_bytes() != frame[source].str.len_chars())
            .fill_null(False)
            .alias(f"{name}.odd"),
            (pl.col(name) != frame[source]).fill_null(False).any().alias(f"{name}.changed"),
        )
    )
    columns = {}
    for name, source in names.items():
        folded = found[name]
        odd = found[f"{name}.odd"].arg_true()
        if len(odd):
            slow = [text.casefold() for text in frame[source].gather(odd).to_list()]
            folded = folded.scatter(odd, pl.Series(name, slow, dtype=pl.String))
        elif frame.height >= _SHARING_MIN_ROWS and not found[f"{name}.changed"][0]:
            # nothing to fold: the column itself, its buffers shared (_put_in_order keeps them)
            folded = frame[source].alias(name)
        columns[name] = folded
    return columns


def read_job(text: str | None, source: str, record: int) -> dict[str, Any]:
    """A job from its text by the reference rules, or a DumpFormatError naming ``record``.

    The text must be what orjson accepts (strict JSON: no ``NaN``, no lone surrogate, nesting
    up to 1024 levels), an object with a non-empty string ``JobId``, and give no key the index
    reads twice in one object (:func:`repeated_index_key`). Integers beyond 64 bits keep their
    digits (:func:`load_job`).
    """
    if text is None:
        raise DumpFormatError(source, f"{JOB_JSON} is empty", record=record)
    try:
        job = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise DumpFormatError(source, f"not valid JSON: {exc}", record=record) from exc
    reason = job_shape_error(job) or repeated_key_error(text)
    if reason is not None:
        raise DumpFormatError(source, reason, record=record)
    if may_hold_long_integer(text):
        job = load_job(text)
    assert isinstance(job, dict)
    return job


def job_shape_error(job: Any) -> str | None:
    """Why a parsed record is not a job (None when it is one)."""
    if not isinstance(job, dict):
        return "a job must be a JSON object"
    job_id = job.get("JobId")
    if not isinstance(job_id, str) or not job_id:
        return "a job needs a non-empty string JobId"
    return None
