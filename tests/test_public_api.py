"""The package root: every public name importable from ``jobquery``, loaded only when used."""

from __future__ import annotations

import subprocess
import sys

import pytest

import jobquery
from jobquery import errors, request, response, snapshot, store
from jobquery.io import dumps

#: The public API, pinned: a name added to or dropped from ``jobquery.__all__`` is a decision.
PUBLIC = {
    "ApiError": errors.ApiError,
    "Caller": request.Caller,
    "DumpFormatError": errors.DumpFormatError,
    "InternalError": errors.InternalError,
    "InvalidParameterError": errors.InvalidParameterError,
    "JobQueryError": errors.JobQueryError,
    "JobStore": store.JobStore,
    "ListJobsRequest": request.ListJobsRequest,
    "ListJobsResponse": response.ListJobsResponse,
    "PageTokenError": errors.PageTokenError,
    "Skipped": dumps.Skipped,
    "Snapshot": snapshot.Snapshot,
    "StoreOptions": store.StoreOptions,
}

#: Libraries that ``import jobquery`` alone must not import: they cost most of the start-up.
HEAVY = ("polars", "pyarrow", "pydantic", "numpy", "orjson", "zstandard", "click", "rich")


def test_all_is_pinned() -> None:
    assert sorted(jobquery.__all__) == sorted([*PUBLIC, "__version__"])


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_every_public_name_is_the_class_of_its_module(name: str) -> None:
    assert getattr(jobquery, name) is PUBLIC[name]
    assert name in dir(jobquery)


def test_the_readme_import_line_works() -> None:
    namespace: dict[str, object] = {}
    exec("from jobquery import JobStore, ListJobsRequest, Caller, InvalidParameterError", namespace)
    assert namespace["JobStore"] is store.JobStore


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'NoSuchThing'"):
        _ = jobquery.NoSuchThing


def test_submodules_still_import_from_the_root() -> None:
    namespace: dict[str, object] = {}
    exec("from jobquery import reference, synth", namespace)
    assert namespace["reference"].__name__ == "jobquery.reference"  # type: ignore[attr-defined]


def _modules_after(code: str) -> set[str]:
    """The top-level packages a fresh interpreter has imported after running ``code``."""
    listing = "print('\\n'.join(sorted({m.split('.')[0] for m in sys.modules})))"
    probe = f"{code}\nimport sys\n{listing}"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    return set(result.stdout.split())


def test_importing_the_package_imports_no_heavy_library() -> None:
    loaded = _modules_after("import jobquery")
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))
    # the probe can see them: asking for a name imports what it needs
    assert {"polars", "pydantic"} <= _modules_after("import jobquery; jobquery.JobStore")
