"""Reading the fields the index needs from many job texts at once, natively.

:func:`read_fields` parses a run of JSON texts — the lines of an NDJSON file as read, or texts
joined one per line (:meth:`TextLayout.joined`) — with ``pyarrow.json`` and an explicit schema
of only the fields the index reads (:data:`jobquery.snapshot.STRING_FIELDS` and the others).
One parse both checks each text and reads its values: ``pyarrow`` validates the whole text,
ignored fields included, refuses a key given twice in any object of the schema (``Settings``,
every element of ``JobSpecs`` and ``StatusHistory`` included, escaped spellings of a key
too), and hands back typed columns. The texts it cannot vouch for are *doubtful*; the caller
reads them one by one (:func:`jobquery.snapshot.index_texts`), which stays the reference.

A text is doubtful when:

- it is not braced (``{`` first, ``}`` last) or not UTF-8: only braced texts are parsed, so
  that a text left open cannot take in the next line (see :func:`_parse_run`);
- the parser refuses it: invalid JSON, a key of the schema given twice, a value whose JSON
  type differs from the schema's (a number where a string is read, a list ``Settings``). The
  error names the row; the other texts of the run are parsed again without it, and after
  :data:`MAX_ISOLATED` such texts in one piece the rest of the piece is left doubtful;
- ``pyarrow`` accepts it and the strict parser (orjson) would not: ``NaN``/``Infinity``, a
  number beyond the double range (a three-digit exponent, 200 or more digits in a row),
  nesting deeper than orjson's 1024 levels;
- its ``Settings.Tags`` is an object that a regular expression cannot read exactly: not flat,
  holding escapes or floats, a key twice, or a second ``"Tags":`` anywhere in the text.

The numeric fields (``RequestGPU`` and friends) are numbers in some dumps and strings in
others, and ``pyarrow`` reads a field as one JSON type only. Each field's type is guessed from
the first texts (:class:`NumericKinds`) and corrected when a parse says otherwise; a field
holding both types within one piece is read by Polars instead (its ``String`` reading takes
any scalar as text), and texts that name it twice are doubtful.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import orjson
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

Rows = npt.NDArray[np.int64]

#: A piece whose parse was refused this many times for single texts leaves the rest doubtful:
#: each refusal costs a parse of what follows the text.
MAX_ISOLATED = 16
#: orjson refuses JSON nested deeper than this (tests/test_ingest.py pins it).
ORJSON_MAX_DEPTH = 1024
#: A run of at least twice this many digits is always found by :func:`long_digit_runs`.
DIGIT_STRIDE = 100
#: The bytes between the sampled ones that :func:`long_digit_runs` looks at first.
_SIFT_STEP = 10
#: Texts whose JSON types of the numeric fields are looked at before the first parse.
_SAMPLED_TEXTS = 64
#: The bytes of text one parse takes at most: pyarrow's reader parses a block of a few MiB
#: faster per byte than a whole piece (docs/performance.md).
PARSE_BYTES = 8 << 20

_STRING = pa.string_view()
_ROLE = pa.struct(
    [
        ("Image", _STRING),
        ("UseSpotInstance", pa.bool_()),
        ("OversoldType", _STRING),
        ("AssignNodeSpec", pa.struct([("EnableAssignNode", pa.bool_())])),
    ]
)
#: (not string views: Arrow joins the two texts of an entry, which it cannot do for views)
_HISTORY = pa.struct([("ReasonCode", pa.string()), ("ReasonMessage", pa.string())])
#: The keys of ``Settings`` the index reads; ``Tags`` is only checked to be an object here (its
#: keys are free, so the schema cannot name them).
SETTINGS_KEYS = ("BusinessUserId", "Caller", "PipelineId", "OversoldType")
_SETTINGS = pa.struct([*((name, _STRING) for name in SETTINGS_KEYS), ("Tags", pa.struct([]))])
ROLE_KEYS = ("Image", "UseSpotInstance", "OversoldType", "AssignNodeSpec")
HISTORY_KEYS = ("ReasonCode", "ReasonMessage")


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

    def schema(
        self, number_types: dict[str, pa.DataType], dropped: AbstractSet[str] = frozenset()
    ) -> pa.Schema:
        """The explicit schema of a parse; the numeric fields of ``number_types`` typed so,
        and the fields ``dropped`` not read (they are read by Polars: :func:`_by_polars`)."""
        return pa.schema(
            [
                *((name, _STRING) for name in (*self.strings, *self.times) if name not in dropped),
                *((name, kind) for name, kind in number_types.items() if name not in dropped),
                *((name, pa.bool_()) for name in self.booleans if name not in dropped),
                ("Settings", _SETTINGS),
                ("JobSpecs", pa.list_(_ROLE)),
                ("StatusHistory", pa.list_(_HISTORY)),
            ]
        )


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


class NumericKinds:
    """Per numeric field, how a parse reads it: as a JSON number (``float64``) or a JSON string,
    learnt from the texts of one input and shared by the threads reading its pieces."""

    def __init__(self, names: Iterable[str]) -> None:
        self._lock = threading.Lock()
        self._kinds: dict[str, pa.DataType] = {name: _STRING for name in names}

    def guess_from(self, texts: pl.Series) -> None:
        """Take each field's JSON type from the first texts that parse and hold it."""
        seen: dict[str, set[str]] = {name: set() for name in self._kinds}
        for text in texts.head(_SAMPLED_TEXTS).to_list():
            try:
                job = orjson.loads(text) if text is not None else None
            except orjson.JSONDecodeError:
                continue
            if not isinstance(job, dict):
                continue
            for name, kinds in seen.items():
                value = job.get(name)
                if isinstance(value, str):
                    kinds.add("string")
                elif isinstance(value, int | float) and not isinstance(value, bool):
                    kinds.add("number")
        with self._lock:
            for name, kinds in seen.items():
                if kinds == {"number"}:
                    self._kinds[name] = pa.float64()

    def types(self) -> dict[str, pa.DataType]:
        with self._lock:
            return dict(self._kinds)

    def learn(self, name: str, kind: pa.DataType) -> None:
        with self._lock:
            self._kinds[name] = kind


@dataclass
class FieldRead:
    """What a piece's parse vouches for: its rows (positions among the piece's texts) and
    their fields, one row each, in order (see :func:`read_fields` for the columns)."""

    rows: Rows
    fields: pl.DataFrame


@dataclass
class _Piece:
    """The state of reading one piece: the schema's numeric types, what was learnt."""

    layout: TextLayout
    index: IndexFields
    kinds: NumericKinds
    number_types: dict[str, pa.DataType]
    dropped: set[str] = field(default_factory=set)
    tried: set[str] = field(default_factory=set)
    isolated: int = 0
    doubtful: list[int] = field(default_factory=list)
    parsed: list[tuple[int, pa.Table]] = field(default_factory=list)


def read_fields(
    texts: pl.Series,
    layout: TextLayout,
    candidates: Rows,
    index: IndexFields,
    kinds: NumericKinds,
) -> FieldRead:
    """Parse some texts natively and keep those the parse vouches for (module docstring).

    Parameters
    ----------
    texts : polars.Series
        The texts of the layout (``pl.String``), for the raw-text checks.
    layout : TextLayout
        Where the texts lie in a buffer.
    candidates : numpy.ndarray
        The texts (positions, ascending) to parse: braced, UTF-8.

    Returns
    -------
    FieldRead
        Columns: each field of ``index.strings``/``times``/``booleans`` as read (strings as
        JSON strings only), ``index.numbers`` as float64 by the number rule of
        docs/semantics.md, ``Settings.<key>`` of :data:`SETTINGS_KEYS`, ``tag_keys`` and
        ``tag_values`` (of an object ``Settings.Tags``, else null; see :func:`_tags`),
        ``JobSpecs.<key>`` lists (``Image``, ``UseSpotInstance``, ``OversoldType``,
        ``EnableAssignNode`` of ``AssignNodeSpec``;
        null elements for roles that are not objects) and ``StatusHistory.reasons``: per entry,
        its ``ReasonCode`` and ``ReasonMessage`` joined by a space.
    """
    piece = _Piece(layout, index, kinds, kinds.types())
    for run in _runs(candidates):
        for low, high in _spans(layout, int(run[0]), int(run[-1]) + 1):
            _parse_run(piece, low, high)
    piece.parsed.sort(key=lambda part: part[0])
    if not piece.parsed:
        return FieldRead(np.empty(0, dtype=np.int64), _empty_fields(index))
    rows = np.concatenate(
        [np.arange(start, start + table.num_rows, dtype=np.int64) for start, table in piece.parsed]
    )
    fields = pl.concat([_flattened(table, index, piece.dropped) for table in _joined(piece.parsed)])
    chosen = texts.gather(rows)
    trusted = _agrees_with_orjson(chosen, layout, rows)
    trusted &= _no_repeated_keys(chosen, sorted(piece.dropped))
    keys, values, tags_trusted = _tags(chosen, fields["tags_object"])
    trusted &= tags_trusted
    fields = fields.drop("tags_object").with_columns(keys, values)
    trusted &= fields["JobId"].fill_null("").str.len_bytes().to_numpy() > 0
    keep = pl.Series(trusted)
    rows, fields = rows[trusted], fields.filter(keep)
    if piece.dropped and len(rows):
        try:
            read, exact = _by_polars(chosen.filter(keep), sorted(piece.dropped), index)
        except pl.exceptions.PolarsError:  # a text Polars' parser refuses: leave all to Python
            return FieldRead(np.empty(0, dtype=np.int64), _empty_fields(index))
        rows, fields = rows[exact], fields.with_columns(read).filter(pl.Series(exact))
    return FieldRead(rows, fields)


def _runs(candidates: Rows) -> list[Rows]:
    """Maximal runs of consecutive positions."""
    if not len(candidates):
        return []
    breaks = np.flatnonzero(np.diff(candidates) != 1) + 1
    return np.split(candidates, breaks)


def _joined(parsed: list[tuple[int, pa.Table]]) -> list[pa.Table]:
    """The tables of consecutive parses, those of one schema as one (a parse read after a
    numeric field changed type has another): flattening many small tables costs more."""
    joined: list[list[pa.Table]] = []
    for _, table in parsed:
        if joined and joined[-1][0].schema.equals(table.schema):
            joined[-1].append(table)
        else:
            joined.append([table])
    return [pa.concat_tables(tables) if len(tables) > 1 else tables[0] for tables in joined]


def _spans(layout: TextLayout, start: int, stop: int) -> list[tuple[int, int]]:
    """The texts ``start..stop`` cut into consecutive spans of about :data:`PARSE_BYTES`."""
    first = int(layout.starts[start])
    total = int(layout.ends[stop - 1]) - first
    marks = first + np.arange(PARSE_BYTES, total, PARSE_BYTES)
    cuts = np.searchsorted(layout.starts[start:stop], marks, side="left") + start
    bounds = [start, *sorted(set(cuts.tolist()) - {start, stop}), stop]
    return list(itertools.pairwise(bounds))


_ROW = re.compile(r"in row (\d+)\s*$")
_TYPE_CHANGE = re.compile(r"Column\(/([^/)]*)\) changed from (\w+) to (\w+) in row (\d+)")
_KIND_TYPES: dict[str, pa.DataType] = {"number": pa.float64(), "string": _STRING}


def _parse_run(piece: _Piece, start: int, stop: int) -> None:
    """Parse the braced texts ``start..stop``; texts the parser refuses become doubtful.

    pyarrow reads a buffer as a stream of JSON values, newlines being whitespace, so a text
    alone does not make a row: ``{"JobId":"a","X":`` and the next line would. Braces prevent
    that: a text's last ``}`` either closes its last value — then the next text starts afresh —
    or closes a nested value or sits in a string, and then the next line's ``{`` (or the
    newline inside a string) is a parse error. So every text starts at least one row, and as
    many rows as texts means one row each, in order. A refused parse names the row it stopped
    at (a hint: a text holding two objects shifts the count); that text is set aside and the
    texts around it parsed again. Without a usable row, or with too many rows, the run is cut
    in halves.
    """
    pending = [(start, stop)]
    while pending:
        low, high = pending.pop()
        if low >= high:
            continue
        if piece.isolated >= MAX_ISOLATED:
            piece.doubtful.extend(range(low, high))
            continue
        try:
            table = _parse(piece, low, high)
        except pa.ArrowInvalid as error:
            message = str(error)
            changed = _TYPE_CHANGE.search(message)
            if changed is not None and _retype(piece, changed.group(1), changed.group(3)):
                pending.append((low, high))
                continue
            row = _ROW.search(message)
            where = int(row.group(1)) if row is not None else -1
            if high - low == 1:
                piece.doubtful.append(low)
                piece.isolated += 1
            elif 0 <= where < high - low:
                piece.doubtful.append(low + where)
                piece.isolated += 1
                pending += [(low + where + 1, high), (low, low + where)]
            else:
                middle = (low + high) // 2
                pending += [(middle, high), (low, middle)]
            continue
        if table.num_rows == high - low:
            piece.parsed.append((low, table))
        elif high - low == 1:
            piece.doubtful.append(low)  # one text, several values
        else:
            middle = (low + high) // 2
            pending += [(middle, high), (low, middle)]


def _retype(piece: _Piece, name: str, found: str) -> bool:
    """After a parse met a value of JSON type ``found`` in top-level field ``name``: read a
    numeric field as that type from now on, or by Polars when it held both; read any other
    top-level field the index reads by Polars. False for other fields."""
    if name in piece.number_types and found in _KIND_TYPES and name not in piece.tried:
        piece.tried.add(name)
        piece.number_types[name] = _KIND_TYPES[found]
        piece.kinds.learn(name, _KIND_TYPES[found])
        return True
    scalars = (*piece.index.strings, *piece.index.times, *piece.index.numbers)
    if name in (*scalars, *piece.index.booleans) and name not in piece.dropped:
        piece.dropped.add(name)
        return True
    return False


def _parse(piece: _Piece, low: int, high: int) -> pa.Table:
    layout = piece.layout
    first, last = int(layout.starts[low]), int(layout.ends[high - 1])
    region = layout.buffer.slice(first, last - first)
    options = pa_json.ReadOptions(use_threads=False, block_size=max(last - first + 1, 1 << 16))
    parse = pa_json.ParseOptions(
        explicit_schema=piece.index.schema(piece.number_types, piece.dropped),
        unexpected_field_behavior="ignore",
    )
    return pa_json.read_json(pa.BufferReader(region), read_options=options, parse_options=parse)


def _flattened(table: pa.Table, index: IndexFields, dropped: set[str]) -> pl.DataFrame:
    """A parsed table's fields as flat columns (see :func:`read_fields`); the numeric fields
    by the number rule; null for those read by Polars (``dropped``, maybe after this parse)."""
    columns: dict[str, pa.Array] = {}
    for name in (*index.strings, *index.times, *index.booleans):
        if name in dropped or name not in table.column_names:
            kind = pa.bool_() if name in index.booleans else _STRING
            columns[name] = pa.nulls(table.num_rows, kind)
        else:
            columns[name] = table.column(name).combine_chunks()
    settings = table.column("Settings").combine_chunks()
    for key, child in zip(
        [*SETTINGS_KEYS, "Tags"], _struct_fields(settings, len(SETTINGS_KEYS) + 1), strict=True
    ):
        if key == "Tags":
            columns["tags_object"] = child.is_valid()
        else:
            columns[f"Settings.{key}"] = child
    roles = table.column("JobSpecs").combine_chunks()
    image, spot, oversold, assign = _struct_fields(roles.values, len(ROLE_KEYS))
    (enable,) = _struct_fields(assign, 1)
    for key, values in (
        ("Image", image),
        ("UseSpotInstance", spot),
        ("OversoldType", oversold),
        ("EnableAssignNode", enable),
    ):
        columns[f"JobSpecs.{key}"] = _list_like(roles, values)
    history = table.column("StatusHistory").combine_chunks()
    code, message = _struct_fields(history.values, len(HISTORY_KEYS))
    # each entry's reason texts as one text, "code message", a missing one as "" (the same
    # tokens; null_handling="skip" returned too few values for these arrays in pyarrow 26)
    joined = pc.binary_join_element_wise(
        code, message, " ", null_handling="replace", null_replacement=""
    )
    columns["StatusHistory.reasons"] = _list_like(history, joined)
    frame = pl.from_arrow(pa.table(columns))
    assert isinstance(frame, pl.DataFrame)
    numbers = [
        pl.Series(name, [None] * frame.height, dtype=pl.Float64)
        if name in dropped or name not in table.column_names
        else _numbers_by_rule(pl.Series(name, table.column(name).combine_chunks()))
        for name in index.numbers
    ]
    return frame.with_columns(numbers)


def _struct_fields(array: pa.Array, count: int) -> list[pa.Array]:
    """The fields of a struct array, null wherever the struct is null."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    fields: list[pa.Array] = array.flatten()
    assert len(fields) == count
    return fields


def _list_like(lists: pa.ListArray, values: pa.Array) -> pa.Array:
    """A list array with the offsets and nulls of ``lists`` and other values."""
    offsets = lists.offsets
    return pa.ListArray.from_arrays(offsets, values, mask=lists.is_null())


def _empty_fields(index: IndexFields) -> pl.DataFrame:
    schema: dict[str, pl.DataType] = {}
    for name in (*index.strings, *index.times):
        schema[name] = pl.String()
    for name in index.numbers:
        schema[name] = pl.Float64()
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
    return pl.DataFrame(schema=schema)


#: The number rule of docs/semantics.md for texts: a JSON number spelt out by Polars (plain
#: decimals: "1e3" is "1000") or a numeric string.
NUMBER_TEXT = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$"


def _numbers_by_rule(column: pl.Series) -> pl.Series:
    """A numeric field as float64: JSON numbers as they are, strings by the number rule."""
    if column.dtype == pl.Float64:
        return column
    text = column.cast(pl.String)
    return (
        pl.select(pl.when(text.str.contains(NUMBER_TEXT)).then(text.cast(pl.Float64, strict=False)))
        .to_series()
        .alias(column.name)
    )


def _by_polars(
    texts: pl.Series, names: Sequence[str], index: IndexFields
) -> tuple[list[pl.Series], npt.NDArray[np.bool_]]:
    """Top-level fields whose JSON type varies within a piece, read by Polars' reader with
    ``ignore_errors``, which reads a value when its JSON type fits the declared type and
    gives null otherwise; and which texts that reading is exact for.

    A numeric field is declared ``String``: it takes any scalar as text, numbers in plain
    decimals (``1e3`` as ``1000``), which the number rule reads as a numeric string. A string
    field is declared ``Binary``: JSON strings only, except that an integer beyond 64 bits
    comes out as its debug text ``Static(...)`` (such texts are not exact). A boolean field
    is declared ``Boolean``: ``true`` and ``false`` only.
    """
    if texts.str.contains("[\r\n]").any():
        # a line break inside a JSON text can only be whitespace: one line per job
        texts = texts.str.replace_all("[\r\n]", " ")
    layout = TextLayout.joined(texts)
    schema: dict[str, pl.DataType] = {}
    for name in names:
        if name in index.numbers:
            schema[name] = pl.String()
        elif name in index.booleans:
            schema[name] = pl.Boolean()
        else:
            schema[name] = pl.Binary()
    read = pl.read_ndjson(layout.buffer.to_pybytes(), schema=schema, ignore_errors=True)
    assert read.height == len(texts)
    exact = np.ones(len(texts), dtype=np.bool_)
    columns = []
    for name in names:
        column = read[name]
        if name in index.numbers:
            column = _numbers_by_rule(column)
        elif name not in index.booleans:
            exact &= ~column.bin.starts_with(b"Static(").fill_null(False).to_numpy()
            column = column.cast(pl.String)
        columns.append(column.alias(name))
    return columns, exact


def _no_repeated_keys(texts: pl.Series, names: Sequence[str]) -> npt.NDArray[np.bool_]:
    """Texts naming each of some keys at most once anywhere (a key the parse did not read
    could otherwise be given twice)."""
    trusted = np.ones(len(texts), dtype=np.bool_)
    for name in names:
        counts = texts.str.count_matches(rf'"{re.escape(name)}"\s*:').to_numpy()
        trusted &= counts <= 1
    return trusted


#: pyarrow accepts NaN and Infinity; and numbers with an exponent of three digits or more
#: (some beyond the double range): the cheap pattern finds candidates, the exact one checks.
#: In a text pyarrow accepted, a number ends before whitespace and ``,``, ``}`` or ``]``:
#: asking for that keeps out the hex ids and hashes that hold such digits.
_ODD_HINT = r"NaN|Infinity|[0-9][eE][+-]?[0-9]{3,}[ \t\r\n]*[,}\]]"
_EXPONENT = r"[:,\[][ \t\r\n]*-?[0-9]+(?:\.[0-9]+)?[eE][+-]?[0-9]{3}"
_ODD = r"NaN|Infinity"


def _agrees_with_orjson(texts: pl.Series, layout: TextLayout, rows: Rows) -> npt.NDArray[np.bool_]:
    """Texts that pyarrow accepted and orjson surely accepts too (the module docstring)."""
    trusted = np.ones(len(texts), dtype=np.bool_)
    hinted = np.flatnonzero(texts.str.contains(_ODD_HINT).to_numpy())
    if len(hinted):
        odd = texts.gather(hinted)
        exact = (odd.str.contains(_ODD) | odd.str.contains(_EXPONENT)).to_numpy()
        trusted[hinted[exact]] = False
    # nesting depth is at most the number of brackets, which takes twice as many bytes
    long = np.flatnonzero(texts.str.len_bytes().to_numpy() > 2 * ORJSON_MAX_DEPTH)
    if len(long):
        chosen = texts if len(long) == len(texts) else texts.gather(long)
        brackets = chosen.str.count_matches(r"[\[{]")
        trusted[long[(brackets > ORJSON_MAX_DEPTH).to_numpy()]] = False
    if len(rows):
        first, last = int(layout.starts[rows[0]]), int(layout.ends[rows[-1]])
        runs = long_digit_runs(layout.data[first:last]) + first
        if len(runs):
            owner = np.searchsorted(layout.starts[rows], runs, side="right") - 1
            trusted[owner] = False
    return trusted


def long_digit_runs(data: npt.NDArray[np.uint8]) -> Rows:
    """Where ``data`` holds a run of digits long enough to matter (positions in it).

    pyarrow accepts numbers beyond the double range that orjson refuses: integers of 309
    digits, or ``20000e306``. Such a number has an exponent of three digits (found by
    :func:`_agrees_with_orjson`) or at least 210 digits in a row; every run of
    ``2 * DIGIT_STRIDE`` digits holds a whole window ``[k * stride, (k + 1) * stride]``, so
    sampling every ``stride``-th byte and checking the windows between two digits finds it.
    """
    stride = DIGIT_STRIDE
    digit = (data[::stride] - 0x30) < 10  # uint8: bytes below "0" wrap around
    candidates = np.flatnonzero(digit[:-1] & digit[1:])
    # two digits a stride apart are common (times, ids): a few bytes between them sift out
    # nearly all such windows before each is read whole
    for offset in range(_SIFT_STEP, stride, _SIFT_STEP):
        candidates = candidates[(data[candidates * stride + offset] - 0x30) < 10]
    found = []
    span = np.arange(stride + 1)
    for batch in np.array_split(candidates, len(candidates) // 65536 + 1):
        if len(batch):
            window = data[batch[:, None] * stride + span]
            found.append(batch[((window - 0x30) < 10).all(axis=1)] * stride)
    runs: Rows = np.concatenate(found).astype(np.int64) if found else candidates.astype(np.int64)
    return runs


#: ``"Tags":``, and its object ``{...}`` when flat and free of escapes (every quote in it is
#: then JSON syntax).
_TAGS_KEY_AND_OBJECT = r'"Tags"\s*:\s*(?:\{[^{}\[\]\\]*\})?'
#: A member of such an object that a regular expression reads exactly: a string, an integer
#: (``-0`` excepted: Python reads it as 0), a boolean or null, then the comma or brace after it
#: (so that the integer of ``1.5`` is not taken for a value).
TAG_PAIR = r'"[^"]*"\s*:\s*(?:"[^"]*"|0|-?[1-9][0-9]*|true|false|null)\s*[,}]'
#: An odd 64-bit multiplier (the golden ratio's) that spreads owner numbers over all bits.
_SPREAD = np.uint64(0x9E3779B97F4A7C15)
#: Printable ASCII spelt as a ``\\u`` escape: a key such as ``"Tag\\u0073"`` could hide from
#: the patterns above (no serializer writes those).
_ASCII_ESCAPE = r"\\u00[2-7][0-9a-fA-F]"


def _tags(
    texts: pl.Series, tags_object: pl.Series
) -> tuple[pl.Series, pl.Series, npt.NDArray[np.bool_]]:
    """The keys and values (as :func:`jobquery.request.tag_value_text` reads them) of each
    object ``Settings.Tags``, null for the texts without one; and which texts they are exact
    for.

    When ``Settings.Tags`` is an object and ``"Tags":`` occurs once in the whole text, that
    occurrence is its key (an escaped spelling of the key is excluded). The object must then
    be flat, free of escapes (so every quote in it is JSON syntax: the pyarrow parse checked
    it is valid JSON), its members each matched by :data:`TAG_PAIR` (what is left of it once
    they are taken out is commas and whitespace), and no key twice.
    """
    count = len(texts)
    trusted = np.ones(count, dtype=np.bool_)
    rows = tags_object.arg_true().to_numpy().astype(np.int64)
    chosen = texts.gather(rows)
    # every "Tags": with its object when that is flat and free of escapes, in one pass
    found = chosen.to_frame("text").select(
        tags=pl.col("text").str.extract_all(_TAGS_KEY_AND_OBJECT),
        escaped=pl.col("text").str.contains(_ASCII_ESCAPE),
    )
    # the object of the first "Tags": (null when it has none) starts at its brace
    first = found["tags"].list.first()
    objects = first.str.slice(first.str.find("{", literal=True))
    pairs = objects.str.extract_all(TAG_PAIR)
    pair_lists = pairs.to_arrow()
    if isinstance(pair_lists, pa.ChunkedArray):
        pair_lists = pair_lists.combine_chunks()
    lengths = pairs.list.len().fill_null(0).to_numpy().astype(np.int64)
    # a pair is "key" : value, the key free of quotes, a string value without inner quotes
    parts = pl.Series(pair_lists.flatten(), dtype=pl.String).str.splitn('"', 3)
    keys = parts.struct.field("field_1")
    spelled = (
        parts.struct.field("field_2")
        .str.strip_chars_start(" \t\r\n:")
        .str.strip_chars_end(" \t\r\n,}")
    )
    values = spelled.str.strip_chars('"')
    owners = np.repeat(np.arange(len(rows), dtype=np.int64), lengths)
    # every member was matched when the object's quotes are those of the pairs: two per key,
    # two per string value (every quote is JSON syntax, and a member the pattern skips, such
    # as a float, still has a quoted key)
    strings = np.bincount(
        owners, weights=spelled.str.starts_with('"').to_numpy(), minlength=len(rows)
    )
    quotes = objects.str.count_matches('"', literal=True).fill_null(-1).to_numpy()
    flat = pl.Series(quotes == 2 * lengths + 2 * strings.astype(np.int64))
    repeated = np.zeros(len(rows), dtype=np.bool_)
    if len(owners):
        # a key twice in one object: its hash mixed with its owner repeats (two pairs that
        # merely collide would leave their texts to the per-job reading, which is exact)
        mixed = keys.hash(seed=0).to_numpy() ^ (owners.astype(np.uint64) * _SPREAD)
        repeated[owners[pl.Series(mixed).is_duplicated().to_numpy()]] = True
    exact = (
        pl.select(((found["tags"].list.len() == 1) & flat & ~found["escaped"]).fill_null(False))
        .to_series()
        .to_numpy()
    )
    trusted[rows[~exact | repeated]] = False
    # the lists of every text: those of the chosen ones, empty and null for the others
    full = np.zeros(count, dtype=np.int64)
    full[rows] = lengths
    offsets = pa.array(np.concatenate([[0], np.cumsum(full)]), type=pa.int64())
    absent = np.ones(count, dtype=np.bool_)
    absent[rows] = False
    mask = pa.array(absent)
    return (
        pl.Series("tag_keys", pa.LargeListArray.from_arrays(offsets, _large(keys), mask=mask)),
        pl.Series("tag_values", pa.LargeListArray.from_arrays(offsets, _large(values), mask=mask)),
        trusted,
    )


def _large(values: pl.Series) -> pa.Array:
    array = values.to_arrow()
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array.cast(pa.large_string())
