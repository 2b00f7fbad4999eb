"""What a newcomer meets on the command line: defaults, hints and notices, and clean exits.

Each test pins one behaviour that used to get in a new user's way: JobIds cut in narrow tables,
``get``/``convert`` without the sample default, a date alone refused, a typo in ``--status``
answered with silence, files of a dump folder skipped without a word, Ctrl-C ending in a
traceback, output folders created behind the user's back, ``serve`` answering empty pages over
an old dump without saying why.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from jobquery.cli import session as cli_session
from jobquery.cli.app import cli
from jobquery.cli.output import NARROW_LEAVES_OUT, TABLE_COLUMNS
from jobquery.cli.session import SAMPLE
from jobquery.errors import InvalidParameterError
from jobquery.request import Caller, ListJobsRequest
from jobquery.server import time_range_lines
from jobquery.store import JobStore
from tests.helpers.terminal import run_in_terminal

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_PATH = ROOT / "jobquery" / SAMPLE[0] / SAMPLE[1]
SYNTHETIC = ROOT / "data" / "fixtures" / "synthetic_small.ndjson"
#: A job of the bundled sample.
SAMPLE_JOB_ID = "dlc-20261127164702-wq9pwzaeug5b1"


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(arg) for arg in args], catch_exceptions=False)


def assert_refused(result: Result, fragment: str) -> None:
    assert result.exit_code == 2, (result.stdout, result.stderr)
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and fragment in last, last
    assert "Traceback" not in result.output


# ---------------------------------------------------------------------------------------------
# JobIds are never cut in a table.


def test_job_ids_are_whole_in_a_table_80_columns_wide(tmp_path: Path) -> None:
    command = "jobquery list --status Running --page-size 5"
    shown = run_in_terminal(command, cwd=tmp_path, columns=80)
    assert shown.status == 0, shown.screen
    page = json.loads(run("list", "--status", "Running", "--page-size", "5").stdout)
    job_ids = [job["JobId"] for job in page["Jobs"]]
    assert len(job_ids) == 5
    lines = shown.screen.splitlines()
    table = [line for line in lines if not line.startswith(("no dump given", "window:"))]
    assert max(len(line) for line in table) <= 80, shown.screen
    for job_id in job_ids:
        assert any(line.startswith(job_id + " ") for line in table), (job_id, shown.screen)


@pytest.mark.parametrize("columns", [80, 100, 140])
def test_a_narrow_terminal_leaves_columns_out_rather_than_folding_rows(
    tmp_path: Path, columns: int
) -> None:
    shown = run_in_terminal("jobquery list --page-size 5", cwd=tmp_path, columns=columns)
    assert shown.status == 0, shown.screen
    lines = shown.screen.splitlines()
    rows = [line for line in lines if line.startswith("dlc-")]
    assert len(rows) == 5, shown.screen  # one line a job: nothing folded onto the next
    assert all(len(line) <= columns for line in rows), shown.screen
    header = next(line for line in lines if line.startswith("JobId "))
    assert "DisplayName" in header and "Status" in header
    left_out = [name for name, _ in TABLE_COLUMNS if name not in header]
    assert set(left_out) <= set(NARROW_LEAVES_OUT)
    if left_out:
        assert f"hidden at this width: {', '.join(left_out)} (see --columns)" in lines
    else:
        assert "hidden" not in shown.screen
    assert (columns == 140) == (not left_out)


@pytest.mark.parametrize("columns", [80, 120, 240])
def test_stats_on_a_narrow_terminal_leave_metrics_out_rather_than_cut_cells(
    tmp_path: Path, columns: int
) -> None:
    command = "jobquery stats --by type --start-time 2026-01-01"
    shown = run_in_terminal(command, cwd=tmp_path, columns=columns)
    assert shown.status == 0, shown.screen
    lines = shown.screen.splitlines()
    header = next(line for line in lines if line.startswith("JobType "))
    table = lines[lines.index(header) + 1 :]
    # every row on one line: a cell folded onto the next line leaves the label column blank
    assert not [line for line in table if line.startswith(" ")], shown.screen
    assert "…" not in shown.screen
    assert all(len(line) <= columns for line in lines if not line.startswith("window:"))
    hidden = [line for line in lines if line.startswith("hidden at this width: ")]
    assert bool(hidden) == (columns < 240), shown.screen
    for name in ("jobs", "running", "succeeded", "failed"):
        assert name in header.split()


@pytest.mark.parametrize(
    ("metric", "header"), [("gpu_hours", "GPU h"), ("queue_p50_s", "queue p50")]
)
def test_stats_on_a_narrow_terminal_keep_the_metric_the_groups_are_ordered_by(
    tmp_path: Path, metric: str, header: str
) -> None:
    command = f"jobquery stats --by type --start-time 2026-01-01 --order-by {metric}"
    shown = run_in_terminal(command, cwd=tmp_path, columns=80)
    assert shown.status == 0, shown.screen
    head = next(line for line in shown.screen.splitlines() if line.startswith("JobType "))
    assert header in head, shown.screen


def test_job_ids_are_whole_in_a_table_of_chosen_columns(tmp_path: Path) -> None:
    command = "jobquery list --page-size 3 --columns DisplayName,JobId,Username,Status"
    shown = run_in_terminal(command, cwd=tmp_path, columns=60)
    page = json.loads(run("list", "--page-size", "3").stdout)
    for job in page["Jobs"]:
        assert job["JobId"] in shown.screen, shown.screen


# ---------------------------------------------------------------------------------------------
# Every command that reads a dump reads the bundled sample without one.


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))
        else:
            yield (*prefix, name)


def test_every_argument_is_described_in_the_help() -> None:
    described = 0
    for path in _commands(cli):
        command = cli
        for name in path:
            command = command.commands[name]  # type: ignore[attr-defined]
        arguments = [param for param in command.params if isinstance(param, click.Argument)]
        if not arguments:
            continue
        shown = run(*path, "--help")
        assert shown.exit_code == 0, shown.output
        arguments_section, _, options = shown.stdout.partition("Positional arguments:")[
            2
        ].partition("options:")
        for argument in arguments:
            assert argument.help, (path, argument.name)
            metavar = argument.make_metavar(click.Context(command))
            assert metavar in arguments_section and metavar not in options, (path, shown.stdout)
        described += 1
    assert described >= 7  # list, get, stats, explain, serve, convert, dataset write


def test_get_with_only_a_job_id_reads_the_bundled_sample() -> None:
    result = run("get", SAMPLE_JOB_ID)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["JobId"] == SAMPLE_JOB_ID
    assert "reading the bundled sample" in result.stderr


def test_get_still_reads_the_dumps_it_is_given() -> None:
    job_id = json.loads(SYNTHETIC.read_text(encoding="utf-8").splitlines()[0])["JobId"]
    result = run("get", SYNTHETIC, SYNTHETIC, job_id)
    assert json.loads(result.stdout)["JobId"] == job_id
    assert "bundled sample" not in result.stderr
    assert_refused(run("get", "dlc-not-there"), "no job 'dlc-not-there' in the bundled sample")


def test_columns_on_a_pipe_give_csv() -> None:
    piped = run("list", "--columns", "JobId,Status", "--page-size", "3")
    assert piped.exit_code == 0, piped.stderr
    assert piped.stdout.splitlines()[0] == "JobId,Status"
    assert len(piped.stdout.splitlines()) == 4
    as_json = run("list", "--columns", "JobId", "--format", "json")
    assert as_json.exit_code == 0 and json.loads(as_json.stdout)["Jobs"]
    assert "--format json ignores it" in as_json.stderr


def test_get_with_only_a_dump_asks_for_the_job_id() -> None:
    assert_refused(run("get", SYNTHETIC), f"JOB_ID: missing; {SYNTHETIC} is a dump")


def test_convert_with_only_an_output_writes_the_bundled_sample(tmp_path: Path) -> None:
    out = tmp_path / "jobs.parquet"
    result = run("convert", out)
    assert result.exit_code == 0, result.stderr
    assert "converting the bundled sample" in result.stderr
    assert (
        JobStore.from_path(out).snapshot.records()
        == JobStore.from_path(SAMPLE_PATH).snapshot.records()
    )


def test_convert_with_only_an_output_never_overwrites_a_file(tmp_path: Path) -> None:
    kept = tmp_path / "mine.ndjson"
    kept.write_text('{"JobId": "mine"}\n', encoding="utf-8")
    assert_refused(run("convert", kept), f"{kept} exists")
    assert kept.read_text(encoding="utf-8") == '{"JobId": "mine"}\n'


# ---------------------------------------------------------------------------------------------
# A date alone is midnight UTC on the command line (and only there).


def _job_ids(result: Result) -> list[str]:
    assert result.exit_code == 0, result.stderr
    return [json.loads(line)["JobId"] for line in result.stdout.splitlines()]


def test_a_date_alone_means_midnight_utc() -> None:
    as_dates = ["--start-time", "2026-11-01", "--end-time", "2026-11-03"]
    as_times = ["--start-time", "2026-11-01T00:00:00Z", "--end-time", "2026-11-03T00:00:00Z"]
    dated = _job_ids(run("list", "--all", "--format", "ndjson", *as_dates))
    assert dated and dated == _job_ids(run("list", "--all", "--format", "ndjson", *as_times))
    # --now takes a date alone too
    by_date = _job_ids(run("list", "--all", "--format", "ndjson", "--now", "2026-11-10"))
    by_time = run("list", "--all", "--format", "ndjson", "--now", "2026-11-10T00:00:00Z")
    assert by_date and by_date == _job_ids(by_time)


def test_a_window_that_ends_before_it_starts_is_named() -> None:
    inverted = run("list", "--start-time", "2026-11-30", "--end-time", "2026-11-01")
    assert inverted.exit_code == 0
    assert (
        "window: from 2026-11-30T00:00:00Z to 2026-11-01T00:00:00Z; the window is empty: "
        "its start is after its end"
    ) in inverted.stderr
    after_the_newest = run("list", "--start-time", "2027-01-01").stderr
    assert "use --end-time/--now to change it; the window is empty" in after_the_newest
    assert "is empty" not in run("list", "--start-time", "2026-11-01").stderr


def test_generate_takes_dates_alone(tmp_path: Path) -> None:
    out = tmp_path / "jobs.ndjson"
    args = ["--count", "50", "--start", "2026-01-01", "--end", "2026-01-02", "-o", out]
    assert run("generate", *args).exit_code == 0
    times = [json.loads(line)["GmtCreateTime"] for line in out.read_text().splitlines()]
    assert min(times) >= "2026-01-01T00:00:00Z" and max(times) <= "2026-01-02T00:00:00Z"


def test_an_impossible_date_is_refused_as_typed() -> None:
    assert_refused(run("list", "--start-time", "2026-02-30"), "(got '2026-02-30';")
    assert_refused(run("list", "--now", "2026-13-01"), "--now")


def test_a_bad_time_says_a_date_alone_is_taken() -> None:
    for option in ("--start-time", "--end-time", "--now"):
        assert_refused(run("list", option, "yesterday"), "a date alone")


def test_the_api_itself_stays_strict_rfc_3339() -> None:
    with pytest.raises(InvalidParameterError) as refused:
        ListJobsRequest.from_wire({"StartTime": "2026-11-01"})
    assert refused.value.parameter == "StartTime"


# ---------------------------------------------------------------------------------------------
# A --status, --job-type, --accessibility or --payment-type value no job has is most
# likely a typo: say which values exist.


def test_a_status_no_job_has_gets_a_hint_with_the_statuses_there_are() -> None:
    result = run("list", "--status", "Runing,Failed", "--format", "json")
    assert result.exit_code == 0
    hint = [line for line in result.stderr.splitlines() if line.startswith("note:")]
    assert len(hint) == 1, result.stderr
    assert "--status Runing" in hint[0]
    assert "Failed" not in hint[0].split("values in the dump:")[0]
    assert "Running" in hint[0].split("values in the dump:")[1]


def test_a_job_type_no_job_has_gets_a_hint() -> None:
    result = run("stats", "--job-type", "PyTorch", "--format", "json")
    assert "note: no job in the dump has --job-type PyTorch" in result.stderr
    assert "PyTorchJob" in result.stderr


def test_an_accessibility_or_payment_type_no_job_has_gets_a_hint() -> None:
    """They returned nothing, silently."""
    result = run("list", "--accessibility", "secret", "--payment-type", "Free", "--format", "json")
    assert "no job in the dump has --accessibility secret" in result.stderr
    assert "values in the dump: private, public" in result.stderr
    assert "no job in the dump has --payment-type Free" in result.stderr
    assert "values in the dump: postpaid, prepaid, spot" in result.stderr
    matched = run("list", "--accessibility", "PUBLIC", "--payment-type", "spot", "--format", "json")
    assert "note:" not in matched.stderr


def test_values_that_exist_in_another_case_get_no_hint() -> None:
    result = run("list", "--status", "RUNNING", "--job-type", "pytorchjob", "--format", "json")
    assert "note:" not in result.stderr
    assert json.loads(result.stdout)["TotalCount"] > 0


# ---------------------------------------------------------------------------------------------
# Files of a dump folder that are not dumps are named, counted by kind.


def _folder_with_other_files(tmp_path: Path) -> Path:
    folder = tmp_path / "jobs"
    folder.mkdir()
    (folder / "a.ndjson").write_bytes(SYNTHETIC.read_bytes())
    (folder / "notes.txt").write_text("x", encoding="utf-8")
    (folder / "nested").mkdir()
    (folder / "nested" / "todo.txt").write_text("x", encoding="utf-8")
    (folder / "nested" / "export.csv").write_text("x", encoding="utf-8")
    return folder


def test_files_skipped_in_a_dump_folder_are_counted_by_kind(tmp_path: Path) -> None:
    folder = _folder_with_other_files(tmp_path)
    expected = f"skipped 3 files in {folder} (not a dump format): 2 .txt, 1 .csv"
    for command in (["list"], ["stats"], ["explain"], ["get"]):
        result = run(*command, folder, *(["dlc-x"] if command == ["get"] else []))
        assert expected in result.stderr.splitlines(), (command, result.stderr)
    result = run("convert", folder, tmp_path / "all.parquet")
    assert result.exit_code == 0
    assert expected in result.stderr.splitlines()


def test_a_folder_of_dumps_only_gets_no_notice(tmp_path: Path) -> None:
    folder = tmp_path / "clean"
    folder.mkdir()
    (folder / "a.ndjson").write_bytes(SYNTHETIC.read_bytes())
    assert "skipped" not in run("list", folder).stderr


# ---------------------------------------------------------------------------------------------
# An output folder that does not exist is an error, never created.


def test_a_dump_without_jobs_says_so(tmp_path: Path) -> None:
    empty = tmp_path / "x.ndjson"
    empty.write_text("\n")
    result = run("list", empty)
    assert result.exit_code == 0, result.stderr
    assert f"{empty} holds no jobs" in result.stderr
    page = tmp_path / "page.json"
    page.write_text("[]")
    assert f"{empty}, {page} hold no jobs" in run("stats", empty, page).stderr
    assert "no jobs" not in run("list", SYNTHETIC).stderr


def test_generate_into_a_missing_folder_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "x.ndjson"
    assert_refused(
        run("generate", "--count", "5", "-o", target), f"no such folder: {target.parent}"
    )
    assert not target.parent.exists()


def test_a_folder_as_the_file_to_write_is_named_as_such(tmp_path: Path) -> None:
    """It was "unknown dump format (no extension)"."""
    message = f"{tmp_path} is a folder; name the file to write, such as {tmp_path / 'jobs.ndjson'}"
    assert_refused(run("convert", SYNTHETIC, tmp_path), message)
    assert_refused(run("generate", "--count", "5", "-o", tmp_path), message)


def test_convert_into_a_missing_folder_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "out.parquet"
    assert_refused(run("convert", SYNTHETIC, target), f"no such folder: {target.parent}")
    assert_refused(run("convert", target), f"no such folder: {target.parent}")
    assert not target.parent.exists()


# ---------------------------------------------------------------------------------------------
# Ctrl-C at any moment: exit status 130 and one line, never a traceback.


def _interrupted_at(monkeypatch: pytest.MonkeyPatch, target: str, *args: str | Path) -> Result:
    def interrupt(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(target, interrupt)
    return run(*args)


@pytest.mark.parametrize(
    ("target", "args"),
    [
        pytest.param("jobquery.io.cache.load", ("list",), id="loading"),
        pytest.param("jobquery.store.JobStore.list_jobs", ("list",), id="querying"),
        pytest.param("jobquery.cli.output.print_out", ("list", "--format", "table"), id="writing"),
        pytest.param("jobquery.stats.compute_stats", ("stats",), id="computing-stats"),
        pytest.param("jobquery.store.JobStore.export", ("convert", "x.parquet"), id="converting"),
        pytest.param("jobquery.server.StoreReloader.__init__", ("serve",), id="serve-loading"),
    ],
)
def test_ctrl_c_inside_a_command_exits_130_with_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, target: str, args: tuple[str, ...]
) -> None:
    monkeypatch.chdir(tmp_path)
    result = _interrupted_at(monkeypatch, target, *args)
    assert result.exit_code == 130, result.output
    # the notices written before the interruption, then one line
    assert result.stderr.endswith("\ninterrupted\n") or result.stderr == "interrupted\n"
    assert result.output.count("interrupted") == 1
    assert "Traceback" not in result.output and not result.stderr.endswith("\n\ninterrupted\n")


#: Run the console script with a Ctrl-C that lands while the command line imports Polars.
CTRL_C_WHILE_IMPORTING = """
import sys

class CtrlCWhileImportingPolars:
    def find_spec(self, name, path=None, target=None):
        if name == "polars":
            raise KeyboardInterrupt
        return None

sys.meta_path.insert(0, CtrlCWhileImportingPolars())
sys.argv = ["jobquery", "list"]
from jobquery.console import main
main()
"""


@pytest.mark.parametrize("group", [[], ["cache"], ["dataset"]], ids=["bare", "cache", "dataset"])
def test_a_group_without_a_command_prints_its_help_not_an_error(group: list[str]) -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "jobquery", *group],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert shown.returncode == 2 and shown.stdout == ""
    assert shown.stderr.startswith(f"Usage: jobquery {' '.join(group)}".rstrip() + " [OPTIONS]")
    assert "error:" not in shown.stderr and "--help')" not in shown.stderr


def test_ctrl_c_while_starting_up_exits_130_with_one_line() -> None:
    started = subprocess.run(
        [sys.executable, "-c", CTRL_C_WHILE_IMPORTING],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert started.returncode == 130
    assert started.stderr == "interrupted\n"


def test_a_real_ctrl_c_while_generating_exits_130_and_leaves_nothing(tmp_path: Path) -> None:
    """SIGINT once the generator has begun writing (its temporary folder exists)."""
    with subprocess.Popen(
        [sys.executable, "-m", "jobquery", "generate", "--count", "2000000", "-o", "big.ndjson"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        deadline = time.monotonic() + 120
        while not any(tmp_path.iterdir()) and process.poll() is None:
            assert time.monotonic() < deadline, "the generator never started writing"
            time.sleep(0.01)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
    assert process.returncode == 130, (out, err)
    assert err == "interrupted\n"
    assert list(tmp_path.iterdir()) == []  # no partial dump, no temporary folder


# ---------------------------------------------------------------------------------------------
# serve says which times its jobs span, and warns when the default window holds none of them.


def test_the_time_range_is_logged_and_an_empty_default_window_warned() -> None:
    store = JobStore.from_path(SAMPLE_PATH)
    wall_clock = datetime(2027, 3, 1, tzinfo=UTC)
    lines = time_range_lines(store, wall_clock)
    assert lines[0] == "jobquery: jobs created from 2025-12-07T20:12:33Z to 2026-11-27T16:47:02Z"
    assert len(lines) == 2
    assert "no job was created in the default window" in lines[1]
    assert "2027-03-01T00:00:00Z" in lines[1] and "--now 2026-11-28T00:00:00Z" in lines[1]
    assert time_range_lines(store, datetime(2026, 11, 28, tzinfo=UTC)) == lines[:1]


def test_serve_logs_the_time_range_at_start_up() -> None:
    command = [sys.executable, "-m", "jobquery", "serve", "--port", "0"]
    command += ["--now", "2030-01-01"]  # far from every job: the default window is empty
    with subprocess.Popen(command, stderr=subprocess.PIPE, text=True) as process:
        assert process.stderr is not None
        try:
            seen: list[str] = []
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not any("warning" in s for s in seen):
                line = process.stderr.readline()
                if not line:
                    break
                seen.append(line)
        finally:
            process.send_signal(signal.SIGINT)
            process.communicate(timeout=60)
    assert any(line.startswith("jobquery: jobs created from 2025-12-07T20:12:33Z") for line in seen)
    assert any("no job was created in the default window" in line for line in seen), seen


def test_the_bundled_sample_path_is_the_one_the_commands_read() -> None:
    assert cli_session.bundled_sample() == SAMPLE_PATH
    assert os.path.getsize(SAMPLE_PATH) > 0


@pytest.mark.parametrize("output_format", ["json", "ndjson", "csv"])
def test_a_reader_that_stops_early_ends_the_command_quietly(
    tmp_path: Path, output_format: str
) -> None:
    """``jobquery list ... | head``: exit status 0 and nothing on stderr but the notices (it
    was 1, the status of an internal error, for JSON and NDJSON)."""
    environment = {**os.environ, "JOBQUERY_CACHE_DIR": str(tmp_path / "cache")}
    command = [sys.executable, "-m", "jobquery", "list", "--all", "--start-time", "2000-01-01"]
    with subprocess.Popen(
        [*command, "--format", output_format],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment,
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        assert len(process.stdout.read(100)) == 100
        process.stdout.close()  # the reader goes: the rest of a 2,000-job answer meets no one
        errors = process.stderr.read().decode()
        assert process.wait(timeout=120) == 0, errors
    assert [
        line for line in errors.splitlines() if not line.startswith(("no dump", "window"))
    ] == []


@pytest.mark.parametrize("command", ["list", "stats", "explain"])
def test_an_empty_user_id_is_refused(command: str) -> None:
    result = run(command, "--as-user", " ")
    assert result.exit_code == 2
    assert "error: --as-user: needs a user id (got an empty one)" in result.stderr


def test_a_port_beyond_65535_is_refused() -> None:
    """It was taken modulo 65536: --port 99999 listened on 34463."""
    result = run("serve", "--port", "99999")
    assert result.exit_code == 2 and "99999 is not in the range 0<=x<=65535" in result.stderr


@pytest.mark.parametrize("now", ["2026-11-28T00:00:00Z", 1795000000])
def test_a_clock_that_is_not_a_datetime_is_a_type_error(now: object) -> None:
    """It ended in an InternalError whose cause only the chained traceback named."""
    store = JobStore.from_path(SAMPLE_PATH)
    with pytest.raises(TypeError, match="now must be a datetime"):
        store.list_jobs({}, now=now)  # type: ignore[arg-type]


def test_arguments_of_the_wrong_type_are_type_errors_that_name_them() -> None:
    """Each ended in an InternalError, a Polars error or an AttributeError (a newcomer pass)."""
    store = JobStore.from_path(SAMPLE_PATH)
    wrong: list[tuple[Callable[[], object], str]] = [
        (lambda: Caller(user_id=23198756866041503), "Caller.user_id must be a str"),  # type: ignore[arg-type]
        (lambda: Caller(is_admin="yes"), "Caller.is_admin must be a bool"),  # type: ignore[arg-type]
        (lambda: store.list_jobs({}, caller="23198756866041503"), "caller must be a Caller"),  # type: ignore[arg-type]
        (lambda: store.get_job("x", caller="1"), "caller must be a Caller"),  # type: ignore[arg-type]
        (lambda: store.get_job(None), "a JobId is a str"),  # type: ignore[arg-type]
        (JobStore.from_path, "from_path needs at least one path"),
        (lambda: JobStore.from_path(SAMPLE_PATH, cache="yes"), "cache is a bool"),  # type: ignore[arg-type]
    ]
    for call, message in wrong:
        with pytest.raises(TypeError, match=message):
            call()


def test_jobs_no_window_lists_are_named_among_those_the_caller_can_see(tmp_path: Path) -> None:
    """A job without a readable GmtCreateTime is never listed; nothing said so. The count is
    of the jobs the caller can see: another user's private ones change nothing."""
    mine = [
        {"JobId": "a", "GmtCreateTime": "not a time", "UserId": "u1"},
        {"JobId": "b", "UserId": "u1"},
        {"JobId": "c", "GmtCreateTime": "2026-11-27T00:00:00Z", "UserId": "u1"},
    ]
    theirs = [{"JobId": "h", "UserId": "u2", "Accessibility": "PRIVATE"}]
    notes = []
    for name, jobs in (("mine", mine), ("all", mine + theirs)):
        dump = tmp_path / f"{name}.ndjson"
        dump.write_text("".join(json.dumps(job) + "\n" for job in jobs), encoding="utf-8")
        result = run("list", dump, "--as-user", "u1", "--format", "csv", "--no-cache")
        assert result.exit_code == 0
        notes.append(result.stderr)
        admin = run("list", dump, "--format", "csv", "--no-cache").stderr
        assert f"note: {2 + (name == 'all')} job(s) have no readable GmtCreateTime" in admin
    assert notes[0] == notes[1]
    assert "note: 2 job(s) have no readable GmtCreateTime: no window lists them" in notes[0]
