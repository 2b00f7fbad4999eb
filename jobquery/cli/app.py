"""The ``jobquery`` command group: every command, in the order of the docs, and the entry point.

The commands live in one module per family; this module only gathers them. Importing it
imports no heavy library (Polars, rich's renderers, the store, the server, the generator):
each command imports what it needs when it runs, so ``jobquery --help`` starts quickly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from jobquery import __version__
from jobquery.cli import cache, dataset, dumps, query, serve
from jobquery.cli.output import JobQueryGroup

if TYPE_CHECKING:
    pass


# Commands.


@click.group(cls=JobQueryGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    __version__, "--version", prog_name="jobquery", message="%(prog)s %(version)s"
)
def cli() -> None:
    """Answer PAI-DLC ListJobs over job dumps, offline.

    DUMP arguments are files (.json ListJobs pages or arrays, .ndjson/.jsonl, .parquet,
    .arrow), folders or glob patterns, read as one job set. Without DUMP the bundled
    sample is used.

    The default time window is the 7 days up to the newest job in the dump (not today):
    use --start-time/--end-time or --now to choose another.
    """


for command in (
    query.list_command,
    query.get_command,
    query.stats_command,
    query.explain_command,
    dumps.convert_command,
    dumps.generate_command,
    dataset.dataset_group,
    serve.serve_command,
    cache.cache_group,
):
    cli.add_command(command)


def main() -> None:
    """The console script ``jobquery``."""
    cli.main(prog_name="jobquery")


if __name__ == "__main__":  # pragma: no cover
    main()
