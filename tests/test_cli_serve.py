"""``jobquery serve``: the command serves the bundled sample until interrupted; by default every
request is anonymous (public jobs only)."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from importlib import resources

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
