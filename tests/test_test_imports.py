"""The tests' own layout: no test module imports another; what they share is in helpers.

A test module imported by another runs its module-level code twice under two names and makes
the suite's structure depend on file names; shared code lives in ``tests/helpers/`` and is
imported as ``tests.helpers.<module>``, the one name under which it is importable from a fresh
clone (pytest puts the repository root on ``sys.path``).
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
HELPERS = TESTS / "helpers"
#: Modules of tests/ itself: every test module, conftest, and the helpers by their bare names.
LOCAL = {path.stem for path in TESTS.glob("*.py")} | {path.stem for path in HELPERS.glob("*.py")}


def imported_modules(path: Path) -> list[str]:
    """Every module an ``import`` or ``from ... import`` statement of ``path`` names."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
        elif isinstance(node, ast.ImportFrom):
            names.append("." * node.level + (node.module or ""))
    return names


SOURCES = sorted([*TESTS.glob("*.py"), *HELPERS.glob("*.py")])


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: str(path.relative_to(TESTS)))
def test_tests_import_only_helpers(path: Path) -> None:
    """Nothing in tests/ imports a test module, conftest, or a helper by a name other than
    ``tests.helpers.<module>`` (a relative import or a bare ``strategies`` would load a
    second copy of it)."""
    wrong = [
        name
        for name in imported_modules(path)
        if name.startswith(".")
        or name.split(".")[0] in LOCAL
        or (name.startswith("tests.") and not name.startswith("tests.helpers"))
    ]
    assert wrong == [], f"{path.name} imports {wrong}"


def test_every_helper_imports_under_its_package_name() -> None:
    for path in sorted(HELPERS.glob("*.py")):
        name = "tests.helpers" if path.stem == "__init__" else f"tests.helpers.{path.stem}"
        importlib.import_module(name)
