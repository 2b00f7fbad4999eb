"""The command line: options from the request model, outputs, goldens, stats, errors, privacy.

Most tests drive ``jobquery.cli`` in-process with click's ``CliRunner`` (stdout is not a
terminal there, so output is the plain, stable form); a few run the installed entry point and
``python -m jobquery`` as real subprocesses.

Golden outputs live in ``tests/golden/cli/`` (see its README); regenerate them with
``JOBQUERY_REGENERATE_GOLDEN=1 python -m pytest tests/test_cli.py -k golden``.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from jobquery import __version__, stats, synth
from jobquery.cli import query
from jobquery.cli.app import cli
from jobquery.cli.dumps import SYNTH_END, SYNTH_PROFILES, SYNTH_SPAN_DAYS
from jobquery.cli.options import PARAMETER_OPTIONS
from jobquery.cli.output import public_columns
from jobquery.cli.query import list_command
from jobquery.request import PARAMETERS, Caller, parse_timestamp
from jobquery.snapshot import newest_time
from jobquery.snapshot.columns import TYPED_COLUMNS
from jobquery.stats import STATUS_CATEGORIES
from jobquery.store import JobStore

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "data" / "fixtures"
SEED_PAGE = FIXTURES / "seed_page.json"
EDGE_CASES = FIXTURES / "edge_cases.ndjson"
SYNTHETIC = FIXTURES / "synthetic_small.ndjson"
GOLDEN = Path(__file__).resolve().parent / "golden" / "cli"
REGENERATE = bool(os.environ.get("JOBQUERY_REGENERATE_GOLDEN"))
REQUEST_ID = "00000000-0000-4000-8000-000000000000"
#: A window wide enough to hold every job of every fixture.
EVERYTHING = ["--start-time", "1970-01-01T00:00:00Z", "--end-time", "2100-01-01T00:00:00Z"]


def run(*args: str | Path) -> Result:
    """Invoke the CLI in-process; stdout and stderr are kept apart."""
    return CliRunner().invoke(cli, [str(arg) for arg in args], catch_exceptions=False)


def ok(*args: str | Path) -> Result:
    result = run(*args)
    assert result.exit_code == 0, result.stderr
    return result


# ---------------------------------------------------------------------------------------------
# A job set made for these tests: every filter of the battery below matches some jobs.

BASE = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
USERS = (("1001", "alice"), ("1002", "bob"), ("1003", "carol"))
STATUSES = (
    "Running",
    "Failed",
    "Succeeded",
    "Stopped",
    "Queuing",
    "SucceededReserving",
    "FailedReserving",
    "Creating",
    "Succeeded",
)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def made_jobs() -> list[dict[str, Any]]:
    jobs = []
    for i in range(72):
        user_id, username = USERS[i % 3]
        created = BASE - timedelta(hours=4 * i, minutes=i)
        status = STATUSES[i % len(STATUSES)]
        job: dict[str, Any] = {
            "JobId": f"dlc-{i:04d}",
            "DisplayName": ("mnist-train", "bert-Finetune", "resnet50")[i % 3] + f"-{i}",
            "JobType": ("PyTorchJob", "TFJob", "MPIJob", "PyTorchJob")[i % 4],
            "Status": status,
            "UserId": user_id,
            "Username": username,
            "WorkspaceId": ("ws-1", "ws-2")[i % 2],
            "ResourceQuotaName": ("team-rec", "team-nlp")[(i // 2) % 2],
            "Accessibility": "PRIVATE" if i % 5 == 0 else "PUBLIC",
            "GmtCreateTime": _iso(created),
            "GmtSubmittedTime": _iso(created + timedelta(seconds=10)),
            "Duration": 600 + 97 * i if i % 6 else str(600 + 97 * i),
            "RequestGPU": str((0, 1, 2, 8)[i % 4]),
            "UserCommand": "python train.py --epochs 3" if i % 2 else "bash run.sh",
            "JobSpecs": [
                {
                    "Type": "Worker",
                    "Image": "registry/pai/pytorch-training:2.1" if i % 3 else "tensorflow:1.15",
                    "UseSpotInstance": i % 7 == 0,
                    "AssignNodeSpec": {"EnableAssignNode": i % 6 == 0},
                }
            ],
            "Settings": {
                "Tags": {"team": ("rec", "nlp")[i % 2], "env": ("prod", "dev", "prod")[i % 3]},
                "Caller": ("SilkFlow", "local")[i % 2],
                "PipelineId": f"pid-{i % 4}",
                "BusinessUserId": f"b-{i % 3}",
            },
        }
        if status not in ("Queuing", "Creating"):
            job["GmtRunningTime"] = _iso(created + timedelta(seconds=40 + 7 * i))
        if status in ("Succeeded", "Failed", "Stopped"):
            job["GmtFinishTime"] = _iso(created + timedelta(seconds=600 + 97 * i))
        if status == "Failed":
            job["ReasonCode"] = "JobFailed"
            job["ReasonMessage"] = "CUDA out of memory on worker-0"
        if i % 4 == 0:
            job["ResourceId"] = "quota-1"
        if i % 8 == 0:
            job["TemplateId"] = "tpl-1"
        if i == 13:
            job["IsDeleted"] = True
        jobs.append(job)
    return jobs


@pytest.fixture(scope="module")
def dump(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "jobs.ndjson"
    path.write_text("".join(json.dumps(job) + "\n" for job in made_jobs()), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def store(dump: Path) -> JobStore:
    return JobStore.from_path(dump)


# ---------------------------------------------------------------------------------------------
# Options come from the request model.


def test_every_listjobs_parameter_has_an_option() -> None:
    dests = {param.name for param in list_command.params}
    for wire, (field, _parser) in PARAMETERS.items():
        assert f"p_{field}" in dests, f"{wire} has no option on `jobquery list`"
    assert {option.wire for option in PARAMETER_OPTIONS} == set(PARAMETERS)


def test_help_lists_every_advertised_parameter_option() -> None:
    text = ok("list", "--help").stdout
    for option in PARAMETER_OPTIONS:
        if option.wire != "NextToken":  # an extension, accepted but not advertised
            assert option.flag in text, option.flag


@pytest.mark.parametrize("command", ["list", "stats", "explain", "get", "convert", "generate"])
def test_help_groups_options_and_shows_examples(command: str) -> None:
    text = ok(command, "--help").stdout
    assert "Examples:" in text
    assert f"jobquery {command}" in text.split("Examples:")[1]
    if command in ("list", "stats", "explain"):
        sections = ["Filter options", "Time window options", "Caller options", "Input options"]
        if command != "stats":
            sections.insert(2, "Sort and page options")
        positions = [text.index(section) for section in sections]
        assert positions == sorted(positions)


def test_version() -> None:
    assert ok("--version").stdout == f"jobquery {__version__}\n"


# ---------------------------------------------------------------------------------------------
# `list --format json` is exactly JobStore.list_jobs(...).to_wire() for the same request.

BATTERY: list[tuple[str, list[str], dict[str, str], Caller | None]] = [
    ("no_options", [], {}, None),
    ("display_name", ["--display-name", "BERT"], {"DisplayName": "BERT"}, None),
    (
        "display_name_prefix",
        ["--display-name", "mnist", "--display-name-search-mode", "prefix"],
        {"DisplayName": "mnist", "DisplayNameSearchMode": "prefix"},
        None,
    ),
    ("status_list", ["--status", "Running,Failed"], {"Status": "Running,Failed"}, None),
    (
        "status_repeated",
        ["--status", "Succeeded", "--status", "Stopped"],
        {"Status": "Succeeded,Stopped"},
        None,
    ),
    ("job_type", ["--job-type", "pytorchjob"], {"JobType": "pytorchjob"}, None),
    ("one_tag", ["--tag", "team=rec"], {"Tags": '{"team":"rec"}'}, None),
    (
        "two_tags",
        ["--tag", "team=nlp", "--tag", "env=prod"],
        {"Tags": '{"team":"nlp","env":"prod"}'},
        None,
    ),
    ("as_user", ["--as-user", "1002"], {}, Caller("1002")),
    ("as_admin_user", ["--as-user", "1002", "--admin"], {}, Caller("1002", is_admin=True)),
    ("show_own", ["--show-own", "--as-user", "1001"], {"ShowOwn": "true"}, Caller("1001")),
    (
        "from_all_workspaces",
        ["--from-all-workspaces", "--show-own", "--as-user", "1003", "--workspace-id", "ws-1"],
        {"FromAllWorkspaces": "true", "ShowOwn": "true", "WorkspaceId": "ws-1"},
        Caller("1003"),
    ),
    ("assign_node", ["--enable-assign-node"], {"EnableAssignNode": "true"}, None),
    ("no_assign_node", ["--no-enable-assign-node"], {"EnableAssignNode": "false"}, None),
    (
        "explicit_window",
        ["--start-time", "2026-11-01T00:00:00Z", "--end-time", "2026-11-10T12:00:00+08:00"],
        {"StartTime": "2026-11-01T00:00:00Z", "EndTime": "2026-11-10T12:00:00+08:00"},
        None,
    ),
    (
        "finish_time_window",
        ["--time-range-field", "GmtFinishTime", "--start-time", "2026-11-05T00:00:00Z"],
        {"TimeRangeField": "GmtFinishTime", "StartTime": "2026-11-05T00:00:00Z"},
        None,
    ),
    (
        "sort_order_paging",
        ["--sort-by", "DisplayName", "--order", "asc", "--page-size", "5", "--page-number", "2"],
        {"SortBy": "DisplayName", "Order": "asc", "PageSize": "5", "PageNumber": "2"},
        None,
    ),
    (
        "numeric_range",
        [
            *("--numeric-range-field", "RequestGPU"),
            *("--numeric-range-min", "1", "--numeric-range-max", "4"),
        ],
        {"NumericRangeField": "RequestGPU", "NumericRangeMin": "1", "NumericRangeMax": "4"},
        None,
    ),
    ("job_ids", ["--job-ids", "dlc-0001, DLC-0002", "--job-ids", "dlc-0003"], {}, None),
    ("job_id_fuzzy", ["--job-id", "DLC-000"], {"JobId": "DLC-000"}, None),
    ("command_search", ["--user-command-search", "python train"], {}, None),
    ("image_search", ["--image-search", "pytorch 2.1"], {"ImageSearch": "pytorch 2.1"}, None),
    ("reason_search", ["--reason-search", "out of memory"], {}, None),
    ("accessibility", ["--accessibility", "private"], {"Accessibility": "private"}, None),
    ("payment_spot", ["--payment-type", "Spot"], {"PaymentType": "Spot"}, None),
    ("prepaid", ["--payment-type", "PrePaid"], {"PaymentType": "PrePaid"}, None),
    ("username_quota", ["--username", "ALI", "--resource-quota-name", "rec"], {}, None),
    (
        "settings_fields",
        ["--caller", "silkflow", "--pipeline-id", "PID-0", "--business-user-id", "B-0"],
        {"Caller": "silkflow", "PipelineId": "PID-0", "BusinessUserId": "B-0"},
        None,
    ),
    (
        "ids_and_templates",
        [
            *("--resource-id", "quota-1", "--resource-ids", "quota-1,quota-2"),
            *("--template-id", "tpl-1", "--user-id-for-filter", "1003"),
        ],
        {
            "ResourceId": "quota-1",
            "ResourceIds": "quota-1,quota-2",
            "TemplateId": "tpl-1",
            "UserIdForFilter": "1003",
        },
        None,
    ),
]
# the expected wire values of the cases above written as {} are filled in here, to keep the
# table readable
BATTERY_WIRE = {
    "job_ids": {"JobIds": "dlc-0001, DLC-0002,dlc-0003"},
    "command_search": {"UserCommandSearch": "python train"},
    "reason_search": {"ReasonSearch": "out of memory"},
    "username_quota": {"Username": "ALI", "ResourceQuotaName": "rec"},
}


@pytest.mark.parametrize(
    ("args", "wire", "caller"),
    [
        pytest.param(args, BATTERY_WIRE.get(name, wire), caller, id=name)
        for name, args, wire, caller in BATTERY
    ],
)
def test_list_json_is_the_store_answer(
    dump: Path, store: JobStore, args: list[str], wire: dict[str, str], caller: Caller | None
) -> None:
    result = ok("list", dump, *args, "--format", "json", "--request-id", REQUEST_ID)
    # the default window ends at the newest job the caller can see
    expected = store.list_jobs(
        wire, now=store.newest_time(caller=caller), caller=caller, request_id=REQUEST_ID
    )
    assert json.loads(result.stdout) == expected.to_wire()


def test_the_battery_mostly_matches_something(dump: Path, store: JobStore) -> None:
    # a battery of empty answers would prove nothing
    now = newest_time(store.snapshot)
    counts = [
        store.list_jobs(BATTERY_WIRE.get(name, wire), now=now, caller=caller).total_count
        for name, _args, wire, caller in BATTERY
    ]
    assert sum(count > 0 for count in counts) == len(BATTERY)
    assert len(BATTERY) >= 15


def test_all_lists_every_match_in_order(dump: Path, store: JobStore) -> None:
    result = ok("list", dump, "--all", "--format", "ndjson", "--sort-by", "Status", *EVERYTHING)
    ids = [json.loads(line)["JobId"] for line in result.stdout.splitlines()]
    frame = store.query({"SortBy": "Status", "StartTime": EVERYTHING[1], "EndTime": EVERYTHING[3]})
    assert ids == frame["JobId"].to_list()
    assert len(ids) == 71  # every job but the deleted one

    array = json.loads(ok("list", dump, "--all", "--format", "json", *EVERYTHING).stdout)
    assert [job["JobId"] for job in array] == store.query(
        {"StartTime": EVERYTHING[1], "EndTime": EVERYTHING[3]}
    )["JobId"].to_list()


# ---------------------------------------------------------------------------------------------
# Table, CSV and NDJSON of a page.


def test_table_shows_the_useful_columns_and_a_footer(dump: Path, store: JobStore) -> None:
    total = store.list_jobs(now=newest_time(store.snapshot)).total_count
    result = ok("list", dump, "--format", "table", "--page-size", "4")
    lines = result.stdout.splitlines()
    header = lines[0].split()
    assert header[:4] == ["JobId", "DisplayName", "JobType", "Status"]
    for column in ("User", "Created", "Duration", "GPUs"):
        assert column in lines[0]
    assert "\x1b[" not in result.stdout  # no colour when not a terminal
    assert lines[-1] == f"page 1 of {math.ceil(total / 4)} · {total} matching jobs"
    assert sum(line.startswith("dlc-") for line in lines) == 4


def test_table_columns_and_empty_result(dump: Path) -> None:
    result = ok("list", dump, "--format", "table", "--columns", "jobid,status,Duration")
    assert result.stdout.splitlines()[0].split() == ["JobId", "Status", "Duration"]
    empty = ok("list", dump, "--format", "table", "--status", "Nothing")
    assert empty.stdout == "no matching jobs\n"


def test_csv_and_ndjson_of_a_page(dump: Path, store: JobStore) -> None:
    wire = {"PageSize": "3", "Status": "Failed,Succeeded"}
    expected = store.list_jobs(wire, now=newest_time(store.snapshot))
    args = ("list", dump, "--page-size", "3", "--status", "Failed,Succeeded")
    ndjson = ok(*args, "--format", "ndjson").stdout.splitlines()
    assert [json.loads(line) for line in ndjson] == expected.jobs

    rows = ok(*args, "--format", "csv", "--columns", "JobId,Status,GmtCreateTime,RequestGPU")
    lines = rows.stdout.splitlines()
    assert lines[0] == "JobId,Status,GmtCreateTime,RequestGPU"
    first = expected.jobs[0]
    assert (
        lines[1]
        == f"{first['JobId']},{first['Status']},{first['GmtCreateTime']},{first['RequestGPU']}"
    )
    full = ok(*args, "--format", "csv").stdout.splitlines()
    assert full[0].startswith("JobId,DisplayName,JobType,Status,")
    assert "job_json" not in full[0]


def test_default_format_is_json_when_piped(dump: Path) -> None:
    result = ok("list", dump, "--page-size", "2")
    assert set(json.loads(result.stdout)) == {"Jobs", "TotalCount", "RequestId"}


# ---------------------------------------------------------------------------------------------
# The default window is relative to the dump.


def test_old_dump_lists_jobs_without_now_and_says_which_window() -> None:
    result = ok("list", SEED_PAGE, "--format", "json")
    assert json.loads(result.stdout)["TotalCount"] > 0
    newest = newest_time(JobStore.from_path(SEED_PAGE).snapshot)
    assert newest is not None and newest.year < 2025
    assert re.search(r"window: 7 days up to 20\d\d-\d\d-\d\dT", result.stderr)
    assert "the newest job in the dump" in result.stderr


def test_wall_clock_now_finds_nothing_in_an_old_dump() -> None:
    result = ok("list", SEED_PAGE, "--format", "json", "--now", "2026-11-29T00:00:00Z")
    assert json.loads(result.stdout)["TotalCount"] == 0
    assert "window:" not in result.stderr


def test_no_notice_with_an_explicit_window(dump: Path) -> None:
    result = ok("list", dump, "--format", "json", *EVERYTHING)
    assert result.stderr == ""
    only_end = ok("list", dump, "--format", "json", "--end-time", "2026-11-10T00:00:00Z")
    assert "7 days before" in only_end.stderr


def test_no_dump_reads_the_bundled_sample() -> None:
    result = ok("list", "--format", "json")
    assert "bundled sample" in result.stderr
    assert json.loads(result.stdout)["TotalCount"] > 0


# ---------------------------------------------------------------------------------------------
# Bad input: one line naming the problem, exit status 2, never a traceback.

BAD_OPTIONS = [
    ("sort_by", ["--sort-by", "foo"], "error: --sort-by: not an accepted value (got 'foo'"),
    ("page_size", ["--page-size", "0"], "error: --page-size: must be between 1 and 100"),
    ("page_number", ["--page-number", "x"], "error: --page-number: expected an integer"),
    ("impossible_time", ["--start-time", "2026-02-30T25:61:00Z"], "error: --start-time:"),
    ("order", ["--order", "sideways"], "error: --order: not an accepted value"),
    ("time_field", ["--time-range-field", "GmtBirth"], "error: --time-range-field:"),
    ("now", ["--now", "yesterday"], "error: --now: expected an RFC 3339 timestamp"),
    ("tag", ["--tag", "team"], "error: --tag: expected KEY=VALUE"),
    ("show_own", ["--show-own"], "error: --show-own: needs a caller identity"),
    ("bound", ["--numeric-range-min", "1"], "error: --numeric-range-min: needs --numeric-range"),
    ("all_workspaces", ["--from-all-workspaces"], "error: --from-all-workspaces: must be used"),
    ("columns", ["--columns", "Nope", "--format", "csv"], "error: --columns: unknown column"),
    ("format", ["--format", "xml"], "error: Invalid value for '--format'"),
    ("unknown_option", ["--colour"], "error: No such option"),
]


def assert_refused(result: Result, fragment: str) -> None:
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error: ")
    assert fragment in lines[-1], lines[-1]


@pytest.mark.parametrize(
    ("args", "fragment"), [pytest.param(a, f, id=name) for name, a, f in BAD_OPTIONS]
)
def test_bad_option_values_are_refused_in_one_line(
    dump: Path, args: list[str], fragment: str
) -> None:
    assert_refused(run("list", dump, *args), fragment)


def test_bad_value_with_json_format_prints_the_api_error_body(dump: Path) -> None:
    result = run("list", dump, "--page-size", "101", "--format", "json", "--request-id", REQUEST_ID)
    assert_refused(result, "--page-size: must be between 1 and 100")
    body = json.loads(result.stdout)
    assert body == {"RequestId": REQUEST_ID, "Code": "InvalidParameter", "Message": body["Message"]}
    assert body["Message"].startswith("Invalid parameter PageSize=")


def test_missing_malformed_and_unknown_dumps(tmp_path: Path) -> None:
    assert_refused(run("list", tmp_path / "nope.ndjson"), "no such dump file")
    assert_refused(run("list", tmp_path / "*.parquet"), "no file matches")

    bad = tmp_path / "bad.ndjson"
    bad.write_text('{"JobId": "a"}\n{"JobId": \n{"JobId": "c"}\n', encoding="utf-8")
    assert_refused(run("list", bad), f"{bad}, line 2: not valid JSON")
    assert_refused(run("stats", bad), "line 2")

    odd = tmp_path / "jobs.txt"
    odd.write_text("{}", encoding="utf-8")
    assert_refused(run("list", odd), "unknown dump format .txt")
    assert_refused(run("convert", SEED_PAGE, tmp_path / "out.csv"), "unknown dump format .csv")


def test_lenient_skips_and_reports_malformed_records(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ndjson"
    bad.write_text('{"JobId": "a", "GmtCreateTime": "2026-01-01T00:00:00Z"}\n{"JobId": \n[]\n')
    result = ok("list", bad, "--lenient", "--format", "json")
    assert json.loads(result.stdout)["TotalCount"] == 1
    assert "skipped 2 malformed record(s)" in result.stderr
    assert f"{bad}, line 2" in result.stderr and f"{bad}, line 3" in result.stderr


def test_a_saved_snapshot_in_a_folder_is_read_whatever_its_name(tmp_path: Path) -> None:
    folder = tmp_path / "dumps"
    folder.mkdir()
    (folder / "notes.txt").write_text("not jobs\n")
    JobStore.from_records(synth.generate_records(30, seed=5)).save(folder / "monday.jqsnap")
    through_folder = ok("list", folder, "--format", "json", *EVERYTHING)
    through_glob = ok("list", folder / "*.jqsnap", "--format", "json", *EVERYTHING)
    assert json.loads(through_folder.stdout)["TotalCount"] == 30
    assert json.loads(through_glob.stdout)["Jobs"] == json.loads(through_folder.stdout)["Jobs"]
    assert "skipped 1 file in" in through_folder.stderr and "1 .txt" in through_folder.stderr


def test_entries_of_a_folder_that_are_not_files_are_noted(tmp_path: Path) -> None:
    folder = tmp_path / "dumps"
    folder.mkdir()
    (folder / "jobs.ndjson").write_text('{"JobId": "a", "GmtCreateTime": "2026-01-01T00:00:00Z"}\n')
    (folder / "gone.ndjson").symlink_to(folder / "nowhere.ndjson")
    note = f"note: {folder}/gone.ndjson: not a regular file (a symbolic link to nothing); not read"
    for _built_then_cached in range(2):
        result = ok("list", folder, "--format", "json", *EVERYTHING)
        assert json.loads(result.stdout)["TotalCount"] == 1
        assert result.stderr.count(note) == 1
        assert "malformed" not in result.stderr


def test_integers_beyond_64_bits_print_with_their_digits(tmp_path: Path) -> None:
    dump = tmp_path / "big.ndjson"
    job = '{"JobId":"big-1","GmtCreateTime":"2026-11-27T00:00:00Z","Duration":' + str(10**23)
    dump.write_text(job + "}\n", encoding="utf-8")
    listed = ok("list", dump, "--start-time", "2026-01-01T00:00:00Z", "--format", "json")
    assert json.loads(listed.stdout)["Jobs"][0]["Duration"] == 10**23
    assert json.loads(ok("get", dump, "big-1").stdout)["Duration"] == 10**23


def test_convert_never_overwrites_without_being_told(tmp_path: Path) -> None:
    days = [tmp_path / f"{day}.ndjson" for day in ("mon", "tue", "wed")]
    for seed, day in enumerate(days):
        ok("generate", "--count", "5", "--seed", str(seed), "-o", day)
    wednesday = days[2].read_bytes()
    assert_refused(run("convert", *days), "exists, and convert writes its last argument")
    assert days[2].read_bytes() == wednesday
    ok("convert", *days, "--overwrite")
    assert len(days[2].read_text().splitlines()) == 10


def test_column_and_group_names_are_checked_before_the_dumps_are_read(tmp_path: Path) -> None:
    unreadable = tmp_path / "bad.ndjson"
    unreadable.write_text('{"JobId": \n', encoding="utf-8")
    assert_refused(run("list", unreadable, "--columns", "JobId,Nope"), "--columns: unknown column")
    assert_refused(run("stats", unreadable, "--by", "user,colour"), "--by: unknown field 'colour'")


def test_the_columns_named_before_reading_are_every_snapshots_typed_columns() -> None:
    odd = [{"JobId": "a", "Foo": 1}, {"JobId": "b", "Settings": {"Tags": {"x": "y"}}, "Bar": []}]
    for store in (JobStore.from_records(odd), JobStore.from_path(SEED_PAGE)):
        assert public_columns(store.snapshot.live) == list(TYPED_COLUMNS)
        assert store.snapshot.export_table().column_names == [*TYPED_COLUMNS, "job_json"]


def test_other_commands_refuse_cleanly(dump: Path, tmp_path: Path) -> None:
    assert_refused(run("stats", dump, "--by", "colour"), "error: --by: unknown field 'colour'")
    assert_refused(run("get", dump, "dlc-9999"), "no job 'dlc-9999'")
    assert_refused(run("explain", dump, "--sort-by", "size"), "error: --sort-by:")
    # OUT alone converts the bundled sample, and never overwrites a file that exists
    assert_refused(run("convert", dump), "exists; give IN... OUT to convert it")
    assert_refused(run("generate", "--count", "-1", "-o", tmp_path / "x.ndjson"), "--count")
    assert_refused(
        run("generate", "--count", "5", "--start", "soon", "-o", tmp_path / "x.ndjson"),
        "error: --start: expected an RFC 3339 timestamp",
    )


# ---------------------------------------------------------------------------------------------
# stats, checked against plain Python over the same jobs.


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and re.fullmatch(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)", value):
        return float(value)
    return None


def _quantile(values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def expected_stats(jobs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    category_of = {s.casefold(): c for c, statuses in STATUS_CATEGORIES.items() for s in statuses}
    categories = Counter(
        category_of.get(str(job.get("Status")).casefold(), "other") for job in jobs
    )
    terminal = categories["succeeded"] + categories["failed"] + categories["stopped"]
    durations = [d for job in jobs if (d := _number(job.get("Duration"))) is not None]
    gpu_hours = 0.0
    for job in jobs:
        gpus, duration = _number(job.get("RequestGPU")), _number(job.get("Duration"))
        if gpus is not None and duration is not None:
            gpu_hours += gpus * duration / 3600
    queues = []
    for job in jobs:
        running = parse_timestamp(job.get("GmtRunningTime") or "")
        submitted = parse_timestamp(job.get("GmtSubmittedTime") or "")
        if running and submitted:
            queues.append((running - submitted).total_seconds())
    return {
        "jobs": len(jobs),
        **{name: categories[name] for name in (*STATUS_CATEGORIES, "other")},
        "success_rate": categories["succeeded"] / terminal if terminal else None,
        "failure_rate": categories["failed"] / terminal if terminal else None,
        "duration_p50_s": _quantile(durations, 0.5),
        "duration_p90_s": _quantile(durations, 0.9),
        "duration_p99_s": _quantile(durations, 0.99),
        "gpu_hours": gpu_hours,
        "queue_mean_s": sum(queues) / len(queues) if queues else None,
        "queue_p50_s": _quantile(queues, 0.5),
    }


def assert_close(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    for name, value in expected.items():
        if value is None or isinstance(value, int):
            assert actual[name] == value, name
        else:
            assert actual[name] == pytest.approx(value, abs=1e-3), name


def listed(jobs: Sequence[dict[str, Any]], caller: str | None = None) -> list[dict[str, Any]]:
    """The jobs any window of EVERYTHING lists: not deleted, and visible to ``caller``."""
    return [
        job
        for job in jobs
        if job.get("IsDeleted") is not True
        and (
            caller is None
            or str(job.get("Accessibility")).casefold() != "private"
            or job.get("UserId") == caller
        )
    ]


def test_stats_by_user_match_plain_python(dump: Path) -> None:
    result = ok("stats", dump, "--by", "user", "--format", "json", *EVERYTHING)
    document = json.loads(result.stdout)
    assert document["by"] == ["UserId", "Username"]
    jobs = listed(made_jobs())
    by_user: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for job in jobs:
        by_user[job["UserId"]].append(job)
    groups = {group["UserId"]: group for group in document["groups"]}
    assert set(groups) == set(by_user)
    for user_id, members in by_user.items():
        assert groups[user_id]["Username"] == members[0]["Username"]
        assert_close(groups[user_id], expected_stats(members))
    assert_close(document["total"], expected_stats(jobs))
    # largest group first
    counts = [group["jobs"] for group in document["groups"]]
    assert counts == sorted(counts, reverse=True)


def test_stats_on_the_synthetic_fixture_match_plain_python() -> None:
    jobs = [json.loads(line) for line in SYNTHETIC.read_text(encoding="utf-8").splitlines() if line]
    result = ok("stats", SYNTHETIC, "--by", "status,type", "--format", "json", *EVERYTHING)
    document = json.loads(result.stdout)
    visible = [job for job in listed(jobs) if parse_timestamp(job.get("GmtCreateTime") or "")]
    assert_close(document["total"], expected_stats(visible))
    grouped: dict[tuple[Any, Any], list[dict[str, Any]]] = defaultdict(list)
    for job in visible:
        grouped[(job.get("Status") or None, job.get("JobType") or None)].append(job)
    assert len(document["groups"]) == len(grouped)
    for group in document["groups"]:
        assert_close(group, expected_stats(grouped[(group["Status"], group["JobType"])]))


def test_stats_csv_table_and_order_by(dump: Path) -> None:
    csv = ok("stats", dump, "--by", "quota", "--format", "csv", "--order-by", "gpu_hours")
    lines = csv.stdout.splitlines()
    assert lines[0].startswith("ResourceQuotaName,jobs,pending,running,succeeded,failed,")
    hours = [float(line.split(",")[lines[0].split(",").index("gpu_hours")]) for line in lines[1:]]
    assert hours == sorted(hours, reverse=True)

    table = ok("stats", dump, "--by", "type", "--format", "table", "--top", "2").stdout
    rows = table.splitlines()
    assert rows[0].split()[:2] == ["JobType", "jobs"]
    assert rows[-1].startswith("total")
    assert "%" in table


# ---------------------------------------------------------------------------------------------
# --as-user never shows another user's PRIVATE job.


def test_as_user_never_sees_private_jobs_of_others(dump: Path) -> None:
    me = "1002"
    foreign_private = {
        job["JobId"]
        for job in made_jobs()
        if job["Accessibility"] == "PRIVATE" and job["UserId"] != me
    }
    assert foreign_private
    listed_ids = {
        json.loads(line)["JobId"]
        for line in ok(
            "list", dump, "--as-user", me, "--all", "--format", "ndjson", *EVERYTHING
        ).stdout.splitlines()
    }
    assert listed_ids and not listed_ids & foreign_private

    page = json.loads(ok("list", dump, "--as-user", me, "--accessibility", "PRIVATE").stdout)
    assert all(job["UserId"] == me for job in page["Jobs"])

    stats = json.loads(ok("stats", dump, "--as-user", me, "--format", "json", *EVERYTHING).stdout)
    assert stats["total"]["jobs"] == len(listed(made_jobs(), caller=me)) == len(listed_ids)

    explained = ok("explain", dump, "--as-user", me).stdout
    assert "visibility: PRIVATE jobs only if owned by user '1002'" in explained

    hidden = sorted(foreign_private)[0]
    assert_refused(run("get", dump, hidden, "--as-user", me), "visible to user 1002")
    assert json.loads(ok("get", dump, hidden, "--as-user", me, "--admin").stdout)["JobId"] == hidden
    assert json.loads(ok("get", dump, hidden).stdout)["JobId"] == hidden


def hidden_from_1002() -> list[dict[str, Any]]:
    """Private jobs of a user the tests never ask as, matching the battery's filters, one of
    them newer than every other job (it would end the dump-relative default window)."""
    jobs = []
    for index, job in enumerate(made_jobs()[:24]):
        created = BASE + timedelta(days=1) - timedelta(hours=5 * index)
        jobs.append(
            {
                **job,
                "JobId": f"dlc-hidden-{index:02d}",
                "UserId": "9999",
                "Accessibility": "PRIVATE",
                "GmtCreateTime": _iso(created),
                "GmtSubmittedTime": _iso(created + timedelta(seconds=10)),
            }
        )
    # values no job a user can see has: a hint listing the values there are must not tell
    jobs[0].update(Status="Bidding", JobType="SecretJob")
    return jobs


@pytest.mark.parametrize(
    "args",
    [
        ["list", "--format", "json", "--request-id", REQUEST_ID],
        ["list", "--format", "table", "--page-size", "4"],
        ["list", "--all", "--format", "ndjson", "--status", "Failed,Running"],
        ["list", "--format", "table", "--end-time", "2026-11-21T00:00:00Z"],
        ["stats", "--by", "status", "--format", "json", "--request-id", REQUEST_ID],
        ["stats", "--by", "user", "--format", "table"],
        ["stats", "--format", "csv", "--start-time", "2026-11-18T00:00:00Z"],
        ["explain", "--sort-by", "DisplayName", "--display-name", "bert"],
        ["explain", "--time-range-field", "GmtSubmittedTime"],
        [
            "list",
            "--format",
            "json",
            "--status",
            "Bidding",
            "--job-type",
            "SecretJob",
            "--request-id",
            REQUEST_ID,
        ],
        ["stats", "--format", "json", "--status", "Bidding,Running", "--request-id", REQUEST_ID],
    ],
    ids=lambda args: "-".join(arg.lstrip("-") for arg in args[:3]),
)
@pytest.mark.parametrize("caller", [["--as-user", "1002"], ["--as-user", "1001"]], ids=str)
def test_every_cli_line_is_the_same_with_or_without_others_private_jobs(
    tmp_path: Path, args: list[str], caller: list[str]
) -> None:
    """Issue 15, items 2 and 3: the window notice (whose default end is the newest job the
    caller can see), pages, footers, stats and explain's counts of a non-admin caller are the
    same whether or not another user's private jobs are in the dump."""
    alone, crowded = tmp_path / "alone.ndjson", tmp_path / "crowded.ndjson"
    alone.write_text("".join(json.dumps(job) + "\n" for job in made_jobs()), encoding="utf-8")
    with_hidden = made_jobs() + hidden_from_1002()
    crowded.write_text("".join(json.dumps(job) + "\n" for job in with_hidden), encoding="utf-8")
    command, *options = args
    seen = ok(command, alone, *options, *caller)
    also_seen = ok(command, crowded, *options, *caller)
    # the Polars plan names its dynamic predicates by random UUIDs
    uuid = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
    assert uuid.sub("<uuid>", seen.stdout) == uuid.sub("<uuid>", also_seen.stdout)
    assert seen.stderr.replace(str(alone), "<dump>") == also_seen.stderr.replace(
        str(crowded), "<dump>"
    )
    # the admin view does see the hidden jobs: the comparison above is not vacuous
    admin = (ok(command, path, *options, "--admin") for path in (alone, crowded))
    assert len({uuid.sub("<uuid>", result.stdout + result.stderr) for result in admin}) == 2


@pytest.mark.parametrize(
    "command",
    [
        ["list", "--request-id", REQUEST_ID, "--now", "2026-11-28"],
        ["stats", "--request-id", REQUEST_ID, "--now", "2026-11-28"],
        ["get", "dlc-none"],
    ],
    ids=lambda command: command[0],
)
def test_a_dump_of_others_private_jobs_looks_empty_to_a_user(
    tmp_path: Path, command: list[str]
) -> None:
    empty, hidden = tmp_path / "empty.ndjson", tmp_path / "hidden.ndjson"
    empty.write_text("", encoding="utf-8")
    hidden.write_text(
        "".join(json.dumps(job) + "\n" for job in hidden_from_1002()), encoding="utf-8"
    )
    name, *rest = command
    outputs = [run(name, path, *rest, "--as-user", "1002") for path in (empty, hidden)]
    assert outputs[0].exit_code == outputs[1].exit_code
    assert outputs[0].stdout == outputs[1].stdout
    assert outputs[0].stderr.replace(str(empty), "<dump>") == outputs[1].stderr.replace(
        str(hidden), "<dump>"
    )
    # an administrator is told the empty dump holds no jobs
    assert f"{empty} holds no jobs" in run(name, empty, *rest).stderr
    assert "holds no jobs" not in run(name, hidden, *rest).stderr


def test_the_default_window_of_a_non_admin_ends_at_the_newest_job_they_can_see(
    tmp_path: Path,
) -> None:
    crowded = tmp_path / "crowded.ndjson"
    jobs = made_jobs() + hidden_from_1002()
    crowded.write_text("".join(json.dumps(job) + "\n" for job in jobs), encoding="utf-8")

    def newest(jobs: list[dict[str, Any]]) -> str:  # every time is written the same way
        return max(value for job in jobs for key, value in job.items() if key.startswith("Gmt"))

    newest_visible = newest(
        [job for job in jobs if job["Accessibility"] != "PRIVATE" or job["UserId"] == "1002"]
    )
    stats = json.loads(ok("stats", crowded, "--as-user", "1002", "--format", "json").stdout)
    assert stats["window"]["end"] == newest_visible
    result = ok("list", crowded, "--as-user", "1002", "--format", "json")
    assert f"7 days up to {newest_visible}, the newest job in the dump that user 1002 can see" in (
        result.stderr
    )
    newest_of_all = newest(jobs)
    assert newest_of_all > newest_visible
    admin_notice = ok("list", crowded).stderr
    assert f"7 days up to {newest_of_all}, the newest job in the dump;" in admin_notice


# ---------------------------------------------------------------------------------------------
# get, explain, convert, generate.


def test_get_prints_the_stored_job(dump: Path) -> None:
    job = made_jobs()[7]
    result = ok("get", dump, job["JobId"])
    assert json.loads(result.stdout) == job
    assert result.stdout.startswith('{\n  "JobId"')
    deleted = ok("get", dump, "dlc-0013")
    assert "deleted" in deleted.stderr


def test_explain_shows_window_filters_order_page_and_plan(dump: Path) -> None:
    result = ok("explain", dump, "--status", "Failed", "--tag", "team=rec", "--page-size", "5")
    text = result.stdout
    assert "window: 7 days up to" in result.stderr
    assert "GmtCreateTime between" in text
    assert "Status: ix_Status is one of 'failed'" in text
    assert "Tags: Settings.Tags has team=rec" in text
    assert "order: GmtCreateTime descending" in text
    assert "page: 1 of size 5" in text
    assert "Polars plan:" in text


def test_convert_round_trip_keeps_every_job(tmp_path: Path) -> None:
    source = EDGE_CASES
    originals = {job["JobId"]: job for job in JobStore.from_path(source).snapshot.records()}
    steps = ["a.parquet", "b.arrow", "c.json", "d.ndjson"]
    previous: Path = source
    for name in steps:
        target = tmp_path / name
        result = ok("convert", previous, target)
        assert result.stdout.startswith(f"wrote {len(originals)} jobs to {target}")
        previous = target
    final = [json.loads(line) for line in previous.read_text(encoding="utf-8").splitlines()]
    assert {job["JobId"]: job for job in final} == originals
    assert len(final) == len(originals)


def test_convert_reports_duplicates_and_skipped(tmp_path: Path) -> None:
    first = tmp_path / "one.ndjson"
    second = tmp_path / "two.ndjson"
    first.write_text('{"JobId": "a", "GmtModifiedTime": "2026-01-01T00:00:00Z"}\nnot json\n')
    second.write_text('{"JobId": "a", "GmtModifiedTime": "2026-01-02T00:00:00Z"}\n')
    result = ok("convert", first, second, tmp_path / "out.ndjson", "--lenient")
    assert result.stdout == (
        f"wrote 1 job to {tmp_path / 'out.ndjson'} "
        "(1 duplicate(s) resolved, 1 malformed record(s) skipped)\n"
    )
    assert "line 2" in result.stderr
    kept = json.loads((tmp_path / "out.ndjson").read_text())
    assert kept["GmtModifiedTime"] == "2026-01-02T00:00:00Z"


def test_generate_is_deterministic(tmp_path: Path) -> None:
    one, two, three = tmp_path / "one.ndjson", tmp_path / "two.ndjson", tmp_path / "three.ndjson"
    assert ok("generate", "--count", "40", "--seed", "3", "-o", one).stdout == (
        f"wrote 40 jobs to {one} (seed 3)\n"
    )
    ok("generate", "--count", "40", "--seed", "3", "-o", two)
    ok("generate", "--count", "40", "--seed", "4", "-o", three)
    assert one.read_bytes() == two.read_bytes() != three.read_bytes()
    assert len(one.read_text(encoding="utf-8").splitlines()) == 40

    parquet = tmp_path / "jobs.parquet"
    ok("generate", "--count", "40", "--seed", "3", "-o", parquet)
    from_parquet = {job["JobId"]: job for job in JobStore.from_path(parquet).snapshot.records()}
    from_ndjson = {job["JobId"]: job for job in JobStore.from_path(one).snapshot.records()}
    assert from_parquet == from_ndjson and len(from_parquet) == 40


def test_generate_respects_the_window(tmp_path: Path) -> None:
    out = tmp_path / "window.ndjson"
    start, end = "2025-03-01T00:00:00Z", "2025-03-08T00:00:00Z"
    ok("generate", "--count", "30", "--start", start, "--end", end, "-o", out)
    created = [
        parse_timestamp(json.loads(line)["GmtCreateTime"])
        for line in out.read_text(encoding="utf-8").splitlines()
    ]
    low, high = parse_timestamp(start), parse_timestamp(end)
    assert low is not None and high is not None
    assert all(moment is not None and low <= moment <= high for moment in created)


# ---------------------------------------------------------------------------------------------
# Goldens: exact outputs on the fixtures.

GOLDEN_CASES: list[tuple[str, list[str]]] = [
    ("list_seed_page.json", ["list", "data/fixtures/seed_page.json", "--format", "json"]),
    (
        "list_synthetic_failed.json",
        [
            *("list", "data/fixtures/synthetic_small.ndjson", "--status", "Failed,Stopped"),
            *("--page-size", "3", "--format", "json"),
        ],
    ),
    (
        "list_synthetic_all.ndjson",
        [
            *("list", "data/fixtures/synthetic_small.ndjson", "--all", "--format", "ndjson"),
            *("--sort-by", "DisplayName", "--order", "asc"),
        ],
    ),
    (
        "list_synthetic_all.csv",
        ["list", "data/fixtures/synthetic_small.ndjson", "--all", "--format", "csv"],
    ),
    (
        "list_edge_cases_everything.ndjson",
        ["list", "data/fixtures/edge_cases.ndjson", "--all", "--format", "ndjson", *EVERYTHING],
    ),
    (
        "list_synthetic_table.txt",
        ["list", "data/fixtures/synthetic_small.ndjson", "--format", "table"],
    ),
    (
        "stats_synthetic_by_user.json",
        ["stats", "data/fixtures/synthetic_small.ndjson", "--by", "user", "--format", "json"],
    ),
    (
        "stats_synthetic_by_status.csv",
        ["stats", "data/fixtures/synthetic_small.ndjson", "--by", "status", "--format", "csv"],
    ),
    (
        "stats_synthetic_by_quota.txt",
        ["stats", "data/fixtures/synthetic_small.ndjson", "--by", "quota", "--format", "table"],
    ),
    (
        "get_seed_job.json",
        ["get", "data/fixtures/seed_page.json", "dlc-20210126170216-mtl37ge7gkvdz"],
    ),
    (
        "error_page_size.json",
        ["list", "data/fixtures/seed_page.json", "--page-size", "0", "--format", "json"],
    ),
]
# outputs that carry a RequestId get the pinned one
PINNED = ("list", "stats")


def golden_args(args: list[str]) -> list[str]:
    resolved = [str(ROOT / arg) if arg.startswith("data/") else arg for arg in args]
    if args[0] in PINNED and "--format" in args and args[args.index("--format") + 1] == "json":
        resolved += ["--request-id", REQUEST_ID]
    return resolved


def write_golden_readme() -> None:
    lines = [
        "# Golden outputs of the `jobquery` command line",
        "",
        "Each file is the exact stdout of one command, run from the repository root on the",
        "fixtures in `data/fixtures/` (`--request-id " + REQUEST_ID + "` is added to JSON",
        "commands of `list`/`stats` so that the RequestId is pinned). `tests/test_cli.py` compares",
        "them byte for byte. After an intended change of output, regenerate them all with",
        "",
        "    JOBQUERY_REGENERATE_GOLDEN=1 python -m pytest tests/test_cli.py -k golden",
        "",
        "and review the diff.",
        "",
        "| file | command |",
        "|---|---|",
    ]
    for name, args in GOLDEN_CASES:
        pinned = golden_args(args)[len(args) :]
        command = " ".join(["jobquery", *args, *pinned])
        lines.append(f"| `{name}` | `{command}` |")
    (GOLDEN / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize(("name", "args"), GOLDEN_CASES, ids=[name for name, _ in GOLDEN_CASES])
def test_golden_output(name: str, args: list[str]) -> None:
    result = run(*golden_args(args))
    assert "Traceback" not in result.stderr
    path = GOLDEN / name
    if REGENERATE:
        GOLDEN.mkdir(parents=True, exist_ok=True)
        path.write_text(result.stdout, encoding="utf-8")
        write_golden_readme()
    assert result.stdout == path.read_text(encoding="utf-8")
    assert result.exit_code == (2 if name.startswith("error_") else 0)


def test_golden_readme_lists_every_golden() -> None:
    readme = (GOLDEN / "README.md").read_text(encoding="utf-8")
    for name, _ in GOLDEN_CASES:
        assert f"`{name}`" in readme
    assert sorted(path.name for path in GOLDEN.iterdir() if path.name != "README.md") == sorted(
        name for name, _ in GOLDEN_CASES
    )


# ---------------------------------------------------------------------------------------------
# The installed entry point and `python -m jobquery`, as real processes.


def _script() -> str:
    beside = Path(sys.executable).parent / "jobquery"
    found = str(beside) if beside.exists() else shutil.which("jobquery")
    assert found, "the jobquery console script is not installed (pip install -e .)"
    return found


def test_entry_point_and_module_run_as_subprocesses(tmp_path: Path) -> None:
    version = subprocess.run(
        [_script(), "--version"], capture_output=True, text=True, check=True, timeout=60
    )
    assert version.stdout == f"jobquery {__version__}\n"

    args = ["list", str(SEED_PAGE), "--format", "json", "--request-id", REQUEST_ID]
    module = subprocess.run(
        [sys.executable, "-m", "jobquery", *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert module.stdout == run(*args).stdout
    assert "window:" in module.stderr

    refused = subprocess.run(
        [_script(), "list", str(SEED_PAGE), "--page-size", "0", "--format", "table"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert refused.stderr.strip().splitlines()[-1] == (
        "error: --page-size: must be between 1 and 100 (got '0')"
    )
    assert "Traceback" not in refused.stderr


def test_generate_makes_the_high_cardinality_profile(tmp_path: Path) -> None:
    target = tmp_path / "real-like.ndjson"
    result = ok("generate", "--count", "60", "--seed", "3", "--profile", "high-cardinality",
                "-o", target)  # fmt: skip
    assert result.stdout == f"wrote 60 jobs to {target} (seed 3, profile high-cardinality)\n"
    lines = target.read_text(encoding="utf-8").splitlines()
    assert lines == synth.generate_lines(60, seed=3, profile="high-cardinality").to_list()
    assert all("run_id" in json.loads(line)["Settings"]["Tags"] for line in lines)
    refused = CliRunner().invoke(cli, ["generate", "--count", "1", "--profile", "x", "-o", target])
    assert refused.exit_code == 2 and "'x' is not one of 'default', 'high-cardinality'" in (
        refused.output
    )
    assert "high-cardinality: as real histories" in " ".join(
        ok("generate", "--help").stdout.split()
    )
    assert SYNTH_PROFILES == synth.PROFILES, "--profile offers every profile of the generator"
    assert parse_timestamp(SYNTH_END) == synth.DEFAULT_END, "generate --help names its --end"
    assert timedelta(days=SYNTH_SPAN_DAYS) == synth.DEFAULT_SPAN


def test_stats_offers_every_metric_of_the_statistics() -> None:
    assert query.METRICS == stats.METRICS, "--order-by offers every metric jobquery.stats computes"
