"""Reading the fields the index needs from many job texts at once, natively.

:func:`read_fields` reads a run of JSON texts — the lines of an NDJSON file as read, or texts
joined one per line (:meth:`TextLayout.joined`) — with :mod:`jobquery.snapshot._fieldscan`, a
strict JSON reader in C that takes out only the fields the index reads
(:data:`jobquery.snapshot.STRING_FIELDS` and the others). One pass over each text both checks
it and reads its values, with the GIL released, so the build threads read on every core. The
fields come back as Arrow arrays, each holding its own strings (a column then keeps none of
the texts' bytes alive, nor writes them into a cached snapshot), read by the per-job rules of
docs/semantics.md: a value of another JSON type than the field's is missing.

The texts it cannot vouch for are *doubtful*; the caller reads them one by one
(:func:`jobquery.snapshot.index_texts`), which stays the reference. A text is doubtful when:

- it is not braced (``{`` first, ``}`` last) or not UTF-8 (the caller leaves it out);
- it is not one JSON object, as orjson reads JSON: invalid syntax, ``NaN``, a control
  character or a lone surrogate in a string, anything after the object;
- it gives a key the index reads twice in one object (the top level, ``Settings``,
  ``Settings.Tags``, a ``JobSpecs`` role and its ``AssignNodeSpec``, a ``StatusHistory``
  entry; escaped spellings too): :mod:`jobquery.snapshot.repeated_keys` refuses it;
- its ``JobId`` is not a non-empty string (refused by the per-job reading);
- a number orjson might refuse (beyond the double range: an exponent of three digits or more,
  or a magnitude past 10^300), or, in a numeric field or a tag value, an integer of more than
  18 digits (orjson reads one beyond 64 bits as a float); or the text nests deeper than
  :data:`SCAN_MAX_DEPTH`;
- a ``Settings.Tags`` value is not a string, an integer other than ``-0``, a boolean or null,
  or the object holds more than 256 tags.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from jobquery.snapshot import _fieldscan

Rows = npt.NDArray[np.int64]

#: orjson refuses JSON nested deeper than this (tests/test_ingest.py pins it).
ORJSON_MAX_DEPTH = 1024
#: The native reader leaves texts nested deeper than this to the per-job reading.
SCAN_MAX_DEPTH: int = _fieldscan.MAX_DEPTH
#: The keys of ``Settings`` the index reads, besides ``Tags`` (whose keys are free).
SETTINGS_KEYS: tuple[str, ...] = _fieldscan.SETTINGS_KEYS
ROLE_KEYS: tuple[str, ...] = _fieldscan.ROLE_KEYS
HISTORY_KEYS: tuple[str, ...] = _fieldscan.HISTORY_KEYS
#: What the reader returns for a top-level field (the codes of ``_fieldscan.c``).
_STRING, _NUMBER, _BOOLEAN = 0, 1, 2
#: A numeric field's value was a JSON number (1) or a JSON string (2).
_JSON_NUMBER, _JSON_STRING = 1, 2


@dataclass(frozen=True)
class IndexFields:
    """The names of the fields the index reads, as :mod:`jobquery.snapshot` defines them."""

    strings: tuple[str, ...]
    times: tuple[str, ...]
    numbers: tuple[str, ...]
    booleans: tuple[str, ...] = ("IsDeleted", "UseOversoldResource")

    def top_level_keys(self) -> tuple[str, ...]:
        """Every top-level key the index reads."""
        nested = ("Settings", "JobSpecs", "StatusHistory")
        return (*self.strings, *self.times, *self.numbers, *self.booleans, *nested)

    def scanned(self) -> list[tuple[str, int]]:
        """The top-level scalar fields as the native reader takes them: ``JobId`` first."""
        assert self.strings[0] == "JobId"
        return [
            *((name, _STRING) for name in (*self.strings, *self.times)),
            *((name, _NUMBER) for name in self.numbers),
            *((name, _BOOLEAN) for name in self.booleans),
        ]


@dataclass(frozen=True)
class TextLayout:
    """Where texts lie in one buffer: text ``i`` is ``buffer[starts[i]:ends[i]]``, in order,
    consecutive texts separated by at least one newline and nothing but JSON whitespace or
    lines that are not texts (an NDJSON file as read: blank lines, skipped lines)."""

    buffer: pa.Buffer
    starts: Rows
    ends: Rows

    @classmethod
    def joined(cls, texts: pl.Series) -> TextLayout:
        """Texts (``pl.String``, no nulls) written one per line into a new buffer.

        Arrow's element-wise join writes each text and its newline in one pass, faster than
        Polars' ``str.join`` or joining Python slices (docs/performance.md).
        """
        array = texts.to_arrow()
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks()
        array = array.cast(pa.large_string())
        newline, nothing = pa.scalar("\n", pa.large_string()), pa.scalar("", pa.large_string())
        joined = pc.binary_join_element_wise(array, newline, nothing)
        _, offset_buffer, data = joined.buffers()
        offsets = np.frombuffer(offset_buffer, dtype=np.int64)[
            joined.offset : joined.offset + len(joined) + 1
        ]
        first = int(offsets[0]) if len(offsets) else 0
        if data is None:  # no text at all
            data = pa.py_buffer(b"")
        starts = offsets[:-1] - first
        return cls(data.slice(first), starts, offsets[1:] - first - 1)

    @property
    def data(self) -> npt.NDArray[np.uint8]:
        return np.frombuffer(self.buffer, dtype=np.uint8)

    def __len__(self) -> int:
        return len(self.starts)

    def braced(self) -> npt.NDArray[np.bool_]:
        """Which texts start with ``{`` and end with ``}``."""
        data, starts, ends = self.data, self.starts, self.ends
        braced = ends > starts
        kept = np.flatnonzero(braced)
        braced[kept] = (data[starts[kept]] == ord("{")) & (data[ends[kept] - 1] == ord("}"))
        return braced


@dataclass
class FieldRead:
    """What a read vouches for: its rows (positions among the piece's texts) and their
    fields, one row each, in order (see :func:`read_fields` for the columns)."""

    rows: Rows
    fields: pl.DataFrame


#: The bytes of text one call of the native reader takes at most: its string views hold
#: 32-bit offsets into them.
SCAN_BYTES = 1 << 30


def read_fields(layout: TextLayout, candidates: Rows, index: IndexFields) -> FieldRead:
    """Read some texts natively and keep those the reader vouches for (module docstring).

    Parameters
    ----------
    layout : TextLayout
        Where the texts lie in a buffer.
    candidates : numpy.ndarray
        The texts (positions, ascending) to read: braced, UTF-8.

    Returns
    -------
    FieldRead
        Columns: each field of ``index.strings``/``times``/``booleans`` as read (strings as
        JSON strings only), ``index.numbers`` as float64 by the number rule of
        docs/semantics.md, ``Settings.<key>`` of :data:`SETTINGS_KEYS`, ``tag_keys`` and
        ``tag_values`` (of an object ``Settings.Tags``, else null; values as
        :func:`jobquery.request.tag_value_text` reads them), ``JobSpecs.<key>`` lists
        (``Image``, ``UseSpotInstance``, ``OversoldType``, ``EnableAssignNode`` of
        ``AssignNodeSpec``; null elements for roles that are not objects) and
        ``StatusHistory.reasons``: per entry, its ``ReasonCode`` and ``ReasonMessage`` joined
        by a space (a missing one as "").
    """
    if not len(candidates):
        return FieldRead(np.empty(0, dtype=np.int64), _empty_fields(index))
    parts = [_read_span(layout, span, index) for span in _spans(layout, candidates)]
    rows = np.concatenate([rows for rows, _ in parts])
    fields = pl.concat([fields for _, fields in parts]) if len(parts) > 1 else parts[0][1]
    return FieldRead(rows, fields)


def _spans(layout: TextLayout, candidates: Rows) -> list[Rows]:
    """The candidates cut so that each span's texts lie within :data:`SCAN_BYTES`."""
    spans = []
    while len(candidates):
        first = int(layout.starts[candidates[0]])
        fits = np.searchsorted(layout.ends[candidates], first + SCAN_BYTES, side="right")
        count = max(int(fits), 1)
        spans.append(candidates[:count])
        candidates = candidates[count:]
    return spans


def _read_span(
    layout: TextLayout, candidates: Rows, index: IndexFields
) -> tuple[Rows, pl.DataFrame]:
    starts, ends = layout.starts[candidates], layout.ends[candidates]
    first, last = int(starts[0]), int(ends[-1])
    region = layout.buffer.slice(first, last - first)
    read = scan(region, starts - first, ends - first, index)
    frame = pl.from_arrow(pa.table(read.arrays))
    assert isinstance(frame, pl.DataFrame)
    frame = frame.with_columns(_number_by_rule(name, read.kinds[name]) for name in index.numbers)
    if read.vouched.all():
        return candidates, frame
    return candidates[read.vouched], frame.filter(pl.Series(read.vouched))


@dataclass(frozen=True)
class Scanned:
    """What the native reader read of some texts, every text a row: which it vouches for,
    the fields as Arrow arrays (a text not vouched for holds nulls; the numeric fields as
    their JSON texts) and, per numeric field, the JSON type of each value (``kinds``)."""

    vouched: npt.NDArray[np.bool_]
    arrays: dict[str, pa.Array]
    kinds: dict[str, pl.Series]


def scan(region: pa.Buffer, starts: Rows, ends: Rows, index: IndexFields) -> Scanned:
    """The native reader over the texts ``region[starts[i]:ends[i]]`` (at most 2 GiB)."""
    read = _fieldscan.scan(
        region,
        np.ascontiguousarray(starts, dtype=np.int64),
        np.ascontiguousarray(ends, dtype=np.int64),
        index.scanned(),
    )
    columns = _Columns(read, len(starts))
    tags, roles, entries = read["counts"]
    arrays: dict[str, pa.Array] = {}
    for name in (*index.strings, *index.times):
        arrays[name] = columns.strings(name)
    for name in index.booleans:
        arrays[name] = columns.booleans(name)
    for key in SETTINGS_KEYS:
        arrays[f"Settings.{key}"] = columns.strings(f"Settings.{key}")
    arrays["tag_keys"] = columns.lists("tags", columns.strings("tag_keys", tags))
    arrays["tag_values"] = columns.lists("tags", columns.strings("tag_values", tags))
    for key in ("Image", "OversoldType"):
        arrays[f"JobSpecs.{key}"] = columns.lists("roles", columns.strings(f"role.{key}", roles))
    for key in ("UseSpotInstance", "EnableAssignNode"):
        arrays[f"JobSpecs.{key}"] = columns.lists("roles", columns.booleans(f"role.{key}", roles))
    # each entry's reason texts as one text, "code message", a missing one as ""
    reasons = pc.binary_join_element_wise(
        columns.strings("history.ReasonCode", entries).cast(pa.string()),
        columns.strings("history.ReasonMessage", entries).cast(pa.string()),
        " ",
        null_handling="replace",
        null_replacement="",
    )
    arrays["StatusHistory.reasons"] = columns.lists("history", reasons)
    for name in index.numbers:
        arrays[name] = columns.strings(name)
    vouched = np.frombuffer(read["ok"], dtype=np.uint8).view(np.bool_)
    return Scanned(vouched, arrays, {name: columns.kinds(name) for name in index.numbers})


class _Columns:
    """The arrays of one read of the native reader (its buffers named as ``_fieldscan.c``
    names them)."""

    def __init__(self, read: dict[str, Any], count: int) -> None:
        self._read = read
        self._count = count

    def _buffer(self, name: str) -> pa.Buffer:
        return pa.py_buffer(self._read[name])

    def strings(self, name: str, count: int | None = None) -> pa.Array:
        count = self._count if count is None else count
        buffers = [self._buffer(f"{name}.{part}") for part in ("valid", "views", "data")]
        return pa.Array.from_buffers(pa.string_view(), count, buffers)

    def booleans(self, name: str, count: int | None = None) -> pa.Array:
        count = self._count if count is None else count
        buffers = [self._buffer(f"{name}.valid"), self._buffer(f"{name}.values")]
        return pa.Array.from_buffers(pa.bool_(), count, buffers)

    def lists(self, name: str, values: pa.Array) -> pa.Array:
        buffers = [self._buffer(f"{name}.valid"), self._buffer(f"{name}.offsets")]
        return pa.ListArray.from_buffers(
            pa.list_(values.type), self._count, buffers, children=[values]
        )

    def kinds(self, name: str) -> pl.Series:
        return pl.Series(np.frombuffer(self._read[f"{name}.kinds"], dtype=np.uint8)[: self._count])


#: The number rule of docs/semantics.md for texts: a JSON number spelt out by Polars (plain
#: decimals: "1e3" is "1000") or a numeric string.
NUMBER_TEXT = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$"


def _number_by_rule(name: str, kinds: pl.Series) -> pl.Expr:
    """A numeric field as float64: a JSON number as Polars reads its digits, a JSON string by
    the number rule, anything else missing."""
    text = pl.col(name)
    number = text.cast(pl.Float64, strict=False)
    return (
        pl.when(pl.lit(kinds) == _JSON_NUMBER)
        .then(number)
        .when((pl.lit(kinds) == _JSON_STRING) & text.str.contains(NUMBER_TEXT))
        .then(number)
        .alias(name)
    )


def _empty_fields(index: IndexFields) -> pl.DataFrame:
    schema: dict[str, pl.DataType] = {}
    for name in (*index.strings, *index.times):
        schema[name] = pl.String()
    for name in index.booleans:
        schema[name] = pl.Boolean()
    for key in SETTINGS_KEYS:
        schema[f"Settings.{key}"] = pl.String()
    schema["tag_keys"] = pl.List(pl.String)
    schema["tag_values"] = pl.List(pl.String)
    for key in ("Image", "OversoldType"):
        schema[f"JobSpecs.{key}"] = pl.List(pl.String)
    for key in ("UseSpotInstance", "EnableAssignNode"):
        schema[f"JobSpecs.{key}"] = pl.List(pl.Boolean)
    schema["StatusHistory.reasons"] = pl.List(pl.String)
    for name in index.numbers:
        schema[name] = pl.Float64()
    return pl.DataFrame(schema=schema)
