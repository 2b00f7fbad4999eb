"""Opening a query: reading the dumps (through the snapshot cache), the caller, and the clock.

What the command line adds to a request is the clock: without ``--now`` the default 7-day
window ends at the newest job time in the dump, not at the wall clock, so an old dump still
lists its jobs (and stderr says which window applies).
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from jobquery.cli.options import OPTION_BY_WIRE, command_line_time, wire_query
from jobquery.cli.output import (
    ANSWERED_FROM,
    CliError,
    _is_terminal,
    _notice,
    stdout_to_devnull,
)
from jobquery.cli.progress import ProgressBar
from jobquery.errors import JobQueryError
from jobquery.request import Caller, ListJobsRequest, format_timestamp, parse_timestamp

if TYPE_CHECKING:
    from jobquery.io.cache import PendingFill, SnapshotCache
    from jobquery.plan import Plan
    from jobquery.store import JobStore


SAMPLE = ("sample", "sample_jobs.ndjson")
#: How many skipped records ``--lenient`` lists one by one.
SKIPPED_SHOWN = 10


# ---------------------------------------------------------------------------------------------
# Loading dumps and resolving the clock.


def _report_skipped(store: JobStore) -> None:
    # entries of a folder or pattern that are not regular files (FIFOs, devices, links to
    # nothing) are left out whether or not --lenient is given
    not_read = [skipped for skipped in store.skipped if skipped.whole_file]
    for skipped in not_read:
        _notice(f"note: {skipped}")
    from jobquery.io.dumps import skipped_lines

    records = [skipped for skipped in store.skipped if not skipped.whole_file]
    for line in skipped_lines(records, SKIPPED_SHOWN):
        _notice(line)
    if store.duplicates:
        _notice(
            f"note: {store.duplicates} record(s) repeated a JobId; kept the one with the latest "
            "GmtModifiedTime"
        )


def bundled_sample() -> Path:
    """The sample dump shipped inside the package (what every command reads without DUMP)."""
    sample = resources.files("jobquery").joinpath(*SAMPLE)
    if not sample.is_file():
        raise CliError("DUMP", "no dump given and the bundled sample is missing")
    return Path(str(sample))


def notice_files_left_out(dumps: Sequence[str]) -> None:
    """Say which files of a dump folder are not read (not a dump format), counted by kind."""
    from jobquery.io.dumps import is_dump_file

    for dump in dumps:
        folder = Path(dump)
        if not folder.is_dir():
            continue
        kinds = Counter(
            path.suffix.lower() or "(no extension)"
            for path in folder.rglob("*")
            if path.is_file() and not is_dump_file(path)
        )
        if kinds:
            total = sum(kinds.values())
            shown = ", ".join(f"{count} {kind}" for kind, count in kinds.most_common())
            noun = "file" if total == 1 else "files"
            _notice(f"skipped {total} {noun} in {dump} (not a dump format): {shown}")


def load_store(dumps: Sequence[str], *, lenient: bool, use_cache: bool = True) -> JobStore:
    """Read the dumps as one job set; with none, the bundled sample (with a notice).

    With ``use_cache``, unchanged dumps are opened from the snapshot cache
    (:mod:`jobquery.io.cache`); a snapshot that had to be built is cached once the command has
    answered (:func:`cache_after_the_answer`). A build that lasts shows a progress bar.
    """
    from jobquery.io.cache import load
    from jobquery.store import JobStore

    notice_files_left_out(dumps)
    paths = list(dumps) if dumps else [str(bundled_sample())]
    show_bar = _is_terminal(sys.stderr)
    total = _input_bytes(paths) if show_bar else 0
    with ProgressBar(show_bar, "reading", total, in_bytes=True) as bar:
        loaded = load(
            paths,
            lenient=lenient,
            cache=snapshot_cache() if use_cache else None,
            on_progress=bar.advance,
            on_phase=bar.phase,
        )
    # one question per run: the store builds only the structures the question uses (no
    # background warm-up taking cores from the answer)
    store = JobStore.from_loaded(loaded, background_warm_up=False)
    if loaded.entry is not None:
        ANSWERED_FROM.append(loaded.entry)
    if not dumps:
        _notice(f"no dump given: reading the bundled sample ({SAMPLE[-1]}, {len(store)} jobs)")
    if loaded.pending is not None:
        cache_after_the_answer(loaded.pending)
    _report_skipped(store)
    return store


def notice_no_jobs(dumps: Sequence[str], store: JobStore, caller: Caller | None) -> None:
    """Say that the dumps hold no jobs at all (an empty answer would not say why); to an
    administrator only: a user's output must be the same whether the dumps are empty or hold
    only others' private jobs."""
    if dumps and not len(store) and (caller is None or caller.is_admin):
        _notice(f"{', '.join(dumps)} {'holds' if len(dumps) == 1 else 'hold'} no jobs")


def snapshot_cache() -> SnapshotCache:
    """The snapshot cache of ``$JOBQUERY_CACHE_DIR`` (or the user cache folder); its notices
    go to stderr."""
    from jobquery.io.cache import SnapshotCache

    try:
        return SnapshotCache.from_environment(notice=_notice)
    except ValueError as exc:
        raise CliError("environment", str(exc)) from exc


def cache_after_the_answer(pending: PendingFill) -> None:
    """Write a snapshot into the cache when the command has answered.

    The answer is not kept waiting for the write, and whoever reads it from a pipe sees its
    end first (stdout is closed). A problem with the cache is a notice, never a failure: the
    answer was right.
    """

    def write() -> None:
        # the reader may be gone (`| head`): the entry is still worth writing
        with suppress(OSError):
            _release_stdout()
        show_bar = _is_terminal(sys.stderr)
        total = pending.estimated_bytes
        try:
            with ProgressBar(show_bar, "caching the snapshot", total, in_bytes=True) as bar:
                pending.write(on_progress=bar.advance)
        except Exception as exc:
            _notice(f"note: the snapshot was not cached ({type(exc).__name__}: {exc})")

    context = click.get_current_context(silent=True)
    if context is None:
        write()
    else:
        context.call_on_close(write)


def _release_stdout() -> None:
    """Flush stdout and, when it is this process's own pipe or file, point it at /dev/null:
    the reader sees the end of the answer while the process goes on with other work."""
    sys.stdout.flush()
    stdout_to_devnull()


def parse_now(text: str | None) -> datetime | None:
    """The ``--now`` value, or None when not given."""
    if text is None:
        return None
    moment = parse_timestamp(command_line_time(text))
    if moment is None:
        raise CliError(
            "--now",
            f"expected an RFC 3339 timestamp such as 2026-11-28T10:02:11Z or a date alone "
            f"(got {text!r})",
        )
    return moment


@dataclass(frozen=True)
class Clock:
    """The ``now`` of the default window and where it came from (``newest``: which job)."""

    now: datetime
    from_dump: bool
    newest: str = "the newest job in the dump"


def dump_clock(store: JobStore, now: datetime | None, caller: Caller | None = None) -> Clock:
    """``--now`` if given, else the newest job time in the dump the caller can see (the wall
    clock if there is none): a non-admin's window never reveals the time of a hidden job."""
    if now is not None:
        return Clock(now, from_dump=False)
    return newest_clock(store.newest_time(caller=caller), caller)


def newest_clock(newest: datetime | None, caller: Caller | None) -> Clock:
    """The clock at ``newest``, the newest job time the caller can see (the wall clock when
    there is none), saying whose view it is for a non-admin caller."""
    if newest is None:
        return Clock(datetime.now(UTC), from_dump=False)
    if caller is None or caller.is_admin:
        return Clock(newest, from_dump=True)
    return Clock(
        newest, from_dump=True, newest=f"the newest job in the dump that {_who(caller)} can see"
    )


def _who(caller: Caller) -> str:
    """A non-admin caller, as notices name them."""
    return "anyone" if caller.user_id is None else f"user {caller.user_id}"


def window_notice(plan: Plan, clock: Clock) -> str | None:
    """What window applies, when a default bound of it was taken from the dump's clock; and
    that it is empty when it ends before it starts (ListJobs then answers an empty page)."""
    window = plan.window
    field = "" if window.column == "GmtCreateTime" else f" (on {window.column})"
    notice = _defaulted_window(plan, clock, field)
    if window.start <= window.end:
        return notice
    if notice is None:
        start, end = format_timestamp(window.start), format_timestamp(window.end)
        notice = f"window: from {start} to {end}{field}"
    return f"{notice}; the window is empty: its start is after its end"


def _defaulted_window(plan: Plan, clock: Clock, field: str) -> str | None:
    request, window = plan.request, plan.window
    if not clock.from_dump or (request.start_time and request.end_time):
        return None
    start, end = format_timestamp(window.start), format_timestamp(window.end)
    if request.start_time is None and request.end_time is None:
        return (
            f"window: 7 days up to {end}, {clock.newest}{field}; "
            "use --start-time/--now to change it"
        )
    if request.start_time is None:
        return (
            f"window: from {start} (7 days before {format_timestamp(clock.now)}, "
            f"{clock.newest}) to {end}{field}; use --start-time to change it"
        )
    return (
        f"window: from {start} up to {end}, {clock.newest}{field}; "
        "use --end-time/--now to change it"
    )


def make_caller(as_user: str | None, admin: bool) -> Caller | None:
    """``--as-user``/``--admin`` as a Caller; neither means the administrator view (None)."""
    if as_user is None and not admin:
        return None
    if as_user is not None and not as_user.strip():
        raise CliError("--as-user", "needs a user id (got an empty one)")
    return Caller(user_id=as_user, is_admin=admin)


@dataclass(frozen=True)
class Session:
    """Everything a query command needs: the store, the request, the clock and the caller."""

    store: JobStore
    query: dict[str, str]
    clock: Clock
    caller: Caller | None
    plan: Plan


def open_session(
    dumps: Sequence[str],
    parameters: Mapping[str, Any],
    *,
    now: str | None,
    as_user: str | None,
    admin: bool,
    lenient: bool,
    use_cache: bool = True,
) -> Session:
    """Validate the options, read the dumps, resolve the clock and say which window applies."""
    query = wire_query(parameters)
    ListJobsRequest.from_wire(query)  # refuse a bad value before reading any dump
    parsed_now = parse_now(now)
    caller = make_caller(as_user, admin)
    store = load_store(dumps, lenient=lenient, use_cache=use_cache)
    clock = dump_clock(store, parsed_now, caller)
    plan = store.plan(query, now=clock.now, caller=caller)
    notice = window_notice(plan, clock)
    if notice:
        _notice(notice)
    hint_values_not_in_dump(store, plan.request, caller)
    notice_no_jobs(dumps, store, caller)
    notice_jobs_outside_every_window(store, plan, caller)
    return Session(store, query, clock, caller, plan)


def notice_jobs_outside_every_window(store: JobStore, plan: Plan, caller: Caller | None) -> None:
    """Say how many jobs no window lists: those without a readable time of the window's field
    (counted among the jobs the caller can see)."""
    column = plan.window.column
    unlisted = store.listed_without(column, caller=caller)
    if unlisted:
        _notice(
            f"note: {unlisted} job(s) have no readable {column}: no window lists them "
            "(`jobquery get` finds each by its JobId)"
        )


#: How many of a field's values a hint lists before it says how many more there are.
HINT_VALUES_SHOWN = 20


def hint_values_not_in_dump(
    store: JobStore, request: ListJobsRequest, caller: Caller | None = None
) -> None:
    """A ``--status``/``--job-type``/``--accessibility``/``--payment-type`` value that no job
    the caller can list has (compared ignoring case, as the filter compares) is most likely a
    typo: say so, with the values there are. A non-admin caller's hint is drawn from the jobs
    they can see alone: it must not tell what another user's private jobs hold."""
    whose, where = "in the dump", "in the dump"
    if caller is not None and not caller.is_admin:
        whose, where = f"in the dump that {_who(caller)} can see", "in those jobs"
    # the field the values are listed from: the one the filter compares with
    asked = (
        ("Status", "Status", request.status),
        ("JobType", "JobType", request.job_type),
        ("Accessibility", "ix_Accessibility", request.accessibility),
        ("PaymentType", "ix_PaymentType", request.payment_type),
    )
    for wire, column, value in asked:
        if not value:
            continue
        wanted = [value] if isinstance(value, str) else value
        present = store.listed_values(column, caller=caller)
        folded = {value.casefold() for value in present}
        unknown = [value for value in wanted if value.casefold() not in folded]
        if not unknown:
            continue
        shown = ", ".join(present[:HINT_VALUES_SHOWN]) or "none"
        if len(present) > HINT_VALUES_SHOWN:
            shown += f", ... ({len(present) - HINT_VALUES_SHOWN} more)"
        flag = OPTION_BY_WIRE[wire].flag
        _notice(
            f"note: no job {whose} has {flag} {', '.join(unknown)} (ignoring case); "
            f"values {where}: {shown}"
        )


def _input_bytes(paths: Sequence[str]) -> int:
    from jobquery.io.dumps import resolve_paths

    # a missing path is reported by the read itself, with the reader's own message
    try:
        return sum(path.stat().st_size for path in resolve_paths(paths))
    except (OSError, JobQueryError):
        return 0
