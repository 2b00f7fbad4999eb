"""The build: every index column from the JSON texts, without a Python object per job.

The texts are cut into pieces of a few MiB, read on every core at once: each piece is read
by the native reader for the fields the index reads (:mod:`jobquery.snapshot.native_read`), and
the index columns of the texts that reader vouches for are derived vectorised
(:func:`_native_columns`). The other texts — *doubtful* ones — are handed to a judge, which
reads them one by one by the reference rules (:func:`read_job`) and keeps or refuses each;
the kept ones are indexed by ``_job_row`` (:mod:`jobquery.snapshot.job_rows`). Correctness
never rests on clean data.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from jobquery.request import NUMERIC_FIELDS, TIME_FIELDS
from jobquery.snapshot.columns import (
    CASEFOLDED_FIELDS,
    INDEX_FIELDS,
    JOB_JSON,
    SETTINGS_FIELDS,
    STRING_FIELDS,
    index_column,
    token_text,
)
from jobquery.snapshot.job_rows import (
    _casefold,
    _casefolded,
    _extract_columns,
    _parsed_times,
    load_job,
    read_job,
)
from jobquery.snapshot.layout import BUILD_THREADS, dictionary_encoded
from jobquery.snapshot.native_read import TextLayout, read_fields

#: Below this many jobs, the index columns of the texts the native parse vouches for are still
#: read in Python: the fixed cost of the vectorised derivation (a hundred small Polars
#: queries) exceeds reading so few jobs in Python; the result is the same.
_NATIVE_MIN_ROWS = 300
#: A piece's texts: read by one call of the native reader and indexed by one round of Polars
#: queries. Small enough that the threads
#: share the work and a piece's transient copies stay small, large enough that the per-piece
#: cost of those queries stays small.
PIECE_BYTES = 64 << 20
_MIN_PIECE_BYTES = 16 << 20


@dataclass(frozen=True)
class Refusal:
    """A text that is not a job: where it is among the texts, and why."""

    position: int
    reason: str
    cause: Exception | None = None


@dataclass
class Verdict:
    """A judge's reading of doubtful texts: the jobs kept (position, parsed job) and the texts
    refused, both in position order."""

    jobs: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)


#: Reads the doubtful texts among ``texts`` at some positions (ascending), by the reference
#: rules; it may raise instead of refusing.
Judge = Callable[[pl.Series, np.ndarray], Verdict]


@dataclass
class IndexedTexts:
    """Texts with their index columns: the kept texts' rows, in text order."""

    #: ``job_json`` and every column of a snapshot but the rank columns, in no sorted order.
    frame: pl.DataFrame
    #: Each row's position among the texts indexed.
    positions: np.ndarray
    #: The texts the judge refused, in position order.
    refusals: list[Refusal]


def strict_judge(source: str) -> Judge:
    """The judge of :meth:`Snapshot.from_texts`: a text that is not a job raises."""

    def judge(texts: pl.Series, positions: np.ndarray) -> Verdict:
        verdict = Verdict()
        for position, text in zip(positions.tolist(), texts.gather(positions), strict=True):
            verdict.jobs.append((position, read_job(text, source, position)))
        return verdict

    return judge


def index_texts(
    texts: pl.Series,
    layout: TextLayout | None = None,
    *,
    source: str = "<records>",
    judge: Judge | None = None,
    native: bool | None = None,
) -> IndexedTexts:
    """Every column of a snapshot (but the ranks) for some job texts, pieces read in parallel.

    Parameters
    ----------
    texts : polars.Series
        The texts (``pl.String``); a null is a text that could not be decoded (the judge
        decides about it).
    layout : TextLayout, optional
        Where the texts lie, one per line, in a buffer (an NDJSON file as read): the parser
        reads it in place. By default each piece's texts are written into a buffer first.
    source : str
        Named in errors.
    judge : Judge, optional
        Reads the texts the native parse does not vouch for (default :func:`strict_judge`).
    native : bool, optional
        Derive the columns vectorised; by default from :data:`_NATIVE_MIN_ROWS` texts on.
    """
    judge = judge or strict_judge(source)
    native = len(texts) >= _NATIVE_MIN_ROWS if native is None else native
    bounds = _piece_bounds(texts, layout)

    build = _Build(texts, source, judge, native)

    def index_piece(start: int, stop: int) -> IndexedTexts:
        if layout is None:
            piece_layout = TextLayout.joined(texts.slice(start, stop - start).fill_null(""))
        else:
            piece_layout = TextLayout(
                layout.buffer, layout.starts[start:stop], layout.ends[start:stop]
            )
        return _index_piece(build, start, stop, piece_layout)

    pieces: list[IndexedTexts] = []
    if len(bounds) <= 2:
        pieces.append(index_piece(0, len(texts)))
    else:
        with ThreadPoolExecutor(max_workers=BUILD_THREADS) as pool:
            pieces = list(pool.map(index_piece, bounds[:-1], bounds[1:]))
    if len(pieces) == 1:
        return pieces[0]
    return IndexedTexts(
        pl.concat([piece.frame for piece in pieces], rechunk=False),
        np.concatenate([piece.positions for piece in pieces]),
        [refusal for piece in pieces for refusal in piece.refusals],
    )


def index_piece(
    texts: pl.Series,
    layout: TextLayout,
    *,
    source: str,
    judge: Judge,
    native: bool | None = None,
) -> IndexedTexts:
    """The columns of one piece of texts, in the calling thread (:func:`index_texts` cuts its
    texts into such pieces; a reader that cuts its input itself calls this per piece).

    ``native`` derives the columns vectorised (by default from :data:`_NATIVE_MIN_ROWS` texts
    on: pass True for a piece of a larger input). Positions are among ``texts``.
    """
    native = len(texts) >= _NATIVE_MIN_ROWS if native is None else native
    return _index_piece(_Build(texts, source, judge, native), 0, len(texts), layout)


def piece_bytes(total: int) -> int:
    """The bytes of text per piece for an input of ``total`` bytes: about :data:`PIECE_BYTES`,
    fewer when that leaves a build thread without several pieces."""
    return min(PIECE_BYTES, max(_MIN_PIECE_BYTES, total // (4 * BUILD_THREADS)))


def _piece_bounds(texts: pl.Series, layout: TextLayout | None) -> list[int]:
    """Where pieces start (and the last one ends): :func:`piece_bytes` of text each."""
    if layout is None:
        sizes = texts.str.len_bytes().fill_null(0).to_numpy().astype(np.int64) + 1
    else:
        sizes = layout.ends - layout.starts + 1
    ends = np.cumsum(sizes)
    total = int(ends[-1]) if len(ends) else 0
    size = piece_bytes(total)
    cuts = np.searchsorted(ends, np.arange(size, total, size), side="left") + 1
    bounds = sorted({0, *cuts.tolist(), len(texts)})
    return [bound for bound in bounds if bound <= len(texts)]


@dataclass(frozen=True)
class _Build:
    """What every piece of one :func:`index_texts` call shares."""

    texts: pl.Series
    source: str
    judge: Judge
    native: bool


def _index_piece(build: _Build, start: int, stop: int, layout: TextLayout) -> IndexedTexts:
    """The columns of the texts ``start..stop`` (``layout``: where they lie)."""
    texts, source = build.texts, build.source
    piece = texts.slice(start, stop - start)
    candidates = np.flatnonzero(layout.braced() & piece.is_not_null().to_numpy())
    read = read_fields(layout, candidates, INDEX_FIELDS)
    doubtful = np.setdiff1d(np.arange(len(piece), dtype=np.int64), read.rows)
    verdict = build.judge(texts, doubtful + start) if len(doubtful) else Verdict()
    parts: list[pl.DataFrame] = []
    positions: list[np.ndarray] = []
    if len(read.rows):
        vouched = piece if len(read.rows) == len(piece) else piece.gather(read.rows)
        if build.native:
            columns = _native_columns(read.fields)
        else:
            columns = _extract_columns([load_job(text) for text in vouched], source)
        columns[JOB_JSON] = vouched.alias(JOB_JSON)
        parts.append(pl.DataFrame(columns))
        positions.append(read.rows + start)
    if verdict.jobs:
        kept = np.array([position for position, _ in verdict.jobs], dtype=np.int64)
        columns = _extract_columns([job for _, job in verdict.jobs], source)
        columns[JOB_JSON] = texts.gather(kept).alias(JOB_JSON)
        parts.append(pl.DataFrame(columns))
        positions.append(kept)
    if not parts:
        empty = _extract_columns([], source)
        empty[JOB_JSON] = pl.Series(JOB_JSON, [], dtype=pl.String)
        return IndexedTexts(pl.DataFrame(empty), np.empty(0, dtype=np.int64), verdict.refusals)
    frame = pl.concat(parts) if len(parts) > 1 else parts[0]
    rows = np.concatenate(positions)
    if len(parts) > 1:
        order = np.argsort(rows, kind="stable")
        frame, rows = frame[order], rows[order]
    return IndexedTexts(frame, rows, verdict.refusals)


def _nonempty(text: pl.Expr) -> pl.Expr:
    """A string field as ``_string`` reads it: "" is missing."""
    return pl.when(text != "").then(text)


def _nonempty_elements() -> pl.Expr:
    """A list's elements that are neither null nor "", in order: a filter inside
    ``list.eval`` is much faster than mapping them to null and dropping the nulls
    (docs/performance.md)."""
    return pl.element().filter(pl.element() != "")


def _native_columns(fields: pl.DataFrame) -> dict[str, pl.Series]:
    """Every column ``_extract_columns`` makes, from the fields read natively
    (:func:`jobquery.snapshot.native_read.read_fields`)."""
    strings = fields.select(
        *(_nonempty(pl.col(name)).alias(name) for name in STRING_FIELDS),
        *(_nonempty(pl.col(f"Settings.{name}")).alias(name) for name in SETTINGS_FIELDS),
        *(_nonempty(pl.col(name)).alias(f"raw.{name}") for name in TIME_FIELDS),
    )
    columns: dict[str, pl.Series] = {
        name: strings[name] for name in (*STRING_FIELDS, *SETTINGS_FIELDS)
    }
    times = _parsed_times(
        strings.select(pl.col(f"raw.{name}").alias(name) for name in TIME_FIELDS), TIME_FIELDS
    )
    columns.update(times)
    for name in NUMERIC_FIELDS:
        columns[name] = fields[name]
    derived = _derived_fields(fields)
    columns["IsDeleted"] = derived["IsDeleted"]
    columns.update(_labels(strings, derived))
    pairs = _tag_pair_lists(fields["tag_keys"], fields["tag_values"])
    columns["ix_tags"] = pairs.fill_null(pl.lit([], dtype=pl.List(pl.String))).alias("ix_tags")
    columns["ix_image_tokens"] = _image_tokens(derived["images"])
    columns["ix_command_tokens"] = _token_texts("ix_command_tokens", columns["UserCommand"])
    columns["ix_reason_tokens"] = _token_texts("ix_reason_tokens", derived["reasons"])
    return {name: column.alias(name) for name, column in columns.items()}


def _derived_fields(fields: pl.DataFrame) -> pl.DataFrame:
    """Per job, the values the labels, flags and tokens are derived from: the deletion flag,
    the oversold type (the job's, else the first role's), the role flags, the role images and
    the reason texts."""
    return fields.select(
        IsDeleted=pl.col("IsDeleted").fill_null(False),
        oversold_type=pl.coalesce(
            _nonempty(pl.col("Settings.OversoldType")),
            pl.col("JobSpecs.OversoldType").list.eval(_nonempty_elements()).list.first(),
        ),
        oversold_used=pl.col("UseOversoldResource").fill_null(False),
        spot=pl.col("JobSpecs.UseSpotInstance").list.any().fill_null(False),
        assign_node=pl.col("JobSpecs.EnableAssignNode").list.any().fill_null(False),
        images=pl.col("JobSpecs.Image").list.eval(_nonempty_elements()),
        reasons=pl.concat_str(
            _nonempty(pl.col("ReasonCode")),
            _nonempty(pl.col("ReasonMessage")),
            pl.col("StatusHistory.reasons").list.join(" ", ignore_nulls=True),
            separator=" ",
            ignore_nulls=True,
        ),
    )


def _labels(strings: pl.DataFrame, derived: pl.DataFrame) -> dict[str, pl.Series]:
    """The casefolded index columns of the string fields, with the derived ``OversoldInfo``
    and ``PaymentType`` labels and the ``EnableAssignNode`` flag."""
    folded = strings.with_columns(
        pl.col("Accessibility").fill_null("PUBLIC").alias("accessibility"),
        derived["oversold_type"].alias("oversold_type"),
    )
    columns = _casefolded(
        folded,
        {
            **{index_column(name): name for name in CASEFOLDED_FIELDS},
            "ix_Accessibility": "accessibility",
            "kind": "oversold_type",
        },
    )
    kind = derived["oversold_type"]
    accept = columns.pop("kind") == "acceptquotaoversold"
    label = pl.select(
        pl.when(accept.fill_null(False))
        .then(
            pl.when(derived["oversold_used"])
            .then(pl.lit("AcceptQuotaOverSold-true"))
            .otherwise(pl.lit("AcceptQuotaOverSold-false"))
        )
        .otherwise(kind)
    ).to_series()
    columns["ix_OversoldInfo"] = _casefold("ix_OversoldInfo", label)
    payment = pl.select(
        pl.when(derived["spot"])
        .then(pl.lit("Spot"))
        .when(strings["ResourceId"].is_not_null())
        .then(pl.lit("PrePaid"))
        .otherwise(pl.lit("PostPaid"))
    ).to_series()
    columns["ix_PaymentType"] = _casefold("ix_PaymentType", payment)
    columns["ix_EnableAssignNode"] = derived["assign_node"].alias("ix_EnableAssignNode")
    return columns


def _native_frame(texts: pl.Series, source: str) -> pl.DataFrame:
    """The columns of every job plus ``job_json`` by the native build, in text order
    (doubtful texts read by ``_job_row``, texts that are not jobs refused)."""
    return index_texts(texts, source=source, native=True).frame


def _token_texts(name: str, texts: pl.Series) -> pl.Series:
    """``token_text([text])`` of every text: ASCII natively, others by ``tokenize``."""
    return _on_distinct(texts, lambda distinct: _distinct_token_texts(name, distinct))


def _distinct_token_texts(name: str, texts: pl.Series) -> pl.Series:
    ascii_only = _is_ascii(texts)
    joined = texts.str.to_lowercase().str.replace_all("[^a-z0-9]+", " ").str.strip_chars(" ")
    tokens = pl.select(pl.when(joined != "").then(" " + joined + " ")).to_series()
    odd = (~ascii_only).arg_true()
    if len(odd):
        slow = [token_text([text]) for text in texts.gather(odd).to_list()]
        tokens = tokens.scatter(odd, pl.Series(name, slow, dtype=pl.String))
    return tokens.alias(name)


def _image_tokens(images: pl.Series) -> pl.Series:
    """One token text per role image (roles without image or token left out), per job."""
    flat = pl.Series("images", images.to_arrow().flatten(), dtype=pl.String)
    owner = np.repeat(np.arange(len(images)), images.list.len().fill_null(0).to_numpy())
    tokens = _token_texts("ix_image_tokens", flat)
    kept = tokens.is_not_null().to_numpy()
    counts = np.bincount(owner[kept], minlength=len(images))
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    # as views: equal tokens keep sharing the bytes of their distinct value (no copy per role)
    values = tokens.filter(pl.Series(kept)).to_arrow(compat_level=pl.CompatLevel.newest())
    lists = pa.LargeListArray.from_arrays(pa.array(offsets), values)
    return pl.Series("ix_image_tokens", lists).cast(pl.List(pl.String))


def _tag_pair_lists(keys: pl.Series, values: pl.Series) -> pl.Series:
    """The :func:`tag_pair` texts of lists of tag keys and values (of the same lengths)."""
    key_lists, value_lists = keys.to_arrow(), values.to_arrow()
    if isinstance(key_lists, pa.ChunkedArray):
        key_lists, value_lists = key_lists.combine_chunks(), value_lists.combine_chunks()
    key = pl.Series(key_lists.flatten(), dtype=pl.String)
    value = pl.Series(value_lists.flatten(), dtype=pl.String)
    texts = pl.select(
        pl.concat_str(key.str.len_chars().cast(pl.String), pl.lit(":"), key, pl.lit("="), value)
    ).to_series()
    text_array = texts.to_arrow()
    if isinstance(text_array, pa.ChunkedArray):
        text_array = text_array.combine_chunks()
    offsets = pa.array(np.asarray(key_lists.offsets, dtype=np.int64) - key_lists.offsets[0].as_py())
    lists = pa.LargeListArray.from_arrays(
        offsets, text_array.cast(pa.large_string()), mask=key_lists.is_null()
    )
    return pl.Series("ix_tags", lists).cast(pl.List(pl.String))


def _is_ascii(column: pl.Series) -> pl.Series:
    """Whether each string is ASCII (null: true): as many bytes as characters, which takes a
    fifth of the time of the regular expression ``^[\\x00-\\x7f]*$``."""
    return (column.str.len_bytes() == column.str.len_chars()).fill_null(True)


def _on_distinct(column: pl.Series, compute: Callable[[pl.Series], pl.Series]) -> pl.Series:
    """``compute(column)``, computed once per distinct value when values repeat (images,
    commands, reasons and tag objects do: 32 distinct images among 31k roles), then mapped
    back by each row's code; nulls stay null. ``compute`` must map each value on its own, and
    null to null."""
    distinct, codes = dictionary_encoded(column)
    if len(distinct) * 2 > len(column):
        return compute(column)
    return compute(distinct).gather(codes)  # a null code gathers a null
