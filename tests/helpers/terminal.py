"""Run a command as a person would on a terminal, and read the screen it leaves.

:func:`run_in_terminal` runs a shell command line (pipes, ``$VARIABLES`` and all) with stdin,
stdout and stderr on one pseudo-terminal of a given size, so the command sees a terminal
(tables rather than JSON, colours, progress bars) and its stdout and stderr interleave as
they would on screen. :func:`screen_text` turns the bytes written into the text a person sees:
styles dropped, lines erased by a progress bar gone, trailing blanks removed.

The screen model is small on purpose: it knows what rich and click write (``\\r``, erase in
line, cursor up, styles, cursor show/hide) and treats every character as one cell. Lines are
kept as written, not wrapped at the terminal's width.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from dataclasses import dataclass
from pathlib import Path

#: An escape sequence: CSI (``ESC [ ... letter``), OSC (``ESC ] ... BEL``) or a two-byte one.
_ESCAPE = re.compile(r"\x1b\[([0-9;?]*)([A-Za-z@])|\x1b\][^\x07]*(?:\x07|\x1b\\)|\x1b.")
_TOKEN = re.compile(_ESCAPE.pattern + r"|[\r\n\b]|[^\x1b\r\n\b]+")


@dataclass(frozen=True)
class TerminalRun:
    """What a command left on the terminal, and its exit status."""

    screen: str
    status: int


def _argument(parameters: str, default: int) -> int:
    first = parameters.split(";", maxsplit=1)[0].lstrip("?")
    return int(first) if first.isdigit() else default


class _Screen:
    """The lines a terminal shows so far, and where its cursor is."""

    def __init__(self) -> None:
        self.lines: list[list[str]] = [[]]
        self.row = self.column = 0

    def put(self, text: str) -> None:
        line = self.lines[self.row]
        if len(line) < self.column:
            line.extend(" " * (self.column - len(line)))
        line[self.column : self.column + len(text)] = list(text)
        self.column += len(text)

    def new_line(self) -> None:
        self.row += 1
        self.column = 0
        if self.row == len(self.lines):
            self.lines.append([])

    def escape(self, final: str, parameters: str) -> None:
        """A control sequence ``ESC [ parameters final``: the ones that move text or the cursor."""
        if final == "K":
            self.erase_in_line(_argument(parameters, 0))
        elif final == "A":
            self.row = max(0, self.row - _argument(parameters, 1))
        elif final == "B":
            self.row += _argument(parameters, 1)
            self.lines.extend([] for _ in range(self.row + 1 - len(self.lines)))
        elif final == "G":
            self.column = _argument(parameters, 1) - 1
        # styles (m), cursor show/hide (h, l) and anything else change no text

    def erase_in_line(self, mode: int) -> None:
        """0: from the cursor to the end, 1: up to the cursor, 2: all of it."""
        line = self.lines[self.row]
        if mode == 0:
            del line[self.column :]
        elif mode == 1:
            line[: self.column + 1] = [" "] * min(self.column + 1, len(line))
        else:
            self.lines[self.row] = []

    def text(self) -> str:
        text = [("".join(line)).rstrip() for line in self.lines]
        while text and not text[-1]:
            text.pop()
        return "\n".join(text)


def screen_text(written: bytes) -> str:
    """The text a terminal shows after ``written``: one string, lines without trailing blanks."""
    screen = _Screen()
    for match in _TOKEN.finditer(written.decode("utf-8", errors="replace")):
        token = match.group(0)
        if token == "\n":
            screen.new_line()
        elif token == "\r":
            screen.column = 0
        elif token == "\b":
            screen.column = max(0, screen.column - 1)
        elif token.startswith("\x1b"):
            screen.escape(match.group(2), match.group(1) or "")
        else:
            screen.put(token)
    return screen.text()


def run_in_terminal(
    command: str,
    *,
    cwd: Path,
    columns: int,
    lines: int = 50,
    environment: dict[str, str] | None = None,
    timeout: float = 180,
) -> TerminalRun:
    """Run ``command`` with ``bash -c`` on a ``columns`` x ``lines`` pseudo-terminal.

    The interpreter's scripts folder (where ``jobquery`` is installed) comes first on PATH, so
    the command runs the jobquery of this environment. ``COLUMNS`` and ``LINES`` are set as a
    terminal would have them.
    """
    scripts = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": scripts + os.pathsep + os.environ.get("PATH", ""),
        "TERM": "xterm-256color",
        "COLUMNS": str(columns),
        "LINES": str(lines),
        **(environment or {}),
    }
    for name in ("NO_COLOR", "FORCE_COLOR", "PYTHONWARNINGS"):
        env.pop(name, None)
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
    process = subprocess.Popen(
        ["bash", "-c", command],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        cwd=cwd,
        env=env,
        start_new_session=True,
    )
    os.close(terminal)
    written = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                os.killpg(process.pid, signal.SIGKILL)
                raise TimeoutError(f"{command!r} did not finish within {timeout} s")
            ready, _, _ = select.select([controller], [], [], min(left, 1.0))
            if not ready:
                continue
            try:
                chunk = os.read(controller, 1 << 16)
            except OSError:  # EIO: every writer has closed the terminal
                break
            if not chunk:
                break
            written += chunk
        status = process.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        os.close(controller)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return TerminalRun(screen_text(bytes(written)), status)
