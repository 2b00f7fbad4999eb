"""One block of jobs: their times, statuses and ids, and the pieces their JSON text joins."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import polars as pl
from numpy.typing import NDArray

from jobquery.synth.catalogues import _empty_times, _HighCardinality, _pick, _Platform, _platform
from jobquery.synth.draws import _I64, _U8, _alias, _Draws, _Mask, _unit
from jobquery.synth.text import _HEX_PAIRS, _assemble, _base36, _Clock, _ips, _Part, _text, _uuids
from jobquery.synth.vocabulary import (
    _ACTIVE,
    _ACTIVE_BASE,
    _ACTIVE_DAYS,
    _ACTIVE_RECENT,
    _ACTIVE_WEIGHTS,
    _CREATING,
    _END_TIME_KEY,
    _EVICTED,
    _FINISHED,
    _FINISHED_WEIGHTS,
    _HISTORY_DEPTH,
    _JOB_SWITCHES,
    _MAX_MINUTES,
    _MAX_ROLES,
    _NEVER_RAN,
    _OVERSOLD,
    _PHASE,
    _PIPELINE_CALLERS,
    _POD_EXTRAS,
    _POD_RETENTION,
    _POD_STATE_OF,
    _POD_STATES,
    _PRIORITIES,
    _RECENT_SHARE,
    _RECENT_SPAN,
    _REGION_TEXT,
    _RESERVING,
    _RESTARTS,
    _RETRIES,
    _SERVICE_ACCOUNTS,
    STATUSES,
)
from jobquery.synth.window import _Window

#: The job index is embedded, scrambled, in 7 base-36 characters of the JobId.
_ID_SPACE: Final = 36**7
_ID_MULTIPLIER: Final = 1_000_003  # coprime with 36; index * multiplier fits in uint64


def _created(draws: _Draws, window: _Window) -> _I64:
    """Creation times: volume grows over the window, working hours, fan-out pairs.

    85% of the jobs follow a density that grows linearly over the window, 15% fall in its
    last 30 days (this month's projects), so the default 7-day window holds about 7% of them.
    """
    lead = min(draws.first, 1)  # the fan-out copies the time of the job before
    span = window.end - window.start
    position = np.sqrt(draws.uniform("created.ramp", lead)) * span
    recent = span - _unit(draws.raw("created.recent", 1, lead)[:, 0]) * min(span, _RECENT_SPAN)
    burst = _unit(draws.raw("created.burst", 1, lead)[:, 0]) < _RECENT_SHARE
    seconds = window.start + np.floor(np.where(burst, recent, position)).astype(np.int64)
    # 70% of the jobs are submitted 09:00–23:00 in UTC+8 (01:00–15:00 UTC).
    words = draws.raw("created.hour", 1, lead)[:, 0]
    office = _unit(words) < 0.7
    in_office = (
        seconds - seconds % 86_400 + 3_600 + (words % np.uint64(14 * 3_600)).astype(np.int64)
    )
    keep = office & (in_office >= window.start) & (in_office <= window.end)
    seconds = np.where(keep, in_office, seconds)
    previous = seconds[:-1] if lead else np.concatenate([seconds[:1], seconds[:-1]])
    seconds = seconds[lead:]
    return np.where(draws.chance("created.fan_out", 0.04), previous, seconds)


def _statuses(draws: _Draws, created: _I64, window: _Window) -> _I64:
    age_days = (window.end - created) / 86_400.0
    active = draws.chance(
        "status.active", _ACTIVE_BASE + _ACTIVE_RECENT * np.exp(-age_days / _ACTIVE_DAYS)
    )
    codes = {name: STATUSES.index(name) for name in STATUSES}
    active_codes = np.array([codes[name] for name in _ACTIVE_WEIGHTS], dtype=np.int64)
    finished_codes = np.array([codes[name] for name in _FINISHED_WEIGHTS], dtype=np.int64)
    return np.where(
        active,
        active_codes[draws.pick("status.active.which", _alias(list(_ACTIVE_WEIGHTS.values())))],
        finished_codes[
            draws.pick("status.finished.which", _alias(list(_FINISHED_WEIGHTS.values())))
        ],
    )


@dataclass(frozen=True)
class _Times:
    """Unix seconds of a block's job times; -1 where a job has no such time."""

    created: _I64
    submitted: _I64
    running: _I64
    ended: _I64  # the status's own end time (GmtSuccessedTime, GmtFailedTime, GmtStoppedTime)
    modified: _I64
    duration: _I64
    ran: _Mask
    finished: _Mask  # in a terminal status, so GmtFinishTime = ended


def _times(draws: _Draws, created: _I64, status: _I64, window: _Window) -> _Times:
    phase = np.array([_PHASE[name] for name in STATUSES], dtype=np.int64)[status]
    never_ran = np.zeros(len(status), dtype=np.bool_)
    for name, share in _NEVER_RAN.items():
        chance = draws.chance(f"times.never_ran.{name}", share)
        never_ran |= (status == STATUSES.index(name)) & chance
    submit_delay = np.floor(draws.lognormal("times.submit", 2.0, 0.8)).astype(np.int64)
    submitted_at = np.minimum(created + submit_delay, window.end)
    queued = np.minimum(np.floor(draws.lognormal("times.queue", 45.0, 1.8)), 3 * 86_400)
    running_at = np.minimum(submitted_at + queued.astype(np.int64), window.end)
    run_median = np.where(status == STATUSES.index("Failed"), 360.0, 2_400.0)
    run = np.minimum(np.floor(draws.lognormal("times.run", 1.0, 1.7) * run_median), 20 * 86_400)
    ran = np.isin(phase, [_ACTIVE, _RESERVING, _FINISHED]) & ~never_ran
    has_end = np.isin(phase, [_RESERVING, _FINISHED])
    ended_at = np.minimum(np.where(ran, running_at + run.astype(np.int64), running_at), window.end)
    submitted = np.where(phase == _CREATING, -1, submitted_at)
    running = np.where(ran, running_at, -1)
    ended = np.where(has_end, ended_at, -1)
    latest = np.maximum(np.maximum(created, submitted), np.maximum(running, ended))
    modified = np.minimum(latest + draws.below("times.modified", 60), window.end)
    duration = np.where(ran, np.where(has_end, ended, window.end) - running, 0)
    return _Times(created, submitted, running, ended, modified, duration, ran, phase == _FINISHED)


@dataclass(frozen=True)
class _Block:
    """What the pieces of one block of jobs are built from."""

    draws: _Draws
    platform: _Platform
    window: _Window
    clock: _Clock
    times: _Times
    status: _I64
    job_id: _U8  # (count, 32)


def _job_ids(draws: _Draws, clock: _Clock, created: _I64) -> _U8:
    """``dlc-<creation time>-<13 chars>``; the last 7 encode the job index, so ids are unique."""
    offset = np.random.SeedSequence([draws.seed, 0x10B]).generate_state(1, np.uint64)[0]
    index = np.arange(draws.first, draws.first + draws.count, dtype=np.uint64)
    space = np.uint64(_ID_SPACE)
    scrambled = (index * np.uint64(_ID_MULTIPLIER) + offset % space) % space
    return np.concatenate(
        [
            np.broadcast_to(np.frombuffer(b"dlc-", dtype=np.uint8), (draws.count, 4)),
            clock.compact(created),
            np.full((draws.count, 1), ord("-"), dtype=np.uint8),
            _base36(draws.raw("job_id")[:, 0], 6),
            _base36(scrambled, 7),
        ],
        axis=1,
    )


def _policy_flags(draws: _Draws, platform: _Platform, user: _I64, oversold: _I64) -> _I64:
    """Index into ``_Platform.policy_flags``; UseOversoldResource agrees with the oversold kind."""
    policy = draws.pick("policy.priority", _alias(_PRIORITIES))
    for stream, choices in (
        ("policy.max_minutes", _MAX_MINUTES),
        ("policy.retries", _RETRIES),
        ("policy.switches", _JOB_SWITCHES),
    ):
        policy = policy * len(choices) + draws.pick(stream, _alias([w for _, w in choices]))
    private = draws.chance("accessibility.private", platform.user_private[user])
    accessibility = np.where(draws.chance("accessibility.missing", 0.05), 2, private)
    used_idle = (oversold == 2) | ((oversold == 3) & draws.chance("oversold.used", 0.5))
    flags = (accessibility * 2 + draws.chance("deleted", 0.01)) * 2 + used_idle
    return np.asarray(policy * 12 + flags, dtype=np.int64)


def _head(block: _Block, restarts: _I64) -> pl.Series:
    """The job's id and times, RestartTimes and Duration: one layout per status.

    Absent times are omitted; a few jobs (``empty``) write them as ``""`` instead.
    """
    times, clock = block.times, block.clock
    empty = block.draws.chance("times.empty_style", 0.08)
    created, modified = clock.iso(times.created), clock.iso(times.modified)
    submitted, running, ended = (
        clock.iso(times.submitted),
        clock.iso(times.running),
        clock.iso(times.ended),
    )
    restart_digit = (restarts[:, None] + ord("0")).astype(np.uint8)
    layouts = []
    for status in STATUSES:
        phase = _PHASE[status]
        for ran in (False, True):
            for empty_style in (False, True):
                parts: list[_Part] = [
                    b'{"JobId":"', block.job_id, b'","GmtCreateTime":"', created,
                    b'","GmtModifiedTime":"', modified, b'"',
                ]  # fmt: skip
                if phase != _CREATING:
                    parts += [b',"GmtSubmittedTime":"', submitted, b'"']
                if ran:
                    parts += [b',"GmtRunningTime":"', running, b'"']
                if status in _END_TIME_KEY:
                    parts += [f',"{_END_TIME_KEY[status]}":"'.encode(), ended, b'"']
                if phase == _FINISHED:
                    parts += [b',"GmtFinishTime":"', ended, b'"']
                if empty_style:
                    parts.append(_empty_times(status, ran).encode())
                parts += [b',"RestartTimes":"', restart_digit, b'","Duration":']
                layouts.append(parts)
    choice = (block.status * 2 + times.ran) * 2 + empty
    return _assemble(layouts, choice, number=times.duration)


def _settings_pieces(block: _Block, oversold: _I64) -> list[pl.Series]:
    """Caller (and PipelineId), Tags and OversoldType, the rarer settings and the ``}``."""
    draws, platform = block.draws, block.platform
    caller = draws.pick("settings.caller", platform.caller_weights)
    pipeline = draws.pick("settings.pipeline", platform.pipeline_weights)
    pipelines = len(platform.pipeline_weights.keep)
    caller_index = np.where(
        caller < _PIPELINE_CALLERS,
        caller * pipelines + pipeline,
        _PIPELINE_CALLERS * pipelines + caller - _PIPELINE_CALLERS,
    )
    high = platform.high
    if high is None:
        tags = draws.pick("settings.tags", platform.tag_weights)
        tag_pieces = [_pick(platform.tags_oversold, tags * len(_OVERSOLD) + oversold)]
    else:
        run_id = _HEX_PAIRS[np.ascontiguousarray(draws.raw("settings.run_id", 2)).view(np.uint8)]
        tag_pieces = [
            _pick(high.tag_heads, draws.pick("settings.tag_head", high.tag_head_weights)),
            _pick(high.experiments, draws.pick("settings.experiment", high.experiment_weights)),
            _text([b',"run_id":"', run_id.reshape(draws.count, 32), b'"}']),
            _pick(high.oversold, oversold),
        ]
    extra = draws.below("settings.extra", len(platform.settings_tail) - 1)
    return [
        _pick(platform.callers, caller_index),
        *tag_pieces,
        _pick(platform.settings_tail, extra),
    ]


def _display_name_pieces(block: _Block, high: _HighCardinality) -> list[pl.Series]:
    """A high-cardinality DisplayName: ``<model>-<task>`` and a run suffix made per job —
    ``-k3x9a2``, ``-20261103-a7k2`` (the creation date) or ``-v3-x81qz`` — or a common name."""
    draws = block.draws
    prefix = draws.pick("name", high.name_weights)
    words = draws.raw("name.run")[:, 0]
    date = block.clock.compact(block.times.created)[:, :8]
    version = (draws.below("name.version", 9) + ord("1")).astype(np.uint8)[:, None]
    layouts: list[list[_Part]] = [
        [b"-", _base36(words, 6), b'"'],
        [b"-", date, b"-", _base36(words, 4), b'"'],
        [b"-v", version, b"-", _base36(words, 5), b'"'],
    ]
    choice = draws.pick("name.suffix", _alias([0.6, 0.25, 0.15]))
    suffix = _assemble(layouts, choice, valid=prefix < high.named_runs)
    return [_pick(high.name_prefixes, prefix), suffix]


def _history(block: _Block) -> pl.Series:
    """StatusHistory up to the last entry's times; the status catalogue continues it.

    Entries start at submission (at creation for a job still being created), at the start of
    the run and at the end; the last entry of an unfinished job is open (``EndTime`` "").
    """
    times, clock = block.times, block.clock
    created, submitted = clock.iso(times.created), clock.iso(times.submitted)
    running, ended = clock.iso(times.running), clock.iso(times.ended)

    def entry(start: _U8, end: _U8 | None, status: bytes = b"") -> list[_Part]:
        closing = [b'"', end, b'"'] if end is not None else [b'""']
        tail = b',"Status":"' + status + b'"},' if status else b","
        return [b'{"StartTime":"', start, b'","EndTime":', *closing, tail]

    layouts: list[list[_Part]] = [
        entry(created, None),  # creating
        entry(submitted, None),  # waiting
        [*entry(submitted, running, b"Queuing"), *entry(running, None)],  # active
        [  # reserving
            *entry(submitted, running, b"Queuing"),
            *entry(running, ended, b"Running"),
            *entry(ended, None),
        ],
        [  # finished
            *entry(submitted, running, b"Queuing"),
            *entry(running, ended, b"Running"),
            *entry(ended, ended),
        ],
        [*entry(submitted, ended, b"Queuing"), *entry(ended, ended)],  # finished, never ran
    ]
    phase = np.array([_PHASE[name] for name in STATUSES], dtype=np.int64)[block.status]
    choice = np.where((phase == _FINISHED) & ~times.ran, 5, phase)
    return _assemble([[b',"StatusHistory":[', *layout] for layout in layouts], choice)


def _joined(pieces: Sequence[pl.Series], rows: NDArray[np.intp], total: int) -> pl.Series:
    """The concatenation of ``pieces`` (given for ``rows`` only); null on every other row."""
    frame = pl.DataFrame({f"p{k}": piece for k, piece in enumerate(pieces)})
    text = frame.select(pl.concat_str(frame.columns)).to_series()
    return pl.repeat(None, total, dtype=pl.String, eager=True).scatter(rows, text)


def _pod_body(
    block: _Block,
    stream: str,
    *,
    rows: NDArray[np.intp],
    start: _I64,
    finish: _I64,
    region: _I64,
) -> tuple[pl.Series, _U8]:
    """The fixed-width members of pods of ``rows``, and their IPs."""
    ip = _ips(block.draws.raw(f"{stream}.ip")[rows])
    created = np.maximum(start - 4, block.times.created[rows])
    parts: list[_Part] = [
        b',"PodUid":"', _uuids(block.draws.raw(f"{stream}.uid", 2)[rows]),
        b'","Ip":"', ip, b'","NodeName":"', _REGION_TEXT[region], b".", ip,
        b'","GmtCreateTime":"', block.clock.iso(created),
        b'","GmtStartTime":"', block.clock.iso(start),
        b'","GmtFinishTime":',
    ]  # fmt: skip
    finished: list[_Part] = [b'"', block.clock.iso(finish), b'"']
    pod_ip: list[_Part] = [b',"PodIp":"', ip, b'"']
    layouts: list[list[_Part]] = [
        [*parts, *finished],
        [*parts, b'""'],
        [*parts, *finished, *pod_ip],
        [*parts, b'""', *pod_ip],
    ]
    with_pod_ip = _unit(block.draws.raw(f"{stream}.pod_ip")[rows, 0]) < 0.3
    choice = (~block.times.finished[rows]).astype(np.int64) + 2 * with_pod_ip
    return _assemble(layouts, choice), ip


def _pod_pieces(block: _Block, roles: _I64, region: _I64, restarts: _I64) -> list[pl.Series]:
    """Pods (one per role; the first with its HistoryPods) and NodeNames, closing the job.

    Jobs that never ran, and finished jobs older than ``_POD_RETENTION``, list no pods. A pod
    that restarted ``h`` times keeps ``min(h, 3)`` earlier incarnations, nested: the run is cut
    into ``h + 1`` equal spans and the oldest incarnation ran first.
    """
    draws, times, platform = block.draws, block.times, block.platform
    listed = times.ran & (~times.finished | (block.window.end - times.ended <= _POD_RETENTION))
    state = np.array([_POD_STATE_OF.get(name, 0) for name in STATUSES], dtype=np.int64)
    state = state[block.status]
    evicted = (block.status == STATUSES.index("Failed")) & draws.chance("pods.evicted", 0.2)
    state = np.where(evicted, _EVICTED, state)
    run_end = np.where(times.ended >= 0, times.ended, block.window.end)
    span = np.maximum(run_end - times.running, 0)
    # A quarter of the multi-role jobs list every role's pod, the others only the first role's
    # (listing them all would add half to the size of the average job).
    every_role = draws.chance("pods.every_role", 0.25)
    extra = draws.pick("pods.extra", _alias([w for _, w in _POD_EXTRAS]))
    pieces = []
    first_ip = np.zeros((draws.count, 14), dtype=np.uint8)
    for k in range(_MAX_ROLES):
        rows = np.flatnonzero(listed & (roles[:, k] >= 0) & (every_role | (k == 0)))
        start = times.running[rows]
        if k == 0:  # the current incarnation started at the last restart
            start = start + span[rows] * restarts[rows] // (restarts[rows] + 1)
        body, ip = _pod_body(
            block, f"pod{k}", rows=rows, start=start, finish=times.ended[rows], region=region[rows]
        )
        pod = [
            _text([b',"Pods":[{"PodId":"' if k == 0 else b',{"PodId":"', block.job_id[rows]]),
            _pick(platform.pod_roles, _pod_role(roles[rows, k], state[rows], extra[rows])),
            body,
        ]
        if k == 0:
            first_ip[rows] = ip
            pod.append(
                _history_pods(
                    block,
                    rows=rows,
                    region=region[rows],
                    restarts=restarts,
                    span=span,
                    role=roles[rows, 0],
                )
            )
        else:
            pod.append(pl.repeat(',"HistoryPods":[]}', len(rows), eager=True))
        pieces.append(_joined(pod, rows, draws.count))
    node: list[_Part] = [b'],"NodeNames":["', _REGION_TEXT[region], b".", first_ip, b'"]}']
    pieces.append(_assemble([node, [b',"Pods":[]}']], (~listed).astype(np.int64)))
    return pieces


def _pod_role(role: _I64, state: _I64 | int, extra: _I64 | int) -> _I64:
    """Index into ``_Platform.pod_roles``."""
    return (role * len(_POD_STATES) + state) * len(_POD_EXTRAS) + extra


def _history_pods(
    block: _Block,
    *,
    rows: NDArray[np.intp],
    region: _I64,
    restarts: _I64,
    span: _I64,
    role: _I64,
) -> pl.Series:
    """``HistoryPods`` of the first pods (of ``rows``), nested, closing the pods."""
    empty = ',"HistoryPods":[]'
    result = pl.repeat(empty + "}", len(rows), eager=True)
    restarted = np.flatnonzero(restarts[rows] > 0)
    if len(restarted) == 0:
        return result
    jobs = rows[restarted]
    running, total = block.times.running[jobs], restarts[jobs] + 1
    columns = {
        "head": _text([b'{"PodId":"', block.job_id[jobs]]),
        "role": _pick(block.platform.pod_roles, _pod_role(role[restarted], 3, 0)),
        "depth": pl.Series(np.minimum(restarts[jobs], _HISTORY_DEPTH)),
    }
    for level in range(1, _HISTORY_DEPTH + 1):
        # Level 1 ran just before the current pod: from restart h - 1 to restart h.
        before = np.maximum(restarts[jobs] - level, 0)
        start = running + span[jobs] * before // total
        finish = running + span[jobs] * (before + 1) // total
        stream = f"history{level}"
        body, _ = _pod_body(
            block, stream, rows=jobs, start=start, finish=finish, region=region[restarted]
        )
        columns[f"body{level}"] = body
    inner: pl.Expr = pl.lit(empty)
    for level in range(_HISTORY_DEPTH, 0, -1):
        pod = pl.concat_str("head", "role", f"body{level}", inner, pl.lit("}"))
        inner = (
            pl.when(pl.col("depth") >= level)
            .then(pl.concat_str(pl.lit(',"HistoryPods":['), pod, pl.lit("]")))
            .otherwise(pl.lit(empty))
        )
    text = pl.DataFrame(columns).select(pl.concat_str(inner, pl.lit("}"))).to_series()
    return result.scatter(restarted, text)


def _job_block(
    seed: int, first: int, count: int, window: _Window, profile: str = "default"
) -> pl.Series:
    """The JSON text of the jobs ``first, ..., first + count - 1``."""
    platform = _platform(profile)
    draws = _Draws(seed, first, count)
    clock = _Clock(window)
    created = _created(draws, window)
    status = _statuses(draws, created, window)
    times = _times(draws, created, status, window)
    block = _Block(draws, platform, window, clock, times, status, _job_ids(draws, clock, created))

    user = draws.pick("user", platform.user_weights)
    business = np.where(
        draws.chance("settings.service_account", 0.12),
        1 + draws.below("settings.service", _SERVICE_ACCOUNTS),
        0,
    )
    workspace = np.where(
        draws.chance("workspace.home", 0.8),
        platform.user_home[user],
        draws.pick("workspace", platform.workspace_weights),
    )
    weights = platform.placement_weights[workspace]
    entry = (draws.uniform("placement")[:, None] * weights[:, -1:] >= weights).sum(axis=1)
    placement = platform.placement_start[workspace] + entry
    public = platform.placement_public[placement]
    with_vpc = platform.workspace_vpc[workspace] & draws.chance("user_vpc", 0.8)
    oversold = np.where(public, 0, draws.pick("oversold", _alias([w for _, w in _OVERSOLD])))
    job_type = draws.pick("job_type", platform.job_type_weights)
    template = platform.templates.pick(draws, "template", job_type * 2 + public)
    restarts = np.where(times.ran, draws.pick("restarts", _alias(_RESTARTS)), 0)
    restarts = np.where(status == STATUSES.index("Restarting"), np.maximum(restarts, 1), restarts)
    high = platform.high
    if high is None:
        name = draws.pick("name", platform.name_weights)
        suffix = draws.pick("name.suffix", platform.suffix_weights)
        names = [_pick(platform.display_names, name * len(platform.suffix_weights.keep) + suffix)]
        users = [_pick(platform.users, user * (1 + _SERVICE_ACCOUNTS) + business)]
    else:
        names = _display_name_pieces(block, high)
        own_or_service = np.where(business > 0, len(platform.user_home) + business - 1, user)
        users = [_pick(platform.users, user), _pick(high.business, own_or_service)]
    pieces = [
        _head(block, restarts),
        *names,
        _pick(platform.templates.fragments, template),
        *users,
        *_settings_pieces(block, oversold),
        _pick(platform.placements, 2 * placement + with_vpc),
        _pick(platform.policy_flags, _policy_flags(draws, platform, user, oversold)),
        _pick(platform.code.fragments, platform.code.pick(draws, "code", job_type)),
        _pick(platform.extras.fragments, draws.pick("extras", platform.extras.weights)),
        _history(block),
        _pick(platform.statuses.fragments, platform.statuses.pick(draws, "status.reason", status)),
        *_pod_pieces(
            block,
            platform.template_roles[template],
            platform.workspace_region[workspace],
            restarts,
        ),
    ]
    frame = pl.DataFrame({f"p{k}": piece for k, piece in enumerate(pieces)})
    return frame.select(pl.concat_str(frame.columns, ignore_nulls=True).alias("job")).to_series()
