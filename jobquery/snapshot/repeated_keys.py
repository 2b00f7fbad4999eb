"""Job texts that give a key the index reads twice in one object.

JSON parsers differ on which of two equal keys counts, so a job that repeats a key the index
reads would be indexed by one value and returned with another: such a job is refused
(:func:`repeated_key_error`). Keys repeated elsewhere change nothing the index reads and are
kept. The check parses the text with every object remembering its repeated keys, without
recursion for texts nested beyond the standard parser's limit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Set as AbstractSet
from typing import Any

from jobquery.snapshot.columns import INDEX_FIELDS
from jobquery.snapshot.native_read import HISTORY_KEYS, ROLE_KEYS, SETTINGS_KEYS


def repeated_key_error(text: str) -> str | None:
    """Why a job text is refused for a repeated key (None when it is not)."""
    repeated = repeated_index_key(text)
    return None if repeated is None else _repeated_reason(repeated)


def _repeated_reason(path: str, refused: str = "the job") -> str:
    return (
        f"the key {path} is given twice in one object: JSON parsers differ on which value "
        f"counts, so {refused} is refused"
    )


class _Object(dict[str, Any]):
    """A parsed JSON object that remembers which of its keys were given more than once."""

    __slots__ = ("repeated",)
    repeated: AbstractSet[str]


_NOTHING_REPEATED: frozenset[str] = frozenset()


def _object(pairs: list[tuple[str, Any]]) -> _Object:
    found = _Object(pairs)
    found.repeated = _NOTHING_REPEATED
    if len(found) != len(pairs):
        seen: set[str] = set()
        repeated: set[str] = set()
        for key, _ in pairs:
            (repeated if key in seen else seen).add(key)
        found.repeated = repeated
    return found


_TOP_KEYS = frozenset(INDEX_FIELDS.top_level_keys())
_SETTINGS_KEYS = frozenset((*SETTINGS_KEYS, "Tags"))
_ROLE_KEYS = frozenset(ROLE_KEYS)
_HISTORY_KEYS = frozenset(HISTORY_KEYS)


def repeated_index_key(text: str) -> str | None:
    """The first key the index reads that a (valid) job text gives twice in one object, as a
    path (``Accessibility``, ``Settings.Tags.team``, ``JobSpecs[1].Image``); None if none.

    Keys the index reads: the top-level fields it reads, those of ``Settings`` (and every key
    of ``Settings.Tags``), of each ``JobSpecs`` element and its ``AssignNodeSpec``, of each
    ``StatusHistory`` element — the keys the native reader's schema names. A key repeated
    elsewhere (``Pods``, unknown fields) changes nothing the index reads; it is kept, and the
    last one counts, as in the job returned. Escaped spellings are the same key.
    """
    return repeated_index_key_in(_with_repeated_keys(text))


def repeated_index_keys_of_jobs(document: str) -> dict[int, str]:
    """For a (valid) ListJobs page or JSON array of jobs, the jobs (by index) that give a key
    the index reads twice, with the reason (:func:`repeated_key_error`).

    Raises
    ------
    ValueError
        A page that gives ``Jobs`` twice (which list counts is the parser's choice).
    """
    parsed = _with_repeated_keys(document)
    if isinstance(parsed, _Object) and "Jobs" in parsed.repeated:
        raise ValueError(_repeated_reason("Jobs", refused="the page"))
    jobs = parsed.get("Jobs") if isinstance(parsed, dict) else parsed
    if not isinstance(jobs, list):
        return {}
    found = {}
    for index, job in enumerate(jobs):
        repeated = repeated_index_key_in(job)
        if repeated is not None:
            found[index] = _repeated_reason(repeated)
    return found


def _with_repeated_keys(text: str) -> Any:
    """A valid JSON text parsed with every object an :class:`_Object`."""
    try:
        return json.loads(text, object_pairs_hook=_object)
    except RecursionError:  # nesting beyond the standard parser's recursion limit
        return _skeleton(text)


def repeated_index_key_in(job: Any) -> str | None:
    """:func:`repeated_index_key` of a job parsed by :func:`_with_repeated_keys`."""
    if not isinstance(job, _Object):
        return None
    found = _first(job, _TOP_KEYS, "")
    settings = job.get("Settings")
    if found is None and isinstance(settings, _Object):
        found = _first(settings, _SETTINGS_KEYS, "Settings.")
        tags = settings.get("Tags")
        if found is None and isinstance(tags, _Object):
            found = _first(tags, tags.repeated, "Settings.Tags.")
    for name, keys in (("JobSpecs", _ROLE_KEYS), ("StatusHistory", _HISTORY_KEYS)):
        entries = job.get(name)
        if found is not None or not isinstance(entries, list):
            continue
        for number, entry in enumerate(entries):
            if found is None and isinstance(entry, _Object):
                found = _first(entry, keys, f"{name}[{number}].")
                spec = entry.get("AssignNodeSpec") if name == "JobSpecs" else None
                if found is None and isinstance(spec, _Object):
                    found = _first(spec, {"EnableAssignNode"}, f"{name}[{number}].AssignNodeSpec.")
    return found


def _first(found: _Object, keys: AbstractSet[str], prefix: str) -> str | None:
    repeated = sorted(found.repeated & keys)
    return f"{prefix}{repeated[0]}" if repeated else None


#: The tokens of a valid JSON text: strings, structural characters, other scalars.
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]]|[^\s{}\[\]:,"]+')


def _skeleton(text: str) -> Any:
    """The objects and arrays of a valid JSON text, read without recursion (any depth):
    objects as :class:`_Object` (each key's last value), arrays as lists, scalars as None."""
    root: list[Any] = []
    stack: list[tuple[Any, list[str | None]]] = [(root, [None])]
    for token in _JSON_TOKEN.findall(text):
        container, key = stack[-1]
        if token in ("}", "]"):
            stack.pop()
            continue
        if token[0] == '"' and isinstance(container, _Object) and key[0] is None:
            key[0] = json.loads(token)
            continue
        value: Any = None
        if token == "{":
            value = _Object()
            value.repeated = set()
        elif token == "[":
            value = []
        if isinstance(container, _Object):
            assert key[0] is not None and isinstance(container.repeated, set)
            if key[0] in container:
                container.repeated.add(key[0])
            container[key[0]] = value
            key[0] = None
        else:
            container.append(value)
        if value is not None:
            stack.append((value, [None]))
    return root[0] if root else None
