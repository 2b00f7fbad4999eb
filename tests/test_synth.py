"""The synthetic job generator (``jobquery.synth``) and the fixtures made from it.

- Deterministic: the same seed gives the same lines, another seed other lines; a job does not
  depend on the chunk size, the block size or how many jobs are generated.
- Wire-shaped: every line is one JSON object with a unique ``dlc-…`` JobId, created inside the
  window, with times that agree with the status.
- Realistic where selectivity matters: every field family of the JobItem tree (spec §5.2)
  appears, all 13 statuses, private jobs, tags, nested HistoryPods, non-ASCII names; users and
  workspaces are skewed.
- The committed ``synthetic_small.ndjson`` and the bundled sample are exactly what the
  generator makes now, so they cannot drift from it.
"""

from __future__ import annotations

import collections
import hashlib
import re
import statistics
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import polars as pl
import pytest

import jobquery
from jobquery import synth
from jobquery.request import parse_timestamp
from jobquery.synth import generate

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "data" / "fixtures"
SAMPLE = Path(jobquery.__file__).parent / "sample" / "sample_jobs.ndjson"

#: Every member of JobItem (spec §5.2.1).
JOB_ITEM_MEMBERS = (
    "Accessibility", "ClusterId", "CodeSource", "CredentialConfig", "DataSources",
    "DisplayName", "Duration", "ElasticSpec", "EnablePreemptibleJob", "EnabledDebugger", "Envs",
    "GmtCreateTime", "GmtFailedTime", "GmtFinishTime", "GmtModifiedTime", "GmtRunningTime",
    "GmtStoppedTime", "GmtSubmittedTime", "GmtSuccessedTime", "IsDeleted", "JobId",
    "JobMaxRunningTimeMinutes", "JobReplicaStatuses", "JobSpecs", "JobType", "NodeCount",
    "NodeNames", "Pods", "Priority", "ReasonCode", "ReasonMessage", "RequestCPU", "RequestGPU",
    "RequestMemory", "ResourceId", "ResourceLevel", "ResourceName", "ResourceQuotaName",
    "ResourceType", "RestartTimes", "RetryCount", "SchedulingStrategy", "Settings", "Status",
    "StatusHistory", "SubStatus", "SystemEnvs", "TemplateId", "TemplateName", "TenantId",
    "ThirdpartyLibDir", "ThirdpartyLibs", "UseOversoldResource", "UserCommand", "UserId",
    "UserScript", "UserVpc", "Username", "WorkingDir", "WorkspaceId", "WorkspaceName",
    "supportedProfilingTypes",
)  # fmt: skip

#: Key paths that show each of the other 43 types of the JobItem tree (spec §5.2) in use.
FAMILY_PATHS = (
    "CodeSource.Commit",  # JobItemCodeSource
    "CredentialConfig.EnableCredentialInject",  # CredentialConfig
    "CredentialConfig.CredentialConfigItems[].Key",  # CredentialConfigItem
    "CredentialConfig.CredentialConfigItems[].Roles[].RoleArn",  # CredentialRole
    "CredentialConfig.CredentialConfigItems[].Roles[].AssumeUserInfo.AccessKeyId",
    "DataSources[].DataSourceId",  # JobItemDataSources
    "ElasticSpec.MaxParallelism",  # JobElasticSpec
    "JobReplicaStatuses[].Active",  # JobReplicaStatus
    "JobReplicaStatuses[].EstimatedAutoScalingSpec.AutoscalingMetricSpec.Tolerance",
    "JobReplicaStatuses[].EstimatedResourceConfig.GPUType",
    "JobSpecs[].Image",  # JobSpec
    "JobSpecs[].ResourceConfig.GPU",  # ResourceConfig
    "JobSpecs[].AssignNodeSpec.EnableAssignNode",  # AssignNodeSpec
    "JobSpecs[].AssignNodeSpec.HyperNodes[].HyperNodeName",  # HyperNodeSpec
    "JobSpecs[].AssignNodeSpec.AntiAffinityHyperNodes[].NodeNames",
    "JobSpecs[].AutoScalingSpec.AutoscalingMetricSpec.MetricName",  # AutoScaling, Metric
    "JobSpecs[].ElasticSpotSpecs[].SpotStrategy",  # ElasticSpotSpec
    "JobSpecs[].ExtraPodSpec.SharedVolumeMountPaths",  # ExtraPodSpec
    "JobSpecs[].ExtraPodSpec.InitContainers[].Env[].Value",  # ContainerSpec, EnvVar
    "JobSpecs[].ExtraPodSpec.InitContainers[].Resources.Limits",  # ResourceRequirements
    "JobSpecs[].ExtraPodSpec.InitContainers[].SecurityContext.RunAsUser",  # SecurityContext
    "JobSpecs[].ExtraPodSpec.SideCarContainers[].Name",
    "JobSpecs[].ExtraPodSpec.MainContainerSecurityContext.Capabilities.Add",
    "JobSpecs[].ExtraPodSpec.MainContainerSecurityContext.SeccompProfile.Type",
    "JobSpecs[].ExtraPodSpec.Lifecycle.PostStart.Exec.Command",  # Lifecycle…Exec
    "JobSpecs[].ExtraPodSpec.Lifecycle.PreStop.Exec.Command",
    "JobSpecs[].HyperNodeSchedulingConfig.QualityPolicy",  # HyperNodeSchedulingConfig
    "JobSpecs[].ImageConfig.DockerRegistry",  # ImageConfig
    "JobSpecs[].LocalMountSpecs[].MountPath",  # LocalMountSpec
    "JobSpecs[].ServiceSpec.ExtraPorts",  # ServiceSpec
    "JobSpecs[].SpotSpec.SpotPriceLimit",  # SpotSpec
    "JobSpecs[].StartupDependencies[].MinReplicas",  # StartupDependency
    "JobSpecs[].SystemDisk.Size",  # SystemDisk
    "JobSpecs[].OversoldType",
    "JobSpecs[].IsCheif",
    "Pods[].PodUid",  # PodItem
    "Pods[].HistoryPods[].PodId",
    "Pods[].PodIps[].InterfaceName",  # PodNetworkInterface
    "Pods[].supportedProfilingTypes",
    "Settings.BusinessUserId",  # JobSettings
    "Settings.Caller",
    "Settings.PipelineId",
    "Settings.Tags",
    "Settings.OversoldType",
    "Settings.AdvancedSettings",
    "Settings.DataJuicerConfig.ResourceLimit.Memory",  # DataJuicerConfig, ResourceLimit
    "Settings.ModelConfig.ModelTemplate.Provider",  # ModelConfig, ModelTemplate
    "StatusHistory[].ReasonCode",  # StatusTransitionItem
    "StatusHistory[].EndTime",
    "UserVpc.VpcId",  # JobItemUserVpc
    "UserVpc.SwitchId",
    "UserVpc.SecurityGroupId",
)

FINISHED_TIME = {
    "Succeeded": "GmtSuccessedTime",
    "Failed": "GmtFailedTime",
    "Stopped": "GmtStoppedTime",
}


@pytest.fixture(scope="module")
def sample_lines() -> list[str]:
    """2,000 jobs with the bundled sample's seed (so, the bundled sample)."""
    return synth.generate_lines(2000, seed=2026).to_list()


@pytest.fixture(scope="module")
def sample_jobs(sample_lines: list[str]) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in sample_lines]


def key_paths(value: Any, prefix: str = "") -> set[str]:
    """Every key path in a JSON value, ``[]`` marking array elements: ``JobSpecs[].Image``."""
    paths: set[str] = set()
    if isinstance(value, dict):
        for key, member in value.items():
            path = f"{prefix}.{key}" if prefix else key
            paths.add(path)
            paths |= key_paths(member, path)
    elif isinstance(value, list):
        for element in value:
            paths |= key_paths(element, prefix + "[]")
    return paths


def history_depth(pod: dict[str, Any]) -> int:
    return 1 + max((history_depth(earlier) for earlier in pod["HistoryPods"]), default=0)


def created(job: dict[str, Any]) -> datetime:
    moment = parse_timestamp(job["GmtCreateTime"])
    assert moment is not None, job["GmtCreateTime"]
    return moment


# ---------------------------------------------------------------------------------------------
# Determinism


def test_the_same_seed_gives_the_same_lines() -> None:
    assert synth.generate_lines(200, seed=3).equals(synth.generate_lines(200, seed=3))


def test_another_seed_gives_other_jobs() -> None:
    one, other = synth.generate_lines(200, seed=3), synth.generate_lines(200, seed=4)
    assert not set(one.to_list()) & set(other.to_list())


@pytest.mark.parametrize("chunk_size", [1, 7, 64, 1000], ids=lambda size: f"chunks_of_{size}")
def test_the_chunk_size_does_not_change_the_jobs(chunk_size: int) -> None:
    whole = synth.generate_lines(100, seed=11)
    chunks = list(synth.iter_line_chunks(100, seed=11, chunk_size=chunk_size))
    assert [chunk.len() for chunk in chunks[:-1]] == [chunk_size] * (len(chunks) - 1)
    assert 0 < chunks[-1].len() <= chunk_size
    assert pl.concat(chunks).equals(whole)


def test_the_block_size_does_not_change_the_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    whole = synth.generate_lines(300, seed=11)
    monkeypatch.setattr(generate, "_BLOCK_ROWS", 13)
    assert synth.generate_lines(300, seed=11).equals(whole)


#: SHA-256 of the first 3,000 jobs (their lines joined by newlines) per (profile, seed).
BYTES_BEFORE_THE_PACKAGE = {
    ("default", 0): "fec72212c93a4c3587b104f27459087ac406479d7316808bcff7bc66972163e1",
    ("default", 2026): "1daacaef09537c080d3695233c8506878f9b3cb9b81eaf8e71f77e72a274fd8f",
    ("high-cardinality", 0): "e9c40b87577c53177b17c959546a1613b71679bed88cf927a8d328182bd3ed6a",
    ("high-cardinality", 2026): "cc5de872f2ee8cbf09423069eb4ca702fa5fbefdcce57e1bda120b380cabca69",
}


@pytest.mark.parametrize(("profile", "seed"), sorted(BYTES_BEFORE_THE_PACKAGE))
def test_the_jobs_are_the_bytes_the_single_module_made(profile: str, seed: int) -> None:
    """The digests were computed on main before ``synth.py`` became the ``jobquery.synth``
    package (and its two profiles' catalogue builders shared their common part): moving the
    code must not change a single generated byte, for either profile."""
    lines = synth.generate_lines(3_000, seed=seed, profile=profile).to_list()
    digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    assert digest == BYTES_BEFORE_THE_PACKAGE[profile, seed]


def test_a_job_does_not_depend_on_how_many_are_generated() -> None:
    assert synth.generate_lines(40, seed=5).equals(synth.generate_lines(300, seed=5)[:40])


def test_zero_jobs_is_an_empty_string_series() -> None:
    lines = synth.generate_lines(0)
    assert lines.dtype == pl.String and lines.len() == 0
    assert synth.generate_records(0) == []


def test_generate_records_are_the_parsed_lines() -> None:
    lines = synth.generate_lines(30, seed=8).to_list()
    assert synth.generate_records(30, seed=8) == [orjson.loads(line) for line in lines]


def test_write_ndjson_writes_the_lines_and_reports_progress(tmp_path: Path) -> None:
    target = tmp_path / "jobs.ndjson"
    progress: list[int] = []
    assert synth.write_ndjson(target, 120, seed=8, on_progress=progress.append) == 120
    expected = "".join(line + "\n" for line in synth.generate_lines(120, seed=8))
    assert target.read_text(encoding="utf-8") == expected
    assert progress == [120]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"count": -1}, "count"),
        ({"count": 2.0}, "count"),
        ({"count": True}, "count"),
        ({"count": 5, "seed": -1}, "seed"),
        ({"count": 5, "chunk_size": 0}, "chunk_size"),
        ({"count": 5, "end": datetime(2026, 1, 1)}, "timezone-aware"),
        (
            {"count": 5, "start": datetime(2026, 2, 1, tzinfo=UTC), "end": synth.DEFAULT_END},
            None,
        ),
        (
            {"count": 5, "start": synth.DEFAULT_END, "end": datetime(2026, 1, 1, tzinfo=UTC)},
            "after",
        ),
    ],
    ids=[
        "negative_count",
        "float_count",
        "bool_count",
        "negative_seed",
        "zero_chunk_size",
        "naive_datetime",
        "valid_window",
        "start_after_end",
    ],
)
def test_invalid_arguments_raise_value_error(
    arguments: dict[str, Any], message: str | None
) -> None:
    if message is None:
        assert len(list(synth.iter_line_chunks(**arguments))) == 1
        return
    with pytest.raises(ValueError, match=message):
        list(synth.iter_line_chunks(**arguments))


# ---------------------------------------------------------------------------------------------
# Wire shape


def test_every_line_is_a_job_with_a_unique_id_created_in_the_window(
    sample_jobs: list[dict[str, Any]],
) -> None:
    start = synth.DEFAULT_END - synth.DEFAULT_SPAN
    assert all(isinstance(job, dict) for job in sample_jobs)
    ids = [job["JobId"] for job in sample_jobs]
    assert all(isinstance(job_id, str) and job_id for job_id in ids)
    assert len(set(ids)) == len(ids)
    assert all(start <= created(job) <= synth.DEFAULT_END for job in sample_jobs)


def test_a_window_with_fractional_bounds_holds_every_creation_time() -> None:
    start = datetime(2025, 3, 1, 0, 0, 0, 250_000, tzinfo=UTC)
    end = datetime(2025, 3, 1, 0, 10, 0, 750_000, tzinfo=UTC)
    jobs = synth.generate_records(300, seed=2, start=start, end=end)
    assert all(start <= created(job) <= end for job in jobs)
    assert len({job["GmtCreateTime"] for job in jobs}) > 100
    assert len({job["JobId"] for job in jobs}) == 300


def test_job_ids_carry_the_creation_time(sample_jobs: list[dict[str, Any]]) -> None:
    for job in sample_jobs:
        match = re.fullmatch(r"dlc-(\d{14})-[0-9a-z]{13}", job["JobId"])
        assert match is not None, job["JobId"]
        assert match.group(1) == re.sub(r"\D", "", job["GmtCreateTime"])


def test_times_agree_with_the_status(sample_jobs: list[dict[str, Any]]) -> None:
    def moment(job: dict[str, Any], key: str) -> datetime | None:
        text = job.get(key, "")
        return parse_timestamp(text) if text else None

    for job in sample_jobs:
        status, finish = job["Status"], moment(job, "GmtFinishTime")
        order = [
            moment(job, key)
            for key in ("GmtCreateTime", "GmtSubmittedTime", "GmtRunningTime", "GmtFinishTime")
        ]
        present = [time for time in order if time is not None]
        assert present == sorted(present), job["JobId"]
        assert all(time <= synth.DEFAULT_END for time in present)
        assert isinstance(job["Duration"], int) and job["Duration"] >= 0
        if status in FINISHED_TIME:
            assert finish is not None and moment(job, FINISHED_TIME[status]) == finish
        else:
            assert finish is None, job["JobId"]
        if status in ("Running", "Restarting", "Stopping"):
            assert moment(job, "GmtRunningTime") is not None
        others = set(FINISHED_TIME.values()) - {FINISHED_TIME.get(status)}
        if status not in ("SucceededReserving", "FailedReserving"):
            assert all(moment(job, key) is None for key in others), job["JobId"]


def test_numbers_have_the_api_s_types(sample_jobs: list[dict[str, Any]]) -> None:
    for job in sample_jobs:
        assert job["RequestGPU"] in {"0", "1", "2", "4", "8", "16"}
        assert job["NodeCount"].isdigit() and int(job["NodeCount"]) >= 1
        assert isinstance(job["RequestCPU"], int)
        assert re.fullmatch(r"\d+Gi", job["RequestMemory"])
        assert job["RestartTimes"].isdigit()
        assert isinstance(job["Priority"], int) and 1 <= job["Priority"] <= 9
        for spec in job["JobSpecs"]:
            assert all(isinstance(spec["ResourceConfig"][key], str) for key in ("CPU", "GPU"))


# ---------------------------------------------------------------------------------------------
# Coverage and skew (over the 2,000 jobs of the bundled sample's seed)


def test_every_member_and_field_family_appears(sample_jobs: list[dict[str, Any]]) -> None:
    seen: set[str] = set()
    for job in sample_jobs:
        seen |= key_paths(job)
    missing = [path for path in (*JOB_ITEM_MEMBERS, *FAMILY_PATHS) if path not in seen]
    assert missing == []


def test_all_thirteen_statuses_appear(sample_jobs: list[dict[str, Any]]) -> None:
    statuses = collections.Counter(job["Status"] for job in sample_jobs)
    assert set(statuses) == set(synth.STATUSES) and len(synth.STATUSES) == 13
    assert statuses["Succeeded"] > statuses["Failed"] > statuses["Running"] > statuses["Queuing"]
    assert 0.03 <= statuses["Running"] / len(sample_jobs) <= 0.12


def test_the_cases_filters_care_about_appear(sample_jobs: list[dict[str, Any]]) -> None:
    def share(predicate: Any) -> float:
        return sum(1 for job in sample_jobs if predicate(job)) / len(sample_jobs)

    accessibility = collections.Counter(job.get("Accessibility") for job in sample_jobs)
    assert accessibility["PUBLIC"] > accessibility["PRIVATE"] > accessibility[None] > 0
    assert share(lambda job: job["Settings"].get("Tags")) > 0.2
    assert share(lambda job: job["Pods"] and history_depth(job["Pods"][0]) >= 3) > 0
    assert share(lambda job: not job["DisplayName"].isascii()) > 0.01
    assert 0.01 < share(lambda job: "mnist" in job["DisplayName"]) < 0.1
    assert share(lambda job: job["DisplayName"] != job["DisplayName"].lower()) > 0.05
    assert 0 < share(lambda job: job["IsDeleted"]) < 0.05
    assert share(lambda job: job.get("GmtFinishTime") == "") > 0
    assert share(lambda job: job["ResourceId"] == "") > 0.1
    assert share(lambda job: any(s.get("UseSpotInstance") for s in job["JobSpecs"])) > 0
    assert share(lambda job: "UserVpc" not in job) > 0.05
    assigned = [
        spec["AssignNodeSpec"]["EnableAssignNode"]
        for job in sample_jobs
        for spec in job["JobSpecs"]
        if "AssignNodeSpec" in spec
    ]
    assert True in assigned and False in assigned
    oversold = collections.Counter(job["Settings"].get("OversoldType") for job in sample_jobs)
    assert len(oversold) == 4  # three kinds, and none
    assert {job["UseOversoldResource"] for job in sample_jobs} == {True, False}
    times = collections.Counter(job["GmtCreateTime"] for job in sample_jobs)
    assert max(times.values()) >= 2  # some jobs share their creation second


def test_workspaces_users_and_job_types_are_skewed(sample_jobs: list[dict[str, Any]]) -> None:
    for key, population in (("WorkspaceId", 30), ("UserId", 200)):
        counts = collections.Counter(job[key] for job in sample_jobs)
        assert len(counts) >= population
        assert counts.most_common(1)[0][1] >= 10 * statistics.median(counts.values())
    job_types = collections.Counter(job["JobType"] for job in sample_jobs)
    assert job_types.most_common(1)[0][0] == "PyTorchJob"
    assert {"MPIJob", "RayJob", "TFJob", "XGBoostJob", "OneFlowJob"} <= set(job_types)


def test_more_jobs_are_created_recently(sample_jobs: list[dict[str, Any]]) -> None:
    half = synth.DEFAULT_END - synth.DEFAULT_SPAN / 2
    recent = sum(1 for job in sample_jobs if created(job) >= half)
    assert recent > 0.6 * len(sample_jobs)


# ---------------------------------------------------------------------------------------------
# Fixtures made from the generator, and the hand-written ones


def test_the_synthetic_fixture_is_what_the_generator_makes(tmp_path: Path) -> None:
    fresh = tmp_path / "synthetic_small.ndjson"
    synth.write_ndjson(fresh, count=500, seed=7)
    assert (FIXTURES / "synthetic_small.ndjson").read_bytes() == fresh.read_bytes()


def test_the_bundled_sample_is_what_the_generator_makes(sample_lines: list[str]) -> None:
    assert SAMPLE.read_text(encoding="utf-8") == "".join(line + "\n" for line in sample_lines)


def test_the_bundled_sample_has_running_mnist_jobs_in_its_last_week(
    sample_jobs: list[dict[str, Any]],
) -> None:
    # The command line's default window is the 7 days up to the newest job of the dump, and
    # the README's first command asks for running "mnist" jobs.
    newest = max(created(job) for job in sample_jobs)
    running = [
        job
        for job in sample_jobs
        if job["Status"] == "Running"
        and "mnist" in job["DisplayName"].casefold()
        and created(job) >= newest - timedelta(days=7)
    ]
    assert running


def test_the_seed_page_keeps_the_seed_s_sample_job() -> None:
    page = orjson.loads((FIXTURES / "seed_page.json").read_bytes())
    assert list(page) == ["Jobs", "TotalCount", "RequestId"]
    assert page["TotalCount"] == 2 and page["RequestId"] == "473469C7-AA6F-4DC5-B3DB-A3DC0DE3C83E"
    [job] = page["Jobs"]
    assert job["JobId"] == "dlc-20210126170216-mtl37ge7gkvdz" and job["UserVpc"] == "vpc-1"
    assert history_depth(job["Pods"][0]) == 3


def test_the_edge_cases_are_one_unique_job_per_line() -> None:
    lines = (FIXTURES / "edge_cases.ndjson").read_text(encoding="utf-8").splitlines()
    jobs = [orjson.loads(line) for line in lines]
    assert all(isinstance(job, dict) for job in jobs)
    assert len({job["JobId"] for job in jobs}) == len(jobs) >= 30
    names = {job.get("DisplayName") for job in jobs}
    assert {"Straße", "STRASSE", "İstanbul", "istanbul", "a.b*c?", "100%_done", "[x]+(y)"} <= names
    assert {"^$|\\", "test-job1", "job-test", "job-test2", "job-Test", "job-t1", None} <= names
    assert {type(job.get("UserVpc")) for job in jobs} >= {str, dict}
    assert max(history_depth(pod) for job in jobs for pod in job.get("Pods", [])) >= 6
    assert any("Status" not in job for job in jobs)
    assert any(parse_timestamp(job["GmtCreateTime"]) is None for job in jobs)


# ---------------------------------------------------------------------------------------------
# Profiles


def _digest(lines: pl.Series) -> str:
    return hashlib.sha256("\n".join(lines.to_list()).encode()).hexdigest()


@pytest.mark.parametrize(
    ("count", "seed", "window", "digest"),
    [
        (
            40_000,
            20261129,
            None,
            "f0e76f6b7dbf9d5d9712a647f8f51d4a7359624a6a08a42a3d46fb2aaa72cb5a",
        ),
        (3_000, 7, None, "6054b1629c8f8fe95754f2bc6c35060aa30ceb527acc971c0851ab6d629cdb12"),
        (
            5_000,
            3,
            (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)),
            "7bf87b2b47f97856d223cd57750d72da2ba65f19fc643f3d622c8ff7d7960a5a",
        ),
    ],
    ids=["benchmark_seed_two_blocks", "seed_7", "two_month_window"],
)
def test_the_default_profile_makes_the_same_bytes_as_before_profiles_existed(
    count: int, seed: int, window: tuple[datetime, datetime] | None, digest: str
) -> None:
    """Digests taken before the high-cardinality profile was added: the golden files, the
    bundled sample and every benchmark number rest on these jobs not changing."""
    start, end = window or (None, None)
    lines = synth.generate_lines(count, seed=seed, start=start, end=end)
    assert _digest(lines) == digest
    assert synth.generate_lines(count, seed=seed, start=start, end=end, profile="default").equals(
        lines
    )


HIGH = "high-cardinality"


@pytest.fixture(scope="module")
def high_jobs() -> list[dict[str, Any]]:
    return synth.generate_records(20_000, seed=2026, profile=HIGH)


def test_an_unknown_profile_is_refused() -> None:
    with pytest.raises(ValueError, match="default, high-cardinality"):
        synth.generate_lines(3, profile="sparse")


def test_the_high_cardinality_profile_is_deterministic_and_chunk_independent() -> None:
    whole = synth.generate_lines(300, seed=4, profile=HIGH)
    assert whole.equals(synth.generate_lines(300, seed=4, profile=HIGH))
    chunks = list(synth.iter_line_chunks(300, seed=4, chunk_size=37, profile=HIGH))
    assert pl.concat(chunks).equals(whole)
    assert synth.generate_lines(40, seed=4, profile=HIGH).equals(whole[:40])
    assert not set(whole.to_list()) & set(synth.generate_lines(300, seed=5, profile=HIGH))
    assert not set(whole.to_list()) & set(synth.generate_lines(300, seed=4))


def test_high_cardinality_names_users_and_workspaces_are_many(
    high_jobs: list[dict[str, Any]],
) -> None:
    names = collections.Counter(job["DisplayName"] for job in high_jobs)
    assert len(names) > 0.9 * len(high_jobs)  # nearly unique...
    assert names.most_common(1)[0][1] > 100  # ...but for a few common names
    model_task = re.compile(r"^.+-[a-z0-9]{6}$|^.+-\d{8}-[a-z0-9]{4}$|^.+-v\d-[a-z0-9]{5}$")
    suffixed = [name for name in names if model_task.match(name)]
    assert len(suffixed) > 0.9 * len(names)
    assert any("mnist" in name for name in names)
    users = collections.Counter(job["UserId"] for job in high_jobs)
    assert len(users) > 5_000  # of 30,000: the tail is long
    assert users.most_common(1)[0][1] >= 50 * statistics.median(users.values())
    workspaces = collections.Counter(job["WorkspaceId"] for job in high_jobs)
    assert len(workspaces) >= 300
    usernames = {job["Username"] for job in high_jobs}
    assert len(usernames) > 0.9 * len(users)


def test_high_cardinality_tags_are_three_or_more_one_unique_one_with_thousands_of_values(
    high_jobs: list[dict[str, Any]],
) -> None:
    tags = [job["Settings"]["Tags"] for job in high_jobs]
    assert all(len(job_tags) >= 3 and {"team", "experiment", "run_id"} <= set(job_tags)
               for job_tags in tags)  # fmt: skip
    run_ids = [job_tags["run_id"] for job_tags in tags]
    assert len(set(run_ids)) == len(run_ids)
    assert all(re.fullmatch("[0-9a-f]{32}", run_id) for run_id in run_ids)
    experiments = collections.Counter(job_tags["experiment"] for job_tags in tags)
    assert len(experiments) > 2_000
    assert experiments.most_common(1)[0][1] >= 10 * statistics.median(experiments.values())
    assert len({job_tags["team"] for job_tags in tags}) == 7
    assert any("project" in job_tags for job_tags in tags)
    assert any("env" in job_tags for job_tags in tags)


def test_high_cardinality_jobs_span_a_year_and_keep_the_default_shape(
    high_jobs: list[dict[str, Any]], sample_jobs: list[dict[str, Any]]
) -> None:
    times = sorted(created(job) for job in high_jobs)
    assert times[0] - (synth.DEFAULT_END - synth.DEFAULT_SPAN) < timedelta(days=7)
    assert synth.DEFAULT_END - times[-1] < timedelta(days=1)
    ids = [job["JobId"] for job in high_jobs]
    assert len(set(ids)) == len(ids)
    assert {job["Status"] for job in high_jobs} == set(synth.STATUSES)

    # the same members as the default profile's jobs (tag keys aside): only values differ
    def members(jobs: list[dict[str, Any]]) -> set[str]:
        paths: set[str] = set().union(*map(key_paths, jobs))
        return {path for path in paths if not path.startswith("Settings.Tags.")}

    assert members(sample_jobs[:500]) <= members(high_jobs)
    for job in high_jobs[:2_000]:
        assert job["Settings"]["BusinessUserId"]
