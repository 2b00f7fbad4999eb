"""Private jobs: a non-admin caller never sees another user's PRIVATE job, nor counts it.

Random job sets (several users, ``Accessibility`` PRIVATE/PUBLIC/missing/mixed case/odd
values) and random callers and requests (filters, sort, page). The expected answer is computed
here, independently of the engine's visibility rule: the admin view's matches, filtered by the
rule of project decision 3 written out in ``visible`` below.

- no page of any request holds another user's PRIVATE job for a non-admin caller;
- ``TotalCount`` equals the number of visible matches, and the pages together are exactly them;
- ``ShowOwn=true`` returns exactly the caller's own matches; without a caller (or a caller
  without user id) it is refused, naming ``ShowOwn``;
- ``FromAllWorkspaces=true`` without ``ShowOwn=true`` is refused;
- the same for ``store.query``.
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from jobquery import Caller, InvalidParameterError
from jobquery.request import parse_timestamp
from jobquery.store import JobStore

NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)
USERS = ("1001", "1002", "u-X", "U-x", "1003")
ACCESSIBILITY: tuple[Any, ...] = (
    "PRIVATE", "private", "Private", "pRiVaTe", "PUBLIC", "public", None, "", "SHARED",
    "PRIVATE ", 1, ["PRIVATE"], "MISSING",
)  # fmt: skip
NAMES = ("mnist", "MNIST-test", "bert", "Straße", "训练")
STATUSES = ("Running", "Failed", "Succeeded")
WORKSPACES = ("268", "ws-a", "WS-A")
#: Creation times, the common case first: Hypothesis tries simple (first) choices most often.
TIMES = (
    NOW - timedelta(hours=1),
    NOW - timedelta(days=1),
    NOW - timedelta(days=3),
    NOW - timedelta(days=6),
    NOW - timedelta(days=8),
)
#: Each example lists every page of a request; ``long`` runs the profile's full count.
SETTINGS = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    max_examples=settings.default.max_examples
    if os.environ.get("JOBQUERY_HYPOTHESIS_PROFILE") == "long"
    else min(settings.default.max_examples, 120),
)


def wire_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def one_in(draw: st.DrawFn, n: int) -> bool:
    """True one time in ``n``, and never for Hypothesis's simplest choice."""
    return draw(st.integers(0, n - 1)) == n - 1


@st.composite
def job_sets(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Jobs of several users, most inside the default window, with every Accessibility form."""
    count = draw(st.integers(2, 30))
    jobs = []
    for index in range(count):
        job: dict[str, Any] = {"JobId": f"dlc-{index:02d}"}
        user = draw(st.sampled_from((*USERS, *USERS, None, "", 1001, "missing")))
        if user != "missing":
            job["UserId"] = user
        access = draw(st.sampled_from(ACCESSIBILITY))
        if access != "MISSING":
            job["Accessibility"] = access
        job["DisplayName"] = draw(st.sampled_from(NAMES))
        job["Status"] = draw(st.sampled_from(STATUSES))
        job["WorkspaceId"] = draw(st.sampled_from(WORKSPACES))
        if not one_in(draw, 10):
            job["GmtCreateTime"] = wire_time(draw(st.sampled_from(TIMES)))
        if one_in(draw, 10):
            job["IsDeleted"] = True
        jobs.append(job)
    return jobs


def owners(jobs: list[dict[str, Any]]) -> st.SearchStrategy[str]:
    found = sorted({job["UserId"] for job in jobs if isinstance(job.get("UserId"), str)} - {""})
    return st.sampled_from(found or ["1001"])


def identified_callers(jobs: list[dict[str, Any]]) -> st.SearchStrategy[Caller]:
    """Callers with a user id: owners of some jobs, admins, a stranger."""
    users = owners(jobs)
    return st.one_of(
        st.builds(Caller, user_id=users),
        st.builds(Caller, user_id=users),
        st.builds(Caller, user_id=users),
        st.builds(Caller, user_id=users, is_admin=st.just(True)),
        st.builds(Caller, user_id=st.sampled_from(USERS)),
        st.just(Caller(user_id="stranger")),
    )


def callers(jobs: list[dict[str, Any]]) -> st.SearchStrategy[Caller | None]:
    users = owners(jobs)
    return st.one_of(
        st.builds(Caller, user_id=users),  # non-admin callers, the interesting case, most often
        st.builds(Caller, user_id=users),
        st.builds(Caller, user_id=users),
        st.none(),
        st.builds(Caller, user_id=st.one_of(st.none(), users), is_admin=st.just(True)),
        st.builds(Caller, user_id=st.sampled_from(USERS)),
        st.just(Caller(user_id="stranger")),
        st.just(Caller(user_id=None)),
    )


@st.composite
def requests(draw: st.DrawFn) -> dict[str, str]:
    """Filters, window, order and page, as wire strings (never ShowOwn/FromAllWorkspaces)."""
    wire: dict[str, str] = {}
    if one_in(draw, 4):
        wire["DisplayName"] = draw(st.sampled_from(("mnist", "T", "ß", "训", "x")))
    if one_in(draw, 4):
        wire["Status"] = ",".join(draw(st.lists(st.sampled_from(STATUSES), min_size=1, max_size=3)))
    if one_in(draw, 6):
        wire["WorkspaceId"] = draw(st.sampled_from(WORKSPACES))
    if one_in(draw, 4):
        wire["Accessibility"] = draw(st.sampled_from(("PRIVATE", "public", "Private", "shared")))
    if one_in(draw, 6):
        wire["UserIdForFilter"] = draw(st.sampled_from(USERS))
    if one_in(draw, 3):
        wire["StartTime"] = wire_time(NOW - timedelta(days=draw(st.sampled_from((10, 7, 3, 0)))))
    if one_in(draw, 6):
        wire["EndTime"] = wire_time(NOW - timedelta(days=draw(st.sampled_from((0, 1, 4)))))
    wire["SortBy"] = draw(st.sampled_from(("GmtCreateTime", "DisplayName", "Status", "JobType")))
    wire["Order"] = draw(st.sampled_from(("asc", "desc")))
    wire["PageSize"] = str(draw(st.sampled_from((1, 2, 5, 100))))
    return wire


# ---------------------------------------------------------------------------------------------
# The rule, written out here (project decision 3 and docs/semantics.md).


def visible(job: dict[str, Any], caller: Caller | None) -> bool:
    if caller is None or caller.is_admin:
        return True
    access = job.get("Accessibility")
    private = isinstance(access, str) and access.casefold() == "private"
    return not private or (caller.user_id is not None and job.get("UserId") == caller.user_id)


def owned(job: dict[str, Any], caller: Caller) -> bool:
    return caller.user_id is not None and job.get("UserId") == caller.user_id


def admin_matches(store: JobStore, wire: dict[str, str]) -> list[dict[str, Any]]:
    """Every match in the administrator's view, in order (no visibility rule involved)."""
    frame = store.query(wire, now=NOW, caller=None)
    return [json.loads(text) for text in frame["job_json"]]


def all_pages(
    store: JobStore, wire: dict[str, str], caller: Caller | None
) -> tuple[list[dict[str, Any]], int]:
    """Every page of a request, concatenated, and the TotalCount (the same on every page)."""
    jobs: list[dict[str, Any]] = []
    totals = set()
    size = int(wire["PageSize"])
    page = 1
    while True:
        response = store.list_jobs({**wire, "PageNumber": str(page)}, now=NOW, caller=caller)
        totals.add(response.total_count)
        assert len(response.jobs) <= size
        jobs += response.jobs
        if not response.jobs:
            break
        page += 1
    assert len(totals) == 1, "TotalCount changed from page to page"
    total = totals.pop()
    assert page == -(-total // size) + 1, "pages ended early or late"
    return jobs, total


def ids(jobs: list[dict[str, Any]]) -> list[str]:
    return [job["JobId"] for job in jobs]


@SETTINGS
@given(data=st.data(), jobs=job_sets(), wire=requests())
def test_no_page_shows_another_users_private_job(
    data: st.DataObject, jobs: list[dict[str, Any]], wire: dict[str, str]
) -> None:
    caller = data.draw(callers(jobs), label="caller")
    store = JobStore.from_records(jobs)
    pages, total = all_pages(store, wire, caller)
    for job in pages:
        assert visible(job, caller), f"{job['JobId']} is private to {job.get('UserId')!r}"
    expected = [job for job in admin_matches(store, wire) if visible(job, caller)]
    assert total == len(expected)
    assert ids(pages) == ids(expected), "visibility must only remove jobs, never reorder them"
    assert ids(admin_matches_as(store, wire, caller)) == ids(expected)
    hidden = len(admin_matches(store, wire)) - len(expected)
    event("some matches hidden" if hidden else "nothing hidden")
    event("non-empty" if expected else "empty")


def admin_matches_as(
    store: JobStore, wire: dict[str, str], caller: Caller | None
) -> list[dict[str, Any]]:
    frame = store.query(wire, now=NOW, caller=caller)
    return [json.loads(text) for text in frame["job_json"]]


@SETTINGS
@given(data=st.data(), jobs=job_sets(), wire=requests(), all_workspaces=st.booleans())
def test_show_own_returns_exactly_the_callers_matches(
    data: st.DataObject, jobs: list[dict[str, Any]], wire: dict[str, str], all_workspaces: bool
) -> None:
    caller = data.draw(identified_callers(jobs), label="caller")
    store = JobStore.from_records(jobs)
    own = {**wire, "ShowOwn": data.draw(st.sampled_from(("true", "True", "1")))}
    scope = dict(wire)
    if all_workspaces:
        own["FromAllWorkspaces"] = "true"
        scope.pop("WorkspaceId", None)  # FromAllWorkspaces lifts the workspace restriction
    pages, total = all_pages(store, own, caller)
    expected = [job for job in admin_matches(store, scope) if owned(job, caller)]
    assert ids(pages) == ids(expected)
    assert total == len(expected)
    assert ids(admin_matches_as(store, own, caller)) == ids(expected)
    event("non-empty" if expected else "empty")


def test_window_only_listing_is_computed_independently() -> None:
    """A hand-computed case without the engine's filters: the default window and visibility."""
    jobs = [
        {"JobId": "own-private", "UserId": "1001", "Accessibility": "PRIVATE"},
        {"JobId": "other-private", "UserId": "1002", "Accessibility": "private"},
        {"JobId": "other-public", "UserId": "1002", "Accessibility": "PUBLIC"},
        {"JobId": "other-missing", "UserId": "1002"},
        {"JobId": "other-odd", "UserId": "1002", "Accessibility": "Private "},
        {"JobId": "case-private", "UserId": "U-x", "Accessibility": "Private"},
        {"JobId": "old-public", "UserId": "1002", "Accessibility": "PUBLIC", "Old": True},
        {"JobId": "deleted-public", "UserId": "1002", "IsDeleted": True},
    ]
    for index, job in enumerate(jobs):
        days = 30 if job.pop("Old", False) else index % 6
        job["GmtCreateTime"] = wire_time(NOW - timedelta(days=days, minutes=index))
    store = JobStore.from_records(jobs)
    window_start = NOW - timedelta(days=7)

    def expected(caller: Caller | None) -> set[str]:
        listed = set()
        for job in jobs:
            created = parse_timestamp(job["GmtCreateTime"])
            assert created is not None
            if job.get("IsDeleted") is True or not window_start <= created <= NOW:
                continue
            if visible(job, caller):
                listed.add(job["JobId"])
        return listed

    for caller in (
        None,
        Caller(is_admin=True),
        Caller(user_id="1001"),
        Caller(user_id="1002"),
        Caller(user_id="u-X"),  # casefold-equal to U-x, but not equal: U-x's job stays hidden
        Caller(user_id="U-x"),
        Caller(user_id=None),
    ):
        response = store.list_jobs({"PageSize": "100"}, now=NOW, caller=caller)
        assert set(ids(response.jobs)) == expected(caller), caller
        assert response.total_count == len(expected(caller))
    stranger = Caller(user_id="stranger")
    assert store.list_jobs({"Accessibility": "PRIVATE"}, now=NOW, caller=stranger).total_count == 0
    assert store.query({"Accessibility": "PRIVATE"}, now=NOW, caller=stranger).height == 0


@pytest.mark.parametrize(
    "caller", [None, Caller(user_id=None), Caller(user_id=None, is_admin=True)], ids=str
)
@pytest.mark.parametrize("value", ["true", "True", "TRUE", "1"])
def test_show_own_without_a_caller_identity_is_refused(caller: Caller | None, value: str) -> None:
    store = JobStore.from_records([{"JobId": "a", "UserId": "1001"}])
    for ask in (store.list_jobs, store.query):
        with pytest.raises(InvalidParameterError) as refused:
            ask({"ShowOwn": value}, now=NOW, caller=caller)
        assert refused.value.parameter == "ShowOwn"
        assert refused.value.to_wire()["Code"] == "InvalidParameter"


@pytest.mark.parametrize(
    "wire",
    [
        {"FromAllWorkspaces": "true"},
        {"FromAllWorkspaces": "True", "ShowOwn": "false"},
        {"FromAllWorkspaces": "1", "ShowOwn": ""},
        {"FromAllWorkspaces": "TRUE", "WorkspaceId": "268"},
    ],
    ids=["alone", "show-own-false", "show-own-empty", "with-workspace"],
)
@pytest.mark.parametrize("caller", [None, Caller(user_id="1001")], ids=["admin-view", "user"])
def test_from_all_workspaces_without_show_own_is_refused(
    wire: dict[str, str], caller: Caller | None
) -> None:
    store = JobStore.from_records([{"JobId": "a", "UserId": "1001"}])
    for ask in (store.list_jobs, store.query):
        with pytest.raises(InvalidParameterError) as refused:
            ask(wire, now=NOW, caller=caller)
        assert refused.value.parameter == "FromAllWorkspaces"


def test_show_own_false_is_no_filter() -> None:
    jobs = [
        {"JobId": "a", "UserId": "1001", "GmtCreateTime": wire_time(NOW)},
        {"JobId": "b", "UserId": "1002", "GmtCreateTime": wire_time(NOW)},
    ]
    store = JobStore.from_records(jobs)
    for value in ("false", "False", "0", ""):
        assert store.list_jobs({"ShowOwn": value}, now=NOW, caller=None).total_count == 2


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@SETTINGS
@given(data=st.data(), jobs=job_sets(), wire=requests())
def test_explain_counts_only_what_the_caller_can_see(
    data: st.DataObject, jobs: list[dict[str, Any]], wire: dict[str, str]
) -> None:
    """Issue 15, item 2: ``explain`` for a non-admin caller is the same text whether or not
    other users' private jobs exist (it counted rows among every listable job)."""
    caller = data.draw(
        st.builds(Caller, user_id=st.one_of(st.none(), owners(jobs))), label="caller"
    )
    others = [user for user in USERS if user != caller.user_id]
    hidden = [
        {**job, "JobId": f"hidden-{job['JobId']}", "UserId": data.draw(st.sampled_from(others))}
        | {"Accessibility": "PRIVATE"}
        for job in data.draw(job_sets(), label="hidden")
    ]
    alone, crowded = JobStore.from_records(jobs), JobStore.from_records(jobs + hidden)
    told = [
        UUID.sub("<uuid>", store.explain(wire, now=NOW, caller=caller))
        for store in (alone, crowded)
    ]
    assert told[0] == told[1]


def test_explain_for_a_non_admin_counts_visible_jobs() -> None:
    jobs = [
        {"JobId": f"dlc-{index}", "UserId": ("1001", "1002")[index % 2], "GmtCreateTime": at}
        | {"Accessibility": ("PRIVATE", "PUBLIC", "PRIVATE", "PRIVATE")[index % 4]}
        for index, at in enumerate(wire_time(moment) for moment in TIMES * 2)
    ]
    store = JobStore.from_records(jobs)
    text = store.explain({}, now=NOW, caller=Caller(user_id="1002"))
    # 1002 sees its own jobs (odd indexes; the public ones are among them): 4 of them are
    # younger than 7 days; the admin view has 8 of all 10 in the window
    assert "scan: 4 of the 5 listable jobs this caller can see lie in the" in text
    assert "scan: rows 2..10 of 10 listable jobs" in store.explain({}, now=NOW)


def test_explain_for_a_non_admin_names_list_jobs_steps_without_the_engines_choices() -> None:
    """The index engine's paths and row counts depend on every job, hidden ones included: an
    administrator sees them, a non-admin caller sees the steps only."""
    jobs = [
        {"JobId": f"dlc-{index}", "UserId": ("1001", "1002")[index % 2], "GmtCreateTime": at}
        | {"Accessibility": "PRIVATE", "Status": ("Running", "Failed")[index % 3 == 0]}
        for index, at in enumerate(wire_time(moment) for moment in TIMES * 2)
    ]
    store = JobStore.from_records(jobs)
    wire = {"Status": "Failed", "SortBy": "DisplayName"}
    admin = store.explain(wire, now=NOW)
    assert "list_jobs (the index engine), step by step:" in admin
    assert "1. Status (ix_Status): table over" in admin
    assert "rows of all" in admin
    assert "Polars plan: what JobStore.query() runs" in admin
    text = store.explain(wire, now=NOW, caller=Caller(user_id="1002"))
    steps = text.split("step by step:")[1].split("Polars plan")[0]
    assert "  - Status (ix_Status)\n  - visibility\n" in steps
    assert "chosen at run time (shown to administrators)" in steps
    assert not re.search(r"\d", steps.replace("offset 0, 10 rows", "")), steps
    assert "Polars plan: what JobStore.query() runs" in text


def test_the_generated_cases_hide_jobs_and_find_matches_often() -> None:
    """The generators are worth their runs: private matches get hidden, results are non-empty."""
    seen = {"cases": 0, "hidden": 0, "non-empty": 0, "own": 0}

    @settings(max_examples=30, derandomize=True, database=None, deadline=None)
    @given(data=st.data(), jobs=job_sets(), wire=requests())
    def sample(data: st.DataObject, jobs: list[dict[str, Any]], wire: dict[str, str]) -> None:
        caller = data.draw(callers(jobs))
        store = JobStore.from_records(jobs)
        everything = admin_matches(store, wire)
        seen["cases"] += 1
        seen["hidden"] += any(not visible(job, caller) for job in everything)
        seen["non-empty"] += any(visible(job, caller) for job in everything)
        own = data.draw(identified_callers(jobs))
        seen["own"] += any(owned(job, own) for job in everything)

    sample()
    assert seen["hidden"] >= seen["cases"] // 10, seen
    assert seen["non-empty"] >= seen["cases"] // 3, seen
    assert seen["own"] >= seen["cases"] // 5, seen
