"""The command line over job datasets: ``jobquery dataset write`` and ``--dataset DIR``.

A dataset written from the bundled sample must give, for ``list``, ``stats`` and ``--all``,
exactly the output the same command gives over the sample dump itself, on DuckDB and on Spark;
``explain`` shows the SQL; mistakes end in one line and exit status 2.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from jobquery.cli.app import cli
from jobquery.dataset import read_manifest
from jobquery.errors import DatasetError

SAMPLE = Path(__file__).resolve().parents[1] / "jobquery" / "sample" / "sample_jobs.ndjson"
REQUEST_ID = "00000000-0000-4000-8000-000000000000"


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(arg) for arg in args], catch_exceptions=False)


def ok(*args: str | Path) -> Result:
    result = run(*args)
    assert result.exit_code == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def sample_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("dataset") / "sample-dataset"
    result = ok("dataset", "write", SAMPLE, folder)
    assert result.stdout.startswith("wrote 2000 jobs to ")
    assert result.stderr == ""  # no progress bar on a pipe
    return folder


@pytest.fixture(
    # the one worker with a JVM (see pyproject's addopts)
    params=["duckdb", pytest.param("spark", marks=pytest.mark.xdist_group("spark"))]
)
def engine(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "spark":
        # the command line builds a local session: let it find the test run's one
        request.getfixturevalue("spark_session")
    yield request.param


QUERIES = [
    pytest.param([], id="default-window"),
    pytest.param(
        ["--status", "Failed,Stopped", "--start-time", "2026-01-01T00:00:00Z"], id="status"
    ),
    pytest.param(
        [
            "--display-name",
            "bert",
            "--sort-by",
            "DisplayName",
            "--order",
            "asc",
            "--page-size",
            "7",
        ],
        id="name-sorted",
    ),
    pytest.param(["--as-user", "23198756866041503", "--page-number", "3"], id="private-caller"),
    pytest.param(
        ["--workspace-id", "103899", "--start-time", "2000-01-01T00:00:00Z", "--page-size", "100"],
        id="workspace",
    ),
]


@pytest.mark.parametrize("query", QUERIES)
def test_list_over_the_dataset_is_list_over_the_dump(
    sample_dataset: Path, engine: str, query: list[str]
) -> None:
    args = [*query, "--format", "json", "--request-id", REQUEST_ID]
    over_dump = ok("list", SAMPLE, *args)
    over_dataset = ok("list", "--dataset", sample_dataset, "--engine", engine, *args)
    assert json.loads(over_dataset.stdout) == json.loads(over_dump.stdout)
    assert over_dataset.stderr == over_dump.stderr.replace("in the dump", "in the dataset")


@pytest.mark.parametrize("output", ["table", "csv", "ndjson"])
def test_pages_render_as_over_the_dump(sample_dataset: Path, output: str) -> None:
    args = ["--status", "Running", "--page-size", "5", "--format", output]
    over_dump = ok("list", SAMPLE, *args, "--columns", "JobId,Status,GmtCreateTime,RequestGPU")
    over_dataset = ok(
        "list",
        "--dataset",
        sample_dataset,
        *args,
        "--columns",
        "JobId,Status,GmtCreateTime,RequestGPU",
    )
    assert over_dataset.stdout == over_dump.stdout
    assert ok("list", "--dataset", sample_dataset, *args).stdout == ok("list", SAMPLE, *args).stdout


def test_all_and_stats_over_the_dataset(sample_dataset: Path, engine: str) -> None:
    everything = ["--start-time", "2000-01-01T00:00:00Z"]
    dataset = ["--dataset", str(sample_dataset), "--engine", engine]
    listed = ok("list", *dataset, "--all", "--format", "ndjson", "--sort-by", "Status", *everything)
    assert (
        listed.stdout
        == ok(
            "list", SAMPLE, "--all", "--format", "ndjson", "--sort-by", "Status", *everything
        ).stdout
    )
    assert len(listed.stdout.splitlines()) == 2000 - read_manifest(sample_dataset).deleted_count
    stats = ["stats", "--by", "status,type", "--format", "json", *everything]
    assert json.loads(ok(*stats, *dataset).stdout) == json.loads(ok(*stats, SAMPLE).stdout)


def test_explain_over_the_dataset_shows_the_sql(sample_dataset: Path) -> None:
    text = ok("explain", "--dataset", sample_dataset, "--display-name", "50%_off").stdout
    assert "ix_DisplayName contains '50%_off'" in text
    assert "CONTAINS(\"ix_DisplayName\", '50%_off')" in text


def one_line_error(result: Result) -> str:
    assert result.exit_code == 2, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_mistakes_end_in_one_line(sample_dataset: Path, tmp_path: Path) -> None:
    assert "not both" in one_line_error(run("list", SAMPLE, "--dataset", sample_dataset))
    assert "no such" in one_line_error(run("list", "--dataset", tmp_path / "missing"))
    assert "not a jobquery dataset" in one_line_error(run("stats", "--dataset", tmp_path))
    assert "exists" in one_line_error(run("dataset", "write", SAMPLE, sample_dataset))
    assert "--page-size" in one_line_error(
        run("list", "--dataset", sample_dataset, "--page-size", "101")
    )
    refused = run("dataset", "write", SAMPLE)
    assert refused.exit_code == 2 and "DUMP... DIR" in refused.stderr


def test_without_the_extra_every_dataset_command_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, sample_dataset: Path
) -> None:
    for name in [name for name in sys.modules if name.startswith("jobquery.dataset")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "sqlglot", None)  # as if it were not installed
    wanted = "need the optional extra 'dataset' (sqlglot is missing): pip install"
    assert wanted in one_line_error(run("list", "--dataset", sample_dataset))
    assert wanted in one_line_error(run("dataset", "write", SAMPLE, sample_dataset / "new"))
    with pytest.raises(DatasetError, match=re.escape(wanted)):
        importlib.import_module("jobquery.dataset")


def test_write_replaces_a_dataset_when_asked(tmp_path: Path) -> None:
    first = tmp_path / "first.ndjson"
    first.write_text(SAMPLE.read_text(encoding="utf-8").split("\n", 1)[0] + "\n", encoding="utf-8")
    ok("dataset", "write", first, tmp_path / "ds")
    assert read_manifest(tmp_path / "ds").job_count == 1
    result: Any = ok("dataset", "write", SAMPLE, first, tmp_path / "ds", "--overwrite")
    assert "1 duplicate(s) resolved" in result.stdout
    assert read_manifest(tmp_path / "ds").job_count == 2000


def test_local_spark_without_java_says_what_it_needs(tmp_path: Path) -> None:
    """It said the dataset could not be read, with Spark's JAVA_GATEWAY_EXITED."""
    opening = (
        "from jobquery.dataset.engines import local_spark_session\n"
        "from jobquery.errors import DatasetError\n"
        "try:\n    local_spark_session()\nexcept DatasetError as exc:\n    print(exc)\n"
    )
    environment = {**os.environ, "JAVA_HOME": str(tmp_path / "no-java")}
    shown = subprocess.run(
        [sys.executable, "-c", opening],
        check=True,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert shown.stdout.startswith("Spark could not start Java: local Spark needs Java 17"), shown
