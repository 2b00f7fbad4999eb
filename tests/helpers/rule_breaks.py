"""Break each rule of docs/semantics.md on purpose, and check that the tests notice.

A green suite proves little if a rule can be broken without any test failing. Each
:class:`RuleBreak` below is a small, deliberate mistake in the engine — the kind a careful
author could make — written in every place the engine implements that rule (the per-job
reader and the native build, the Polars rules and the numpy tables). For each one this script
copies the package and its tests into a scratch folder, applies the break there (your checkout
is never touched), runs the tests that must catch it, and reports which did. It exits non-zero
if a break is not caught, or no longer applies because the code it edits has changed (then
update the break here).

Run it from the repository root::

    python -m tests.helpers.rule_breaks                 # every break; stops at its first failure
    python -m tests.helpers.rule_breaks --every-test    # and lists every test that catches one
    python -m tests.helpers.rule_breaks tokens-cjk-run  # only the breaks named
    python -m tests.helpers.rule_breaks --list          # what each break does

Hypothesis runs the ``breaks`` profile (tests/conftest.py): twice the examples of ``dev``, no
shrinking (only detection matters here). Every break must be caught without a test written
for that exact mistake: by the property tests, whose strategies generate what each rule is
about. It takes a few minutes per break, so it is not part of ``python -m pytest``;
``tests/test_rule_breaks.py`` checks in the suite that every break still applies.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: What a scratch copy holds: enough to import the package and run its tests.
COPIED = ("jobquery", "tests", "data", "pyproject.toml")
#: The tests a break is run against, the property tests first.
TESTS = (
    "tests/test_differential.py",
    "tests/test_visibility.py",
    "tests/test_native_build.py",
    "tests/test_selection_paths.py",
    "tests/test_golden.py",
)
PROFILE = "breaks"


@dataclass(frozen=True)
class Edit:
    """Replace every occurrence of ``old`` in ``path`` (there must be ``count`` of them)."""

    path: str
    old: str
    new: str
    count: int = 1

    def apply(self, root: Path) -> None:
        target = root / self.path
        text = target.read_text(encoding="utf-8")
        found = text.count(self.old)
        if found != self.count:
            raise BreakNoLongerAppliesError(
                f"{self.path}: expected {self.count} of {self.old!r}, found {found}"
            )
        target.write_text(text.replace(self.old, self.new), encoding="utf-8")


class BreakNoLongerAppliesError(Exception):
    """The code a break edits has changed: update the break."""


@dataclass(frozen=True)
class RuleBreak:
    name: str
    family: str
    rule: str  # what docs/semantics.md states
    mistake: str  # what the break does instead
    edits: tuple[Edit, ...]


BREAKS = (
    RuleBreak(
        "tokens-cjk-run",
        "full-text tokens",
        "every CJK ideograph is a token of its own",
        "a run of CJK ideographs is one token",
        (
            Edit(
                "jobquery/snapshot/columns.py",
                '_TOKEN = re.compile(f"[{_CJK}]|[^\\\\W_{_CJK}]+")',
                '_TOKEN = re.compile(f"[{_CJK}]+|[^\\\\W_{_CJK}]+")',
            ),
        ),
    ),
    RuleBreak(
        "tokens-empty-query-matches-all",
        "full-text tokens",
        "a query with no token matches no job",
        "a query with no token is no filter",
        (
            Edit(
                "jobquery/plan/filters.py",
                'return MatchNothing(parameter, "the search text has no word to look for")',
                "return None",
            ),
        ),
    ),
    RuleBreak(
        "casefold-as-lower",
        "case-insensitive comparison",
        "comparisons are on str.casefold() of both sides",
        "str.lower() instead of str.casefold() (ß, ς stay as they are)",
        (
            Edit("jobquery/snapshot/columns.py", ".casefold()", ".lower()", count=2),
            Edit("jobquery/snapshot/job_rows.py", ".casefold()", ".lower()", count=2),
            Edit("jobquery/plan/filters.py", ".casefold()", ".lower()", count=3),
        ),
    ),
    RuleBreak(
        "owner-upper-cased",
        "visibility",
        "a PRIVATE job is visible when its UserId equals the caller's user id exactly",
        "the owner's id is compared upper-cased (u-X sees U-x's private jobs)",
        (
            Edit(
                "jobquery/polars_engine.py",
                'public | (pl.col("UserId") == user_id)',
                'public | (pl.col("UserId").str.to_uppercase() == user_id.upper())',
            ),
            # the numpy table of visibility defers to the (broken) Polars rule
            Edit(
                "jobquery/index_engine/select.py",
                "flags.append(texts.equals_any((user_id,)))",
                "return None",
            ),
        ),
    ),
    RuleBreak(
        "window-end-exclusive",
        "time window",
        "start <= t <= end: both bounds inclusive",
        "the window's end is exclusive",
        (
            Edit(
                "jobquery/polars_engine.py",
                'is_between(pl.lit(start), pl.lit(end), closed="both")',
                'is_between(pl.lit(start), pl.lit(end), closed="left")',
            ),
            Edit(
                "jobquery/plan/window.py",
                'np.searchsorted(times, _micros(window.end), side="right")',
                'np.searchsorted(times, _micros(window.end), side="left")',
            ),
        ),
    ),
    RuleBreak(
        "spot-first-role-only",
        "derived labels",
        "PaymentType is Spot if any JobSpecs[].UseSpotInstance is true",
        "only the first role's UseSpotInstance counts",
        (
            Edit(
                "jobquery/snapshot/job_rows.py",
                'if any(role.get("UseSpotInstance") is True for role in roles):',
                'if roles[:1] and roles[0].get("UseSpotInstance") is True:',
            ),
            Edit(
                "jobquery/snapshot/native_index.py",
                'spot=pl.col("JobSpecs.UseSpotInstance").list.any().fill_null(False),',
                'spot=pl.col("JobSpecs.UseSpotInstance").list.first().fill_null(False),',
            ),
        ),
    ),
    RuleBreak(
        "boolean-truthy",
        "values read from a stored job: booleans",
        "IsDeleted is true only when the JSON value is true",
        'any truthy value ("true", "false", 1) deletes (the per-job reader; the native build '
        "reads IsDeleted as a JSON boolean)",
        (
            Edit(
                "jobquery/snapshot/job_rows.py",
                'job.get("IsDeleted") is True,',
                'bool(job.get("IsDeleted")),',
            ),
        ),
    ),
    RuleBreak(
        "number-read-by-float",
        "values read from a stored job: numbers",
        r"a numeric string matches [+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+); anything else is missing",
        "a numeric string is whatever float() reads: '1e3', ' 4', '1_0', 'NaN', '４' too",
        (
            Edit(
                "jobquery/snapshot/job_rows.py",
                r'_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")',
                r'_NUMBER = re.compile(r"\s*[+-]?(\d[\d_]*(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*'
                r'|[+-]?(nan|inf)", re.IGNORECASE)',
            ),
            # the native build's rule for numeric strings
            Edit(
                "jobquery/snapshot/native_read.py",
                r'NUMBER_TEXT = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$"',
                r'NUMBER_TEXT = r"(?i)^\s*[+-]?(\d[\d_]*(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$'
                r'|^[+-]?(nan|inf)$"',
            ),
        ),
    ),
    RuleBreak(
        "tags-ignore-case",
        "tags",
        "a requested tag value equals the stored value as text exactly (case-sensitive)",
        "tag keys and values compare ignoring case",
        (
            Edit(
                "jobquery/snapshot/columns.py",
                'return f"{len(key)}:{key}={value}"',
                'return f"{len(key)}:{key}={value}".lower()',
            ),
            # the native build's pairs (:func:`jobquery.snapshot.native_index._tag_pair_lists`)
            Edit(
                "jobquery/snapshot/native_index.py",
                'pl.concat_str(key.str.len_chars().cast(pl.String), pl.lit(":"), key, '
                'pl.lit("="), value)',
                'pl.concat_str(key.str.len_chars().cast(pl.String), pl.lit(":"), key, '
                'pl.lit("="), value).str.to_lowercase()',
            ),
        ),
    ),
    RuleBreak(
        "missing-sort-key-largest",
        "order",
        "a missing sort key is smaller than any value",
        "a missing sort key is larger than any value",
        (
            Edit(
                "jobquery/snapshot/layout.py",
                "pl.arg_sort_by(rank_order_columns(sort_key), nulls_last=False, "
                "maintain_order=True)",
                "pl.arg_sort_by(rank_order_columns(sort_key), nulls_last=True, "
                "maintain_order=True)",
            ),
        ),
    ),
)


@dataclass(frozen=True)
class Outcome:
    rule_break: RuleBreak
    caught_by: tuple[str, ...]
    seconds: float
    problem: str | None = None  # the break did not apply, or the run went wrong

    @property
    def caught(self) -> bool:
        return self.problem is None and bool(self.caught_by)


def scratch_copy(into: Path) -> Path:
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(
                source, into / name, ignore=shutil.ignore_patterns("__pycache__", ".hypothesis")
            )
        else:
            shutil.copy2(source, into / name)
    return into


def run_tests(copy: Path, tests: tuple[str, ...], *, every_test: bool) -> tuple[int, str]:
    """pytest on the copy (its package first on the path); its exit status and output."""
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(copy), os.environ.get("PYTHONPATH", "")]),
        "JOBQUERY_HYPOTHESIS_PROFILE": PROFILE,
    }
    command = [sys.executable, "-m", "pytest", "-q", "-rf", "-p", "no:cacheprovider", *tests]
    if not every_test:
        command.insert(4, "-x")
    done = subprocess.run(
        command, cwd=copy, env=environment, capture_output=True, text=True, check=False
    )
    return done.returncode, done.stdout + done.stderr


def failed_tests(output: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(re.findall(r"^FAILED (\S+)", output, re.MULTILINE)))


def try_break(rule_break: RuleBreak, tests: tuple[str, ...], *, every_test: bool) -> Outcome:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"rule-break-{rule_break.name}-") as folder:
        copy = scratch_copy(Path(folder))
        try:
            for edit in rule_break.edits:
                edit.apply(copy)
        except BreakNoLongerAppliesError as exc:
            return Outcome(rule_break, (), time.monotonic() - started, f"no longer applies: {exc}")
        status, output = run_tests(copy, tests, every_test=every_test)
    seconds = time.monotonic() - started
    caught_by = failed_tests(output)
    if status == 0:
        return Outcome(rule_break, (), seconds)
    if status != 1 or not caught_by:  # errors, not failures: the break broke something else
        tail = "\n".join(output.strip().splitlines()[-15:])
        return Outcome(rule_break, caught_by, seconds, f"pytest exited {status}:\n{tail}")
    return Outcome(rule_break, caught_by, seconds)


def baseline_passes(tests: tuple[str, ...]) -> tuple[bool, str]:
    """The unbroken copy must pass, or a failure says nothing about a break."""
    with tempfile.TemporaryDirectory(prefix="rule-break-baseline-") as folder:
        status, output = run_tests(scratch_copy(Path(folder)), tests, every_test=False)
    return status == 0, output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.helpers.rule_breaks",
        description="Break each rule of docs/semantics.md in a scratch copy and check that "
        "the tests catch it.",
    )
    parser.add_argument("names", nargs="*", help="only these breaks (default: all)")
    parser.add_argument("--list", action="store_true", help="describe the breaks and stop")
    parser.add_argument(
        "--every-test", action="store_true", help="run every test, listing all that catch"
    )
    parser.add_argument(
        "--skip-baseline", action="store_true", help="do not check the unbroken copy first"
    )
    options = parser.parse_args(argv)
    known = {rule_break.name: rule_break for rule_break in BREAKS}
    unknown = [name for name in options.names if name not in known]
    if unknown:
        parser.error(f"unknown break(s): {', '.join(unknown)} (see --list)")
    chosen = [known[name] for name in options.names] or list(BREAKS)
    if options.list:
        for rule_break in chosen:
            print(f"{rule_break.name} ({rule_break.family})")
            print(f"  rule:    {rule_break.rule}")
            print(f"  mistake: {rule_break.mistake}")
        return 0
    if not options.skip_baseline:
        passes, output = baseline_passes(TESTS)
        if not passes:
            print(output)
            print("the unbroken copy fails these tests: fix that first")
            return 2
        print("baseline: the unbroken copy passes", flush=True)
    outcomes = []
    for rule_break in chosen:
        outcome = try_break(rule_break, TESTS, every_test=options.every_test)
        outcomes.append(outcome)
        verdict = "caught" if outcome.caught else "NOT CAUGHT"
        print(f"{rule_break.name}: {verdict} ({outcome.seconds:.0f} s)", flush=True)
        for test in outcome.caught_by:
            print(f"  by {test}", flush=True)
        if outcome.problem:
            print(f"  {outcome.problem}", flush=True)
    missed = [outcome.rule_break.name for outcome in outcomes if not outcome.caught]
    print(f"{len(outcomes) - len(missed)} of {len(outcomes)} breaks caught")
    if missed:
        print(f"not caught: {', '.join(missed)}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
