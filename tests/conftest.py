"""Hypothesis profiles, chosen with the ``JOBQUERY_HYPOTHESIS_PROFILE`` environment variable.

- ``dev`` (default): quick, for the edit-test loop.
- ``ci``: what ``.ci/run`` uses: twice the examples of ``dev`` (the property tests share the
  CI's time with all the other tests).
- ``long``: a soak run, e.g.
  ``JOBQUERY_HYPOTHESIS_PROFILE=long python -m pytest tests/test_differential.py``.
- ``breaks``: what ``python -m tests.helpers.rule_breaks`` runs the tests with: twice the
  examples of ``dev``, no shrinking and no example database (a break only has to be noticed,
  from scratch).

Every profile has no deadline: test machines are noisy and a slow example is not a failure.
``print_blob`` prints the ``@reproduce_failure`` line of a failing example, so a CI failure can
be replayed locally.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import Phase, settings

from tests.helpers import docblocks

# On a failure, the Hypothesis pytest plugin imports libcst (when installed) to suggest a patch;
# old libcst releases warn on import, and `filterwarnings = error` then turns the failure report
# into an INTERNALERROR that hides the failing example. Import it here once, quietly.
with warnings.catch_warnings(), contextlib.suppress(ImportError):
    warnings.simplefilter("ignore", DeprecationWarning)
    import hypothesis.extra._patching  # noqa: F401

settings.register_profile("dev", max_examples=50, deadline=None, print_blob=True)
settings.register_profile("ci", max_examples=100, deadline=None, print_blob=True)
settings.register_profile("long", max_examples=5000, deadline=None, print_blob=True)
settings.register_profile(
    "breaks",
    max_examples=100,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
)
settings.load_profile(os.environ.get("JOBQUERY_HYPOTHESIS_PROFILE", "dev"))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto`` (pyproject's addopts): in-process (0 workers) when the command line names
    one test file or tests of one file, where starting workers costs more than it saves; else
    None, xdist's own answer (a worker per core). ``-n 2`` runs one file on workers."""
    if config.args_source is pytest.Config.ArgsSource.ARGS:
        named = {Path(argument.partition("::")[0]) for argument in config.args}
        if len(named) == 1 and named.pop().suffix == ".py":
            return 0
    return None


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """After a run that included the documentation tests: how many blocks ran, how many not."""
    if any(
        report.nodeid.startswith("tests/test_docs.py")
        for reports in terminalreporter.stats.values()
        for report in reports
        if hasattr(report, "nodeid")
    ):
        terminalreporter.write_line(docblocks.inventory())


@pytest.fixture(autouse=True, scope="session")
def _snapshot_cache_of_the_test_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Commands run by the tests cache their snapshots in a folder of the test run (shared by
    all tests, so later runs of a dump read it from the cache), never in the user's own."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JOBQUERY_CACHE_DIR", str(tmp_path_factory.mktemp("snapshot-cache")))
        yield


@pytest.fixture(scope="session")
def spark_session() -> Iterator[Any]:
    """One local Spark session for the whole test run (starting one takes seconds):
    ``local[2]``, few shuffle partitions, no UI, errors-only logs."""
    from jobquery.dataset.engines import local_spark_session  # noqa: PLC0415 - starts a JVM

    session = local_spark_session(cores=2, shuffle_partitions=2)
    # the tests' datasets are tiny: adaptive planning and code generation cost more than the
    # queries
    session.conf.set("spark.sql.adaptive.enabled", "false")
    session.conf.set("spark.sql.codegen.wholeStage", "false")
    yield session
    session.stop()
