"""The official SDK's serializer is the oracle for the wire form (spec §3.2).

The SDK (``alibabacloud_pai_dlc20201203`` 1.11.6) builds the query map of a ``ListJobs`` call;
we stop it before the network and feed the captured map to ``ListJobsRequest.from_wire``. Two
stubs: one replaces ``Client.call_api`` and captures the query map the SDK hands to its
runtime; the other replaces the runtime's HTTP send (``DaraCore.do_action``) and captures the
URL the SDK would request, so the percent-encoding is the SDK's own as well.
"""

from __future__ import annotations

import inspect
import json
import urllib.parse
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from alibabacloud_pai_dlc20201203 import models as sdk_models
from alibabacloud_pai_dlc20201203.client import Client
from alibabacloud_tea_openapi.models import Config
from darabonba.core import DaraCore
from darabonba.response import DaraResponse

from jobquery.request import PARAMETERS, ListJobsRequest

RESPONSE_BODY = {"RequestId": "8B6A7C61-2F0E-4C3B-9E1A-6D5F4A3B2C1D", "TotalCount": 0, "Jobs": []}

#: An SDK request setting every parameter the SDK has, with the values jobquery should read.
EVERY_PARAMETER: dict[str, tuple[Any, Any]] = {
    # sdk attribute: (value given to the SDK, value jobquery must parse)
    "accessibility": ("PRIVATE", "PRIVATE"),
    "business_user_id": ("16****", "16****"),
    "caller": ("local", "local"),
    "description": ("训练 任务", "训练 任务"),
    "display_name": ("a b+c&d=e", "a b+c&d=e"),
    "display_name_search_mode": ("Prefix", "prefix"),
    "enable_assign_node": ("true", True),
    "end_time": ("2026-11-09T22:45:00+08:00", datetime(2026, 11, 9, 14, 45, tzinfo=UTC)),
    "from_all_workspaces": (True, True),
    "image_search": ("pytorch", "pytorch"),
    "job_id": ("dlc1a2b3c", "dlc1a2b3c"),
    "job_ids": ("dlc1, dlc2,,dlc3", ("dlc1", "dlc2", "dlc3")),
    "job_type": ("TFJob,PyTorchJob", ("TFJob", "PyTorchJob")),
    "numeric_range_field": ("requestgpu", "RequestGPU"),
    "numeric_range_max": (8, 8),
    "numeric_range_min": (-4, -4),
    "order": ("ASC", "asc"),
    "oversold_info": ("AcceptQuotaOverSold-false", "AcceptQuotaOverSold-false"),
    "page_number": (2**31 - 1, 2**31 - 1),
    "page_size": (100, 100),
    "payment_type": ("PostPaid", "PostPaid"),
    "pipeline_id": ("flow-1", "flow-1"),
    "reason_search": ("OOM killed", "OOM killed"),
    "resource_id": ("rg-1", "rg-1"),
    "resource_ids": ("rg-1,rg-2", ("rg-1", "rg-2")),
    "resource_quota_name": ("quota%1", "quota%1"),
    "show_own": (True, True),
    "sort_by": ("gmtfinishtime", "GmtFinishTime"),
    "start_time": ("2026-11-08T16:00:00Z", datetime(2026, 11, 8, 16, tzinfo=UTC)),
    "status": ("Running,Failed", ("Running", "Failed")),
    "tags": ({"team": "rec", "k2": "中文"}, {"team": "rec", "k2": "中文"}),
    "template_id": ("tml1", "tml1"),
    "time_range_field": ("GmtRunningTime", "GmtRunningTime"),
    "user_command_search": ("python train.py --lr=0.1", "python train.py --lr=0.1"),
    "user_id_for_filter": ("2077", "2077"),
    "username": ("Alice", "Alice"),
    "workspace_id": ("1234", "1234"),
}

#: The other spelling of the SDK's booleans, zero-ish integers and empty values.
FALSE_AND_EMPTY: dict[str, tuple[Any, Any]] = {
    "show_own": (False, False),
    "from_all_workspaces": (False, False),
    "enable_assign_node": ("False", False),
    "numeric_range_field": ("Priority", "Priority"),
    "numeric_range_min": (0, 0),
    "page_number": (1, 1),
    "display_name": ("", None),  # the SDK sends DisplayName= ; jobquery reads absent
    "tags": ({}, None),  # the SDK sends Tags={} ; jobquery reads no tag filter
    "status": (" , ", None),
}

CASES = [
    pytest.param(EVERY_PARAMETER, id="every-parameter"),
    pytest.param(FALSE_AND_EMPTY, id="false-zero-and-empty"),
    pytest.param({"tags": ({"a": "1", "b": "x y"}, {"a": "1", "b": "x y"})}, id="tags-only"),
    pytest.param({}, id="no-parameters"),
]


def sdk_request(case: dict[str, tuple[Any, Any]]) -> sdk_models.ListJobsRequest:
    return sdk_models.ListJobsRequest(**{name: given for name, (given, _) in case.items()})


def intended(case: dict[str, tuple[Any, Any]]) -> ListJobsRequest:
    return ListJobsRequest(**{name: expected for name, (_, expected) in case.items()})


def new_client() -> Client:
    config = Config(access_key_id="x", access_key_secret="y", endpoint="127.0.0.1", protocol="http")
    return Client(config)


@pytest.fixture
def query_of(monkeypatch: pytest.MonkeyPatch) -> Callable[[sdk_models.ListJobsRequest], Any]:
    """Run ``Client.list_jobs`` with ``call_api`` stubbed; return the query map it built."""

    def run(request: sdk_models.ListJobsRequest) -> dict[str, Any]:
        client = new_client()
        captured: list[dict[str, Any]] = []

        def call_api(params: Any, api_request: Any, runtime: Any) -> dict[str, Any]:
            assert (params.action, params.method, params.pathname) == (
                "ListJobs",
                "GET",
                "/api/v1/jobs",
            )
            captured.append(dict(api_request.query))
            return {"body": RESPONSE_BODY, "headers": {}, "statusCode": 200}

        monkeypatch.setattr(client, "call_api", call_api)
        response = client.list_jobs(request)
        assert response.body.total_count == 0  # the stub answered, not the network
        (query,) = captured
        return query

    return run


@pytest.fixture
def url_of(monkeypatch: pytest.MonkeyPatch) -> Callable[[sdk_models.ListJobsRequest], str]:
    """Run ``Client.list_jobs`` through the SDK runtime, HTTP send stubbed; return the URL."""
    urls: list[str] = []

    def do_action(request: Any, runtime_option: Any = None) -> DaraResponse:
        urls.append(DaraCore.compose_url(request))
        response = DaraResponse()
        response.status_code = 200
        response.status_message = "OK"
        response.headers = {"content-type": "application/json"}
        response.body = json.dumps(RESPONSE_BODY).encode()
        return response

    monkeypatch.setattr(DaraCore, "do_action", staticmethod(do_action))

    def run(request: sdk_models.ListJobsRequest) -> str:
        urls.clear()
        response = new_client().list_jobs(request)
        assert response.body.total_count == 0
        (url,) = urls
        return url

    return run


def test_sdk_request_has_exactly_our_parameters() -> None:
    sdk_names = set(inspect.signature(sdk_models.ListJobsRequest.__init__).parameters) - {"self"}
    ours = {field for field, _ in PARAMETERS.values()} - {"next_token"}
    assert sdk_names == ours
    assert set(EVERY_PARAMETER) == ours


def test_sdk_sends_every_parameter_under_its_wire_name_as_text(query_of: Any) -> None:
    query = query_of(sdk_request(EVERY_PARAMETER))
    assert set(query) == set(PARAMETERS) - {"NextToken"}
    assert all(isinstance(value, str) for value in query.values())
    # the spellings spec §3.2 describes, which from_wire must accept
    assert query["ShowOwn"] == "True"
    assert query["FromAllWorkspaces"] == "True"
    assert query["PageNumber"] == str(2**31 - 1)
    assert query["NumericRangeMin"] == "-4"
    assert query["Tags"] == '{"team":"rec","k2":"中文"}'
    assert query["JobIds"] == "dlc1, dlc2,,dlc3"


def test_sdk_sends_false_and_empty_values(query_of: Any) -> None:
    query = query_of(sdk_request(FALSE_AND_EMPTY))
    assert query["ShowOwn"] == "False"
    assert query["FromAllWorkspaces"] == "False"
    assert query["DisplayName"] == ""
    assert query["Tags"] == "{}"


@pytest.mark.parametrize("case", CASES)
def test_sdk_query_map_parses_to_the_intended_request(query_of: Any, case: Any) -> None:
    query = query_of(sdk_request(case))
    assert ListJobsRequest.from_wire(query) == intended(case)


@pytest.mark.parametrize("case", CASES)
def test_url_encoded_sdk_query_parses_to_the_same_request(query_of: Any, case: Any) -> None:
    query = query_of(sdk_request(case))
    decoded = urllib.parse.parse_qs(urllib.parse.urlencode(query), keep_blank_values=True)
    assert ListJobsRequest.from_wire(decoded) == ListJobsRequest.from_wire(query) == intended(case)


# The SDK's runtime stamps each request with datetime.utcnow(), deprecated from Python 3.12 on;
# that warning is the SDK's, not ours, and only this test runs the runtime.
@pytest.mark.filterwarnings("ignore:datetime.datetime.utcnow:DeprecationWarning")
@pytest.mark.parametrize("case", CASES)
def test_url_the_sdk_would_request_parses_to_the_intended_request(url_of: Any, case: Any) -> None:
    url = urllib.parse.urlsplit(url_of(sdk_request(case)))
    assert (url.scheme, url.netloc, url.path) == ("http", "127.0.0.1", "/api/v1/jobs")
    decoded = urllib.parse.parse_qs(url.query, keep_blank_values=True)
    assert ListJobsRequest.from_wire(decoded) == intended(case)


@pytest.mark.filterwarnings("ignore:datetime.datetime.utcnow:DeprecationWarning")
def test_url_encoding_matches_the_spec_example(url_of: Any) -> None:
    request = sdk_models.ListJobsRequest(
        display_name="a b+c", job_ids="a,b", show_own=True, tags={"team": "rec", "k2": "中文"}
    )
    assert url_of(request).endswith(
        "/api/v1/jobs?DisplayName=a+b%2Bc&JobIds=a%2Cb&ShowOwn=True"
        "&Tags=%7B%22team%22%3A%22rec%22%2C%22k2%22%3A%22%E4%B8%AD%E6%96%87%22%7D"
    )
