"""The deliberate rule breaks of ``tests/helpers/rule_breaks.py`` still apply to the code.

Running the breaks takes minutes (``python -m tests.helpers.rule_breaks``); this checks, in the
suite, that each one still finds the code it edits and leaves a module that compiles, so the script
cannot quietly rot when the engine changes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers.rule_breaks import BREAKS, ROOT, BreakNoLongerAppliesError, Edit, RuleBreak


@pytest.mark.parametrize("rule_break", BREAKS, ids=lambda rule_break: rule_break.name)
def test_every_rule_break_still_applies(rule_break: RuleBreak, tmp_path: Path) -> None:
    edited = sorted({edit.path for edit in rule_break.edits})
    for path in edited:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / path, tmp_path / path)
    for edit in rule_break.edits:
        edit.apply(tmp_path)
    for path in edited:
        source = (tmp_path / path).read_text(encoding="utf-8")
        assert source != (ROOT / path).read_text(encoding="utf-8")
        compile(source, path, "exec")


def test_a_break_whose_code_moved_is_reported(tmp_path: Path) -> None:
    (tmp_path / "module.py").write_text("x = 1\n", encoding="utf-8")
    with pytest.raises(BreakNoLongerAppliesError, match="expected 1 of 'y = 2', found 0"):
        Edit("module.py", "y = 2", "y = 3").apply(tmp_path)


def test_the_breaks_cover_the_families_of_the_rules() -> None:
    families = {rule_break.family for rule_break in BREAKS}
    assert {"full-text tokens", "case-insensitive comparison", "visibility", "time window"} <= (
        families
    )
    assert len({rule_break.name for rule_break in BREAKS}) == len(BREAKS)
