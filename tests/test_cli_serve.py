"""``jobquery serve``: the command serves the bundled sample until interrupted; by default every
request is anonymous (public jobs only)."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path

import httpx
from click.testing import CliRunner

from jobquery.cli.app import cli
from jobquery.cli.session import SAMPLE
from jobquery.request import parse_timestamp
from jobquery.server import ANONYMOUS
from jobquery.store import JobStore

STARTED = re.compile(r"at http://127\.0\.0\.1:(\d+)/api/v1/jobs")
NOW = "2026-11-28T00:00:00Z"


def test_serve_answers_list_jobs_like_the_store_and_stops_on_ctrl_c() -> None:
    """Served with compressed texts: the jobs it returns are the stored ones all the same, as
    an anonymous caller sees them (the default)."""
    command = [sys.executable, "-m", "jobquery", "serve", "--port", "0", "--now", NOW]
    command.append("--compress-texts")
    with subprocess.Popen(command, stderr=subprocess.PIPE, text=True) as process:
        try:
            assert process.stderr is not None
            port = None
            deadline = time.monotonic() + 60
            while port is None and time.monotonic() < deadline:
                line = process.stderr.readline()
                if not line:
                    break
                if found := STARTED.search(line):
                    port = int(found.group(1))
            assert port is not None, "the server did not report its address"
            query = {"Status": "Running", "PageSize": "5"}
            url = f"http://127.0.0.1:{port}/api/v1/jobs"
            body = httpx.get(url, params=query, timeout=30).json()
        finally:
            process.send_signal(signal.SIGINT)
            process.communicate(timeout=30)
        assert process.returncode == 0

    with resources.as_file(resources.files("jobquery").joinpath(*SAMPLE)) as path:
        store = JobStore.from_path(path)
    expected = store.list_jobs(query, now=parse_timestamp(NOW), caller=ANONYMOUS)
    assert body["TotalCount"] == expected.total_count > 0
    assert body["Jobs"] == expected.jobs
    everything = store.list_jobs(query, now=parse_timestamp(NOW))
    assert everything.total_count > expected.total_count  # the sample has private jobs


def test_admin_users_need_trusted_identity_headers() -> None:
    result = CliRunner().invoke(cli, ["serve", "--admin-user", "1001"])
    assert result.exit_code == 2
    assert "--admin-user and --trust-admin-header need --identity headers" in result.stderr


def test_serve_lenient_skips_a_malformed_record_and_says_where(tmp_path: Path) -> None:
    """``serve`` refused a dump with one bad line, and had no --lenient as the other commands."""
    dump = tmp_path / "jobs.ndjson"
    good = '{"JobId": "dlc-1", "GmtCreateTime": "2026-11-27T00:00:00Z", "Accessibility": "PUBLIC"}'
    dump.write_text(f"{good}\n{{not json\n", encoding="utf-8")
    command = [sys.executable, "-m", "jobquery", "serve", str(dump), "--port", "0", "--now", NOW]
    refused = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert refused.returncode == 2 and "line 2: not valid JSON" in refused.stderr
    with subprocess.Popen([*command, "--lenient"], stderr=subprocess.PIPE, text=True) as process:
        assert process.stderr is not None
        lines: list[str] = []
        try:
            while not any(STARTED.search(line) for line in lines):
                lines.append(process.stderr.readline())
                assert lines[-1], lines
            port = int(next(STARTED.search(line) for line in lines if STARTED.search(line))[1])
            body = httpx.get(f"http://127.0.0.1:{port}/api/v1/jobs", timeout=30).json()
        finally:
            process.send_signal(signal.SIGINT)
            # read() and not communicate(): it would skip what readline() already buffered
            rest = process.stderr.read()
            process.wait(timeout=30)
    log = "".join(lines) + rest
    assert "jobquery: skipped 1 malformed record(s) (--lenient):" in log
    assert re.search(r"jobs\.ndjson, line 2: not valid JSON", log), log
    assert body["TotalCount"] == 1 and body["Jobs"][0]["JobId"] == "dlc-1"
