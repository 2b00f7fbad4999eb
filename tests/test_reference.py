"""The reference alone, against answers worked out by hand from the spec and docs/semantics.md.

The differential tests trust the reference; these tests are why. Each one pins one rule, most
with the spec's own examples.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from jobquery import reference
from jobquery.errors import DumpFormatError, InvalidParameterError
from jobquery.request import Caller, ListJobsRequest

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
RECENT = "2026-11-27T00:00:00Z"


def job(job_id: str, **fields: Any) -> dict[str, Any]:
    """A job created a day before NOW (inside the default window) unless told otherwise."""
    return {"JobId": job_id, "GmtCreateTime": RECENT, **fields}


def ids(
    jobs: list[dict[str, Any]],
    request: dict[str, str] | ListJobsRequest | None = None,
    *,
    now: datetime = NOW,
    caller: Caller | None = None,
) -> list[str]:
    """The JobIds of every match, in order."""
    return [found["JobId"] for found in reference.query(jobs, request, now=now, caller=caller)]


def matching(jobs: list[dict[str, Any]], request: dict[str, str], **options: Any) -> set[str]:
    return set(ids(jobs, request, **options))


# ---------------------------------------------------------------------------------------------
# Text filters


def test_display_name_spec_example_is_a_case_insensitive_substring() -> None:
    names = ["test-job1", "job-test", "job-test2", "job-Test", "job-t1"]
    jobs = [job(name, DisplayName=name) for name in names]
    assert matching(jobs, {"DisplayName": "test"}) == {
        "test-job1",
        "job-test",
        "job-test2",
        "job-Test",
    }


@pytest.mark.parametrize(("query", "stored"), [("Straße", "STRASSE"), ("STRASSE", "straße")])
def test_casefolding_matches_sharp_s_and_double_s_both_ways(query: str, stored: str) -> None:
    assert ids([job("j", DisplayName=f"run-{stored}-1")], {"DisplayName": query}) == ["j"]


def test_casefolding_matches_final_sigma_and_capital_sigma() -> None:
    assert ids([job("j", DisplayName="ΟΔΟΣ")], {"DisplayName": "οδος"}) == ["j"]


def test_casefolding_does_not_normalise_composed_and_decomposed_forms() -> None:
    assert ids([job("j", DisplayName="caf\u00e9")], {"DisplayName": "cafe\u0301"}) == []


@pytest.mark.parametrize("query", ["%", "_", "*", ".", "?", "[a]", "(x)", "^a", "a$", "|", "\\"])
def test_wildcard_and_regex_characters_in_a_name_are_literal(query: str) -> None:
    literal = job("literal", DisplayName=f"x{query}y")
    plain = job("plain", DisplayName="abc a x(y) xy")
    assert ids([literal, plain], {"DisplayName": query}) == ["literal"]


def test_display_name_search_modes_exact_and_prefix() -> None:
    jobs = [job("a", DisplayName="Train-MNIST"), job("b", DisplayName="train-mnist-2")]
    assert matching(jobs, {"DisplayName": "TRAIN-mnist", "DisplayNameSearchMode": "exact"}) == {"a"}
    assert matching(jobs, {"DisplayName": "train", "DisplayNameSearchMode": "Prefix"}) == {
        "a",
        "b",
    }
    assert matching(jobs, {"DisplayName": "mnist", "DisplayNameSearchMode": "prefix"}) == set()
    assert matching(jobs, {"DisplayName": "mnist", "DisplayNameSearchMode": "wildcard"}) == {
        "a",
        "b",
    }


def test_username_quota_name_and_description_are_substrings() -> None:
    one = job("one", Username="Alice-ß", ResourceQuotaName="prod-Test", Description="Fine BERT")
    other = job("other", Username="bob")
    assert ids([one, other], {"Username": "ALICE-SS"}) == ["one"]
    assert ids([one, other], {"ResourceQuotaName": "test"}) == ["one"]
    assert ids([one, other], {"Description": "bert"}) == ["one"]


def test_job_id_is_a_substring_and_a_full_id_finds_exactly_one_job() -> None:
    jobs = [job("dlc-ab12"), job("dlc-ab123"), job("DLC-X")]
    assert matching(jobs, {"JobId": "AB12"}) == {"dlc-ab12", "dlc-ab123"}
    assert matching(jobs, {"JobId": "dlc-x"}) == {"DLC-X"}


def test_job_ids_match_whole_ids_casefolded_and_lose_to_job_id() -> None:
    jobs = [job("dlc-a"), job("dlc-ab"), job("dlc-b")]
    assert matching(jobs, {"JobIds": "DLC-A, dlc-b,,"}) == {"dlc-a", "dlc-b"}
    assert matching(jobs, {"JobIds": "dlc-a", "JobId": "ab"}) == {"dlc-ab"}


def test_string_fields_that_are_not_non_empty_strings_count_as_missing() -> None:
    jobs = [
        job("number", DisplayName=5),
        job("list", DisplayName=["test"]),
        job("null", DisplayName=None),
        job("empty", DisplayName=""),
        job("real", DisplayName="test"),
    ]
    assert ids(jobs, {"DisplayName": "t"}) == ["real"]
    assert ids(jobs, {"DisplayName": "5"}) == []


# ---------------------------------------------------------------------------------------------
# Equality filters and derived labels


def test_status_and_job_type_take_casefolded_comma_lists() -> None:
    jobs = [
        job("run", Status="Running", JobType="PyTorchJob"),
        job("fail", Status="FAILED", JobType="TFJob"),
        job("done", Status="Succeeded", JobType="pytorchjob"),
    ]
    assert matching(jobs, {"Status": "running, failed"}) == {"run", "fail"}
    assert matching(jobs, {"JobType": "PYTORCHJOB"}) == {"run", "done"}
    assert matching(jobs, {"Status": "Unknown"}) == set()


def test_scope_fields_compare_casefolded_and_settings_that_are_not_objects_match_nothing() -> None:
    jobs = [
        job("a", WorkspaceId="WS-1", UserId="U-1", TemplateId="tpl", Settings={"Caller": "Silk"}),
        job("b", WorkspaceId="ws-2", Settings="Caller=Silk"),
    ]
    assert matching(jobs, {"WorkspaceId": "ws-1"}) == {"a"}
    assert matching(jobs, {"UserIdForFilter": "u-1"}) == {"a"}
    assert matching(jobs, {"TemplateId": "TPL"}) == {"a"}
    assert matching(jobs, {"Caller": "silk"}) == {"a"}


def test_from_all_workspaces_lifts_the_workspace_filter() -> None:
    jobs = [job("a", WorkspaceId="1", UserId="me"), job("b", WorkspaceId="2", UserId="me")]
    request = {"WorkspaceId": "1", "FromAllWorkspaces": "True", "ShowOwn": "True"}
    assert matching(jobs, request, caller=Caller(user_id="me")) == {"a", "b"}


def test_resource_id_and_resource_ids_combine_with_and() -> None:
    jobs = [job("a", ResourceId="q-1"), job("b", ResourceId="Q-2"), job("c")]
    assert matching(jobs, {"ResourceIds": "q-1,q-2"}) == {"a", "b"}
    assert matching(jobs, {"ResourceIds": "q-1,q-2", "ResourceId": "q-2"}) == {"b"}


@pytest.mark.parametrize(
    ("fields", "label"),
    [
        ({"Settings": {"OversoldType": "ForbiddenQuotaOverSold"}}, "ForbiddenQuotaOverSold"),
        ({"Settings": {"OversoldType": "ForceQuotaOverSold"}}, "ForceQuotaOverSold"),
        (
            {"Settings": {"OversoldType": "AcceptQuotaOverSold"}, "UseOversoldResource": True},
            "AcceptQuotaOverSold-true",
        ),
        (
            {"Settings": {"OversoldType": "acceptquotaoversold"}, "UseOversoldResource": "true"},
            "AcceptQuotaOverSold-false",
        ),
        ({"Settings": {"OversoldType": "AcceptQuotaOverSold"}}, "AcceptQuotaOverSold-false"),
        (
            {
                "Settings": {},
                "JobSpecs": [{"OversoldType": ""}, {"OversoldType": "ForceQuotaOverSold"}],
            },
            "ForceQuotaOverSold",
        ),
        (
            {
                "Settings": {"OversoldType": "ForbiddenQuotaOverSold"},
                "JobSpecs": [{"OversoldType": "ForceQuotaOverSold"}],
            },
            "ForbiddenQuotaOverSold",
        ),
        ({"Settings": {"OversoldType": 3}, "JobSpecs": "x"}, None),
    ],
)
def test_oversold_info_label_derivation(fields: dict[str, Any], label: str | None) -> None:
    assert reference.oversold_label(job("j", **fields)) == label
    labels = ["ForbiddenQuotaOverSold", "ForceQuotaOverSold", "AcceptQuotaOverSold-true"]
    labels += ["AcceptQuotaOverSold-false", "AcceptQuotaOverSold"]
    for asked in labels:
        wanted = label is not None and asked.casefold() == label.casefold()
        assert ids([job("j", **fields)], {"OversoldInfo": asked.upper()}) == (
            ["j"] if wanted else []
        )


@pytest.mark.parametrize(
    ("fields", "label"),
    [
        ({"JobSpecs": [{"UseSpotInstance": False}, {"UseSpotInstance": True}]}, "Spot"),
        ({"JobSpecs": [{"UseSpotInstance": True}], "ResourceId": "quota-1"}, "Spot"),
        ({"JobSpecs": [{"UseSpotInstance": "true"}], "ResourceId": "quota-1"}, "PrePaid"),
        ({"ResourceId": "quota-1"}, "PrePaid"),
        ({"ResourceId": ""}, "PostPaid"),
        ({"JobSpecs": "spot"}, "PostPaid"),
    ],
)
def test_payment_type_label_derivation(fields: dict[str, Any], label: str) -> None:
    assert reference.payment_label(job("j", **fields)) == label
    assert ids([job("j", **fields)], {"PaymentType": label.lower()}) == ["j"]


def test_enable_assign_node_true_and_false_partition_the_jobs() -> None:
    def assign(flag: Any) -> dict[str, Any]:
        return {"AssignNodeSpec": {"EnableAssignNode": flag}}

    jobs = [
        job("on", JobSpecs=[assign(False), assign(True)]),
        job("string", JobSpecs=[assign("true")]),
        job("not-object", JobSpecs=[{"AssignNodeSpec": "on"}, "x"]),
        job("none"),
    ]
    assert ids(jobs, {"EnableAssignNode": "true"}) == ["on"]
    assert matching(jobs, {"EnableAssignNode": "False"}) == {"string", "not-object", "none"}


# ---------------------------------------------------------------------------------------------
# Tags


TAGGED = [
    job("str", Settings={"Tags": {"team": "rec", "n": "1"}}),
    job("num", Settings={"Tags": {"team": "REC", "n": 1}}),
    job("bool", Settings={"Tags": {"flag": True, "none": None, "empty": ""}}),
    job("nested", Settings={"Tags": {"n": {"v": 1}, "team": ["rec"]}}),
    job("not-a-map", Settings={"Tags": "team=rec"}),
    job("no-settings"),
]


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ('{"team":"rec"}', {"str"}),  # values are case-sensitive
        ('{"Team":"rec"}', set()),  # keys too
        ('{"n":"1"}', {"str", "num"}),  # a stored number compares as its JSON text
        ('{"n":1}', {"str", "num"}),  # and so does a requested one
        ('{"flag":"true"}', {"bool"}),
        ('{"none":null}', {"bool"}),
        ('{"empty":""}', {"bool"}),  # an empty value needs an empty stored value
        ('{"team":"rec","n":"1"}', {"str"}),  # every pair must be present
        ('{"missing":"x"}', set()),
        ("{}", {"str", "num", "bool", "nested", "not-a-map", "no-settings"}),  # no filter
    ],
)
def test_tags_containment(tags: str, expected: set[str]) -> None:
    assert matching(TAGGED, {"Tags": tags}) == expected


# ---------------------------------------------------------------------------------------------
# Numeric range


def test_numeric_range_reads_numbers_and_decimal_strings_inclusively() -> None:
    jobs = [
        job("int", RequestGPU=4),
        job("float", RequestGPU=4.5),
        job("text", RequestGPU="8"),
        job("signed", RequestGPU="+6."),
        job("fraction", RequestGPU=".5"),
        job("exponent", RequestGPU="1e3"),
        job("spaced", RequestGPU=" 4"),
        job("full-width", RequestGPU="４"),
        job("bool", RequestGPU=True),
        job("missing"),
    ]
    range_4_8 = {"NumericRangeField": "RequestGPU", "NumericRangeMin": "4", "NumericRangeMax": "8"}
    assert matching(jobs, range_4_8) == {"int", "float", "text", "signed"}
    assert matching(jobs, {"NumericRangeField": "requestgpu", "NumericRangeMax": "0"}) == set()
    assert matching(jobs, {"NumericRangeField": "RequestGPU", "NumericRangeMax": "1"}) == {
        "fraction"
    }


def test_numeric_range_compares_long_decimal_strings_as_doubles() -> None:
    jobs = [job("big", NodeCount="9007199254740993")]  # 2**53 + 1 rounds to the double 2**53
    at_most = {"NumericRangeField": "NodeCount", "NumericRangeMax": "9007199254740992"}
    below = {"NumericRangeField": "NodeCount", "NumericRangeMax": "9007199254740990"}
    assert ids(jobs, at_most) == ["big"]
    assert ids(jobs, below) == []


def test_numeric_range_with_min_above_max_is_empty() -> None:
    request = {"NumericRangeField": "Priority", "NumericRangeMin": "5", "NumericRangeMax": "1"}
    assert ids([job("j", Priority=3)], request) == []


# ---------------------------------------------------------------------------------------------
# Full-text search


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("python /root/code/train.py", ["python", "root", "code", "train", "py"]),
        ("TensorFlow-Training:1.12.2", ["tensorflow", "training", "1", "12", "2"]),
        ("my_image", ["my", "image"]),  # the underscore separates
        ("节点故障 node", ["节", "点", "故", "障", "node"]),  # one token per ideograph
        ("abc中def", ["abc", "中", "def"]),
        ("STRASSE straße", ["strasse", "strasse"]),
        ("...", []),
    ],
)
def test_tokens(text: str, expected: list[str]) -> None:
    assert reference.tokens(text) == expected


def test_image_search_spec_examples() -> None:
    pytorch = job("pt", JobSpecs=[{"Image": "registry/pai-dlc/pytorch-training:2.1-gpu"}])
    tensorflow = job("tf", JobSpecs=[{"Image": "registry/pai-dlc/tensorflow-training:1.12"}])
    jobs = [pytorch, tensorflow]
    assert ids(jobs, {"ImageSearch": "pytorch"}) == ["pt"]
    assert ids(jobs, {"ImageSearch": "tensor"}) == []  # tokens, not substrings
    assert matching(jobs, {"ImageSearch": "Training"}) == {"pt", "tf"}


def test_image_search_needs_every_token_in_one_role() -> None:
    split = job("split", JobSpecs=[{"Image": "pytorch:2.1"}, {"Image": "tensorflow:1.12"}])
    assert ids([split], {"ImageSearch": "pytorch tensorflow"}) == []
    assert ids([split], {"ImageSearch": "tensorflow 1.12"}) == ["split"]


def test_user_command_search_spec_example() -> None:
    jobs = [job("a", UserCommand="python /root/code/train.py"), job("b", UserCommand="python x.py")]
    assert ids(jobs, {"UserCommandSearch": "python train.py"}) == ["a"]
    assert ids(jobs, {"UserCommandSearch": "TRAIN"}) == ["a"]
    assert ids(jobs, {"UserCommandSearch": "trai"}) == []


def test_a_search_without_tokens_matches_nothing() -> None:
    assert ids([job("a", UserCommand="a -- b")], {"UserCommandSearch": "--"}) == []


def test_reason_search_looks_at_codes_messages_and_status_history_together() -> None:
    failed = job(
        "failed",
        ReasonCode="OOMKilled",
        StatusHistory=[
            {"ReasonMessage": "节点故障"},
            "junk",
            {"ReasonCode": 3, "ReasonMessage": "node failure"},
        ],
    )
    assert ids([failed], {"ReasonSearch": "oomkilled 故障 node"}) == ["failed"]
    assert ids([failed], {"ReasonSearch": "oomkilled disk"}) == []
    # the texts are tokenized one by one: "OOMKilled" + "节点故障" gives no token "oomkilled节"
    assert ids([failed], {"ReasonSearch": "killed"}) == []


# ---------------------------------------------------------------------------------------------
# The time window


def test_default_window_is_the_last_seven_days_inclusive() -> None:
    jobs = [
        job("on-start", GmtCreateTime="2026-11-21T12:00:00Z"),
        job("before", GmtCreateTime="2026-11-21T11:59:59.999999Z"),
        job("on-now", GmtCreateTime="2026-11-28T20:00:00+08:00"),
        job("future", GmtCreateTime="2026-11-28T12:00:01Z"),
    ]
    assert matching(jobs, {}) == {"on-start", "on-now"}


def test_each_default_bound_applies_alone() -> None:
    jobs = [job("old", GmtCreateTime="2026-01-01T00:00:00Z"), job("new")]
    assert matching(jobs, {"EndTime": "2026-12-31T00:00:00Z"}) == {"new"}
    assert matching(jobs, {"StartTime": "2025-01-01T00:00:00Z"}) == {"old", "new"}


def test_window_applies_with_job_id_too() -> None:
    assert ids([job("old", GmtCreateTime="2026-01-01T00:00:00Z")], {"JobId": "old"}) == []


def test_start_after_end_is_empty_not_an_error() -> None:
    request = {"StartTime": "2026-11-28T00:00:00Z", "EndTime": "2026-11-01T00:00:00Z"}
    assert ids([job("j")], request) == []


def test_time_range_field_moves_the_window_and_jobs_without_that_time_drop_out() -> None:
    jobs = [
        job("finished", GmtFinishTime="2026-11-27T06:00:00Z"),
        job("running"),
        job("bad-time", GmtFinishTime="yesterday"),
        job("old-but-finished", GmtCreateTime="2025-01-01T00:00:00Z", GmtFinishTime=RECENT),
    ]
    assert matching(jobs, {"TimeRangeField": "gmtfinishtime"}) == {"finished", "old-but-finished"}


def test_jobs_without_a_parseable_creation_time_are_never_listed() -> None:
    jobs = [job("none", GmtCreateTime=None), job("bad", GmtCreateTime="2026-13-01T00:00:00Z")]
    jobs += [job("number", GmtCreateTime=1764201600), job("good")]
    wide = {"StartTime": "1970-01-01T00:00:00Z", "EndTime": "2100-01-01T00:00:00Z"}
    assert ids(jobs, wide) == ["good"]


def test_now_defaults_to_the_current_time() -> None:
    created = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    jobs = [job("fresh", GmtCreateTime=created), job("old", GmtCreateTime="2000-01-01T00:00:00Z")]
    assert [found["JobId"] for found in reference.list_jobs(jobs)["Jobs"]] == ["fresh"]


# ---------------------------------------------------------------------------------------------
# Deleted jobs, visibility and ShowOwn


def test_deleted_jobs_are_never_listed_but_only_a_json_true_deletes() -> None:
    jobs = [
        job("deleted", IsDeleted=True),
        job("string", IsDeleted="true"),
        job("one", IsDeleted=1),
    ]
    assert matching(jobs, {}) == {"string", "one"}


PRIVACY = [
    job("mine", Accessibility="PRIVATE", UserId="u-1"),
    job("theirs", Accessibility="private", UserId="u-2"),
    job("public", Accessibility="PUBLIC", UserId="u-2"),
    job("unset", UserId="u-2"),
    job("odd", Accessibility=7, UserId="u-2"),
]


def test_private_jobs_are_visible_to_their_owner_and_admins_only() -> None:
    everyone = {"mine", "theirs", "public", "unset", "odd"}
    assert matching(PRIVACY, {}) == everyone  # no caller: administrator view
    assert matching(PRIVACY, {}, caller=Caller(user_id="x", is_admin=True)) == everyone
    assert matching(PRIVACY, {}, caller=Caller(user_id="u-1")) == everyone - {"theirs"}
    assert matching(PRIVACY, {}, caller=Caller(user_id="U-1")) == everyone - {"mine", "theirs"}
    assert matching(PRIVACY, {}, caller=Caller(user_id=None)) == everyone - {"mine", "theirs"}


def test_total_count_never_counts_hidden_jobs() -> None:
    answer = reference.list_jobs(PRIVACY, {"PageSize": "1"}, now=NOW, caller=Caller("u-3"))
    assert answer["TotalCount"] == 3


def test_accessibility_filter_counts_missing_as_public() -> None:
    assert matching(PRIVACY, {"Accessibility": "public"}) == {"public", "unset", "odd"}
    assert matching(PRIVACY, {"Accessibility": "Private"}) == {"mine", "theirs"}


def test_show_own_selects_the_callers_jobs_exactly() -> None:
    jobs = [job("a", UserId="u-X"), job("b", UserId="U-x"), job("c")]
    assert ids(jobs, {"ShowOwn": "True"}, caller=Caller("u-X")) == ["a"]
    assert matching(jobs, {"ShowOwn": "false"}, caller=None) == {"a", "b", "c"}
    assert ids(jobs, {"ShowOwn": "1", "UserIdForFilter": "U-X"}, caller=Caller("u-X")) == ["a"]


@pytest.mark.parametrize(
    "caller", [None, Caller(user_id=None), Caller(user_id=None, is_admin=True)]
)
def test_show_own_without_a_caller_user_id_names_show_own(caller: Caller | None) -> None:
    with pytest.raises(InvalidParameterError) as raised:
        reference.list_jobs([job("a", UserId="u")], {"ShowOwn": "true"}, now=NOW, caller=caller)
    assert raised.value.parameter == "ShowOwn"
    assert raised.value.code == "InvalidParameter"


def test_an_invalid_request_is_refused_before_any_job_is_read() -> None:
    with pytest.raises(InvalidParameterError) as raised:
        reference.list_jobs([{"no": "JobId"}], {"PageSize": "0"})
    assert raised.value.parameter == "PageSize"


# ---------------------------------------------------------------------------------------------
# Order


def test_missing_sort_values_are_smallest_first_in_asc_and_last_in_desc() -> None:
    jobs = [
        job("late", GmtFinishTime="2026-11-27T09:00:00Z"),
        job("none"),
        job("early", GmtFinishTime="2026-11-27T05:00:00Z"),
        job("junk", GmtFinishTime="soon"),
    ]
    desc = ids(jobs, {"SortBy": "GmtFinishTime"})
    assert desc == ["late", "early", "none", "junk"]
    assert ids(jobs, {"SortBy": "gmtfinishtime", "Order": "ASC"}) == desc[::-1]


def test_ties_fall_back_to_creation_time_then_job_id_all_in_the_requested_direction() -> None:
    jobs = [
        job("b", Status="Running", GmtCreateTime="2026-11-27T01:00:00Z"),
        job("a", Status="running", GmtCreateTime="2026-11-27T01:00:00Z"),
        job("c", Status="RUNNING", GmtCreateTime="2026-11-26T00:00:00Z"),
        job("d", Status="Failed", GmtCreateTime="2026-11-27T09:00:00Z"),
    ]
    # Status: "failed" < "running"; among the running ones, casefold ties break by the raw
    # value ("RUNNING" < "Running" < "running" by code points).
    assert ids(jobs, {"SortBy": "Status", "Order": "asc"}) == ["d", "c", "b", "a"]
    assert ids(jobs, {"SortBy": "Status"}) == ["a", "b", "c", "d"]
    same = [job(name, Status="Running", GmtCreateTime=RECENT) for name in ("y", "x", "z")]
    assert ids(same, {"SortBy": "Status", "Order": "asc"}) == ["x", "y", "z"]
    assert ids(same, {"SortBy": "Status", "Order": "desc"}) == ["z", "y", "x"]


def test_job_id_tie_break_is_casefold_then_code_points() -> None:
    jobs = [job("dlc-B"), job("DLC-a"), job("dlc-a"), job("Dlc-a")]
    assert ids(jobs, {"Order": "asc"}) == ["DLC-a", "Dlc-a", "dlc-a", "dlc-B"]


def test_display_name_sorts_casefolded_with_missing_names_smallest() -> None:
    jobs = [
        job("1", DisplayName="beta"),
        job("2", DisplayName="Alpha"),
        job("3", DisplayName="STRASSE"),
        job("4", DisplayName="straße"),
        job("5"),
    ]
    # "straße" and "STRASSE" casefold to the same text; then "STRASSE" < "straße" by code points
    assert ids(jobs, {"SortBy": "DisplayName", "Order": "asc"}) == ["5", "2", "1", "3", "4"]


def test_times_sort_by_instant_whatever_their_spelling() -> None:
    jobs = [
        job("utc-9", GmtCreateTime="2026-11-27T09:00:00Z"),
        job("utc-2", GmtCreateTime="2026-11-27T10:00:00+08:00"),
        job("utc-5", GmtCreateTime="2026-11-27 05:00:00"),
        job("utc-2-too", GmtCreateTime="2026-11-27T02:00:00.000000z"),
    ]
    assert ids(jobs, {"Order": "asc"}) == ["utc-2", "utc-2-too", "utc-5", "utc-9"]


# ---------------------------------------------------------------------------------------------
# Pages and the response


def test_pages_slice_the_sorted_matches_and_a_page_past_the_end_is_empty() -> None:
    jobs = [job(f"j{n:02d}", GmtCreateTime=f"2026-11-27T{n:02d}:00:00Z") for n in range(12)]
    first = reference.list_jobs(jobs, {}, now=NOW, request_id="R")
    assert [found["JobId"] for found in first["Jobs"]] == [f"j{n:02d}" for n in range(11, 1, -1)]
    assert first["TotalCount"] == 12
    third = reference.list_jobs(jobs, {"PageSize": "5", "PageNumber": "3"}, now=NOW)
    assert [found["JobId"] for found in third["Jobs"]] == ["j01", "j00"]
    past = reference.list_jobs(jobs, {"PageSize": "5", "PageNumber": "2147483647"}, now=NOW)
    assert past["Jobs"] == []
    assert past["TotalCount"] == 12


def test_response_holds_the_given_objects_unchanged_in_wire_order() -> None:
    stored = job("j", Extra={"kept": [1, 2.5, None]}, UserVpc="vpc-1", NodeCount="1")
    answer = reference.list_jobs([stored], {}, now=NOW, request_id="REQ-1")
    assert list(answer) == ["Jobs", "TotalCount", "RequestId"]
    assert answer["Jobs"][0] is stored
    assert answer["RequestId"] == "REQ-1"


def test_request_id_defaults_to_a_fresh_upper_case_uuid4() -> None:
    first = reference.list_jobs([], None)["RequestId"]
    second = reference.list_jobs([], None)["RequestId"]
    pattern = r"[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}"
    assert re.fullmatch(pattern, first)
    assert first != second


def test_typed_and_wire_requests_mean_the_same() -> None:
    jobs = [job("a", Status="Running", Settings={"Tags": {"n": 1}}), job("b", Status="Failed")]
    typed = ListJobsRequest(status=["running", "failed"], tags={"n": 1}, order="asc")
    wire = {"Status": "running,failed", "Tags": '{"n":1}', "Order": "asc"}
    assert ids(jobs, typed) == ids(jobs, wire) == ["a"]


# ---------------------------------------------------------------------------------------------
# Records


def test_of_records_sharing_a_job_id_the_latest_modified_one_is_kept() -> None:
    older = job("j", DisplayName="old", GmtModifiedTime="2026-11-27T01:00:00Z")
    newer = job("j", DisplayName="new", GmtModifiedTime="2026-11-27T02:00:00Z")
    tie = job("j", DisplayName="tie", GmtModifiedTime="2026-11-27T10:00:00+08:00")
    assert reference.query([newer, older], {}, now=NOW) == [newer]
    assert reference.query([older, newer, tie], {}, now=NOW) == [tie]  # a tie: the later record


def test_a_record_without_a_job_id_is_refused() -> None:
    with pytest.raises(DumpFormatError) as raised:
        reference.query([job("ok"), {"JobId": ""}], {}, now=NOW)
    assert raised.value.record == 1
