"""Regressions: request and error inputs that once slipped past validation or broke errors."""

import pickle
from datetime import UTC, datetime, timedelta, timezone

import pytest

from jobquery import reference
from jobquery.errors import DumpFormatError, InvalidParameterError
from jobquery.request import ListJobsRequest
from jobquery.store import JobStore


@pytest.mark.parametrize(
    "text",
    [
        "２０２６-01-01T00:00:00Z",
        "٢٠٢٦-01-01T00:00:00Z",
        "2026-01-01T00:00:00.５Z",
        "2026-01-01T00:00:00+０８:00",
    ],
)
def test_timestamp_with_non_ascii_digits_is_refused(text):
    with pytest.raises(InvalidParameterError) as caught:
        ListJobsRequest.from_wire({"StartTime": text})
    assert caught.value.parameter == "StartTime"


@pytest.mark.parametrize("text", ['{"a":NaN}', '{"a":Infinity}', '{"a":-Infinity}'])
def test_tags_with_non_json_constants_are_refused(text):
    with pytest.raises(InvalidParameterError) as caught:
        ListJobsRequest.from_wire({"Tags": text})
    assert caught.value.parameter == "Tags"


def test_to_wire_round_trips_years_before_1000():
    request = ListJobsRequest(start_time=datetime(999, 1, 1))
    assert ListJobsRequest.from_wire(request.to_wire()) == request


@pytest.mark.parametrize(
    "moment",
    [
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))),
        datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5))),
    ],
)
def test_typed_datetime_outside_utc_range_is_invalid_parameter(moment):
    with pytest.raises(InvalidParameterError) as caught:
        ListJobsRequest(start_time=moment)
    assert caught.value.parameter == "StartTime"


@pytest.mark.parametrize("values", [{"page_size": 10**5000}, {"tags": {"a": 10**5000}}])
def test_typed_huge_int_is_invalid_parameter(values):
    with pytest.raises(InvalidParameterError):
        ListJobsRequest(**values)


def test_error_with_huge_int_value_can_be_built():
    InvalidParameterError("PageSize", 10**5000, "must be between 1 and 100")


@pytest.mark.parametrize(
    "error",
    [
        InvalidParameterError("PageSize", "0", "bad", ["a"]),
        DumpFormatError("f.ndjson", "bad", line=3),
    ],
)
def test_errors_survive_pickling(error):
    copy = pickle.loads(pickle.dumps(error))
    assert str(copy) == str(error)


def test_a_clock_within_seven_days_of_year_one_still_answers() -> None:
    jobs = [{"JobId": "a", "GmtCreateTime": "0001-01-02T00:00:00Z"}]
    now = datetime(1, 1, 3, tzinfo=UTC)
    assert JobStore.from_records(jobs).list_jobs({}, now=now).total_count == 1
    assert reference.list_jobs(jobs, {}, now=now)["TotalCount"] == 1
