"""The native reader of job texts (``_fieldscan.c``; :mod:`jobquery.snapshot.native_read`)."""

from typing import Any

MAX_DEPTH: int
MAX_TAGS: int
SETTINGS_KEYS: tuple[str, ...]
ROLE_KEYS: tuple[str, ...]
HISTORY_KEYS: tuple[str, ...]

class Block:
    """Memory written by :func:`scan`, lent through the buffer protocol."""

def scan(region: Any, starts: Any, ends: Any, top_keys: list[tuple[str, int]], /) -> dict[str, Any]:
    """The index fields of the texts ``region[starts[i]:ends[i]]``: buffers by name."""
