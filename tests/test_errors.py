"""The error tree (jobquery.errors) and the error bodies it produces (spec §6)."""

from __future__ import annotations

import json
import re
import uuid

import pytest

import jobquery
from jobquery import errors
from jobquery.errors import (
    INTERNAL_ERROR,
    INVALID_PARAMETER,
    ApiError,
    DumpFormatError,
    InternalError,
    InvalidParameterError,
    JobQueryError,
    PageTokenError,
    new_request_id,
)

UPPER_UUID4 = re.compile(r"[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}")


# ---------------------------------------------------------------------------------------------
# The tree


@pytest.mark.parametrize(
    ("error_type", "bases"),
    [
        pytest.param(ApiError, (JobQueryError,), id="ApiError"),
        pytest.param(InvalidParameterError, (ApiError, JobQueryError, ValueError), id="Invalid"),
        pytest.param(PageTokenError, (InvalidParameterError, ValueError), id="PageToken"),
        pytest.param(InternalError, (ApiError, JobQueryError), id="Internal"),
        pytest.param(DumpFormatError, (JobQueryError, ValueError), id="DumpFormat"),
    ],
)
def test_error_type_sits_where_the_tree_says(
    error_type: type[Exception], bases: tuple[type[Exception], ...]
) -> None:
    assert all(issubclass(error_type, base) for base in bases)


def test_internal_and_dump_errors_are_not_request_errors() -> None:
    assert not issubclass(InternalError, ValueError)
    assert not issubclass(InternalError, InvalidParameterError)
    assert not issubclass(DumpFormatError, ApiError)


def test_every_exception_in_the_module_derives_from_the_root() -> None:
    exception_types = [
        value
        for value in vars(errors).values()
        if isinstance(value, type) and issubclass(value, BaseException)
    ]
    assert len(exception_types) >= 6
    assert all(issubclass(value, JobQueryError) for value in exception_types)


def test_public_errors_are_exported_from_the_package() -> None:
    assert jobquery.JobQueryError is JobQueryError
    assert jobquery.InvalidParameterError is InvalidParameterError
    assert jobquery.InternalError is InternalError
    assert jobquery.DumpFormatError is DumpFormatError


def test_one_except_clause_catches_every_jobquery_error() -> None:
    raised = [
        InvalidParameterError("PageSize", "0", "must be between 1 and 100"),
        PageTokenError("abc", "expired"),
        InternalError(),
        DumpFormatError("jobs.ndjson", "not JSON", line=3),
    ]
    for error in raised:
        with pytest.raises(JobQueryError):
            raise error


# ---------------------------------------------------------------------------------------------
# InvalidParameterError


def test_invalid_parameter_error_carries_parameter_value_code_and_status() -> None:
    error = InvalidParameterError("PageSize", "0", "must be between 1 and 100")
    assert error.parameter == "PageSize"
    assert error.value == "0"
    assert error.reason == "must be between 1 and 100"
    assert error.valid_values is None
    assert error.code == INVALID_PARAMETER == "InvalidParameter"
    assert error.status == 400
    assert error.message == str(error)
    assert "PageSize" in error.message
    assert "'0'" in error.message
    assert "must be between 1 and 100" in error.message


def test_invalid_parameter_error_lists_valid_values() -> None:
    error = InvalidParameterError("Order", "up", "not an accepted value", ["desc", "asc"])
    assert error.valid_values == ("desc", "asc")
    assert "desc, asc" in error.message


def test_long_bad_value_is_shortened_in_the_message() -> None:
    value = "x" * 100_000
    error = InvalidParameterError("DisplayName", value, "longer than 1024 characters")
    assert error.value == value  # the attribute keeps the whole value
    assert len(error.message) < 200
    assert "100002 chars" in error.message  # repr length: the quotes count


@pytest.mark.parametrize(
    "value",
    ["line\nbreak", "\ud800", "中文", "\x00\x1b[31m"],
    ids=["newline", "lone-surrogate", "non-ascii", "control-characters"],
)
def test_message_is_one_encodable_line_whatever_the_value(value: str) -> None:
    error = InvalidParameterError("DisplayName", value, "bad")
    assert "\n" not in error.message
    body = error.to_wire("R")
    json.dumps(body, ensure_ascii=False).encode("utf-8")


def test_page_token_error_names_next_token() -> None:
    error = PageTokenError("abc", "expired")
    assert error.parameter == "NextToken"
    assert error.status == 400
    assert error.code == "InvalidParameter"
    assert "NextToken" in error.message


# ---------------------------------------------------------------------------------------------
# Error bodies


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        pytest.param(
            InvalidParameterError("PageSize", "0", "bad"), 400, INVALID_PARAMETER, id="400"
        ),
        pytest.param(PageTokenError("t", "expired"), 400, INVALID_PARAMETER, id="400-token"),
        pytest.param(InternalError(), 500, INTERNAL_ERROR, id="500"),
        pytest.param(InternalError("disk full"), 500, "InternalError", id="500-message"),
    ],
)
def test_error_body_has_exactly_request_id_code_and_message(
    error: ApiError, status: int, code: str
) -> None:
    assert error.status == status
    body = error.to_wire("5D5E6C8A-3C8B-4B66-9A3E-2B0C2D8E7F10")
    assert body == {
        "RequestId": "5D5E6C8A-3C8B-4B66-9A3E-2B0C2D8E7F10",
        "Code": code,
        "Message": error.message,
    }
    assert list(body) == ["RequestId", "Code", "Message"]
    assert json.loads(json.dumps(body)) == body


def test_error_body_without_request_id_gets_a_fresh_one() -> None:
    error = InvalidParameterError("PageSize", "0", "bad")
    first, second = error.to_wire()["RequestId"], error.to_wire()["RequestId"]
    assert UPPER_UUID4.fullmatch(first)
    assert UPPER_UUID4.fullmatch(second)
    assert first != second


def test_request_ids_are_upper_case_uuid4() -> None:
    ids = {new_request_id() for _ in range(200)}
    assert len(ids) == 200
    for request_id in ids:
        assert UPPER_UUID4.fullmatch(request_id)
        assert request_id == request_id.upper()
        assert uuid.UUID(request_id).version == 4


def test_internal_error_default_message_has_no_traceback_text() -> None:
    with pytest.raises(InternalError) as raised:
        try:
            raise KeyError("missing")
        except KeyError as exc:
            raise InternalError() from exc
    caught = raised.value
    message = caught.to_wire("R")["Message"]
    assert message == caught.message
    assert message
    assert "Traceback" not in message
    assert "File " not in message
    assert "KeyError" not in message
    assert "missing" not in message
    assert "\n" not in message
    assert caught.status == 500
    assert caught.code == "InternalError"


# ---------------------------------------------------------------------------------------------
# DumpFormatError


def test_dump_format_error_names_file_and_line() -> None:
    error = DumpFormatError("snapshots/2026-11-28.ndjson", "not a JSON object", line=17)
    assert error.path == "snapshots/2026-11-28.ndjson"
    assert error.line == 17
    assert error.record is None
    assert error.reason == "not a JSON object"
    assert str(error) == "snapshots/2026-11-28.ndjson, line 17: not a JSON object"


def test_dump_format_error_names_file_and_record() -> None:
    error = DumpFormatError("jobs.json", "JobId missing", record=4)
    assert error.record == 4
    assert str(error) == "jobs.json, record 4: JobId missing"


def test_dump_format_error_names_line_and_record_together() -> None:
    error = DumpFormatError("jobs.ndjson", "bad", line=5, record=4)
    assert str(error) == "jobs.ndjson, line 5, record 4: bad"


def test_dump_format_error_line_zero_is_still_named() -> None:
    assert "line 0" in str(DumpFormatError("f", "bad", line=0))
    assert "record 0" in str(DumpFormatError("f", "bad", record=0))


def test_dump_format_error_without_position_names_the_file() -> None:
    assert str(DumpFormatError("<records>", "not a list")) == "<records>: not a list"
