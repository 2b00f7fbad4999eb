"""The strategies of ``tests/helpers/strategies.py`` themselves.

A green differential test means little if the generated requests never match anything, never
tie on the sort key, or never need a second page. These tests measure, against the reference
only (so they do not depend on the engine), that the generated cases exercise all of that, and
that every one of the API's 37 parameters is generated.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from hypothesis import Phase, given, settings

from jobquery import reference
from jobquery.errors import InvalidParameterError
from jobquery.request import ListJobsRequest
from tests.helpers.strategies import (
    IDEOGRAPH,
    SEARCH_PARAMETERS,
    Case,
    cases,
    search_cases,
    typed_request,
)

#: The API's parameter table, a copy of the spec's (see data/fixtures/README.md).
SPEC = Path(__file__).resolve().parents[1] / "data" / "fixtures" / "listjobs_params.json"

#: Cases measured, whatever the profile: the shares below need a sample of this size.
SAMPLE = 300


def api_parameters() -> set[str]:
    """The 37 wire names of the API, from the spec's table (a missing fixture fails)."""
    assert SPEC.is_file(), f"the parameter table fixture is missing: {SPEC}"
    return {entry["name"] for entry in json.loads(SPEC.read_text(encoding="utf-8"))["parameters"]}


def measure() -> tuple[Counter[str], Counter[str]]:
    """Generate SAMPLE cases; count what their answers look like and which parameters occur."""
    shares: Counter[str] = Counter()
    parameters: Counter[str] = Counter()

    # Only the generate phase: replayed or shrunk examples would skew the shares. Derandomized:
    # Hypothesis' examples are correlated (it mutates earlier ones), so shares swing between
    # runs; a fixed sample makes this a stable check of the strategies, not a coin toss.
    @settings(max_examples=SAMPLE, database=None, phases=[Phase.generate], derandomize=True)
    @given(case=cases())
    def collect(case: Case) -> None:
        shares["cases"] += 1
        parameters.update(name for name, value in case.wire.items() if value)
        request = ListJobsRequest.parse(case.wire)
        assert typed_request(case.wire) == request
        try:
            found = reference.query(case.jobs, request, now=case.now, caller=case.caller)
        except InvalidParameterError as error:
            # the only refusal a generated request may meet: ShowOwn without a caller user id
            assert error.parameter == "ShowOwn"
            assert case.caller is None or case.caller.user_id is None
            shares["refused"] += 1
            return
        sort_by = request.sort_by or reference.DEFAULT_SORT_BY
        keys = [reference.sort_key(job, sort_by)[0] for job in found]
        shares["non-empty"] += bool(found)
        shares["tie on the sort key"] += len(set(keys)) < len(keys)
        shares["several pages"] += len(found) > (request.page_size or reference.DEFAULT_PAGE_SIZE)

    collect()
    return shares, parameters


def test_generated_cases_often_match_tie_and_span_several_pages() -> None:
    shares, parameters = measure()
    cases_seen = shares["cases"]
    assert cases_seen == SAMPLE
    assert shares["non-empty"] >= 0.30 * cases_seen, shares
    assert shares["tie on the sort key"] >= 0.10 * cases_seen, shares
    assert shares["several pages"] >= 0.10 * cases_seen, shares
    # the ShowOwn refusal is exercised, yet most requests get an answer
    assert 0 < shares["refused"] <= 0.25 * cases_seen, shares
    missing = api_parameters() - set(parameters)
    assert not missing, f"never generated: {sorted(missing)}"


def test_the_api_has_37_parameters() -> None:
    assert len(api_parameters()) == 37


def test_search_cases_exercise_the_token_rules() -> None:
    """The full-text cases often match, and often hinge on the CJK rule: a query ideograph
    that the matching job holds inside a longer run of ideographs (one token each, so it
    matches alone), or scripts run together in the query."""
    shares: Counter[str] = Counter()
    runs = re.compile(f"(?:{IDEOGRAPH.pattern}){{2,}}")

    @settings(max_examples=SAMPLE, database=None, phases=[Phase.generate], derandomize=True)
    @given(case=search_cases())
    def collect(case: Case) -> None:
        shares["cases"] += 1
        query = next(value for name, value in case.wire.items() if name in SEARCH_PARAMETERS)
        found = reference.query(case.jobs, case.wire, now=case.now, caller=case.caller)
        shares["non-empty"] += bool(found)
        in_runs = "".join(
            run for job in found for run in runs.findall(json.dumps(job, ensure_ascii=False))
        )
        shares["an ideograph matched inside a run"] += any(
            char in in_runs for char in IDEOGRAPH.findall(query)
        )
        shares["scripts run together in the query"] += bool(
            re.search(f"{IDEOGRAPH.pattern}[a-zA-Z0-9]|[a-zA-Z0-9]{IDEOGRAPH.pattern}", query)
        )

    collect()
    # the shares move a little with the modules loaded (Hypothesis draws constants from them),
    # so the bounds leave room below what a run shows
    assert shares["cases"] == SAMPLE
    assert shares["non-empty"] >= 0.25 * SAMPLE, shares
    assert shares["an ideograph matched inside a run"] >= 0.10 * SAMPLE, shares
    assert shares["scripts run together in the query"] >= 0.01 * SAMPLE, shares
