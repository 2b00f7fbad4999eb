"""The named ListJobs workloads every engine is measured on, defined once, for both profiles.

A workload is a wire request (a mapping of strings, exactly as a query string decodes), the
clock ``now`` and the ``caller``. ``now`` is the end of the synthetic data's time span
(:data:`jobquery.synth.DEFAULT_END`), so that the windows hit data.

The filter values are drawn from the data the workload runs on: a :class:`Sample` holds the
first jobs the generator makes for the data set (job ``i`` of a seed and profile is the same
whatever the size, so every size of one profile gets the same values and every value is in
the data). A few workloads keep the hand-picked values they had before the samples existed
(``mnist``, ``dave``, workspace ``103899``...) on the default profile, so their numbers stay
comparable across runs; on the high-cardinality profile they draw theirs.

Each :class:`WorkloadSpec` makes a list of requests (:meth:`WorkloadSpec.make`): the first is
the one timed repeatedly; the others carry values no earlier request of the list used (another
JobId fragment, another user, another page number...), and are timed once each as *first
calls*: a store sees those values for the first time (:func:`benchmarks.suite.measure_first_calls`).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from jobquery import synth
from jobquery.request import Caller, format_timestamp, parse_timestamp

#: The clock of every workload: the end of the synthetic creation-time window.
NOW: datetime = synth.DEFAULT_END
#: A user with many PRIVATE jobs in the default synthetic platform (``yangli``), asking as
#: non-admin.
PRIVATE_JOBS_OWNER = "23198756866041503"
PAGE_SIZE = "50"
DEFAULT = "default"
HIGH = "high-cardinality"
PROFILES: tuple[str, ...] = synth.PROFILES


@dataclass(frozen=True)
class Workload:
    """One ListJobs call: what is asked (``request``), when (``now``) and by whom (``caller``).

    ``name`` is the workload's; ``values`` tells the requests of one workload apart
    (``""`` for the repeated one, e.g. ``"first call 3"`` for the others).
    """

    name: str
    about: str
    request: Mapping[str, str]
    now: datetime = NOW
    caller: Caller | None = None
    values: str = ""


@dataclass(frozen=True)
class Sample:
    """Jobs of a data set to draw filter values from: the first ones its generator makes.

    Attributes
    ----------
    profile : str
        The synthetic profile of the data set.
    jobs : list of dict
        Listable jobs (not deleted), in the generator's order.
    """

    profile: str
    jobs: list[dict[str, Any]]

    def since(self, days: int) -> list[dict[str, Any]]:
        """The jobs created in the last ``days`` days before :data:`NOW`."""
        start = NOW - timedelta(days=days)
        return [job for job in self.jobs if _created(job) >= start]


def _created(job: Mapping[str, Any]) -> datetime:
    moment = parse_timestamp(job["GmtCreateTime"])
    assert moment is not None
    return moment


def _days_ago(days: int) -> str:
    return format_timestamp(NOW - timedelta(days=days))


#: The whole synthetic year (and a day).
YEAR = {"StartTime": _days_ago(366)}

#: What a spec's ``draw`` gives for request number ``k``: the filter parameters (merged into
#: the spec's fixed ones) and a caller; None when the sample has nothing left to draw.
Drawn = tuple[Mapping[str, str], Caller | None] | None


@dataclass(frozen=True)
class WorkloadSpec:
    """A named workload: fixed parameters, and values drawn from a sample per request.

    ``draw(sample, rng, k)`` gives request ``k``'s drawn parameters; ``k = 0`` is the repeated
    request (``fixed_first``, when given, replaces it on the default profile). Requests
    whose drawn parameters repeat an earlier one are skipped, so that every first call has new
    values. ``profiles``: where the workload runs (a value it needs may not exist elsewhere).
    """

    name: str
    about: str
    fixed: Mapping[str, str]
    draw: Callable[[Sample, random.Random, int], Drawn]
    profiles: tuple[str, ...] = PROFILES
    fixed_first: tuple[Mapping[str, str], Caller | None] | None = None

    def make(self, sample: Sample, count: int) -> list[Workload]:
        """Up to ``count`` workloads with distinct values: the repeated one, then first calls
        (fewer when the sample runs out of values)."""
        made: list[Workload] = []
        seen: set[tuple[tuple[str, str], ...]] = set()
        rng = random.Random(f"{self.name}:{sample.profile}")
        for k in range(count * 20):
            if len(made) == count:
                break
            drawn: Drawn
            if k == 0 and self.fixed_first is not None and sample.profile == DEFAULT:
                drawn = self.fixed_first
            else:
                drawn = self.draw(sample, rng, k)
            if drawn is None:
                continue
            parameters, caller = drawn
            request = {**self.fixed, **parameters}
            key = (*sorted(request.items()), ("caller", "" if caller is None else caller.user_id))
            if key in seen:
                continue
            seen.add(key)  # type: ignore[arg-type]
            values = "" if not made else f"first call {len(made)}"
            made.append(Workload(self.name, self.about, request, NOW, caller, values))
        return made


def _fragment(text: str, rng: random.Random, length: int, *, tail: int | None = None) -> str:
    """``length`` characters of ``text`` (of its last ``tail`` characters), casefolded."""
    folded = text.casefold()
    if tail is not None:
        folded = folded[-tail:]
    if len(folded) <= length:
        return folded
    start = rng.randrange(len(folded) - length + 1)
    return folded[start : start + length]


def _pick(jobs: Sequence[dict[str, Any]], rng: random.Random) -> dict[str, Any] | None:
    return rng.choice(jobs) if jobs else None


def _default_window_or_earlier(sample: Sample, rng: random.Random, k: int) -> Drawn:
    """The default window for ``k = 0``; then 7 days ending ``k`` hours earlier."""
    if k == 0:
        return {}, None
    end = NOW - timedelta(hours=k)
    return {
        "StartTime": format_timestamp(end - timedelta(days=7)),
        "EndTime": format_timestamp(end),
    }, None


def _page_number(first: int, step: int) -> Callable[[Sample, random.Random, int], Drawn]:
    def draw(sample: Sample, rng: random.Random, k: int) -> Drawn:
        return {"PageNumber": str(first + step * k)}, None

    return draw


def _name_word_of_running_job(sample: Sample, rng: random.Random, k: int) -> Drawn:
    running = [job for job in sample.since(30) if job.get("Status") == "Running"]
    job = _pick(running, rng)
    if job is None:
        return None
    words = [w for w in re.split(r"[^a-z0-9]+", job["DisplayName"].casefold()) if len(w) >= 4]
    words = [w for w in words if not w.isdigit()]
    return ({"DisplayName": rng.choice(words)}, None) if words else None


def _user_workspace_team(sample: Sample, rng: random.Random, k: int) -> Drawn:
    tagged = [job for job in sample.jobs if "team" in (job["Settings"].get("Tags") or {})]
    job = _pick(tagged, rng)
    if job is None:
        return None
    return {
        "Username": job["Username"].casefold(),
        "WorkspaceId": job["WorkspaceId"],
        "Tags": f'{{"team":"{job["Settings"]["Tags"]["team"]}"}}',
    }, None


_FINISHED = ("Failed", "Stopped", "Succeeded")


def _statuses(sample: Sample, rng: random.Random, k: int) -> Drawn:
    others = [status for status in synth.STATUSES if status not in _FINISHED]
    chosen = rng.sample(_FINISHED, rng.randint(1, 3)) + rng.sample(others, rng.randint(0, 2))
    return {"Status": ",".join(chosen)}, None


def _gpu_range(sample: Sample, rng: random.Random, k: int) -> Drawn:
    low = rng.randint(0, 8)
    return {"NumericRangeMin": str(low), "NumericRangeMax": str(rng.randint(low, 16))}, None


def _image_token(sample: Sample, rng: random.Random, k: int) -> Drawn:
    job = _pick(sample.since(30), rng)
    if job is None:
        return None
    images = [spec.get("Image", "") for spec in job.get("JobSpecs", [])]
    tokens = [t for image in images for t in re.findall(r"[a-z0-9]+", image.lower()) if len(t) > 3]
    return ({"ImageSearch": rng.choice(tokens)}, None) if tokens else None


def _private_owner(sample: Sample, rng: random.Random, k: int) -> Drawn:
    private = [job for job in sample.since(7) if job.get("Accessibility") == "PRIVATE"]
    job = _pick(private, rng)
    return None if job is None else ({}, Caller(user_id=job["UserId"], is_admin=False))


def _job_id_fragment(sample: Sample, rng: random.Random, k: int) -> Drawn:
    job = _pick(sample.jobs, rng)
    # the random tail of dlc-<creation time>-<13 characters>
    return None if job is None else ({"JobId": _fragment(job["JobId"], rng, 6, tail=13)}, None)


def _display_name_fragment(sample: Sample, rng: random.Random, k: int) -> Drawn:
    ascii_named = [job for job in sample.jobs if job["DisplayName"].isascii()]
    job = _pick(ascii_named, rng)
    if job is None:
        return None
    return {"DisplayName": _fragment(job["DisplayName"], rng, 5, tail=8)}, None


def _username_fragment(sample: Sample, rng: random.Random, k: int) -> Drawn:
    ascii_named = [job for job in sample.jobs if job["Username"].isascii()]
    job = _pick(ascii_named, rng)
    if job is None:
        return None
    return {"Username": _fragment(job["Username"], rng, 5, tail=8)}, None


def _tags_json(tags: Mapping[str, str]) -> str:
    return "{" + ",".join(f'"{key}":"{value}"' for key, value in tags.items()) + "}"


def _two_tags(sample: Sample, rng: random.Random, k: int) -> Drawn:
    if sample.profile == HIGH:
        job = _pick(sample.jobs, rng)
        keys = ["team", "experiment"]
    else:
        job = _pick([j for j in sample.jobs if len(j["Settings"].get("Tags") or {}) >= 2], rng)
        keys = None
    if job is None:
        return None
    tags = job["Settings"]["Tags"]
    keys = keys or rng.sample(sorted(tags), 2)
    return {"Tags": _tags_json({key: tags[key] for key in keys})}, None


def _experiment_and_run(sample: Sample, rng: random.Random, k: int) -> Drawn:
    job = _pick(sample.jobs, rng)
    if job is None:
        return None
    tags = job["Settings"]["Tags"]
    return {"Tags": _tags_json({"experiment": tags["experiment"], "run_id": tags["run_id"]})}, None


def _job_ids(sample: Sample, rng: random.Random, k: int) -> Drawn:
    if len(sample.jobs) < 50:
        return None
    return {"JobIds": ",".join(job["JobId"] for job in rng.sample(sample.jobs, 50))}, None


def _resource_type_gpu(sample: Sample, rng: random.Random, k: int) -> Drawn:
    quota = [job for job in sample.since(90) if job.get("ResourceId")]
    job = _pick(quota, rng)
    if job is None:
        return None
    return {
        "ResourceId": job["ResourceId"],
        "JobType": job["JobType"],
        "NumericRangeMin": str(rng.choice([0, 1, 2])),
        "NumericRangeMax": str(rng.choice([4, 8, 16])),
    }, None


SPECS: tuple[WorkloadSpec, ...] = (
    WorkloadSpec(
        "default_listing",
        "no filter: the default 7-day window, newest first, 50 per page (first calls: 7 days "
        "ending 1, 2, ... hours earlier)",
        {"PageSize": PAGE_SIZE},
        _default_window_or_earlier,
    ),
    WorkloadSpec(
        "fuzzy_name_running_30d",
        "`DisplayName=mnist` (case-insensitive substring) and `Status=Running` in the last 30 "
        "days, newest first (first calls: a word of another running job's name)",
        {"Status": "Running", "StartTime": _days_ago(30), "PageSize": PAGE_SIZE},
        _name_word_of_running_job,
        fixed_first=({"DisplayName": "mnist"}, None),
    ),
    WorkloadSpec(
        "user_in_workspace_with_tag",
        "a `Username` (substring), a `WorkspaceId` and `Tags={team: ...}`, all time, sorted by "
        "`DisplayName` ascending (default profile: `dave`, `103899`, `nlp`; otherwise a sampled "
        "job's user, workspace and team)",
        {"SortBy": "DisplayName", "Order": "asc", "StartTime": "2000-01-01T00:00:00Z"}
        | {"PageSize": PAGE_SIZE},
        _user_workspace_team,
        fixed_first=(
            {"Username": "dave", "WorkspaceId": "103899", "Tags": '{"team":"nlp"}'},
            None,
        ),
    ),
    WorkloadSpec(
        "deep_page",
        "page 1000 (jobs 49,951-50,000) of the last 180 days, oldest first (first calls: pages "
        "1007, 1014, ...)",
        {
            "StartTime": _days_ago(180),
            "SortBy": "GmtCreateTime",
            "Order": "asc",
            "PageSize": PAGE_SIZE,
        },
        _page_number(1000, 7),
    ),
    WorkloadSpec(
        "status_list_sorted_by_finish",
        "`Status=Failed,Stopped,Succeeded` in the last 90 days, by `GmtFinishTime` newest first "
        "(first calls: other status lists)",
        {"SortBy": "GmtFinishTime", "Order": "desc", "StartTime": _days_ago(90)}
        | {"PageSize": PAGE_SIZE},
        _statuses,
        fixed_first=({"Status": "Failed,Stopped,Succeeded"}, None),
    ),
    WorkloadSpec(
        "numeric_gpu_range",
        "`RequestGPU` between 4 and 8 in the last 90 days, newest first (first calls: other "
        "ranges)",
        {"NumericRangeField": "RequestGPU", "StartTime": _days_ago(90), "PageSize": PAGE_SIZE},
        _gpu_range,
        fixed_first=({"NumericRangeMin": "4", "NumericRangeMax": "8"}, None),
    ),
    WorkloadSpec(
        "full_text_image_search",
        "`ImageSearch=megatron` (a token of some role's image) in the last 30 days, newest first "
        "(first calls: a token of another job's image)",
        {"StartTime": _days_ago(30), "PageSize": PAGE_SIZE},
        _image_token,
        fixed_first=({"ImageSearch": "megatron"}, None),
    ),
    WorkloadSpec(
        "private_caller_view",
        "a non-admin caller with PRIVATE jobs, `ShowOwn=false`: public jobs and their own "
        "private ones in the default window (default profile: the user with the most)",
        {"ShowOwn": "false", "PageSize": PAGE_SIZE},
        _private_owner,
        fixed_first=({}, Caller(user_id=PRIVATE_JOBS_OWNER, is_admin=False)),
    ),
    WorkloadSpec(
        "job_id_substring_year",
        "`JobId` = 6 characters of a sampled JobId's random tail, over the whole year",
        {**YEAR, "PageSize": PAGE_SIZE},
        _job_id_fragment,
    ),
    WorkloadSpec(
        "display_name_fragment_year",
        "`DisplayName` = 5 characters of a sampled name's last 8 (on the high-cardinality "
        "profile, mostly its random run suffix), over the whole year",
        {**YEAR, "PageSize": PAGE_SIZE},
        _display_name_fragment,
    ),
    WorkloadSpec(
        "username_fragment_year",
        "`Username` = 5 characters of a sampled username's last 8, over the whole year",
        {**YEAR, "PageSize": PAGE_SIZE},
        _username_fragment,
    ),
    WorkloadSpec(
        "two_tags_by_name",
        "`Tags` with two keys of a sampled job (high-cardinality profile: `team` and its "
        "`experiment`, one of 4,000 values), the whole year, sorted by `DisplayName` ascending",
        {**YEAR, "SortBy": "DisplayName", "Order": "asc", "PageSize": PAGE_SIZE},
        _two_tags,
    ),
    WorkloadSpec(
        "experiment_and_run_id_by_name",
        "`Tags` = a sampled job's `experiment` and its `run_id` (unique per job), the whole "
        "year, sorted by `DisplayName` ascending (high-cardinality profile only: the default "
        "profile has no such tags)",
        {**YEAR, "SortBy": "DisplayName", "Order": "asc", "PageSize": PAGE_SIZE},
        _experiment_and_run,
        profiles=(HIGH,),
    ),
    WorkloadSpec(
        "fifty_job_ids",
        "`JobIds` = 50 sampled JobIds, the whole year",
        {**YEAR, "PageSize": PAGE_SIZE},
        _job_ids,
    ),
    WorkloadSpec(
        "deep_page_by_name",
        "page 500 (jobs 24,951-25,000) of the whole year sorted by `DisplayName` descending "
        "(first calls: pages 503, 506, ...)",
        {**YEAR, "SortBy": "DisplayName", "Order": "desc", "PageSize": PAGE_SIZE},
        _page_number(500, 3),
    ),
    WorkloadSpec(
        "resource_type_gpu_range",
        "a sampled job's `ResourceId` and `JobType`, `RequestGPU` in a drawn range, the last "
        "90 days, newest first",
        {"NumericRangeField": "RequestGPU", "StartTime": _days_ago(90), "PageSize": PAGE_SIZE},
        _resource_type_gpu,
    ),
)

#: How many sampled jobs workloads draw their values from.
SAMPLE_JOBS = 4_000


def sample_of(
    profile: str, *, seed: int, start: datetime | None = None, jobs: int = SAMPLE_JOBS
) -> Sample:
    """The first ``jobs`` jobs the generator makes for a data set (seed, profile, window),
    the deleted ones left out: jobs every size of that data set holds."""
    records = synth.generate_records(jobs, seed=seed, start=start, profile=profile)
    return Sample(profile, [job for job in records if job.get("IsDeleted") is not True])


def specs_for(profile: str) -> tuple[WorkloadSpec, ...]:
    """The workloads that run on a profile."""
    return tuple(spec for spec in SPECS if profile in spec.profiles)


def workloads_for(sample: Sample) -> tuple[Workload, ...]:
    """The repeated request of every workload of the sample's profile."""
    return tuple(spec.make(sample, 1)[0] for spec in specs_for(sample.profile))


def first_calls(sample: Sample, count: int) -> dict[str, list[Workload]]:
    """Per workload, ``count`` requests with values its repeated request does not use."""
    return {spec.name: spec.make(sample, count + 1)[1:] for spec in specs_for(sample.profile)}


def spec(name: str) -> WorkloadSpec:
    """The workload spec called ``name``."""
    for found in SPECS:
        if found.name == name:
            return found
    raise KeyError(f"no workload {name!r}; known: {', '.join(s.name for s in SPECS)}")


def named(workloads: Sequence[Workload], name: str) -> Workload:
    """The workload called ``name`` among some workloads."""
    for workload in workloads:
        if workload.name == name:
            return workload
    raise KeyError(f"no workload {name!r} here; known: {', '.join(w.name for w in workloads)}")
