"""The local ListJobs endpoint over HTTP (``jobquery.server``), driven by Starlette's TestClient.

What the app must do (issue 8): answer ``GET /api/v1/jobs`` with exactly what
``JobStore.list_jobs`` answers in-process for the same query, and ``GET /api/v1/jobs/{JobId}``
with the stored job; report errors in the service's body shape (400, 404, 405, 500 without a
traceback); decide visibility from a pluggable caller; swap the store when the dumps change.
And be safe to expose (issue 15): anonymous by default, no header claims more than the server
trusts, no redirect built from the Host header, percent-encoding that is not UTF-8 refused,
page tokens that survive a reload whose jobs did not change, and connections that cannot
starve the server (``test_server_connections.py``). The official SDK as a client is in
``test_server_sdk.py``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.exceptions import StarletteDeprecationWarning
from starlette.requests import Request

from jobquery import server
from jobquery import store as store_module
from jobquery.errors import InvalidParameterError
from jobquery.request import Caller
from jobquery.server import (
    ANONYMOUS,
    AccessLog,
    HeaderIdentity,
    ServeError,
    StoreReloader,
    administrator_caller,
    anonymous_caller,
    create_app,
    serve,
)
from jobquery.store import JobStore

with warnings.catch_warnings():
    # Starlette 1.10 would rather drive its TestClient with httpx2; the test extra has httpx.
    warnings.filterwarnings(
        "ignore", "Using `httpx` with `starlette.testclient`", StarletteDeprecationWarning
    )
    from starlette.testclient import TestClient

NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)
ERROR_KEYS = ["RequestId", "HostId", "Code", "Message"]
UUID_UPPER = re.compile(r"[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[0-9A-F]{4}-[0-9A-F]{12}")


def job(job_id: str, day: int, user: str, **fields: Any) -> dict[str, Any]:
    return {
        "JobId": job_id,
        "DisplayName": f"train {job_id}",
        "GmtCreateTime": f"2026-11-{day:02d}T08:00:00Z",
        "UserId": user,
        "Status": "Running",
        "Settings": {"Tags": {"team": "rec"}},
        **fields,
    }


JOBS = [
    job("dlc-a1", 23, "alice", Accessibility="PRIVATE", Status="Failed"),
    job("dlc-a2", 24, "alice", Accessibility="PUBLIC", DisplayName="a b+c 中文"),
    job("dlc-b1", 25, "bob", Accessibility="PRIVATE"),
    job("dlc-b2", 26, "bob", Settings={"Tags": {"team": "ads", "k": "v"}}),  # no Accessibility
    job("dlc-c1", 27, "carol", Accessibility="PUBLIC", Status="Succeeded"),
    job("dlc-old", 1, "alice"),  # outside the default 7-day window
]


@pytest.fixture(scope="module")
def store() -> JobStore:
    return JobStore.from_records(JOBS)


@pytest.fixture(scope="module")
def client(store: JobStore) -> Iterator[TestClient]:
    """A local test double that wants every job: the administrator view for every request."""
    app = create_app(store, caller_from_request=administrator_caller, now=lambda: NOW)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def trusting(store: JobStore) -> Iterator[TestClient]:
    """Behind an authenticating proxy: the identity headers are trusted."""
    identity = HeaderIdentity(admin_users=frozenset({"root"}), trust_admin_header=True)
    with TestClient(create_app(store, caller_from_request=identity, now=lambda: NOW)) as client:
        yield client


def in_process(
    store: JobStore, query: dict[str, str], request_id: str, caller: Caller | None = None
) -> dict[str, Any]:
    return store.list_jobs(query, now=NOW, caller=caller, request_id=request_id).to_wire()


def job_ids(body: dict[str, Any]) -> list[str]:
    return [entry["JobId"] for entry in body["Jobs"]]


# ---------------------------------------------------------------------------------------------
# ListJobs


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"PageSize": "2", "PageNumber": "2"},
        {"SortBy": "DisplayName", "Order": "asc"},
        {"Status": "Running,Failed", "StartTime": "2026-11-01T00:00:00Z"},
        {"ShowOwn": "False", "FromAllWorkspaces": "False", "Tags": '{"team":"rec"}'},
        {"DisplayName": "a b+c", "Unknown": "ignored"},
        {"DisplayName": "中文"},
    ],
    ids=["defaults", "second-page", "sorted-by-name", "status-list", "sdk-booleans-and-tags",
         "plus-and-space", "non-ascii"],
)  # fmt: skip
def test_list_jobs_answers_what_the_store_answers_in_process(
    client: TestClient, store: JobStore, query: dict[str, str]
) -> None:
    response = client.get("/api/v1/jobs", params=query)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json;charset=utf-8"
    body = response.json()
    assert UUID_UPPER.fullmatch(body["RequestId"])
    assert response.headers["x-acs-request-id"] == body["RequestId"]
    assert body == in_process(store, query, body["RequestId"])


def test_the_query_is_decoded_as_the_sdk_encodes_it(client: TestClient, store: JobStore) -> None:
    # The SDK's own encoding of display_name='a b+c', tags={'team':'rec'} (spec §3.2).
    response = client.get("/api/v1/jobs?DisplayName=a+b%2Bc&Tags=%7B%22team%22%3A%22rec%22%7D")

    body = response.json()
    assert job_ids(body) == ["dlc-a2"]
    query = {"DisplayName": "a b+c", "Tags": '{"team":"rec"}'}
    assert body == in_process(store, query, body["RequestId"])


def test_a_repeated_parameter_takes_its_last_value(client: TestClient) -> None:
    response = client.get("/api/v1/jobs?PageSize=0&PageSize=2&Status=Nothing&Status=")

    assert response.status_code == 200
    body = response.json()
    assert len(body["Jobs"]) == 2
    assert body["TotalCount"] == 5  # the empty last Status means no status filter


def test_jobs_are_sent_exactly_as_stored(client: TestClient) -> None:
    stored = {"JobId": "x", "GmtCreateTime": "2026-11-28T00:00:00Z", "UserVpc": "vpc-1",
              "NodeCount": "2", "Unknown": {"nested": [1, 2.5, None, True]}}  # fmt: skip
    app = create_app(JobStore.from_records([stored]), now=lambda: NOW)

    body = TestClient(app).get("/api/v1/jobs").json()  # no Accessibility: a public job

    assert body["Jobs"] == [stored]


def test_integers_beyond_64_bits_keep_their_digits() -> None:
    big = {"JobId": "big", "Big": 123456789012345678901234567890, "Neg": -(2**63) - 1}

    class BigStore(JobStore):
        def get_job(self, job_id: str, *, caller: Caller | None = None) -> dict[str, Any] | None:
            return dict(big)

    app = create_app(BigStore(JobStore.from_records([]).snapshot))

    response = TestClient(app).get("/api/v1/jobs/big")

    assert response.status_code == 200
    assert json.loads(response.text) == {**big, "RequestId": response.headers["x-acs-request-id"]}


def test_the_default_clock_is_the_current_time(store: JobStore) -> None:
    body = TestClient(create_app(store)).get("/api/v1/jobs").json()

    expected = store.list_jobs({}, caller=ANONYMOUS, request_id=body["RequestId"])
    assert body == expected.to_wire()


# ---------------------------------------------------------------------------------------------
# GetJob


def test_get_job_answers_the_stored_job_with_the_request_id_on_top(client: TestClient) -> None:
    response = client.get("/api/v1/jobs/dlc-old")

    assert response.status_code == 200
    body = response.json()
    assert body == {**JOBS[-1], "RequestId": body["RequestId"]}
    assert list(body)[-1] == "RequestId"
    assert response.headers["x-acs-request-id"] == body["RequestId"]


def test_get_job_reads_a_percent_encoded_id() -> None:
    stored = job("dlc 1+2", 28, "alice")
    app = create_app(JobStore.from_records([stored]))

    response = TestClient(app).get("/api/v1/jobs/dlc%201%2B2")

    assert response.status_code == 200
    assert response.json()["JobId"] == "dlc 1+2"


def test_get_job_of_an_absent_job_is_404(client: TestClient) -> None:
    response = client.get("/api/v1/jobs/dlc-none")

    assert response.status_code == 404
    body = response.json()
    assert list(body) == ERROR_KEYS
    assert body["Code"] == "NotFound"
    assert "dlc-none" in body["Message"]


# ---------------------------------------------------------------------------------------------
# Errors in the service's shape


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"PageSize": "0"}, "PageSize"),
        ({"SortBy": "foo"}, "SortBy"),
        ({"FromAllWorkspaces": "True"}, "FromAllWorkspaces"),
        ({"StartTime": "yesterday"}, "StartTime"),
        ({"Tags": "[1]"}, "Tags"),
        ({"ShowOwn": "true"}, "ShowOwn"),  # no caller: nobody to be "own"
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_an_invalid_parameter_is_400_in_the_service_shape(
    client: TestClient, store: JobStore, query: dict[str, str], parameter: str
) -> None:
    response = client.get("/api/v1/jobs", params=query)

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json;charset=utf-8"
    body = response.json()
    assert list(body) == ERROR_KEYS
    assert UUID_UPPER.fullmatch(body["RequestId"])
    assert body["HostId"] == "testserver"
    assert body["Code"] == "InvalidParameter"
    with pytest.raises(InvalidParameterError) as raised:
        store.list_jobs(query, now=NOW)
    assert body["Message"] == raised.value.message
    assert parameter in body["Message"]


@pytest.mark.parametrize(
    ("raw", "parameter"),
    [
        ("DisplayName=%ff", "DisplayName"),
        ("DisplayName=%c3%28", "DisplayName"),
        ("PageSize=2&Status=Running%e2%82", "Status"),
        ("%ff=1", "%ff"),
    ],
    ids=["lone-byte", "bad-continuation", "cut-short", "in-a-name"],
)
def test_percent_encoding_that_is_not_utf8_is_refused(
    client: TestClient, raw: str, parameter: str
) -> None:
    """Issue 15, item 12: these were decoded to U+FFFD and answered."""
    response = client.get(f"/api/v1/jobs?{raw}")

    assert response.status_code == 400
    body = response.json()
    assert list(body) == ERROR_KEYS
    assert body["Code"] == "InvalidParameter"
    assert f"Invalid parameter {parameter}" in body["Message"]
    assert "not UTF-8" in body["Message"]


def test_a_job_id_whose_percent_encoding_is_not_utf8_is_refused(client: TestClient) -> None:
    response = client.get("/api/v1/jobs/dlc-a%ff1")

    assert response.status_code == 400
    assert response.json()["Code"] == "InvalidParameter"
    assert "Invalid parameter JobId" in response.json()["Message"]
    # U+FFFD itself, properly encoded, is just a character
    named = client.get("/api/v1/jobs", params={"DisplayName": "\ufffd"})
    assert named.status_code == 200
    assert named.json()["TotalCount"] == 0


def test_a_trailing_slash_is_not_found_never_a_redirect_to_the_host_header(
    client: TestClient,
) -> None:
    """Issue 15, item 12: Starlette answered 307 with Location http://evil.example/..."""
    response = client.get("/api/v1/jobs/", headers={"Host": "evil.example"}, follow_redirects=False)

    assert response.status_code == 404
    assert "location" not in response.headers
    assert response.json()["Code"] == "NotFound"


@pytest.mark.parametrize("path", ["/", "/api/v1", "/api/v2/jobs", "/api/v1/jobs/a/b"])
def test_an_unknown_path_is_404_in_the_service_shape(client: TestClient, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 404
    body = response.json()
    assert list(body) == ERROR_KEYS
    assert body["Code"] == "NotFound"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("path", ["/api/v1/jobs", "/api/v1/jobs/dlc-a1"])
def test_other_methods_are_405_in_the_service_shape(
    client: TestClient, method: str, path: str
) -> None:
    response = client.request(method, path)

    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
    body = response.json()
    assert list(body) == ERROR_KEYS
    assert body["Code"] == "MethodNotAllowed"


class FailingStore(JobStore):
    """A store that breaks in the middle of a call, with a secret in the exception."""

    def __init__(self) -> None:
        super().__init__(JobStore.from_records([]).snapshot)

    def list_jobs(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk on fire at /secret/path")

    def get_job(self, job_id: str, *, caller: Caller | None = None) -> dict[str, Any] | None:
        raise KeyError("/secret/path")


def broken_factory() -> JobStore:
    raise OSError("cannot open /secret/path")


@pytest.mark.parametrize(
    ("source", "path"),
    [
        (FailingStore(), "/api/v1/jobs"),
        (FailingStore(), "/api/v1/jobs/dlc-a1"),
        (broken_factory, "/api/v1/jobs"),
    ],
    ids=["list-jobs", "get-job", "store-factory"],
)
def test_an_internal_failure_is_500_without_a_traceback(
    source: Any, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = TestClient(create_app(source), raise_server_exceptions=True)

    with caplog.at_level(logging.ERROR, logger="jobquery.server"):
        response = client.get(path)

    assert response.status_code == 500
    body = response.json()
    assert list(body) == ERROR_KEYS
    assert body["Code"] == "InternalError"
    assert "secret" not in response.text
    assert "Traceback" not in response.text
    (record,) = caplog.records  # logged server-side, with the cause and the request id
    assert record.exc_info is not None
    assert body["RequestId"] in record.getMessage()
    assert "/secret/path" in caplog.text


# ---------------------------------------------------------------------------------------------
# Who asks


ALICE = {"x-jobquery-user-id": "alice"}


def test_by_default_every_request_is_anonymous_and_sees_public_jobs_only(store: JobStore) -> None:
    """Issue 15, item 10: no header, or an empty one, meant the administrator's view, and any
    client could claim it with x-jobquery-admin: true."""
    client = TestClient(create_app(store, now=lambda: NOW))
    for headers in ({}, {"x-jobquery-user-id": ""}, {"x-jobquery-admin": "false"}):
        body = client.get("/api/v1/jobs", headers=headers).json()
        assert sorted(job_ids(body)) == ["dlc-a2", "dlc-b2", "dlc-c1"], headers
        assert body["TotalCount"] == 3
    assert client.get("/api/v1/jobs/dlc-a1").status_code == 404  # private: not found
    for claim in ({"x-jobquery-admin": "true"}, ALICE, {**ALICE, "x-jobquery-admin": "1"}):
        refused = client.get("/api/v1/jobs", headers=claim)
        assert refused.status_code == 400
        assert refused.json()["Code"] == "InvalidParameter"
        assert "does not take the caller's identity from" in refused.json()["Message"]
        assert "dlc-a1" not in refused.text


def test_a_header_identity_names_the_caller_but_claims_admin_only_when_trusted(
    store: JobStore,
) -> None:
    client = TestClient(create_app(store, caller_from_request=HeaderIdentity(), now=lambda: NOW))
    mine = client.get("/api/v1/jobs", params={"PageSize": "100"}, headers=ALICE).json()
    assert sorted(job_ids(mine)) == ["dlc-a1", "dlc-a2", "dlc-b2", "dlc-c1"]
    assert client.get("/api/v1/jobs").json()["TotalCount"] == 3  # no header: anonymous
    refused = client.get("/api/v1/jobs", headers={**ALICE, "x-jobquery-admin": "true"})
    assert refused.status_code == 400
    assert "x-jobquery-admin" in refused.json()["Message"]


def test_a_user_never_sees_another_users_private_job(trusting: TestClient, store: JobStore) -> None:
    body = trusting.get("/api/v1/jobs", params={"PageSize": "100"}, headers=ALICE).json()

    assert sorted(job_ids(body)) == ["dlc-a1", "dlc-a2", "dlc-b2", "dlc-c1"]
    assert body["TotalCount"] == 4
    assert body == in_process(store, {"PageSize": "100"}, body["RequestId"], Caller("alice"))
    # ... not by name, not by count, not one by one
    named = trusting.get("/api/v1/jobs", params={"JobId": "dlc-b1"}, headers=ALICE).json()
    assert (named["Jobs"], named["TotalCount"]) == ([], 0)
    assert trusting.get("/api/v1/jobs/dlc-b1", headers=ALICE).status_code == 404
    assert trusting.get("/api/v1/jobs/dlc-a1", headers=ALICE).status_code == 200


def test_a_trusted_administrator_header_or_listed_user_shows_everything(
    trusting: TestClient,
) -> None:
    for headers in ({**ALICE, "x-jobquery-admin": "true"}, {"x-jobquery-user-id": "root"}):
        body = trusting.get("/api/v1/jobs", headers=headers).json()
        assert body["TotalCount"] == 5
        assert trusting.get("/api/v1/jobs/dlc-b1", headers=headers).status_code == 200
    own = trusting.get(
        "/api/v1/jobs", params={"ShowOwn": "True"}, headers={**ALICE, "x-jobquery-admin": "true"}
    ).json()
    assert sorted(job_ids(own)) == ["dlc-a1", "dlc-a2"]


def test_the_administrator_caller_shows_everything_to_everyone(client: TestClient) -> None:
    body = client.get("/api/v1/jobs").json()

    assert sorted(job_ids(body)) == ["dlc-a1", "dlc-a2", "dlc-b1", "dlc-b2", "dlc-c1"]


def test_show_own_lists_the_callers_jobs(trusting: TestClient) -> None:
    body = trusting.get("/api/v1/jobs", params={"ShowOwn": "True"}, headers=ALICE).json()

    assert sorted(job_ids(body)) == ["dlc-a1", "dlc-a2"]


@pytest.mark.parametrize("identity", [anonymous_caller, HeaderIdentity(trust_admin_header=True)])
def test_a_malformed_admin_header_is_400(store: JobStore, identity: Any) -> None:
    client = TestClient(create_app(store, caller_from_request=identity))
    response = client.get("/api/v1/jobs", headers={"x-jobquery-admin": "maybe"})

    assert response.status_code == 400
    assert response.json()["Code"] == "InvalidParameter"
    assert "x-jobquery-admin" in response.json()["Message"]


@pytest.mark.parametrize(
    ("identity", "headers", "caller"),
    [
        (HeaderIdentity(), {}, Caller(None, False)),
        (HeaderIdentity(), {"x-jobquery-admin": "0"}, Caller(None, False)),
        (HeaderIdentity(), {"x-jobquery-user-id": "42"}, Caller("42", False)),
        (HeaderIdentity(), {"x-jobquery-user-id": ""}, Caller(None, False)),
        (HeaderIdentity(frozenset({"42"})), {"x-jobquery-user-id": "42"}, Caller("42", True)),
        (HeaderIdentity(trust_admin_header=True), {"x-jobquery-admin": "true"}, Caller(None, True)),
        (
            HeaderIdentity(trust_admin_header=True),
            {"X-JobQuery-User-Id": "42", "x-jobquery-admin": "TRUE"},
            Caller("42", True),
        ),
        (anonymous_caller, {"x-jobquery-admin": "false"}, Caller(None, False)),
        (administrator_caller, {"x-jobquery-admin": "false"}, None),
    ],
    ids=["none", "not-admin", "user", "empty-user", "listed-admin", "trusted-admin",
         "header-case", "anonymous", "administrator"],
)  # fmt: skip
def test_the_identities_read_the_headers_they_trust(
    identity: Any, headers: dict[str, str], caller: Caller | None
) -> None:
    scope = {
        "type": "http",
        "headers": [(name.lower().encode(), value.encode()) for name, value in headers.items()],
    }

    assert identity(Request(scope)) == caller


def test_the_sdks_signature_headers_are_ignored(client: TestClient) -> None:
    headers = {
        "Authorization": "ACS3-HMAC-SHA256 Credential=test,SignedHeaders=host,Signature=bad",
        "x-acs-signature-nonce": "d2c9b4e1",
        "x-acs-date": "2026-11-29T12:00:00Z",
        "x-acs-content-sha256": "e3b0c442",
        "x-acs-action": "ListJobs",
        "x-acs-version": "2020-12-03",
        "x-acs-security-token": "whatever",
    }

    signed = client.get("/api/v1/jobs", headers=headers).json()
    unsigned = client.get("/api/v1/jobs").json()

    assert signed["TotalCount"] == unsigned["TotalCount"] == 5


def test_a_custom_caller_from_request_decides_visibility(store: JobStore) -> None:
    def from_bearer(request: Request) -> Caller | None:
        token = request.headers.get("authorization", "")
        if not token.startswith("Bearer "):
            raise InvalidParameterError("Authorization", token, "expected a bearer token")
        return Caller(user_id=token.removeprefix("Bearer "))

    client = TestClient(create_app(store, caller_from_request=from_bearer, now=lambda: NOW))

    bob = client.get("/api/v1/jobs", headers={"Authorization": "Bearer bob"}).json()
    refused = client.get("/api/v1/jobs")

    assert sorted(job_ids(bob)) == ["dlc-a2", "dlc-b1", "dlc-b2", "dlc-c1"]
    assert refused.status_code == 400
    assert "Authorization" in refused.json()["Message"]


# ---------------------------------------------------------------------------------------------
# Mounting, the access log, the missing extra


def test_the_app_works_mounted_under_a_prefix(store: JobStore) -> None:
    from starlette.applications import Starlette  # noqa: PLC0415
    from starlette.routing import Mount  # noqa: PLC0415

    outer = Starlette(routes=[Mount("/dlc", create_app(store, now=lambda: NOW))])
    client = TestClient(outer)

    assert client.get("/dlc/api/v1/jobs").json()["TotalCount"] == 3  # anonymous: public jobs
    assert client.get("/dlc/api/v1/jobs/dlc-a2").json()["JobId"] == "dlc-a2"
    assert client.get("/dlc/api/v1/jobs/dlc%ff").json()["Code"] == "InvalidParameter"
    assert client.get("/dlc/api/v1/nothing").json()["Code"] == "NotFound"


def test_the_access_log_writes_one_line_per_request(store: JobStore) -> None:
    lines: list[str] = []
    client = TestClient(AccessLog(create_app(store, now=lambda: NOW), lines.append))

    client.get("/api/v1/jobs?PageSize=2&DisplayName=a+b%0A")
    client.get("/api/v1/jobs/dlc-none")
    client.get("/api/v1/jobs", params={"PageSize": "0"})

    assert len(lines) == 3
    assert re.fullmatch(
        r"GET /api/v1/jobs\?PageSize=2&DisplayName=a\+b%0A 200 \d+\.\dms TotalCount=0", lines[0]
    )
    assert re.fullmatch(r"GET /api/v1/jobs/dlc-none 404 \d+\.\dms TotalCount=-", lines[1])
    assert re.fullmatch(r"GET /api/v1/jobs\?PageSize=0 400 \d+\.\dms TotalCount=-", lines[2])


def test_a_missing_extra_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, store: JobStore) -> None:
    missing = ModuleNotFoundError("No module named 'starlette'", name="starlette")
    monkeypatch.setattr(server, "_MISSING_EXTRA", missing)

    with pytest.raises(ServeError, match=r"starlette is missing.*pip install 'jobquery\[server\]'"):
        create_app(store)
    with pytest.raises(ServeError, match="starlette"):
        serve(["unused.ndjson"])


# ---------------------------------------------------------------------------------------------
# Reloading the dumps


def write_dump(path: Path, jobs: list[dict[str, Any]], *, bump: int = 0) -> None:
    path.write_text("".join(json.dumps(entry) + "\n" for entry in jobs), encoding="utf-8")
    # A later modification time even on file systems with coarse timestamps.
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + bump * 1_000_000_000))


def test_a_dump_rewritten_with_its_size_and_time_put_back_is_reloaded(tmp_path: Path) -> None:
    """The reload looked at modification times and sizes only, where the cache's key also
    takes the change time and inode: such a rewrite kept serving the old jobs."""
    dump = tmp_path / "jobs.ndjson"
    write_dump(dump, JOBS[:1])
    before = dump.stat()
    reloader = StoreReloader([str(dump)], log=lambda _: None)
    text = dump.read_text(encoding="utf-8").replace("dlc-a1", "dlc-z1")
    time.sleep(0.05)  # a later change time, on a clock of any resolution the tests meet
    dump.write_text(text, encoding="utf-8")
    os.utime(dump, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (dump.stat().st_size, dump.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert reloader.check() is True
    assert reloader.current().get_job("dlc-z1") is not None


@pytest.mark.parametrize("compress_texts", [False, True])
def test_a_changed_dump_is_swapped_in_and_a_broken_one_is_not(
    tmp_path: Path, compress_texts: bool
) -> None:
    dump = tmp_path / "jobs.ndjson"
    write_dump(dump, JOBS[:2])
    messages: list[str] = []
    reloader = StoreReloader([str(dump)], log=messages.append, compress_texts=compress_texts)
    client = TestClient(
        create_app(reloader.current, caller_from_request=administrator_caller, now=lambda: NOW)
    )
    assert job_ids(client.get("/api/v1/jobs").json()) == ["dlc-a2", "dlc-a1"]
    assert reloader.check() is False  # nothing changed

    write_dump(dump, JOBS[2:4], bump=1)
    assert reloader.check() is True
    assert job_ids(client.get("/api/v1/jobs").json()) == ["dlc-b2", "dlc-b1"]

    dump.write_text('{"JobId": "dlc-half", "Gmt', encoding="utf-8")  # a half-written file
    assert reloader.check() is False
    assert job_ids(client.get("/api/v1/jobs").json()) == ["dlc-b2", "dlc-b1"]
    assert "reload failed" in messages[-1]
    assert "jobs.ndjson" in messages[-1]
    assert reloader.check() is False  # the same broken file is not read again and again

    dump.unlink()
    assert reloader.check() is False
    assert client.get("/api/v1/jobs").json()["TotalCount"] == 2

    write_dump(dump, JOBS[4:5], bump=3)
    assert reloader.check() is True
    assert job_ids(client.get("/api/v1/jobs").json()) == ["dlc-c1"]
    assert messages[-1].startswith("jobquery: reloaded 1 job ")
    assert (reloader.current().snapshot.codec is not None) == compress_texts


def test_a_request_keeps_the_version_it_started_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dump = tmp_path / "jobs.ndjson"
    write_dump(dump, JOBS[:2])
    reloader = StoreReloader([str(dump)], log=lambda line: None)
    page_rows = store_module.page_rows

    def reload_midway(plan: Any, snapshot: Any, policy: Any) -> Any:
        """A reload lands while the request is being answered."""
        if reloader.current().version == 0:
            write_dump(dump, JOBS[2:4], bump=1)
            assert reloader.check()
        return page_rows(plan, snapshot, policy)

    monkeypatch.setattr(store_module, "page_rows", reload_midway)
    app = create_app(reloader.current, caller_from_request=administrator_caller, now=lambda: NOW)
    client = TestClient(app)

    during = client.get("/api/v1/jobs").json()
    after = client.get("/api/v1/jobs").json()

    assert job_ids(during) == ["dlc-a2", "dlc-a1"]
    assert job_ids(after) == ["dlc-b2", "dlc-b1"]


def test_page_tokens_survive_a_touch_and_say_when_the_job_list_changed(tmp_path: Path) -> None:
    """Issue 15, item 9: a reload (even a plain touch) made a new store, and every outstanding
    token was refused as 'issued for another job list'."""
    dump = tmp_path / "jobs.ndjson"
    write_dump(dump, JOBS)
    messages: list[str] = []
    reloader = StoreReloader([str(dump)], log=messages.append)
    app = create_app(reloader.current, caller_from_request=administrator_caller, now=lambda: NOW)
    client = TestClient(app)
    query = {"PageSize": "1", "StartTime": "2026-01-01T00:00:00Z"}
    every = job_ids(client.get("/api/v1/jobs", params={**query, "PageSize": "100"}).json())

    first = client.get("/api/v1/jobs", params={**query, "NextToken": "*"}).json()
    write_dump(dump, JOBS, bump=1)  # the same jobs, a new modification time
    assert reloader.check() is False
    assert "touched; the jobs are the same" in messages[-1]
    second = client.get("/api/v1/jobs", params={**query, "NextToken": first["NextToken"]})
    assert second.status_code == 200

    write_dump(dump, JOBS[1:], bump=2)  # a job is gone: the job list changed
    assert reloader.check() is True
    third = client.get("/api/v1/jobs", params={**query, "NextToken": second.json()["NextToken"]})
    assert third.status_code == 200  # the walk goes on over the version it started on
    walked = job_ids(first) + job_ids(second.json()) + job_ids(third.json())
    assert walked == every[:3]
    assert third.json()["NextToken"]

    for bump in range(4, 4 + 8):  # enough changes to drop the walked version
        write_dump(dump, JOBS[bump % 2 :], bump=bump)
        assert reloader.check() is True
    expired = client.get("/api/v1/jobs", params={**query, "NextToken": third.json()["NextToken"]})
    assert expired.status_code == 400
    assert "the job list changed since the first page" in expired.json()["Message"]
    assert reloader.current().version == 9


def test_the_watcher_thread_picks_up_a_change(tmp_path: Path) -> None:
    dump = tmp_path / "jobs.ndjson"
    write_dump(dump, JOBS[:1])
    with StoreReloader([str(dump)], interval=0.02, log=lambda line: None) as reloader:
        first = reloader.current()
        write_dump(dump, JOBS[:3], bump=1)
        deadline = time.monotonic() + 5
        while reloader.current() is first and time.monotonic() < deadline:
            time.sleep(0.01)

    assert len(reloader.current()) == 3


def test_the_first_read_must_succeed(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        StoreReloader([str(tmp_path / "missing.ndjson")])


# ---------------------------------------------------------------------------------------------
# serve(): a real process, stopped with Ctrl-C


def test_serve_answers_logs_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    dump = tmp_path / "jobs.ndjson"
    write_dump(dump, [job("dlc-now", 1, "alice", GmtCreateTime=datetime.now(UTC).isoformat())])
    program = f"from jobquery.server import serve; serve([{str(dump)!r}], port=0)"
    process = subprocess.Popen(
        [sys.executable, "-c", program], stderr=subprocess.PIPE, text=True, encoding="utf-8"
    )
    try:
        assert process.stderr is not None
        match = None
        seen: list[str] = []
        deadline = time.monotonic() + 60  # importing polars & co. in a cold process is slow
        while match is None and time.monotonic() < deadline:
            ready, _, _ = select.select([process.stderr], [], [], 1)
            if ready:
                seen.append(process.stderr.readline())
                assert seen[-1], f"serve() exited early: {seen}"
                match = re.search(r"serving 1 job .* at http://127\.0\.0\.1:(\d+)/", seen[-1])
        assert match, f"serve() did not start within 60 s: {seen}"
        url = f"http://127.0.0.1:{match[1]}/api/v1/jobs"

        response = httpx.get(url, params={"PageSize": "5"}, timeout=10)
        assert response.json()["TotalCount"] == 1

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 0
        rest = process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()

    assert re.search(r"^GET /api/v1/jobs\?PageSize=5 200 \d+\.\dms TotalCount=1$", rest, re.M)
    assert rest.rstrip().endswith("jobquery: stopped")
    assert "Traceback" not in rest


def test_serve_on_a_busy_port_is_a_clear_error(tmp_path: Path) -> None:
    dump = tmp_path / "jobs.ndjson"
    write_dump(dump, JOBS[:1])
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]

        with pytest.raises(ServeError, match=f"cannot listen on 127.0.0.1:{port}"):
            serve([str(dump)], port=port, log=lambda line: None)
