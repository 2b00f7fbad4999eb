"""Start-up: how long ``jobquery --help`` takes as a process, and what it imports.

Usage::

    python -m benchmarks.startup                                   # this checkout
    python -m benchmarks.startup --baseline /tmp/main-venv/bin/python  # ...next to another

Each command runs as a new process ``--runs`` times; the table shows the fastest wall time
(the machine's other work only ever adds to it), the time Python's ``-X importtime`` counts for
all imports of the fastest run, and which heavy packages were imported at all. ``--baseline``
names the Python of another environment with jobquery installed, for example the main branch
(``git archive main | tar -x -C /tmp/main; python -m venv /tmp/main-venv;
/tmp/main-venv/bin/pip install /tmp/main``): the same commands run there first.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

HEAVY = ("polars", "pyarrow", "numpy", "duckdb", "starlette", "pydantic", "rich")


@dataclass(frozen=True)
class Startup:
    """The fastest of some runs of one command."""

    label: str
    command: str
    seconds: float
    import_seconds: float
    heavy: tuple[str, ...]


def measure(label: str, python: str, args: Sequence[str], *, runs: int) -> Startup:
    best: tuple[float, float, tuple[str, ...]] | None = None
    for _ in range(runs):
        began = time.perf_counter()
        done = subprocess.run(
            [python, "-X", "importtime", *args],
            capture_output=True,
            text=True,
            check=True,
            cwd=tempfile.gettempdir(),  # `-m` looks in the working folder first
        )
        seconds = time.perf_counter() - began
        imported = _imports(done.stderr)
        if best is None or seconds < best[0]:
            heavy = tuple(name for name in HEAVY if name in imported)
            best = (seconds, sum(imported.values()) / 1e6, heavy)
    assert best is not None
    return Startup(label, " ".join(args), *best)


def _imports(report: str) -> dict[str, int]:
    """Top-level packages and the microseconds ``-X importtime`` counted for them (self)."""
    found: dict[str, int] = {}
    for line in report.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        own, _, name = line.removeprefix("import time:").split("|")
        if not own.strip().isdigit():
            continue
        package = name.strip().split(".")[0]
        found[package] = found.get(package, 0) + int(own)
    return found


def table(results: Sequence[Startup]) -> list[str]:
    lines = [
        "| code | command | process (fastest) | imports (-X importtime) | "
        "heavy packages imported |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.label} | `{r.command}` | {r.seconds * 1e3:,.0f} ms | "
            f"{r.import_seconds * 1e3:,.0f} ms | {', '.join(r.heavy) or 'none'} |"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.startup", description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--baseline", type=Path, help="the Python of another environment")
    parser.add_argument(
        "--command",
        action="append",
        help="arguments after 'python -X importtime' (repeatable; default: -m jobquery --help)",
    )
    args = parser.parse_args(argv)
    commands = [command.split() for command in args.command or ["-m jobquery --help"]]
    results = []
    for command in commands:
        if args.baseline is not None:
            results.append(measure("baseline", str(args.baseline), command, runs=args.runs))
        results.append(measure("this checkout", sys.executable, command, runs=args.runs))
    print("\n".join(table(results)))


if __name__ == "__main__":
    main()
