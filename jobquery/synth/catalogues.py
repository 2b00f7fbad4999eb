"""Catalogues: pre-rendered JSON fragments, chosen per job by index.

The platform (users, workspaces, quotas, templates, names, ...) is built once per profile
from fixed generators, the same for every seed; a job gathers its fragments by index.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, Final, TypedDict

import numpy as np
import polars as pl

from jobquery.synth.draws import _F64, _I64, _Alias, _alias, _cumulative, _Draws, _Mask, _zipf
from jobquery.synth.text import _json, _members
from jobquery.synth.vocabulary import (
    _CALLERS,
    _COMMANDS,
    _COMMON_NAME_SHARE,
    _COMMON_NAMES,
    _CONFIGS,
    _CPU_ROLES,
    _CREATING,
    _ECS_SPECS,
    _END_TIME_KEY,
    _EXPERIMENT_COUNT,
    _FINISHED,
    _GIVEN_NAMES,
    _HIGH_USER_COUNT,
    _HIGH_WORKSPACE_COUNT,
    _IMAGES,
    _JOB_SWITCHES,
    _JOB_TYPES,
    _MAX_MINUTES,
    _MAX_ROLES,
    _MODELS,
    _NAME_BASES,
    _OVERSOLD,
    _PHASE,
    _PIPELINE_CALLERS,
    _POD_EXTRAS,
    _POD_STATES,
    _QUOTA_GPU_TYPES,
    _REASONS,
    _REGIONS,
    _RETRIES,
    _ROLE_LAYOUTS,
    _ROLES,
    _SERVICE_ACCOUNTS,
    _TAG_VALUES,
    _TASKS,
    _USER_COUNT,
    _WORKSPACE_NAMES,
    STATUSES,
)

_ALNUM_TEXT: Final = "abcdefghijklmnopqrstuvwxyz0123456789"


def _catalogue(fragments: Sequence[str | None]) -> pl.Series:
    """A catalogue whose last entry is null, so that index ``-1`` means "absent"."""
    return pl.Series([*fragments, None], dtype=pl.String)


def _pick(catalogue: pl.Series, index: _I64, present: _Mask | None = None) -> pl.Series:
    if present is not None:
        index = np.where(present, index, len(catalogue) - 1)
    return catalogue.gather(index)


@dataclass(frozen=True)
class _Weighted:
    fragments: pl.Series
    weights: _Alias


def _weighted(entries: Sequence[tuple[str, float]]) -> _Weighted:
    return _Weighted(
        _catalogue([fragment for fragment, _ in entries]),
        _alias([weight for _, weight in entries]),
    )


@dataclass(frozen=True)
class _Grouped:
    """Catalogue entries in groups (per job type, per status, ...); a job picks in its group."""

    fragments: pl.Series
    start: _I64
    size: _I64

    def pick(self, draws: _Draws, stream: str, group: _I64) -> _I64:
        return self.start[group] + draws.below(stream, self.size[group])


def _grouped(groups: Sequence[Sequence[str]]) -> _Grouped:
    sizes = [len(group) for group in groups]
    return _Grouped(
        _catalogue([fragment for group in groups for fragment in group]),
        np.cumsum([0, *sizes[:-1]]).astype(np.int64),
        np.array(sizes, dtype=np.int64),
    )


@dataclass(frozen=True)
class _Platform:
    """The imaginary platform: the catalogues and the attributes that tie them together.

    Catalogues that always follow each other in a job are stored as their product, so that a
    job picks one fragment (index ``i * len(b) + j``) instead of two.
    """

    users: pl.Series  # per (user, business user): ,"UserId":..,"Username":..,"Settings":{"Busi..
    user_weights: _Alias
    user_home: _I64  # home workspace of each user
    user_private: _F64  # share of a user's jobs that are PRIVATE
    workspace_weights: _Alias
    workspace_region: _I64
    workspace_vpc: _Mask
    placements: pl.Series  # per (workspace, resource): without, then with UserVpc
    placement_start: _I64  # first entry of each workspace
    placement_weights: _F64  # (workspaces, entries) running totals, padded with the total
    placement_public: _Mask
    display_names: pl.Series  # per (name, suffix): ,"DisplayName":".."
    name_weights: _Alias
    suffix_weights: _Alias
    job_type_weights: _Alias
    templates: _Grouped  # per (job type, public?): ,"JobType":..,"JobSpecs":[..],"RequestGPU":..
    template_roles: _I64  # (templates, _MAX_ROLES): index into _ROLES, -1 past the last role
    code: _Grouped  # per job type: ,"UserCommand":..,...
    statuses: _Grouped  # per status: the end of StatusHistory, then ,"Status":..,"ReasonCode":..
    policy_flags: pl.Series  # per (policy, flags): ,"Priority":..,..,"IsDeleted":..,..
    extras: _Weighted  # optional top-level families
    callers: pl.Series  # per (pipeline caller, pipeline), then the other callers
    caller_weights: _Alias
    pipeline_weights: _Alias
    tags_oversold: pl.Series  # per (tags, oversold kind): ,"Tags":{..},"OversoldType":..
    tag_weights: _Alias
    settings_tail: pl.Series  # the rarer settings, closing Settings with }
    pod_roles: pl.Series  # per (role, state, extra): -worker-0","Type":..,"Status":..,..
    #: what the high-cardinality profile makes differently (None: the default profile)
    high: _HighCardinality | None = None


@dataclass(frozen=True)
class _HighCardinality:
    """The catalogues of the high-cardinality profile that replace the default ones.

    A user is two pieces (``users`` then ``business``) instead of a product with the service
    accounts; a DisplayName is a ``name_prefixes`` entry and, for the first ``named_runs``
    entries, a run suffix made per job; Tags are a head (``team``, maybe ``project`` and
    ``env``), an ``experiment`` and a ``run_id`` made per job, then the OversoldType.
    """

    business: pl.Series  # per user: its own id ("..."), then the service accounts
    name_prefixes: pl.Series  # ,"DisplayName":"<model>-<task>; then whole common names
    name_weights: _Alias
    named_runs: int  # prefixes below this index take a run suffix
    tag_heads: pl.Series  # ,"Tags":{"team":..[,"project":..][,"env":..]
    tag_head_weights: _Alias
    experiments: pl.Series  # ,"experiment":"exp-0421"
    experiment_weights: _Alias
    oversold: pl.Series  # per oversold kind: "" or ,"OversoldType":..


def _product(first: Sequence[str], second: Sequence[str]) -> list[str]:
    return [a + b for a in first for b in second]


class _Population(TypedDict):
    """The fields of ``_Platform`` that follow from its workspaces and users alone."""

    user_home: _I64
    user_private: _F64
    workspace_weights: _Alias
    workspace_region: _I64
    workspace_vpc: _Mask
    placements: pl.Series
    placement_start: _I64
    placement_weights: _F64
    placement_public: _Mask


def _population(
    workspaces: list[dict[str, Any]], users: list[tuple[str, str, int, float]]
) -> _Population:
    """What both profiles derive the same way from their workspaces and users."""
    placements, placement_start, placement_weights, placement_public = _placements(workspaces)
    return _Population(
        user_home=np.array([home for _, _, home, _ in users], dtype=np.int64),
        user_private=np.array([private for *_, private in users], dtype=np.float64),
        workspace_weights=_alias(_zipf(len(workspaces), 0.9)),
        workspace_region=np.array([ws["region"] for ws in workspaces], dtype=np.int64),
        workspace_vpc=np.array([ws["vpc"] is not None for ws in workspaces], dtype=np.bool_),
        placements=placements,
        placement_start=placement_start,
        placement_weights=placement_weights,
        placement_public=placement_public,
    )


def _service_accounts() -> list[str]:
    """The BusinessUserIds that are not one of the users, as JSON strings."""
    return [f'"{166_924 + 7_919 * k}"' for k in range(_SERVICE_ACCOUNTS)]


def _oversold_members() -> list[str]:
    """Per oversold kind: nothing, or its ``,"OversoldType":..`` member."""
    return [_members({"OversoldType": kind}) if kind else "" for kind, _ in _OVERSOLD]


@cache
def _platform(profile: str = "default") -> _Platform:
    """Build the platform of a profile once; it is the same for every seed."""
    if profile == "high-cardinality":
        return _high_cardinality_platform()
    workspaces = _workspaces(random.Random(1))
    users = _users(random.Random(2), len(workspaces))
    templates, template_roles = _templates(random.Random(3))
    names, suffixes = _names(), _suffixes(random.Random(5))
    tags, pipelines = _tags(random.Random(9)), _pipelines(random.Random(8))
    business = [_json(uid) for uid, *_ in users]
    service_accounts = _service_accounts()
    return _Platform(
        users=_catalogue(
            [
                _members({"UserId": uid, "Username": name}) + f',"Settings":{{"BusinessUserId":{b}'
                for (uid, name, *_), own in zip(users, business, strict=True)
                for b in [own, *service_accounts]
            ]
        ),
        user_weights=_alias(_zipf(len(users), 0.85)),
        **_population(workspaces, users),
        display_names=_catalogue(_product([n for n, _ in names], [s for s, _ in suffixes])),
        name_weights=_alias([w for _, w in names]),
        suffix_weights=_alias([w for _, w in suffixes]),
        job_type_weights=_alias(list(_JOB_TYPES.values())),
        templates=templates,
        template_roles=template_roles,
        code=_code(random.Random(6)),
        statuses=_statuses_catalogue(),
        policy_flags=_catalogue(_product(_policy(), _flags())),
        extras=_weighted(_extras(random.Random(7))),
        callers=_catalogue(
            [
                _members({"Caller": caller}) + pipeline
                for caller, _ in _CALLERS[:_PIPELINE_CALLERS]
                for pipeline, _ in pipelines
            ]
            + [_members({"Caller": caller}) for caller, _ in _CALLERS[_PIPELINE_CALLERS:]]
        ),
        caller_weights=_alias([w for _, w in _CALLERS]),
        pipeline_weights=_alias([w for _, w in pipelines]),
        tags_oversold=_catalogue(_product([t for t, _ in tags], _oversold_members())),
        tag_weights=_alias([w for _, w in tags]),
        settings_tail=_catalogue([extra + "}" for extra in _settings_extras(random.Random(4))]),
        pod_roles=_catalogue(
            [
                f'-{role.lower()}-0"'
                + _members({"Type": role, "Status": state, "SubStatus": sub})
                + extra
                for role in _ROLES
                for state, sub in _POD_STATES
                for extra, _ in _POD_EXTRAS
            ]
        ),
    )


def _high_cardinality_platform() -> _Platform:
    """The default platform with many users and workspaces, nearly unique names and tags."""
    names = [f"{_WORKSPACE_NAMES[k % len(_WORKSPACE_NAMES)]}-{k // len(_WORKSPACE_NAMES) + 1}"
             for k in range(_HIGH_WORKSPACE_COUNT)]  # fmt: skip
    workspaces = _workspaces(random.Random(11), names)
    # hundreds of workspaces: ids drawn without repetition
    for workspace, number in zip(
        workspaces,
        random.Random(12).sample(range(100_000, 1_000_000), len(workspaces)),
        strict=True,
    ):
        workspace["id"] = str(number)
    users = _users(random.Random(13), len(workspaces), _HIGH_USER_COUNT)
    prefixes, weights = _name_prefixes()
    heads, head_weights = _tag_heads()
    default = _platform()
    return replace(
        default,
        users=_catalogue(
            [
                _members({"UserId": uid, "Username": name}) + ',"Settings":{"BusinessUserId":'
                for uid, name, *_ in users
            ]
        ),
        user_weights=_alias(_zipf(len(users), 0.8)),
        **_population(workspaces, users),
        high=_HighCardinality(
            business=_catalogue([_json(uid) for uid, *_ in users] + _service_accounts()),
            name_prefixes=_catalogue(prefixes),
            name_weights=_alias(weights),
            named_runs=len(prefixes) - len(_COMMON_NAMES),
            tag_heads=_catalogue(heads),
            tag_head_weights=_alias(head_weights),
            experiments=_catalogue(
                [_members({"experiment": f"exp-{k:04d}"}) for k in range(1, _EXPERIMENT_COUNT + 1)]
            ),
            experiment_weights=_alias(_zipf(_EXPERIMENT_COUNT, 0.7)),
            oversold=_catalogue(_oversold_members()),
        ),
    )


def _name_prefixes() -> tuple[list[str], list[float]]:
    """High-cardinality DisplayName prefixes (``<model>-<task>``, then common names), weighted."""
    prefixes, weights = [], []
    for model, model_weight in zip(_MODELS, _zipf(len(_MODELS), 0.8), strict=True):
        variants = [(model, 1.0)] if not model.isascii() else [(model, 0.85), (model.title(), 0.15)]
        for variant, share in variants:
            for task, task_weight in zip(_TASKS, _zipf(len(_TASKS), 0.7), strict=True):
                prefixes.append(',"DisplayName":' + _json(f"{variant}-{task}")[:-1])
                weights.append(model_weight * share * task_weight)
    total = sum(weights)
    weights = [weight * (1 - _COMMON_NAME_SHARE) / total for weight in weights]
    common_total = sum(weight for _, weight in _COMMON_NAMES)
    for name, weight in _COMMON_NAMES:
        prefixes.append(_members({"DisplayName": name}))
        weights.append(weight * _COMMON_NAME_SHARE / common_total)
    return prefixes, weights


def _tag_heads() -> tuple[list[str], list[float]]:
    """High-cardinality Tags heads: ``team``, maybe ``project`` and ``env``, weighted."""
    heads, head_weights = [], []
    teams = _TAG_VALUES["team"]
    projects: list[tuple[str | None, float]] = [(None, 0.4)]
    projects += [(project, 0.6 / 8) for project in _TAG_VALUES["project"]]
    envs: list[tuple[str | None, float]] = [(None, 0.5)]
    envs += [(env, 0.5 / 4) for env in _TAG_VALUES["env"]]
    for team, team_weight in zip(teams, _zipf(len(teams), 0.6), strict=True):
        for project, project_weight in projects:
            for env, env_weight in envs:
                tags = {"team": team}
                if project is not None:
                    tags["project"] = project
                if env is not None:
                    tags["env"] = env
                heads.append(',"Tags":' + _json(tags)[:-1])
                head_weights.append(team_weight * project_weight * env_weight)
    return heads, head_weights


def _random_id(rng: random.Random, length: int) -> str:
    return "".join(rng.choices(_ALNUM_TEXT, k=length))


def _workspaces(
    rng: random.Random, names: Sequence[str] = _WORKSPACE_NAMES
) -> list[dict[str, Any]]:
    workspaces = []
    for k, name in enumerate(names):
        vpc: dict[str, Any] | None = None
        if rng.random() < 0.85:
            suffix = _random_id(rng, 17)
            vpc = {
                "VpcId": f"vpc-bp1{suffix}",
                "SwitchId": f"vsw-bp1{suffix[::-1]}",
                "SecurityGroupId": f"sg-bp1{suffix[4:]}{k:03d}",
            }
            if rng.random() < 0.2:
                vpc["DefaultRoute"] = rng.choice(["eth0", "eth1"])
            if rng.random() < 0.1:
                vpc["ExtendedCidrs"] = [f"192.168.{k}.0/24", f"172.16.{16 * k}.0/20"]
        quotas = []
        slug = name if name.isascii() else f"ws{k}"
        for q in range(rng.choice([1, 1, 2, 2, 3])):
            kind = rng.choices(["Lingjun", "ECS", "ACS"], [0.4, 0.5, 0.1])[0]
            gpu = rng.choice(["a100", "l20", "h800", "a10", "cpu"])
            quota = {
                "ResourceId": f"quota-{_random_id(rng, 10)}",
                "ResourceQuotaName": rng.choice(
                    [f"{slug}-{gpu}", f"{slug}-quota-{q}", f"{gpu}-shared-pool", f"team{k}-{gpu}"]
                ),
                "ResourceName": f"rg-{slug}-{q}",
                "ResourceType": kind,
            }
            if kind == "Lingjun":
                quota["ResourceLevel"] = rng.choice(["L0", "L1", "L2"])
            quota["ClusterId"] = "" if kind == "ECS" else f"c-{rng.randrange(16**10):010x}"
            quotas.append(quota)
        workspaces.append(
            {
                "id": str(rng.choice([268, 1_000, 10_000, 100_000]) + k * rng.randrange(7, 997)),
                "name": name,
                "region": rng.randrange(len(_REGIONS)),
                "vpc": vpc,
                "public": rng.choice([0.1, 0.25, 0.4, 0.6]),
                "quotas": quotas,
            }
        )
    return workspaces


def _users(
    rng: random.Random, workspace_count: int, count: int = _USER_COUNT
) -> list[tuple[str, str, int, float]]:
    home_weights = _cumulative(_zipf(workspace_count, 0.9))
    users = []
    for k in range(count):
        digits = 16 if rng.random() < 0.8 else 17
        uid = str(rng.randrange(10 ** (digits - 1), 10**digits))
        base = rng.choice(_GIVEN_NAMES)
        style = rng.random()
        if style < 0.55:
            name = base if k < len(_GIVEN_NAMES) else f"{base}{k}"
        elif style < 0.75:
            name = f"ram-{base}-{k:03d}"
        elif style < 0.9:
            name = f"{base.title()}.{rng.choice(['Chen', 'Li', 'Wang', 'Smith', 'Kim'])}{k}"
        elif style < 0.96:
            name = f"pai-dlc-role-{k}"
        else:
            name = rng.choice(["张伟", "王芳", "李娜", "刘洋", "Jürgen", "Zoë"]) + str(k)
        home = int(np.searchsorted(home_weights, rng.random() * home_weights[-1], side="right"))
        private = rng.choices([0.02, 0.15, 0.45, 0.9], [0.35, 0.3, 0.25, 0.1])[0]
        users.append((uid, name, min(home, workspace_count - 1), private))
    return users


def _placements(workspaces: list[dict[str, Any]]) -> tuple[pl.Series, _I64, _F64, _Mask]:
    """Workspace and resource members of a job: the public pool or one of the quotas."""
    fragments: list[str] = []
    public: list[bool] = []
    starts: list[int] = []
    width = 1 + max(len(ws["quotas"]) for ws in workspaces)
    weights = np.ones((len(workspaces), width), dtype=np.float64)
    for w, ws in enumerate(workspaces):
        starts.append(len(public))
        base = {"WorkspaceId": ws["id"], "WorkspaceName": ws["name"]}
        entries = [{**base, "ResourceId": "", "ResourceType": "ECS"}]
        entries += [{**base, **quota} for quota in ws["quotas"]]
        quota_shares = [0.6, 0.3, 0.1][: len(ws["quotas"])]
        shares = [ws["public"]]
        shares += [(1 - ws["public"]) * q / sum(quota_shares) for q in quota_shares]
        weights[w, :] = sum(shares)
        weights[w, : len(shares)] = np.cumsum(shares)
        for entry in entries:
            public.append(entry["ResourceId"] == "")
            fragments.append(_members(entry))
            fragments.append(
                _members(entry) + (_members({"UserVpc": ws["vpc"]}) if ws["vpc"] else "")
            )
    return (
        _catalogue(fragments),
        np.array(starts, dtype=np.int64),
        weights,
        np.array(public, dtype=np.bool_),
    )


def _names() -> list[tuple[str, float]]:
    entries = []
    for base, weight in _NAME_BASES:
        variants = [(base, 1.0)]
        if base.isascii():
            variants = [(base, 0.72), (base.title(), 0.2), (base.upper(), 0.08)]
        for name, share in variants:
            entries.append((',"DisplayName":' + _json(name)[:-1], weight * share))
    return entries


def _suffixes(rng: random.Random) -> list[tuple[str, float]]:
    entries = [("", 14.0)]
    entries += [(f"-{n}", 30.0 / n**0.9) for n in range(1, 301)]
    entries += [(f"_v{n}", 8.0 / n) for n in range(1, 21)]
    entries += [(f"-exp{n:02d}", 0.12) for n in range(1, 100)]
    entries += [(f"-run-{n}", 0.1) for n in range(1, 40)]
    first_day = datetime(2025, 11, 1, tzinfo=UTC)
    days = sorted(rng.sample(range(400), 120))
    entries += [(f"-{first_day + timedelta(days=d):%Y%m%d}", 0.08) for d in days]
    entries += [("-copy", 1.5), ("-debug", 1.0), ("-final", 0.6), ("-baseline", 0.6)]
    return [(suffix + '"', weight) for suffix, weight in entries]


def _templates(rng: random.Random) -> tuple[_Grouped, _I64]:
    groups: list[list[str]] = []
    roles: list[list[int]] = []
    for job_type in _JOB_TYPES:
        for public in (False, True):
            group = []
            for _ in range(140 if job_type in ("PyTorchJob", "TFJob") else 60):
                fragment, layout = _template(rng, job_type, public)
                group.append(fragment)
                indices = [_ROLES.index(role) for role in layout]
                roles.append(indices + [-1] * (_MAX_ROLES - len(indices)))
            groups.append(group)
    return _grouped(groups), np.array(roles, dtype=np.int64)


def _gpu_split(rng: random.Random, total: int) -> tuple[int, int]:
    """(pods, GPUs per pod) of a job that asks for ``total`` GPUs."""
    if total == 0:
        return rng.choice([1, 1, 1, 2, 4]), 0
    return rng.choice([(total // g, g) for g in (8, 4, 2, 1) if total % g == 0 and total <= 4 * g])


def _template(rng: random.Random, job_type: str, public: bool) -> tuple[str, tuple[str, ...]]:
    """One job-spec template: the roles with their images and resources, and the totals."""
    layouts = _ROLE_LAYOUTS[job_type]
    roles = rng.choices([layout for layout, _ in layouts], [w for _, w in layouts])[0]
    gpu_weights = [0.2, 0.22, 0.12, 0.14, 0.22, 0.1]
    if job_type in ("XGBoostJob", "ElasticBatchJob"):
        gpu_weights = [0.7, 0.15, 0.05, 0.05, 0.05, 0.0]
    total_gpu = rng.choices([0, 1, 2, 4, 8, 16], gpu_weights)[0]
    pods, per_pod = _gpu_split(rng, total_gpu)
    trainers = [role for role in roles if role not in _CPU_ROLES]
    if len(trainers) > pods:  # too few pods for a leader and workers: workers only
        roles = tuple(role for role in roles if role == "Worker" or role in _CPU_ROLES)
        trainers = ["Worker"]
    image = rng.choice(_IMAGES[job_type])
    if per_pod == 0:
        image = image.replace("-gpu-", "-cpu-")
    quota_gpu_type = rng.choice(_QUOTA_GPU_TYPES)
    spot = public and rng.random() < 0.25
    specs = []
    total_cpu = total_memory = node_count = 0
    for role in roles:
        if role in _CPU_ROLES:
            gpu, count = 0, (rng.choice([1, 1, 2]) if role == "PS" else 1)
        else:
            gpu, count = per_pod, (pods - len(trainers) + 1 if role == "Worker" else 1)
        spec: dict[str, Any] = {"Type": role, "Image": image, "PodCount": count}
        ecs, cpu, memory, gpu_type = _resources(rng, public, gpu, quota_gpu_type)
        if ecs:
            spec["EcsSpec"] = ecs
        resources = {"CPU": str(cpu), "GPU": str(gpu), "Memory": f"{memory}Gi"}
        if rng.random() < 0.6:
            resources["SharedMemory"] = f"{max(1, memory // 2)}Gi"
        if gpu_type:
            resources["GPUType"] = gpu_type
        spec["ResourceConfig"] = resources
        if spot or rng.random() < 0.6:
            spec["UseSpotInstance"] = spot
        spec.update(
            _spec_options(
                rng,
                job_type=job_type,
                public=public,
                spot=spot,
                role=role,
                roles=roles,
                image=image,
                count=count,
            )
        )
        specs.append(spec)
        total_cpu += cpu * count
        total_memory += memory * count
        node_count += count
    fragment = _members(
        {
            "JobType": job_type,
            "JobSpecs": specs,
            "RequestGPU": str(total_gpu),
            "RequestCPU": total_cpu,
            "RequestMemory": f"{total_memory}Gi",
            "NodeCount": str(node_count),
        }
    )
    return fragment, roles


def _resources(
    rng: random.Random, public: bool, gpu: int, quota_gpu_type: str
) -> tuple[str, int, int, str]:
    """(EcsSpec, CPU, memory GiB, GPU type) of a pod: a public instance type, or a quota's."""
    if public:
        return rng.choice(_ECS_SPECS[gpu])
    cpu = rng.choice([4, 8, 16, 32]) if gpu == 0 else gpu * rng.choice([8, 12, 16])
    memory = cpu * rng.choice([2, 4, 8])
    return "", cpu, memory, quota_gpu_type if gpu else ""


def _spec_options(  # noqa: C901, PLR0912 - flat optional members, drawn in order
    rng: random.Random,
    *,
    job_type: str,
    public: bool,
    spot: bool,
    role: str,
    roles: tuple[str, ...],
    image: str,
    count: int,
) -> dict[str, Any]:
    """The optional members of one JobSpec, each present in a share of templates."""
    spec: dict[str, Any] = {}
    if spot:
        spec["SpotSpec"] = {
            "SpotStrategy": rng.choice(["SpotWithPriceLimit", "SpotAsPriceGo"]),
            "SpotDiscountLimit": rng.choice([0.1, 0.3, 0.5]),
            "SpotPriceLimit": rng.choice([0, 1.2, 3.5]),
        }
        if rng.random() < 0.3:
            spec["ElasticSpotSpecs"] = [
                {
                    "InstanceType": "ecs.gn7i-c8g1.2xlarge",
                    "SpotStrategy": rng.choice(["LowestPrice", "CapacityOptimized"]),
                    "SpotDiscountLimit": 0.5,
                    "SpotPriceLimit": 2.0,
                }
            ]
    elif rng.random() < 0.05:
        spec["SpotSpec"] = {"SpotStrategy": "", "SpotDiscountLimit": 0, "SpotPriceLimit": 0}
    if not public and rng.random() < 0.2:
        assign = rng.random() < 0.45
        nodes = ",".join(f"lingjun-{rng.randrange(10**6):06d}" for _ in range(rng.randint(1, 3)))
        spec["AssignNodeSpec"] = {
            "EnableAssignNode": assign,
            "NodeNames": nodes if assign else "",
            "AntiAffinityNodeNames": f"lingjun-{rng.randrange(10**6):06d}"
            if rng.random() < 0.2
            else "",
        }
        if rng.random() < 0.15:
            spec["AssignNodeSpec"]["HyperNodes"] = [
                {"HyperNodeName": f"hn-{rng.randrange(100):02d}", "NodeNames": nodes}
            ]
            spec["AssignNodeSpec"]["AntiAffinityHyperNodes"] = (
                [{"HyperNodeName": f"hn-{rng.randrange(100):02d}", "NodeNames": ""}]
                if rng.random() < 0.5
                else []
            )
    if "/pai/" not in image and rng.random() < 0.3:
        spec["ImageConfig"] = {
            "DockerRegistry": image.split("/", maxsplit=1)[0],
            "Username": rng.choice(["", "cr_temp_user"]),
            "Password": "",
            "Auth": "",
        }
    if rng.random() < 0.1:
        spec["SystemDisk"] = {
            "Category": rng.choice(["cloud_essd", "cloud_auto"]),
            "PerformanceLevel": rng.choice(["PL0", "PL1"]),
            "Size": rng.choice([100, 200, 500]),
        }
    if rng.random() < 0.15:
        spec["RestartPolicy"] = rng.choice(["Always", "Never", "OnFailure", "ExitCode"])
    if role == "Chief":
        spec["IsChief"] = True
        spec["IsCheif"] = True  # the deprecated misspelling is still on the wire
    if not public and rng.random() < 0.06:
        spec["OversoldType"] = rng.choice([kind for kind, _ in _OVERSOLD if kind])
    if rng.random() < 0.02:
        spec["ExtraPodSpec"] = _extra_pod_spec(rng)
    if rng.random() < 0.02 or (job_type == "ElasticBatchJob" and rng.random() < 0.2):
        spec["AutoScalingSpec"] = {
            "MinReplicas": 1,
            "MaxReplicas": rng.choice([4, 8, 16]),
            "ScalingStrategy": "Metric",
            "PodsToDelete": [],
            "AutoscalingMetricSpec": {
                "MetricName": "gpu_util",
                "TargetValue": 80,
                "Tolerance": "10",
                "StabilizationWindowSeconds": 300,
            },
        }
    if not public and rng.random() < 0.08:
        spec["HyperNodeSchedulingConfig"] = {
            "MinAvailable": count,
            "QualityPolicy": rng.choice(["BestEffort", "Strict"]),
        }
    if rng.random() < 0.03:
        spec["LocalMountSpecs"] = [
            {"LocalPath": "/mnt/nvme0", "MountPath": "/root/cache", "MountMode": "ReadWrite"}
        ]
    if role == "Head" or rng.random() < 0.02:
        spec["ServiceSpec"] = {
            "ServiceMode": rng.choice(["PerRole", "PerPod"]),
            "DefaultPort": rng.choice([8265, 6006, 8000]),
            "ExtraPorts": [10001],
        }
    if role == "Worker" and len(roles) > 1 and rng.random() < 0.15:
        spec["StartupDependencies"] = [{"Type": roles[0], "OnPhase": "Running", "MinReplicas": "1"}]
    if rng.random() < 0.02:
        spec["ConsiderInSuccessPolicy"] = role != "PS"
        spec["QuotaId"] = ""
        spec["Driver"] = "535.161.08"
        spec["UserCommand"] = "nvidia-smi && sleep 5"
    return spec


def _extra_pod_spec(rng: random.Random) -> dict[str, Any]:
    security = {
        "RunAsUser": 1000,
        "RunAsGroup": 1000,
        "Privileged": False,
        "Capabilities": {"Add": ["IPC_LOCK"], "Drop": ["NET_RAW"]},
        "SeccompProfile": {
            "Type": rng.choice(["RuntimeDefault", "Unconfined"]),
            "LocalhostProfile": "",
        },
    }
    container = {
        "Name": "data-init",
        "Image": "registry.cn-hangzhou.aliyuncs.com/pai-dlc/curl:v1.0.0",
        "Command": ["sh", "-c", "curl -sSf http://oss-internal/ready"],
        "Args": [""],
        "WorkingDir": "/root",
        "Env": [{"Name": "ENABLE_DEBUG", "Value": rng.choice(["true", "false"])}],
        "Resources": {"Limits": {"cpu": "1", "memory": "1Gi"}, "Requests": {"cpu": "500m"}},
    }
    if rng.random() < 0.5:
        container["SecurityContext"] = security
    sidecars = [{**container, "Name": "log-agent", "SecurityContext": security}]
    return {
        "InitContainers": [container],
        "SideCarContainers": sidecars if rng.random() < 0.5 else [],
        "PodAnnotations": {"sidecar.istio.io/inject": "false"},
        "PodLabels": {"team": rng.choice(["nlp", "cv", "rec"])},
        "SharedVolumeMountPaths": ["/root/share/"],
        "Lifecycle": {
            "PreStop": {"Exec": {"Command": ["sh", "-c", "sleep 10"]}},
            "PostStart": {"Exec": {"Command": ["sh", "-c", "echo started"]}},
        },
        "MainContainerSecurityContext": security,
    }


def _code(rng: random.Random) -> _Grouped:
    """Per job type: the command and what it runs on (code, data, libraries)."""
    groups = []
    for job_type in _JOB_TYPES:
        group = []
        for _ in range(80):
            command = rng.choice(_COMMANDS[job_type]).format(
                e=rng.choice([1, 3, 5, 10, 20, 50, 100]),
                b=rng.choice([32, 64, 128, 256, 1024]),
                s=rng.choice([1_000, 10_000, 100_000]),
                r=rng.choice([50, 100, 200, 500]),
                cfg=rng.choice(_CONFIGS),
            )
            code: dict[str, Any] = {"UserCommand": command}
            if rng.random() < 0.6:
                code["WorkingDir"] = rng.choice(["/root/code/", "/mnt/workspace", "/root"])
            if rng.random() < 0.25:
                code["CodeSource"] = {
                    "CodeSourceId": f"code-2025{rng.randrange(10**10):010d}-{_random_id(rng, 12)}",
                    "Branch": rng.choice(["master", "main", "dev", "feature/sft"]),
                    "Commit": f"{rng.randrange(16**40):040x}",
                    "MountPath": "/root/code/",
                }
            if rng.random() < 0.35:
                code["DataSources"] = [
                    {
                        "DataSourceId": f"data-2025{rng.randrange(10**10):010d}-"
                        + _random_id(rng, 12),
                        "MountPath": path,
                    }
                    for path in ["/mnt/data", "/mnt/model"][: rng.randint(1, 2)]
                ]
            if rng.random() < 0.2:
                libraries = ["numpy==1.26.4", "transformers==4.41.2", "datasets", "peft>=0.10"]
                code["ThirdpartyLibs"] = rng.sample(libraries, rng.randint(1, 3))
                code["ThirdpartyLibDir"] = "/root/code/"
            if rng.random() < 0.08:
                code["UserScript"] = "pip install -r requirements.txt && " + command
            group.append(_members(code))
        groups.append(group)
    return _grouped(groups)


def _statuses_catalogue() -> _Grouped:
    """Per status variant: the last StatusHistory entry's status and reason, closing the
    history, then the job's own Status, ReasonCode, ReasonMessage (and SubStatus)."""
    groups = []
    for status in STATUSES:
        group = []
        for code, message, sub_status in _REASONS[status]:
            members = {"Status": status, "ReasonCode": code, "ReasonMessage": message}
            last_entry = _members(members)[1:] + "}]"
            if sub_status is not None:
                members["SubStatus"] = sub_status
            group.append(last_entry + _members(members))
        groups.append(group)
    return _grouped(groups)


def _empty_times(status: str, ran: bool) -> str:
    """The times a job in ``status`` does not have, written as ``""`` (some clients do)."""
    phase = _PHASE[status]
    absent = []
    if phase == _CREATING:
        absent.append("GmtSubmittedTime")
    if not ran:
        absent.append("GmtRunningTime")
    if phase != _FINISHED:
        absent.append("GmtFinishTime")
    absent += [
        key for key in sorted(set(_END_TIME_KEY.values())) if key != _END_TIME_KEY.get(status)
    ]
    return "".join(f',"{key}":""' for key in absent)


def _policy() -> list[str]:
    fragments = []
    for priority in range(1, 10):
        for minutes, _ in _MAX_MINUTES:
            for retries, _ in _RETRIES:
                for switches, _ in _JOB_SWITCHES:
                    members: dict[str, Any] = {
                        "Priority": priority,
                        "JobMaxRunningTimeMinutes": minutes,
                    }
                    if retries is not None:
                        members["RetryCount"] = retries
                    if switches is not None:
                        members["EnablePreemptibleJob"] = switches[0]
                        members["EnabledDebugger"] = switches[1]
                    fragments.append(_members(members))
    return fragments


def _flags() -> list[str]:
    fragments = []
    for accessibility in ("PUBLIC", "PRIVATE", None):
        for deleted in (False, True):
            for oversold in (False, True):
                members: dict[str, Any] = (
                    {} if accessibility is None else {"Accessibility": accessibility}
                )
                members["IsDeleted"] = deleted
                members["UseOversoldResource"] = oversold
                fragments.append(_members(members))
    return fragments


def _extras(rng: random.Random) -> list[tuple[str, float]]:  # noqa: C901 - as _spec_options
    """Optional top-level families: envs, templates, credentials, elastic training, ..."""
    entries = [("", 55.0)]
    for _ in range(400):
        extra: dict[str, Any] = {}
        if rng.random() < 0.25:
            pairs = [("NCCL_DEBUG", "INFO"), ("PYTHONUNBUFFERED", "1"), ("WANDB_MODE", "offline"),
                     ("HF_HOME", "/mnt/data/hf"), ("OMP_NUM_THREADS", "8")]  # fmt: skip
            extra["Envs"] = dict(rng.sample(pairs, rng.randint(1, 3)))
        if rng.random() < 0.15:
            extra["SystemEnvs"] = {"PAI_REGION": rng.choice(_REGIONS), "ENABLE_DEBUG_MODE": "false"}
        if rng.random() < 0.15:
            template = rng.randrange(12)
            extra["TemplateId"] = f"tmpl-{template:02d}{_ALNUM_TEXT[template]}x9q"
            kind = rng.choice(["llm-sft", "cv-train", "ctr-daily", "eval"])
            extra["TemplateName"] = f"{kind}-{template}"
        if rng.random() < 0.12:
            extra["supportedProfilingTypes"] = rng.choice(["sysom", "sysom,torch", ""])
        if rng.random() < 0.1:
            extra["SchedulingStrategy"] = rng.choice(["Gang", "Spread", "BinPack"])
        if rng.random() < 0.08:
            extra["Description"] = rng.choice(
                ["nightly retrain of the CTR model", "ablation: no warmup", "复现论文结果", ""]
            )
        if rng.random() < 0.06:
            extra["TenantId"] = str(rng.randrange(10**15, 10**16))
        if rng.random() < 0.05:
            extra["CredentialConfig"] = _credentials(rng)
        if rng.random() < 0.05:
            extra["ElasticSpec"] = _elastic_spec(rng)
        if rng.random() < 0.06:
            extra["JobReplicaStatuses"] = [
                {
                    "Type": "Worker",
                    "Active": rng.randint(0, 4),
                    "Queuing": rng.randint(0, 2),
                    "Dequeued": 0,
                    "EstimatedPodCount": 4,
                    "CurrentSpotInstanceType": "",
                    "EstimatedResourceConfig": {
                        "CPU": "16",
                        "GPU": "1",
                        "Memory": "64Gi",
                        "SharedMemory": "32Gi",
                        "GPUType": "L20",
                    },
                    "EstimatedAutoScalingSpec": {
                        "MinReplicas": 1,
                        "MaxReplicas": 4,
                        "ScalingStrategy": "Metric",
                        "PodsToDelete": [],
                        "AutoscalingMetricSpec": {
                            "MetricName": "qps",
                            "TargetValue": 100,
                            "Tolerance": "5",
                            "StabilizationWindowSeconds": 60,
                        },
                    },
                }
            ]
        entries.append((_members(extra), 45.0 / 400))
    return entries


def _credentials(rng: random.Random) -> dict[str, Any]:
    role = {
        "RoleArn": f"acs:ram::{rng.randrange(10**15, 10**16)}:role/pai-dlc-oss",
        "RoleType": "service",
        "AssumeRoleFor": "",
        "Policy": "",
        "AssumeUserInfo": {"SecurityToken": "", "AccessKeyId": "", "Type": "", "Id": ""},
    }
    return {
        "EnableCredentialInject": True,
        "AliyunEnvRoleKey": rng.choice(["", "0"]),
        "CredentialConfigItems": [{"Key": "oss-reader", "Type": "Role", "Roles": [role]}],
    }


def _elastic_spec(rng: random.Random) -> dict[str, Any]:
    return {
        "EnableElasticTraining": True,
        "MinParallelism": 1,
        "MaxParallelism": rng.choice([4, 8, 16]),
        "AIMasterType": "",
        "AIMasterDockerImage": "",
        "EnableAIMaster": rng.random() < 0.5,
        "EnablePsJobElasticWorker": False,
        "EnablePsResourceEstimate": False,
        "EnablePsJobElasticPS": False,
        "PSMinParallelism": 0,
        "PSMaxParallelism": 0,
        "ElasticStrategy": rng.choice(["", "ResourceAware"]),
        "EnableEDP": False,
        "EDPMaxParallelism": 0,
        "EDPMinParallelism": 0,
    }


def _pipelines(rng: random.Random) -> list[tuple[str, float]]:
    weights = _zipf(600, 0.9)
    return [(f',"PipelineId":"flow-{_random_id(rng, 12)}"', weight) for weight in weights]


def _tags(rng: random.Random) -> list[tuple[str, float]]:
    entries = [("", 15.0), (',"Tags":{}', 25.0)]
    for size, share in ((1, 30.0), (2, 20.0), (3, 10.0)):
        for _ in range(120):
            keys = rng.sample(list(_TAG_VALUES), size)
            tags = {key: rng.choice(_TAG_VALUES[key]) for key in keys}
            entries.append((_members({"Tags": tags}), share / 120))
    return entries


def _settings_extras(rng: random.Random) -> list[str]:  # noqa: C901, PLR0912 - as _extras
    """The rarer Settings members; 60 of the 100 entries have none."""
    extras = [""] * 60
    for _ in range(40):
        extra: dict[str, Any] = {}
        if rng.random() < 0.5:
            extra["EnableRDMA"] = rng.random() < 0.7
        if rng.random() < 0.3:
            extra["Driver"] = rng.choice(["535.54.03", "550.54.15", "470.82.01"])
        if rng.random() < 0.3:
            extra["EnableErrorMonitoringInAIMaster"] = True
            extra["ErrorMonitoringArgs"] = "--enable-log-hang-detection true"
        if rng.random() < 0.25:
            extra["EnableTideResource"] = rng.random() < 0.5
        if rng.random() < 0.2:
            extra["AdvancedSettings"] = rng.choice(
                [{"test": "test", "test2": 1}, {"ReleaseResourcePolicy": "all", "retry": True}]
            )
        if rng.random() < 0.2:
            extra["EnableSanityCheck"] = True
            extra["SanityCheckArgs"] = "--sanity-check-timing=AfterJobFaultTolerant"
        if rng.random() < 0.15:
            extra["JobReservedMinutes"] = rng.choice([30, 60, 120])
            extra["JobReservedPolicy"] = rng.choice(["Always", "OnFailure"])
        if rng.random() < 0.15:
            extra["EnableOssAppend"] = True
            extra["EnableCPUAffinity"] = rng.random() < 0.5
            extra["DisableEcsStockCheck"] = False
        if rng.random() < 0.1:
            extra["AllocateAllRDMADevices"] = True
            extra["AllowUnschedulableNodes"] = False
        if rng.random() < 0.1:
            extra["ElasticSpotJobMaxRestartTimes"] = rng.choice([3, 10])
            extra["EnableDSWDev"] = rng.random() < 0.5
        if rng.random() < 0.1:
            extra["Shell"] = "/bin/bash"
            extra["TerminationGracePeriodSeconds"] = rng.choice([30, 120])
        if rng.random() < 0.06:
            extra["DataJuicerConfig"] = {
                "CommandType": rng.choice(["shell", "config"]),
                "ExecutionMode": rng.choice(["standalone", "distributed"]),
                "EnableResourceEstimation": True,
                "ResourceLimit": {"CPU": "16", "GPU": "0", "Memory": "64"},
            }
        if rng.random() < 0.06:
            extra["ModelConfig"] = {
                "ModelName": "qwen2-7b-instruct",
                "ModelTemplate": {
                    "ModelName": "Qwen2-7B-Instruct",
                    "Provider": "modelscope",
                    "Collections": "qwen",
                },
            }
        extras.append(_members(extra))
    return extras
