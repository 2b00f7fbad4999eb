"""The ``jobquery`` console script: Ctrl-C is one line and exit status 130 from the start.

The command line (:mod:`jobquery.cli.app`) imports Polars, pyarrow and the rest, which takes a
noticeable moment; a Ctrl-C during that import would otherwise end in a traceback. This module
imports nothing heavy itself, so it can catch it.
"""

from __future__ import annotations

import sys

#: Exit status after Ctrl-C (128 + SIGINT); the same as ``jobquery.cli.output.EXIT_INTERRUPTED``.
EXIT_INTERRUPTED = 130


def main() -> None:
    """Import the command line and run it; Ctrl-C while importing exits 130 with one line."""
    try:
        from jobquery.cli.app import main as cli_main  # noqa: PLC0415 (the import is what is guarded)
    except KeyboardInterrupt:
        terminal = sys.stderr.isatty()
        sys.stderr.write(("\r" if terminal else "") + "interrupted\n")
        sys.exit(EXIT_INTERRUPTED)
    cli_main()
