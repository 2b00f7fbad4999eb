"""The filter registry covers every parameter; every predicate kind has a compile rule."""

from __future__ import annotations

import json
import typing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from jobquery import polars_engine
from jobquery.dataset import sql
from jobquery.plan import predicates
from jobquery.plan.filters import NOT_FILTERS, REGISTRY
from jobquery.request import PARAMETERS
from jobquery.store import JobStore

#: The API's parameter table, a copy of the spec's (see data/fixtures/README.md).
SPEC = Path(__file__).resolve().parents[1] / "data" / "fixtures" / "listjobs_params.json"
NOW = datetime(2026, 11, 28, tzinfo=UTC)


def spec_parameters() -> list[str]:
    """The wire names of the spec's table (a missing fixture fails every test that asks)."""
    assert SPEC.is_file(), f"the parameter table fixture is missing: {SPEC}"
    return [p["name"] for p in json.loads(SPEC.read_text(encoding="utf-8"))["parameters"]]


def test_every_spec_parameter_is_a_filter_or_a_declared_control() -> None:
    registered = {row.parameter for row in REGISTRY}
    missing = [
        name for name in spec_parameters() if name not in registered and name not in NOT_FILTERS
    ]
    assert missing == []
    assert len(spec_parameters()) == 37


def test_no_parameter_is_both_a_filter_and_a_control() -> None:
    assert {row.parameter for row in REGISTRY} & set(NOT_FILTERS) == set()


def test_the_request_model_has_every_spec_parameter() -> None:
    assert set(spec_parameters()) <= set(PARAMETERS)


def test_every_registry_row_reads_a_snapshot_column_or_a_selected_one() -> None:
    store = JobStore.from_records([{"JobId": "a", "GmtCreateTime": "2026-11-27T00:00:00Z"}])
    columns = set(store.snapshot.live.columns)
    for row in REGISTRY:
        assert row.column in columns or row.column.startswith("("), row


#: One example of every predicate kind (a test fails when a kind has none).
EXAMPLES: dict[type, predicates.Predicate] = {
    predicates.Substring: predicates.Substring("P", "ix_DisplayName", "a"),
    predicates.EqualsAny: predicates.EqualsAny("P", "ix_Status", ("a", "b")),
    predicates.TimeRange: predicates.TimeRange("P", "GmtFinishTime", NOW, NOW),
    predicates.NumericRange: predicates.NumericRange("P", "RequestGPU", 1, None),
    predicates.TagsContain: predicates.TagsContain("P", "ix_tags", ("1:a=b",), ()),
    predicates.TokenSearch: predicates.TokenSearch("P", "ix_image_tokens", ("x",), True),
    predicates.Flag: predicates.Flag("P", "ix_EnableAssignNode", True),
    predicates.Visibility: predicates.Visibility("u1"),
    predicates.MatchNothing: predicates.MatchNothing("P", "why"),
}
KINDS = typing.get_args(predicates.Predicate)

#: Every engine's compile of one predicate: adding an engine is one line here.
ENGINES: dict[str, typing.Callable[[predicates.Predicate], object]] = {
    "polars": polars_engine.compile_predicate,
    "sql": sql.compile_predicate,
}
#: The engines whose rules are a table keyed by predicate kind.
RULE_TABLES: dict[str, typing.Mapping[type, object]] = {"polars": polars_engine.RULES}


def test_every_predicate_kind_has_an_example() -> None:
    assert set(EXAMPLES) == set(KINDS)


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.__name__)
def test_every_predicate_kind_describes_itself(kind: type) -> None:
    assert EXAMPLES[kind].describe()


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.__name__)
def test_every_predicate_kind_compiles_in_every_engine(engine: str, kind: type) -> None:
    assert ENGINES[engine](EXAMPLES[kind]) is not None


@pytest.mark.parametrize("engine", RULE_TABLES)
def test_a_rule_table_has_exactly_one_rule_per_predicate_kind(engine: str) -> None:
    table = RULE_TABLES[engine]
    assert sorted(kind.__name__ for kind in table) == sorted(kind.__name__ for kind in KINDS)


SPECIAL_NAMES = ["a.b*c?", "100%_done", "[x]+(y)", "^$|\\", "a.c", "abc", "100x_done"]


@pytest.mark.parametrize(
    ("needle", "expected"),
    [
        (".", ["a.b*c?", "a.c"]),
        ("*", ["a.b*c?"]),
        ("?", ["a.b*c?"]),
        ("%", ["100%_done"]),
        ("_", ["100%_done", "100x_done"]),
        ("[x]", ["[x]+(y)"]),
        ("^$|\\", ["^$|\\"]),
        ("a.c", ["a.c"]),
    ],
    ids=["dot", "star", "question", "percent", "underscore", "brackets", "anchors", "dot-literal"],
)
def test_user_input_is_literal_never_a_pattern(needle: str, expected: list[str]) -> None:
    jobs = [
        {"JobId": f"j{i}", "DisplayName": name, "GmtCreateTime": "2026-11-27T00:00:00Z"}
        for i, name in enumerate(SPECIAL_NAMES)
    ]
    store = JobStore.from_records(jobs)
    found = store.list_jobs({"DisplayName": needle, "PageSize": "100"}, now=NOW).jobs
    assert sorted(job["DisplayName"] for job in found) == sorted(expected)
