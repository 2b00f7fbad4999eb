"""Every code block of README.md and docs/*.md runs as written, or says visibly why not.

Which blocks run is decided by each fence's info string (``tests/helpers/docblocks.py``):
``python``, ``pycon`` and ``console`` blocks run; ``text`` blocks are output or synopses, shown
only; a block whose info string has the word ``no-run`` cannot run in a test (an install, a
server that runs until Ctrl-C, an hour of benchmarks) and is checked without running; any
other block fails ``test_every_block_runs_or_is_marked``. A new page under docs/ is picked up
without a change here; the end of the test session prints how many blocks ran and how many
were not run.

How a page runs: its blocks in order, in a scratch folder of its own (the working directory),
so that a block may use a file an earlier block wrote (``jobquery generate -o big.parquet``,
then ``jobquery list big.parquet``). A page needs no file that it does not make itself, except
the bundled sample that jobquery reads when no dump is named.

- ``python``: executed in one namespace per page, as a reader pasting the page's blocks into
  one session would; an exception fails the block (tracebacks give the Markdown line).
- ``pycon``: an interactive session in the same namespace, run by Python's doctest: what each
  ``>>>`` statement prints or returns must be the lines under it, exactly (no doctest
  option is set, so no ``...`` elision).
- ``console``: each ``$ command`` (a trailing ``\\`` continues it on the next line) runs with
  bash on a pseudo-terminal of ``COLUMNS`` x ``LINES`` (``tests/helpers/terminal.py``), so it prints
  what a person sees: tables, not JSON, with stdout and stderr interleaved. The lines up to the
  next ``$`` are the expected screen.

What legitimately varies is normalised, on both sides, and nothing else is:

- request ids and other UUIDs (``RequestId``, the ids Polars gives plan nodes) become ``<uuid>``;
- blanks at the end of a line, and blank lines at the end of the output, are dropped;
- the screen is what a terminal shows: styles dropped, a progress bar that erases itself gone.

Output holds no timings and no temporary paths: the examples use relative paths in the page's
folder, and the CLI prints no timings.

One page needs a process running beside it: docs/server.md's client examples talk to the
endpoint its text says to start, ``jobquery serve --identity headers`` (the bundled sample on
port 8080), which
the test starts before the page's first block and stops at the end of the session.
"""

from __future__ import annotations

import contextlib
import difflib
import doctest
import importlib.util
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import pytest

from jobquery.cli.app import cli
from tests.helpers.docblocks import ROOT, SHELLS, Block, all_blocks
from tests.helpers.terminal import run_in_terminal

#: The terminal the console examples are run on.
COLUMNS = 200
LINES = 50
_UUID = re.compile(
    r"\b[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\b"
)

BLOCKS = all_blocks()
RUN = [block for block in BLOCKS if block.kind == "run"]
NOT_RUN = [block for block in BLOCKS if block.kind == "no-run"]


def normalised(text: str) -> str:
    """Output with what legitimately varies replaced (see the module docstring)."""
    lines = [_UUID.sub("<uuid>", line).rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def console_steps(block: Block) -> list[tuple[str, str]]:
    """The ``(command, expected output)`` pairs of a console block."""
    steps: list[tuple[str, list[str]]] = []
    lines = block.source.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("$ "):
            command = line[2:]
            while command.endswith("\\") and index + 1 < len(lines):
                index += 1
                command += "\n" + lines[index]
            steps.append((command, []))
        elif not steps:
            raise AssertionError(f"{block.name}: a console block starts with '$ command'")
        else:
            steps[-1][1].append(line)
        index += 1
    return [(command, "\n".join(output)) for command, output in steps]


# ---------------------------------------------------------------------------------------------
# Processes a page needs beside it.


def _wait_for_free_port(port: int, timeout: float) -> None:
    """Wait until nothing listens on the port (another test run may hold it a few seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
                return
            except OSError as exc:
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"docs/server.md's examples use 127.0.0.1:{port}, which is in use: {exc}"
                    ) from exc
        time.sleep(0.5)


def serve_the_bundled_sample(folder: Path) -> subprocess.Popen[bytes]:
    """docs/server.md: ``jobquery serve --identity headers`` (the bundled sample on
    127.0.0.1:8080). Another test run on the machine may take the port between the wait for
    it and the server's start: the server then says so and exits, and is started again."""
    deadline = time.monotonic() + 120
    log = folder / "serve.log"
    while True:
        _wait_for_free_port(8080, timeout=max(deadline - time.monotonic(), 1.0))
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [str(Path(sys.executable).parent / "jobquery"), "serve", "--identity", "headers"],
                cwd=folder,
                stderr=sink,
            )
        while True:
            said = log.read_text(encoding="utf-8", errors="replace")
            if "Ctrl-C to stop" in said:
                return process
            if process.poll() is not None or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        process.kill()
        if "Address already in use" not in said or time.monotonic() > deadline:
            raise AssertionError(f"jobquery serve did not start: {said}")


SERVICES = {"docs/server.md": serve_the_bundled_sample}


# ---------------------------------------------------------------------------------------------
# Running a page, block by block.


@dataclass
class PageRun:
    """A page being run: its scratch folder, its Python namespace, how far it has got."""

    blocks: list[Block]
    folder: Path
    namespace: dict[str, Any] = field(default_factory=lambda: {"__name__": "__main__"})
    done: int = 0
    failed: str | None = None
    services: list[subprocess.Popen[bytes]] = field(default_factory=list)


class Pages:
    """Runs the blocks of each page in order, once, whatever block a test asks for."""

    def __init__(self, factory: pytest.TempPathFactory) -> None:
        self._factory = factory
        self._runs: dict[str, PageRun] = {}

    def run_through(self, block: Block) -> None:
        """Run the page's blocks up to and including ``block``."""
        page = self._runs.get(block.document)
        blocks = [b for b in BLOCKS if b.document == block.document and b.kind == "run"]
        position = blocks.index(block)
        if page is None or page.done > position:
            folder = self._factory.mktemp(re.sub(r"\W", "_", block.document))
            page = self._runs[block.document] = PageRun(blocks, folder)
            if block.document in SERVICES:
                page.services.append(SERVICES[block.document](folder))
        while page.done <= position:
            if page.failed is not None:
                pytest.fail(f"an earlier block of the page failed: {page.failed}")
            current = page.blocks[page.done]
            page.done += 1
            try:
                run_block(current, page)
            except BaseException:
                # a later Python block depends on the namespace; a console block only on files
                if current.language == "python":
                    page.failed = current.name
                raise

    def stop(self) -> None:
        for page in self._runs.values():
            for process in page.services:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


@pytest.fixture(scope="session")
def pages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pages]:
    running = Pages(tmp_path_factory)
    yield running
    running.stop()


def run_block(block: Block, page: PageRun) -> None:
    if block.language == "python":
        # padded so that a traceback names the block's line in the Markdown file
        code = compile("\n" * block.line + block.source, block.document, "exec")
        with contextlib.chdir(page.folder):
            exec(code, page.namespace)
        return
    if block.language == "pycon":
        session = doctest.DocTestParser().get_doctest(
            block.source, page.namespace, block.name, block.document, block.line
        )
        report: list[str] = []
        runner = doctest.DocTestRunner(verbose=False)
        with contextlib.chdir(page.folder):
            runner.run(session, out=report.append, clear_globs=False)
        if runner.failures:
            pytest.fail(f"{block.name}: the session goes differently:\n{''.join(report)}")
        return
    for command, expected in console_steps(block):
        shown = run_in_terminal(command, cwd=page.folder, columns=COLUMNS, lines=LINES)
        want, got = normalised(expected), normalised(shown.screen)
        if got != want:
            diff = "\n".join(
                difflib.unified_diff(
                    want.splitlines(), got.splitlines(), "documented", "printed", lineterm=""
                )
            )
            pytest.fail(f"{block.name}: `{command}` printed something else:\n{diff}")


def on_the_page_worker(block: Block) -> pytest.MarkDecorator:
    """A page's blocks run in order in one namespace (docs/server.md's beside a server on a
    fixed port), so each page goes to one worker (see pyproject's addopts); a page that starts
    Spark goes to the worker of the Spark tests, and shares their JVM."""
    page = [other for other in RUN if other.document == block.document]
    if any("pyspark" in other.source for other in page):
        return pytest.mark.xdist_group("spark")
    return pytest.mark.xdist_group(f"page:{block.document}")


@pytest.mark.parametrize(
    "block", [pytest.param(block, marks=on_the_page_worker(block), id=block.name) for block in RUN]
)
def test_documented_block_runs_as_written(block: Block, pages: Pages) -> None:
    pages.run_through(block)


# ---------------------------------------------------------------------------------------------
# Blocks that are not run.


def test_every_block_runs_or_is_marked() -> None:
    unmarked = [block.name for block in BLOCKS if block.kind == "unmarked"]
    assert not unmarked, (
        "code blocks that neither run nor say why not: label them python or console (run), "
        f"text (output, synopses), or add the word no-run to the info string: {unmarked}"
    )
    hidden = [
        block.name
        for block in BLOCKS
        if block.kind == "text" and re.search(r"^(\$|>>>) ", block.source, re.MULTILINE)
    ]
    assert not hidden, f"text blocks holding commands: make them console blocks: {hidden}"


def test_the_documentation_has_runnable_blocks() -> None:
    """The collection itself works: the README and the CLI page have blocks that run."""
    assert {block.document for block in RUN} >= {"README.md", "docs/cli.md"}
    assert {block.language for block in RUN} == {"python", "pycon", "console"}


#: What ends a simple shell command (and so starts the next one).
_SHELL_OPERATORS = ("&&", "||", "|", ";", "&")


def _jobquery_arguments(line: str) -> list[list[str]]:
    """The arguments of every ``jobquery`` command on a shell line (``jobquery`` first)."""
    words = shlex.split(line, comments=True)
    found: list[list[str]] = []
    starts = [0] + [index + 1 for index, word in enumerate(words) if word in _SHELL_OPERATORS]
    for start in starts:
        if start < len(words) and words[start] == "jobquery":
            arguments = []
            for argument in words[start + 1 :]:
                if argument in _SHELL_OPERATORS or argument.startswith((">", "<")):
                    break
                arguments.append(argument)
            found.append(arguments)
    return found


def check_jobquery_command_line(arguments: list[str]) -> None:
    """The command and its options exist (click parses them; nothing runs)."""
    with cli.make_context("jobquery", list(arguments)) as group:
        name, command, rest = cli.resolve_command(group, [*group._protected_args, *group.args])
        assert command is not None, f"no command {name!r}"
        command.make_context(name or "", rest, parent=group).close()


def _extras() -> set[str]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return set(pyproject["project"]["optional-dependencies"])


@pytest.mark.parametrize("block", NOT_RUN, ids=lambda block: block.name)
def test_block_marked_no_run_is_still_well_formed(block: Block) -> None:
    """Python compiles; a shell block is valid bash, its ``jobquery`` command lines parse,
    ``python -m`` names a module that exists, ``pip install`` names extras that exist."""
    if block.language == "python":
        compile(block.source, block.name, "exec")
        return
    assert block.language in SHELLS, f"{block.name}: no check for {block.language} blocks"
    script = "\n".join(
        line.removeprefix("$ ")
        for line in block.source.splitlines()
        if block.language != "console" or line.startswith("$ ")
    )
    syntax = subprocess.run(
        ["bash", "-n"], input=script, text=True, capture_output=True, check=False
    )
    assert syntax.returncode == 0, syntax.stderr
    for line in script.replace("\\\n", " ").splitlines():
        for arguments in _jobquery_arguments(line):
            try:
                check_jobquery_command_line(arguments)
            except click.ClickException as exc:
                pytest.fail(f"{block.name}: jobquery {' '.join(arguments)}: {exc.format_message()}")
        for module in re.findall(r"python3? -m ([\w.]+)", line):
            if module != "pip":
                assert importlib.util.find_spec(module) is not None, f"no module {module}"
        if re.search(r"\bpip install\b", line):
            for extras in re.findall(r"\[([\w,-]+)\]", line):
                assert set(extras.split(",")) <= _extras(), f"unknown extra in {line!r}"


def test_no_run_checks_catch_a_wrong_option() -> None:
    """The checks of no-run blocks are not vacuous."""
    with pytest.raises(click.NoSuchOption):
        check_jobquery_command_line(["serve", "--no-such-option"])
    with pytest.raises(click.UsageError):
        check_jobquery_command_line(["no-such-command"])
    check_jobquery_command_line(["serve", "jobs.ndjson", "--port", "0"])
    assert _jobquery_arguments("jobquery serve a.ndjson --port 0 | tee log  # note") == [
        ["serve", "a.ndjson", "--port", "0"]
    ]
    assert _jobquery_arguments("ruff check jobquery tests && jobquery get x > a") == [["get", "x"]]


def test_console_blocks_split_into_commands_and_output() -> None:
    block = Block("x.md", 1, "console", "$ jobquery a \\\n  --b\nout 1\n\n$ jobquery c\n")
    assert console_steps(block) == [("jobquery a \\\n  --b", "out 1\n"), ("jobquery c", "")]
    assert normalised("x  \nRequestId: 0F8FAD5B-D9CB-469F-A165-70867728950E\n\n") == (
        "x\nRequestId: <uuid>"
    )


@pytest.fixture(autouse=True)
def _no_debug_tracebacks(monkeypatch: pytest.MonkeyPatch) -> None:
    # the documented errors are the one-line ones
    monkeypatch.delenv("JOBQUERY_DEBUG", raising=False)
