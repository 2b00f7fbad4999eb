"""The index engine's rules against the closed set of predicate kinds.

The engine has one table rule per kind (:data:`jobquery.index_engine.select.TABLE_RULES`, None
where Polars tabulates the kind); a new kind cannot be left without one. Each predicate kind
declares the columns it reads (:func:`jobquery.predicates.columns_read`);
the index engine tabulates a predicate over those columns' dictionaries, so they must be the
columns its Polars rule reads, in the same order, for every kind and every value a plan can
hold.
"""

from __future__ import annotations

import typing
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobquery.errors import InvalidParameterError
from jobquery.index_engine.select import TABLE_RULES
from jobquery.plan import build_plan, predicates
from jobquery.plan.predicates import (
    EqualsAny,
    Flag,
    MatchNothing,
    NumericRange,
    Predicate,
    Substring,
    TagsContain,
    TimeRange,
    TokenSearch,
    Visibility,
    columns_read,
)
from jobquery.polars_engine import compile_predicate
from jobquery.request import ListJobsRequest
from tests.helpers.strategies import Case, cases

_NAMES = st.sampled_from(("Status", "ix_DisplayName", "UserId", "ix_tags", "RequestGPU"))
_TEXTS = st.text(max_size=5)
_SOME_TEXTS = st.lists(_TEXTS, min_size=1, max_size=3).map(tuple)
_TIMES = st.datetimes(timezones=st.just(UTC))
_BOUNDS = st.none() | st.integers(-5, 5)

#: A strategy per predicate kind, for any column and values.
KINDS: dict[type[Predicate], st.SearchStrategy[Predicate]] = {
    Substring: st.builds(Substring, _TEXTS, _NAMES, _TEXTS, st.booleans()),
    EqualsAny: st.builds(EqualsAny, _TEXTS, _NAMES, _SOME_TEXTS),
    TimeRange: st.builds(TimeRange, _TEXTS, _NAMES, _TIMES, _TIMES),
    NumericRange: st.builds(NumericRange, _TEXTS, _NAMES, _BOUNDS, _BOUNDS),
    TagsContain: st.builds(TagsContain, _TEXTS, _NAMES, _SOME_TEXTS, st.just(())),
    TokenSearch: st.builds(TokenSearch, _TEXTS, _NAMES, _SOME_TEXTS, st.booleans()),
    Flag: st.builds(Flag, _TEXTS, _NAMES, st.booleans()),
    Visibility: st.builds(Visibility, st.none() | _TEXTS),
    MatchNothing: st.builds(MatchNothing, _TEXTS, _TEXTS),
}


def _read_by_polars(predicate: Predicate) -> tuple[str, ...]:
    return tuple(dict.fromkeys(compile_predicate(predicate).meta.root_names()))


def test_the_index_engine_has_one_table_rule_per_predicate_kind() -> None:
    assert set(TABLE_RULES) == set(typing.get_args(predicates.Predicate))
    numpy_rules = {kind for kind, rule in TABLE_RULES.items() if rule is not None}
    assert numpy_rules == set(KINDS) - {TimeRange, MatchNothing}


def test_every_predicate_kind_has_a_strategy_here() -> None:
    assert set(KINDS) == set(typing.get_args(predicates.Predicate))


@pytest.mark.parametrize("kind", list(KINDS), ids=lambda kind: kind.__name__)
@given(data=st.data())
def test_each_kind_declares_the_columns_its_polars_rule_reads(
    kind: type[Predicate], data: st.DataObject
) -> None:
    predicate = data.draw(KINDS[kind])
    assert columns_read(predicate) == _read_by_polars(predicate)


@given(case=cases())
def test_the_predicates_of_generated_plans_declare_what_polars_reads(case: Case) -> None:
    try:
        plan = build_plan(ListJobsRequest.parse(case.wire), now=case.now, caller=case.caller)
    except InvalidParameterError:
        return
    for predicate in plan.predicates:
        assert columns_read(predicate) == _read_by_polars(predicate)


def test_visibility_reads_the_owner_only_for_a_named_caller() -> None:
    assert columns_read(Visibility(None)) == ("ix_Accessibility",)
    assert columns_read(Visibility("u-1")) == ("ix_Accessibility", "UserId")
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    assert columns_read(TimeRange("x", "GmtCreateTime", moment, moment)) == ("GmtCreateTime",)
