"""Processes for the tests of what dead writers leave behind."""

from __future__ import annotations

import subprocess
import sys


def dead_process_id() -> int:
    """The id of a process that has ended (a child run to its end)."""
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(finished.stdout)
