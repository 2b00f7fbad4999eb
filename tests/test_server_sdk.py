"""The official SDK as the client of the local endpoint (issue 8).

A real uvicorn server runs ``create_app`` on a free loopback port in a background thread, and
``alibabacloud_pai_dlc20201203.client.Client`` (1.11.6) is pointed at it. For a battery of
requests that together set every parameter of the SDK's ``ListJobsRequest``, the SDK's own
models must parse every answer, and the jobs (in order), ``TotalCount`` and the parsed job
fields must equal ``JobStore.list_jobs`` called in-process with the same request and the same
clock. Errors must reach the SDK as its exceptions carrying our ``Code`` and ``Message``.

How the SDK talks to the server (read from its source, ``alibabacloud_tea_openapi`` 0.4.6 /
``darabonba-core`` 1.0.9): ``Config(endpoint="127.0.0.1:PORT", protocol="http")`` becomes the
``host`` header, and ``DaraCore.compose_url`` builds ``http://127.0.0.1:PORT/api/v1/jobs?...``
(no port is added: the request's default port is 80, which composes to nothing). Every request
is signed (``Authorization: ACS3-HMAC-SHA256 ...``); the server ignores the signature. With
the default ``RuntimeOptions`` there are no retries, so a 4xx is one request and one
``ClientException``.
"""

from __future__ import annotations

import inspect
import json
import socket
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from alibabacloud_pai_dlc20201203 import models as sdk_models
from alibabacloud_pai_dlc20201203.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException, ServerException
from alibabacloud_tea_openapi.models import Config
from darabonba.runtime import RuntimeOptions

from jobquery.errors import InvalidParameterError
from jobquery.request import Caller, ListJobsRequest
from jobquery.response import ListJobsResponse
from jobquery.server import ANONYMOUS, USER_ID_HEADER, HeaderIdentity, create_app
from jobquery.store import JobStore
from jobquery.synth import DEFAULT_END, generate_records

#: The clock of the server and of the in-process calls: the end of synth's default window.
NOW = DEFAULT_END
#: A ``StartTime`` before every synthetic job, so that filters see the whole job set.
WIDE = "2025-01-01T00:00:00Z"
SEED_PAGE = Path(__file__).resolve().parents[1] / "data" / "fixtures" / "seed_page.json"
#: Every parameter of the SDK's ``ListJobsRequest`` (37 in 1.11.6).
SDK_PARAMETERS = frozenset(inspect.signature(sdk_models.ListJobsRequest).parameters)
#: Job fields compared value for value between the SDK's parse and the stored job.
KEY_FIELDS = (
    "JobId",
    "DisplayName",
    "JobType",
    "Status",
    "UserId",
    "Username",
    "WorkspaceId",
    "Accessibility",
    "GmtCreateTime",
    "GmtFinishTime",
    "RequestGPU",
    "ResourceId",
    "UserVpc",
)


# ---------------------------------------------------------------------------------------------
# The server in a background thread


class Recorder:
    """ASGI middleware remembering the raw query string of each request (for the battery)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.queries: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.queries.append(scope["query_string"].decode("ascii"))
        await self.app(scope, receive, send)


@dataclass
class Live:
    port: int
    recorder: Recorder

    def client(self) -> Client:
        config = Config(
            access_key_id="test",
            access_key_secret="test",
            endpoint=f"127.0.0.1:{self.port}",
            protocol="http",
            region_id="cn-hangzhou",
            connect_timeout=5_000,
            read_timeout=20_000,
        )
        return Client(config)


@contextmanager
def running(app: Any) -> Iterator[Live]:
    """Serve ``app`` on a free loopback port until the generator is closed."""
    recorder = Recorder(app)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(recorder, lifespan="off", log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert thread.is_alive(), "the server thread died while starting"
            assert time.monotonic() < deadline, "the server did not start within 10 s"
            time.sleep(0.01)
        yield Live(port, recorder)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()
    assert not thread.is_alive(), "the server did not stop within 10 s"


@pytest.fixture(scope="module", autouse=True)
def no_proxy() -> Iterator[None]:
    # The SDK sends through HTTP(S)_PROXY from the environment, even for loopback.
    with pytest.MonkeyPatch.context() as patch:
        for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
            patch.delenv(name, raising=False)
        yield


@pytest.fixture(scope="module")
def jobs() -> list[dict[str, Any]]:
    return generate_records(600, seed=20261128)


@pytest.fixture(scope="module")
def store(jobs: list[dict[str, Any]]) -> JobStore:
    return JobStore.from_records(jobs)


@pytest.fixture(scope="module")
def live(store: JobStore) -> Iterator[Live]:
    # the identity headers are trusted, as behind an authenticating proxy (docs/server.md)
    with running(
        create_app(store, caller_from_request=HeaderIdentity(), now=lambda: NOW)
    ) as serving:
        yield serving


@pytest.fixture(scope="module")
def client(live: Live) -> Client:
    return live.client()


# ---------------------------------------------------------------------------------------------
# The battery: requests built from values found in the jobs, so that filters match


class Picks:
    """Filter values taken from the synthetic jobs (the most common ones, so filters match)."""

    def __init__(self, jobs: list[dict[str, Any]]) -> None:
        self.jobs = [job for job in jobs if not job.get("IsDeleted")]

    def common(self, value_of: Callable[[dict[str, Any]], Any], rank: int = 0) -> str:
        counts = Counter(
            value for job in self.jobs if isinstance(value := value_of(job), str) and value
        )
        return counts.most_common()[rank][0]

    def user(self) -> str:
        """The user with the most jobs, who owns PRIVATE ones too."""
        return self.common(
            lambda job: job["UserId"] if job.get("Accessibility") == "PRIVATE" else None
        )

    def tags(self) -> dict[str, str]:
        pairs = Counter(
            pair
            for job in self.jobs
            for pair in ((job.get("Settings") or {}).get("Tags") or {}).items()
        )
        key, value = pairs.most_common(1)[0][0]
        return {key: value}

    def image_words(self) -> str:
        image = self.common(lambda job: job["JobSpecs"][0].get("Image"))
        return image.rsplit("/", 1)[-1].split(":")[0].upper()

    def one_job(self) -> dict[str, Any]:
        """A job of the main user with plenty of filterable fields."""
        user = self.user()
        return next(
            job
            for job in self.jobs
            if job["UserId"] == user
            and job.get("ResourceId")
            and (job.get("Settings") or {}).get("Tags")
        )


def settings(name: str) -> Callable[[dict[str, Any]], Any]:
    return lambda job: (job.get("Settings") or {}).get(name)


def field(name: str) -> Callable[[dict[str, Any]], Any]:
    return lambda job: job.get(name)


Recipe = Callable[[Picks], dict[str, Any]]

#: id → recipe of the SDK keyword arguments; ``as_user`` is the caller header, not a parameter.
BATTERY: dict[str, Recipe] = {
    "defaults": lambda p: {},
    "page-2-of-7": lambda p: {"page_size": 7, "page_number": 2, "start_time": WIDE},
    "page-past-the-end": lambda p: {"page_size": 100, "page_number": 50, "start_time": WIDE},
    "sort-display-name-asc": lambda p: {
        "sort_by": "DisplayName", "order": "asc", "page_size": 40, "start_time": WIDE,
    },
    "sort-job-type-desc": lambda p: {
        "sort_by": "JobType", "order": "desc", "page_size": 40, "start_time": WIDE,
    },
    "sort-status-asc-case": lambda p: {
        "sort_by": "status", "order": "ASC", "page_size": 40, "start_time": WIDE,
    },
    "finish-time-window-and-sort": lambda p: {
        "time_range_field": "GmtFinishTime", "sort_by": "GmtFinishTime",
        "start_time": "2026-05-01T00:00:00Z", "end_time": "2026-08-01T08:00:00+08:00",
        "page_size": 50,
    },
    "running-time-window": lambda p: {
        "time_range_field": "GmtRunningTime", "sort_by": "GmtCreateTime", "order": "asc",
        "start_time": "2026-09-01T00:00:00Z", "end_time": "2026-10-01T00:00:00Z",
    },
    "display-name-wildcard": lambda p: {
        "display_name": p.common(field("DisplayName"))[:6].upper(), "start_time": WIDE,
    },
    "display-name-prefix": lambda p: {
        "display_name": p.common(field("DisplayName"))[:4],
        "display_name_search_mode": "prefix", "start_time": WIDE,
    },
    "display-name-exact": lambda p: {
        "display_name": p.common(field("DisplayName")).swapcase(),
        "display_name_search_mode": "exact", "start_time": WIDE,
    },
    "job-id-fuzzy": lambda p: {"job_id": p.jobs[0]["JobId"][4:16].upper(), "start_time": WIDE},
    "job-ids-list": lambda p: {
        "job_ids": f"{p.jobs[1]['JobId']}, {p.jobs[2]['JobId'].upper()},,{p.jobs[3]['JobId']},dlc-none",  # noqa: E501
        "start_time": WIDE,
    },
    "status-list": lambda p: {"status": "Running,Failed", "start_time": WIDE, "page_size": 100},
    "job-type": lambda p: {"job_type": "TFJob", "start_time": WIDE},
    "job-type-list": lambda p: {"job_type": "XGBoostJob, MPIJob", "start_time": WIDE},
    "accessibility-private-as-user": lambda p: {
        "accessibility": "PRIVATE", "start_time": WIDE, "as_user": p.user(),
    },
    "workspace": lambda p: {"workspace_id": p.common(field("WorkspaceId")), "start_time": WIDE},
    "from-all-workspaces": lambda p: {
        "workspace_id": p.common(field("WorkspaceId"), rank=1), "from_all_workspaces": True,
        "show_own": True, "start_time": WIDE, "as_user": p.user(),
    },
    "show-own": lambda p: {"show_own": True, "start_time": WIDE, "as_user": p.user()},
    "show-own-false-as-user": lambda p: {
        "show_own": False, "from_all_workspaces": False, "start_time": WIDE,
        "page_size": 100, "as_user": p.user(),
    },
    "user-id-for-filter": lambda p: {"user_id_for_filter": p.user(), "start_time": WIDE},
    "username": lambda p: {
        "username": p.common(field("Username"))[1:6].upper(), "start_time": WIDE,
    },
    "resource-id": lambda p: {"resource_id": p.common(field("ResourceId")), "start_time": WIDE},
    "resource-ids": lambda p: {
        "resource_ids": f"{p.common(field('ResourceId'), 1)},{p.common(field('ResourceId'), 2)}",
        "start_time": WIDE,
    },
    "resource-quota-name": lambda p: {
        "resource_quota_name": p.common(field("ResourceQuotaName"))[2:8].upper(),
        "start_time": WIDE,
    },
    "template-id": lambda p: {"template_id": p.common(field("TemplateId")), "start_time": WIDE},
    "description": lambda p: {
        "description": p.common(field("Description"))[:5], "start_time": WIDE,
    },
    "business-user-id": lambda p: {
        "business_user_id": p.common(settings("BusinessUserId")), "start_time": WIDE,
    },
    "caller": lambda p: {"caller": p.common(settings("Caller"), rank=1), "start_time": WIDE},
    "pipeline-id": lambda p: {
        "pipeline_id": p.common(settings("PipelineId")), "start_time": WIDE,
    },
    "tags": lambda p: {"tags": p.tags(), "start_time": WIDE},
    "tags-empty-is-no-filter": lambda p: {"tags": {}, "start_time": WIDE, "page_size": 5},
    "oversold-info": lambda p: {"oversold_info": "AcceptQuotaOverSold-false", "start_time": WIDE},
    "payment-type-spot": lambda p: {"payment_type": "Spot", "start_time": WIDE},
    "payment-type-prepaid": lambda p: {"payment_type": "prepaid", "start_time": WIDE},
    "enable-assign-node-true": lambda p: {"enable_assign_node": "true", "start_time": WIDE},
    "enable-assign-node-false": lambda p: {"enable_assign_node": "False", "start_time": WIDE},
    "numeric-range-gpu": lambda p: {
        "numeric_range_field": "RequestGPU", "numeric_range_min": 2, "numeric_range_max": 8,
        "start_time": WIDE,
    },
    "numeric-range-duration-min": lambda p: {
        "numeric_range_field": "Duration", "numeric_range_min": 3600, "start_time": WIDE,
        "sort_by": "GmtFinishTime",
    },
    "numeric-range-priority-max": lambda p: {
        "numeric_range_field": "priority", "numeric_range_max": 1, "start_time": WIDE,
    },
    "image-search": lambda p: {"image_search": p.image_words(), "start_time": WIDE},
    "user-command-search": lambda p: {
        "user_command_search": " ".join(p.common(field("UserCommand")).split()[:2]),
        "start_time": WIDE,
    },
    "reason-search": lambda p: {"reason_search": "OOMKilled", "start_time": WIDE},
    "empty-strings-are-absent": lambda p: {
        "display_name": "", "status": "", "job_ids": "", "start_time": WIDE, "page_size": 3,
    },
    "filters-of-one-job-together": lambda p: {
        "display_name": (job := p.one_job())["DisplayName"], "job_type": job["JobType"],
        "status": job["Status"], "workspace_id": job["WorkspaceId"],
        "user_id_for_filter": job["UserId"], "resource_id": job["ResourceId"],
        "tags": job["Settings"]["Tags"], "caller": job["Settings"]["Caller"],
        "business_user_id": job["Settings"]["BusinessUserId"], "start_time": WIDE,
        "end_time": "2026-11-28T00:00:00Z", "show_own": True, "as_user": job["UserId"],
    },
}  # fmt: skip


def build(name: str, jobs: list[dict[str, Any]]) -> tuple[sdk_models.ListJobsRequest, str | None]:
    """The SDK request of a battery case, and the user it is sent as (None: no header)."""
    arguments = BATTERY[name](Picks(jobs))
    user = arguments.pop("as_user", None)
    return sdk_models.ListJobsRequest(**arguments), user


def call(client: Client, request: sdk_models.ListJobsRequest, user: str | None) -> Any:
    headers = {USER_ID_HEADER: user} if user is not None else {}
    return client.list_jobs_with_options(request, headers, RuntimeOptions())


def expected(
    store: JobStore, request: sdk_models.ListJobsRequest, user: str | None
) -> ListJobsResponse:
    """The in-process answer, built from the SDK request's typed values (no query string)."""
    typed = ListJobsRequest(**request.to_map())
    return store.list_jobs(typed, now=NOW, caller=Caller(user) if user is not None else ANONYMOUS)


def assert_same_page(response: Any, want: ListJobsResponse) -> None:
    body = response.body
    assert body is not None, "the SDK could not parse the answer"
    got = body.to_map()
    assert [job["JobId"] for job in got["Jobs"]] == [job["JobId"] for job in want.jobs]
    assert got["TotalCount"] == want.total_count
    assert got["RequestId"] == response.headers["x-acs-request-id"]
    for parsed, stored in zip(got["Jobs"], want.jobs, strict=True):
        for name in KEY_FIELDS:
            assert parsed.get(name) == stored.get(name), name
        assert parsed["Settings"].get("Tags") == stored["Settings"].get("Tags")
        # the whole job, as the SDK reads it, equals the stored job as the SDK reads it
        assert parsed == sdk_models.JobItem().from_map(stored).to_map()


@pytest.mark.parametrize("name", list(BATTERY))
def test_the_sdk_gets_what_the_store_answers_in_process(
    name: str, client: Client, live: Live, store: JobStore, jobs: list[dict[str, Any]]
) -> None:
    request, user = build(name, jobs)
    live.recorder.queries.clear()

    response = call(client, request, user)

    assert response.status_code == 200
    assert_same_page(response, expected(store, request, user))
    (sent,) = live.recorder.queries  # one HTTP request, no retry, every parameter on the wire
    assert set(urllib.parse.parse_qs(sent, keep_blank_values=True)) == set(request.to_map())


def test_the_battery_sets_every_parameter_of_the_sdk(jobs: list[dict[str, Any]]) -> None:
    requests = [build(case, jobs)[0] for case in BATTERY]
    used = {
        name
        for request in requests
        for name in SDK_PARAMETERS
        if getattr(request, name) is not None
    }

    assert len(SDK_PARAMETERS) == 37
    assert used >= SDK_PARAMETERS, sorted(SDK_PARAMETERS - used)


def test_the_battery_is_not_vacuous(store: JobStore, jobs: list[dict[str, Any]]) -> None:
    answers = {name: expected(store, *build(name, jobs)) for name in BATTERY}

    matching = [name for name, answer in answers.items() if answer.total_count > 0]
    several_pages = [name for name, answer in answers.items() if answer.total_count > 10]
    assert len(matching) >= 0.9 * len(BATTERY), sorted(set(BATTERY) - set(matching))
    assert len(several_pages) >= 15
    assert answers["page-past-the-end"].jobs == []
    assert answers["page-past-the-end"].total_count > 0


def test_every_parameter_changes_some_answer_of_the_battery(
    store: JobStore, jobs: list[dict[str, Any]]
) -> None:
    """A parameter the server dropped on the way would be noticed by at least one case."""

    def answer(request: sdk_models.ListJobsRequest, user: str | None) -> object:
        try:
            found = expected(store, request, user)
        except InvalidParameterError as exc:  # e.g. NumericRangeMin without NumericRangeField
            return exc.parameter
        return [job["JobId"] for job in found.jobs], found.total_count

    decisive = set()
    for case in BATTERY:
        request, user = build(case, jobs)
        full = answer(request, user)
        for name in SDK_PARAMETERS:
            if getattr(request, name) is not None:
                without = sdk_models.ListJobsRequest().from_map(request.to_map())
                setattr(without, name, None)
                if answer(without, user) != full:
                    decisive.add(name)

    assert decisive == SDK_PARAMETERS, sorted(SDK_PARAMETERS - decisive)


# ---------------------------------------------------------------------------------------------
# Errors through the SDK


@pytest.mark.parametrize(
    ("arguments", "parameter"),
    [
        ({"page_size": 0}, "PageSize"),
        ({"sort_by": "foo"}, "SortBy"),
        ({"from_all_workspaces": True}, "FromAllWorkspaces"),
        ({"start_time": "last week"}, "StartTime"),
        ({"numeric_range_field": "RequestGPU"}, "NumericRangeField"),
        ({"show_own": True}, "ShowOwn"),
    ],
    ids=["page-size-0", "sort-by-foo", "from-all-workspaces-alone", "bad-time",
         "range-without-bound", "show-own-without-caller"],
)  # fmt: skip
def test_an_invalid_request_is_the_sdks_client_exception_with_our_code_and_message(
    client: Client, store: JobStore, arguments: dict[str, Any], parameter: str
) -> None:
    request = sdk_models.ListJobsRequest(**arguments)
    with pytest.raises(InvalidParameterError) as in_process:
        store.list_jobs(ListJobsRequest(**request.to_map()), now=NOW)

    with pytest.raises(ClientException) as raised:
        client.list_jobs(request)

    error = raised.value
    message = in_process.value.message
    assert parameter in message
    assert (error.code, error.status_code) == ("InvalidParameter", 400)
    assert error.data["Message"] == message
    assert error.data["Code"] == "InvalidParameter"
    assert error.request_id == error.data["RequestId"]
    # the SDK's own message layout
    assert error.message == f"code: 400, {message} request id: {error.request_id}"


def test_an_internal_failure_is_the_sdks_server_exception(store: JobStore) -> None:
    def broken() -> JobStore:
        raise RuntimeError("no store today")

    with running(create_app(broken)) as live, pytest.raises(ServerException) as raised:
        live.client().list_jobs(sdk_models.ListJobsRequest())

    assert (raised.value.code, raised.value.status_code) == ("InternalError", 500)
    assert "no store today" not in raised.value.message


# ---------------------------------------------------------------------------------------------
# GetJob through the SDK


def test_get_job_parses_as_the_sdks_get_job_response(
    client: Client, jobs: list[dict[str, Any]]
) -> None:
    stored = jobs[5]

    response = client.get_job(stored["JobId"], sdk_models.GetJobRequest(need_detail=True))

    body = response.body.to_map()
    assert body["JobId"] == stored["JobId"]
    assert body["RequestId"] == response.headers["x-acs-request-id"]
    wanted = {**stored, "RequestId": body["RequestId"]}
    assert body == sdk_models.GetJobResponseBody().from_map(wanted).to_map()


def test_get_job_of_an_absent_or_hidden_job_is_not_found(
    client: Client, jobs: list[dict[str, Any]]
) -> None:
    private = next(job for job in jobs if job.get("Accessibility") == "PRIVATE")
    as_stranger = {USER_ID_HEADER: "not-" + private["UserId"]}

    with pytest.raises(ClientException) as absent:
        client.get_job("dlc-none", sdk_models.GetJobRequest())
    with pytest.raises(ClientException) as hidden:
        client.get_job_with_options(
            private["JobId"], sdk_models.GetJobRequest(), as_stranger, RuntimeOptions()
        )

    assert (absent.value.code, absent.value.status_code) == ("NotFound", 404)
    assert (hidden.value.code, hidden.value.status_code) == ("NotFound", 404)


# ---------------------------------------------------------------------------------------------
# The seed's string UserVpc: our server sends it unchanged, the SDK cannot parse it


def test_the_seeds_string_user_vpc_is_sent_unchanged_and_the_sdk_cannot_parse_it() -> None:
    seed: list[dict[str, Any]] = json.loads(SEED_PAGE.read_text(encoding="utf-8"))["Jobs"]
    assert isinstance(seed[0]["UserVpc"], str)
    query = {"JobId": seed[0]["JobId"], "StartTime": "2000-01-01T00:00:00Z"}

    with running(create_app(JobStore.from_path(SEED_PAGE))) as live:
        raw = httpx.get(f"http://127.0.0.1:{live.port}/api/v1/jobs", params=query).json()
        response = live.client().list_jobs(
            sdk_models.ListJobsRequest(job_id=seed[0]["JobId"], start_time=query["StartTime"])
        )

    assert raw["Jobs"] == [seed[0]]  # the server: the job exactly as stored
    # The SDK's model fails on the string (it expects {"VpcId": ...}) ...
    with pytest.raises(AttributeError, match="'str' object has no attribute 'get'"):
        sdk_models.ListJobsResponseBody().from_map(raw)
    # ... and its client swallows that failure (DaraCore.from_map): no exception, no body.
    assert response.status_code == 200
    assert response.body is None


# ---------------------------------------------------------------------------------------------
# A burst of concurrent SDK calls


def test_a_burst_of_concurrent_sdk_calls_is_answered_correctly(
    live: Live, store: JobStore, jobs: list[dict[str, Any]]
) -> None:
    names = list(BATTERY)
    burst = [names[index % len(names)] for index in range(50)]
    local = threading.local()

    def one(name: str) -> tuple[Any, ListJobsResponse]:
        if not hasattr(local, "client"):
            local.client = live.client()
        request, user = build(name, jobs)
        return call(local.client, request, user), expected(store, request, user)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(one, name) for name in burst]
        results = [future.result(timeout=60) for future in futures]

    assert time.monotonic() - started < 60
    request_ids = set()
    for response, want in results:
        assert_same_page(response, want)
        request_ids.add(response.body.request_id)
    assert len(request_ids) == 50
