"""Snapshots: an immutable, versioned Arrow table of job records and their index columns.

A snapshot keeps every job **losslessly** as its JSON text (column ``job_json``) — unknown
fields, the string-or-object ``UserVpc``, ``HistoryPods`` of any depth and numbers sent as
strings all survive because nothing is ever projected onto a schema. Beside it sit typed columns
of the top-level scalar fields, useful outside jobquery (``JobId``, ``DisplayName``,
``Status``, ``Gmt*Time`` as timestamps, numeric values of ``RequestGPU`` and friends), and the
``ix_*`` index columns the engine filters and sorts on, derived once at build time:

- casefolded strings for every string filter (``str.casefold`` at build, never per query);
- tag pairs of ``Settings.Tags`` as length-prefixed texts (:func:`tag_pair`, one list per job);
- full-text tokens as ``" tok tok "`` strings, so a token test is a literal substring test;
- the derived ``PaymentType`` / ``OversoldInfo`` labels and role flags;
- ``ix_rank_<key>``: each job's position in the total order of every sort key, so ordering a
  page never sorts strings. These are not built with the rest: each is computed the first
  time it is used (:meth:`Snapshot.rank`; a store computes them in the background).

The build reads every text once, natively and on every core (:func:`index_texts`, with
:mod:`jobquery.native_read`); the texts it cannot vouch for are read one by one by the
reference rules (``_job_row``).

Rows are kept in ``(GmtCreateTime, JobId)`` order, the listable jobs first and the deleted ones
after them: the default listing (newest first in a time window on ``GmtCreateTime``) is a
binary search and a slice, and the listable jobs are a slice of the frame, not a copy (which
cost 840 bytes per job: 8 GB at 10 million).

The rules for reading job values are in ``docs/semantics.md``.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import orjson
import polars as pl
import pyarrow as pa

from jobquery.errors import DumpFormatError
from jobquery.lazy import Structures
from jobquery.native_read import (
    HISTORY_KEYS,
    ROLE_KEYS,
    SETTINGS_KEYS,
    IndexFields,
    NumericKinds,
    TextLayout,
    read_fields,
)
from jobquery.request import NUMERIC_FIELDS, TIME_FIELDS, parse_timestamp, tag_value_text
from jobquery.textcodec import TextCodec

JOB_JSON = "job_json"
#: Top-level string fields exported as typed columns (missing, empty or non-string → null).
STRING_FIELDS = (
    "JobId",
    "DisplayName",
    "JobType",
    "Status",
    "SubStatus",
    "UserId",
    "Username",
    "WorkspaceId",
    "WorkspaceName",
    "ResourceId",
    "ResourceName",
    "ResourceQuotaName",
    "ResourceType",
    "Accessibility",
    "TemplateId",
    "ReasonCode",
    "ReasonMessage",
    "UserCommand",
    "Description",
)
SETTINGS_FIELDS = ("BusinessUserId", "Caller", "PipelineId")
#: String targets compared casefolded: their ``ix_<name>`` columns hold ``str.casefold()``.
CASEFOLDED_FIELDS = (
    "JobId",
    "DisplayName",
    "JobType",
    "Status",
    "UserId",
    "Username",
    "WorkspaceId",
    "ResourceId",
    "ResourceQuotaName",
    "TemplateId",
    "Description",
    *SETTINGS_FIELDS,
)
#: Sort keys with a precomputed rank column (GmtCreateTime is the row order itself).
RANKED_SORT_KEYS = ("DisplayName", "JobType", "Status", "GmtFinishTime")
ROW = "ix_row"

_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
#: A CJK ideograph alone, or a run of letters and digits that holds no CJK ideograph.
_TOKEN = re.compile(f"[{_CJK}]|[^\\W_{_CJK}]+")


def index_column(field_name: str) -> str:
    """The name of the casefolded index column of a string field."""
    return f"ix_{field_name}"


def rank_column(sort_key: str) -> str:
    """The name of the rank column of a sort key (see :meth:`Snapshot.rank`)."""
    return f"{_RANK_PREFIX}{sort_key}"


def rank_key(column: str) -> str | None:
    """The sort key whose rank column ``column`` is, or None for any other column."""
    key = column.removeprefix(_RANK_PREFIX)
    return key if key != column and key in RANKED_SORT_KEYS else None


_RANK_PREFIX = "ix_rank_"


def tokenize(text: str) -> list[str]:
    """Full-text tokens (spec §3.5.7): casefolded letter/digit runs, each CJK ideograph alone."""
    tokens: list[str] = _TOKEN.findall(text.casefold())
    return tokens


def token_text(texts: Iterable[str | None]) -> str | None:
    """The tokens of some texts as ``" a b c "``; None when there is no token at all."""
    tokens = [token for text in texts if text for token in tokenize(text)]
    return f" {' '.join(tokens)} " if tokens else None


def tag_pair(key: str, value: str) -> str:
    """The text one tag pair is stored and looked up as: length-prefixed, so unambiguous."""
    return f"{len(key)}:{key}={value}"


@dataclass(frozen=True, eq=False)
class Snapshot:
    """An immutable, versioned set of jobs with their index columns.

    Attributes
    ----------
    frame : polars.DataFrame
        Every job: the listable ones in ``(GmtCreateTime, JobId)`` order, then the deleted
        ones in the same order (:data:`ROW_ORDER`).
    version : int
        Increases with every update of a store; pins page tokens to a snapshot.
    live : polars.DataFrame
        The listable jobs (``IsDeleted`` not true), the first rows of ``frame`` (a slice, no
        copy), with their row numbers ``ix_row``; the engine queries this.
    create_times : numpy.ndarray
        ``GmtCreateTime`` of ``live`` as int64 microseconds, nulls as the smallest value,
        for binary search.
    codec : TextCodec, optional
        Set when the job texts are kept compressed (``compress_texts``): ``job_json`` is then
        ``pl.Binary`` and :meth:`json_texts` reads it back.

    The rank columns (``ix_rank_<key>``, one per :data:`RANKED_SORT_KEYS`) are not in
    ``frame``: each is computed on first use (:meth:`rank`), or taken from a frame that holds
    it (a saved snapshot); :meth:`frame_with_ranks` is the frame with all of them.
    """

    frame: pl.DataFrame
    version: int = 0
    codec: TextCodec | None = None
    live: pl.DataFrame = field(init=False, repr=False)
    create_times: np.ndarray = field(init=False, repr=False)
    #: Small results queries leave behind and notes of what they used (see
    #: :mod:`jobquery.derived`); a new snapshot (every update) starts with an empty one.
    cache: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)
    #: Structures derived from the columns on first use, each built once (rank columns, the
    #: dictionaries and orders of :mod:`jobquery.derived`).
    structures: Structures = field(
        default_factory=Structures, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        ranks = [rank_column(key) for key in RANKED_SORT_KEYS]
        for key, name in zip(RANKED_SORT_KEYS, ranks, strict=True):
            if name in self.frame.columns:
                column = self.frame[name].cast(pl.UInt32)
                self.structures.put(("rank", key), column.to_numpy())
        object.__setattr__(self, "frame", self.frame.drop(ranks, strict=False))
        deleted = self.frame["IsDeleted"]
        listable = self.frame.height - int(deleted.sum())
        if not deleted.slice(listable).all():
            raise ValueError("the frame's deleted jobs are not after its listable ones")
        live = self.frame.slice(0, listable)
        live = live.with_columns(pl.int_range(pl.len(), dtype=pl.UInt32).alias(ROW))
        times = live["GmtCreateTime"].dt.epoch("us").fill_null(np.iinfo(np.int64).min)
        object.__setattr__(self, "live", live)
        object.__setattr__(self, "create_times", times.to_numpy())

    def __len__(self) -> int:
        return self.frame.height

    def rank(self, sort_key: str) -> np.ndarray:
        """Each row's rank in the total order of a sort key (uint32, one per row of
        :attr:`frame`): 0 to the listable count - 1 for the listable jobs, in the spec's total
        order (§3.5.8, ascending, missing smallest), then the deleted ones. Computed on first
        use, once."""
        found: np.ndarray = self.structures.get(
            ("rank", sort_key), lambda: _rank(self.frame, sort_key)
        )
        return found

    def ranks_computed(self) -> dict[str, np.ndarray]:
        """The rank columns computed so far, by sort key."""
        found = {key: self.structures.peek(("rank", key)) for key in RANKED_SORT_KEYS}
        return {key: ranks for key, ranks in found.items() if ranks is not None}

    def frame_with_ranks(self) -> pl.DataFrame:
        """:attr:`frame` with every rank column (computing those not computed yet)."""
        return self.frame.with_columns(
            pl.Series(rank_column(key), self.rank(key)) for key in RANKED_SORT_KEYS
        )

    @classmethod
    def from_parsed(
        cls,
        jobs: Sequence[Mapping[str, Any]],
        texts: Sequence[str] | pl.Series,
        *,
        version: int = 0,
        source: str = "<records>",
    ) -> Snapshot:
        """Build a snapshot from parsed jobs and their JSON texts (the lossless copy kept).

        The index is derived from the texts (:meth:`from_texts`), which is faster than reading
        the parsed jobs one by one; ``jobs`` must be the parsed ``texts``.
        """
        if len(jobs) != len(texts):
            raise ValueError("jobs and texts differ in length")
        return cls.from_texts(texts, version=version, source=source)

    @classmethod
    def from_texts(
        cls,
        texts: pl.Series | Sequence[str],
        *,
        version: int = 0,
        source: str = "<records>",
        compress_texts: bool = False,
    ) -> Snapshot:
        """Build a snapshot from the jobs' JSON texts alone.

        Parameters
        ----------
        texts : polars.Series or sequence of str
            One JSON text per job (``pl.String``); each must be a JSON object with a non-empty
            string ``JobId`` (the ingest layer checks this). The texts become the
            ``job_json`` column unchanged.
        version : int
            The version of the snapshot.
        source : str
            Named in errors (a file, or ``<records>``).
        compress_texts : bool, default False
            Keep each job's text zstd-compressed (:mod:`jobquery.textcodec`): about 8x less
            memory for the texts, for ~3 µs per job a page returns and a slower build.

        Raises
        ------
        DumpFormatError
            The same ``JobId`` twice, or a text that is not a job.
        """
        column = texts if isinstance(texts, pl.Series) else pl.Series(JOB_JSON, texts, pl.String)
        return cls.from_text_chunks(
            [column], version=version, source=source, compress_texts=compress_texts
        )

    @classmethod
    def from_text_chunks(
        cls,
        chunks: Iterable[pl.Series],
        *,
        version: int = 0,
        source: str = "<records>",
        compress_texts: bool = False,
    ) -> Snapshot:
        """Build a snapshot from the jobs' JSON texts, given a chunk at a time.

        Each chunk is indexed (and, with ``compress_texts``, compressed) before the next is
        asked for, so the plain texts of all jobs never need to be in memory at once. The
        build holds the indexed chunks, then puts them in order one column at a time, freeing
        each unsorted column as it goes: with compressed texts, 10M jobs peaked at 14.2 GiB
        (the process, generator included) for a snapshot of about 11 GiB (docs/performance.md).
        The dictionary of the compression is trained on the first chunk. Parameters as for
        :meth:`from_texts`.
        """
        parts: list[pl.DataFrame] = []
        codec: TextCodec | None = None
        # no chunk at all is one empty chunk: the frame still gets every column
        for chunk in itertools.chain(chunks, [None]):
            if chunk is None and parts:
                break
            texts = pl.Series(JOB_JSON, [], pl.String) if chunk is None else chunk
            # one chunk of string views over the same buffers (no text is copied): gathering
            # rows from several chunks copies every text (1 s per 300k jobs), from one only
            # the views
            part = index_texts(texts.rechunk(), source=source).frame
            del texts, chunk
            if compress_texts:
                codec = codec or TextCodec.train(part[JOB_JSON])
                part = part.with_columns(codec.compress(part[JOB_JSON]))
            parts.append(part)
            del part
        frame = pl.concat(parts, rechunk=False) if len(parts) > 1 else parts[0]
        del parts
        _refuse_duplicates(frame, source)
        # hand the columns over in a list the sort empties: a frame passed as an argument stays
        # referenced by this call until the sort returns, and with it every unsorted column
        # (measured: 2.4 GiB more at the peak of a 3M-job build)
        columns = frame.get_columns()
        del frame
        return cls(_put_in_order(columns), version=version, codec=codec)

    @classmethod
    def from_indexed(
        cls,
        columns: list[pl.Series],
        *,
        version: int = 0,
        source: str = "<records>",
        compress_texts: bool = False,
    ) -> Snapshot:
        """Build a snapshot from texts indexed already (the columns of
        :attr:`IndexedTexts.frame`, as ingest reads a file): the rows are only put in order
        (and the texts compressed).

        The list is emptied as each column is put in order: a caller that holds no other
        reference to the columns never holds two copies of them.

        Raises
        ------
        DumpFormatError
            The same ``JobId`` twice.
        """
        ids = next(column for column in columns if column.name == "JobId")
        _refuse_duplicates(pl.DataFrame([ids]), source)
        del ids
        codec = None
        if compress_texts:
            at = next(at for at, column in enumerate(columns) if column.name == JOB_JSON)
            codec = TextCodec.train(columns[at])
            columns[at] = codec.compress(columns[at])
        return cls(_put_in_order(columns), version=version, codec=codec)

    @classmethod
    def from_arrow(cls, table: pa.Table, *, version: int = 0) -> Snapshot:
        """Build a snapshot from an Arrow table with a ``job_json`` column (jobquery's export).

        The index is derived from ``job_json`` alone, natively, as :meth:`from_texts` does;
        the table's other columns are ignored (they are derived again).

        Raises
        ------
        DumpFormatError
            No ``job_json`` column, an empty text in it, or the same ``JobId`` twice.
        """
        if JOB_JSON not in table.column_names:
            raise DumpFormatError("<arrow>", f"the table has no {JOB_JSON} column")
        texts = pl.Series(JOB_JSON, table.column(JOB_JSON), dtype=pl.String)
        if texts.null_count():
            raise DumpFormatError(
                "<arrow>", f"{JOB_JSON} is empty", record=texts.is_null().arg_true()[0]
            )
        return cls.from_texts(texts, version=version, source="<arrow>")

    @classmethod
    def from_frame(
        cls, frame: pl.DataFrame, *, version: int = 0, codec: TextCodec | None = None
    ) -> Snapshot:
        """Wrap a frame saved by :meth:`frame_with_ranks` (or :attr:`frame`: the ranks are
        then computed on first use); no index is rebuilt.

        ``codec``: the codec of a frame whose ``job_json`` is compressed (``pl.Binary``).
        """
        if (frame.schema[JOB_JSON] == pl.Binary) != (codec is not None):
            raise ValueError(f"a compressed {JOB_JSON} needs its codec, and only it one")
        return cls(frame, version=version, codec=codec)

    def json_texts(self, frame: pl.DataFrame | None = None) -> pl.Series:
        """The ``job_json`` texts (``pl.String``) of some rows of this snapshot, in order.

        ``frame``: rows of :attr:`frame` or :attr:`live` (any selection of their columns
        that keeps ``job_json``); all jobs by default. Compressed texts are decompressed.
        """
        column = (self.frame if frame is None else frame)[JOB_JSON]
        if self.codec is None or column.dtype == pl.String:  # plain, or decompressed already
            return column
        return self.codec.decompress(column)

    def with_json_texts(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Rows of this snapshot with ``job_json`` as plain text (what callers are given)."""
        if JOB_JSON not in frame.columns:
            return frame
        return frame.with_columns(self.json_texts(frame))

    def records(self) -> list[dict[str, Any]]:
        """Every stored job as a dict, in snapshot order (the deleted ones last)."""
        return [load_job(text) for text in self.json_texts()]

    def export_table(self, frame: pl.DataFrame | None = None) -> pa.Table:
        """The public columns (typed top-level fields plus ``job_json``) as an Arrow table."""
        frame = self.frame if frame is None else frame
        public = [name for name in frame.columns if not name.startswith("ix_")]
        table: pa.Table = self.with_json_texts(frame.select(public)).to_arrow()
        return table

    def with_changes(
        self,
        upserts: Sequence[Mapping[str, Any]],
        texts: Sequence[str],
        deletions: Iterable[str],
        *,
        version: int,
    ) -> Snapshot:
        """A new snapshot with some jobs inserted or replaced and some removed.

        Only the changed jobs are parsed and indexed. The unchanged rows are already in order,
        and so are their ranks: the new rows are *merged* into those sorted runs (a binary
        search per new row, run for all new rows at once) instead of sorting everything again.
        What stays proportional to the whole table is copying it into its new order (long
        runs of unchanged rows are copied as slices) and rewriting the rank columns (numpy,
        4 bytes per job and key). Measured at 1M jobs: docs/embedding.md.

        Parameters
        ----------
        upserts : sequence of mapping
            Jobs to insert, or to put in place of the stored job with the same ``JobId``.
        texts : sequence of str
            The JSON text of each upserted job (its lossless copy).
        deletions : iterable of str
            JobIds to remove; unknown ones are ignored.
        version : int
            The version of the new snapshot.

        Raises
        ------
        DumpFormatError
            An upserted job without a string ``JobId``, or the same ``JobId`` twice.
        """
        columns = _extract_columns(upserts, "<upsert>")
        columns[JOB_JSON] = pl.Series(JOB_JSON, texts, dtype=pl.String)
        if self.codec is not None:
            columns[JOB_JSON] = self.codec.compress(columns[JOB_JSON])
        added = pl.DataFrame(columns)
        if added["JobId"].n_unique() != added.height:
            raise DumpFormatError("<upsert>", "the same JobId twice in one upsert")
        replaced = pl.concat([added["JobId"], pl.Series("JobId", list(deletions), pl.String)])
        gone = self.frame["JobId"].is_in(replaced.implode()).to_numpy()
        merged, ranks = _merge(self.frame, self.ranks_computed(), gone, added)
        latest = Snapshot(merged, version=version, codec=self.codec)
        for key, rank in ranks.items():  # the others are computed when first used
            latest.structures.put(("rank", key), rank)
        return latest


#: Every ASCII digit becomes "0", every other byte a space: a run of 19 digits becomes
#: ``_DIGIT_RUN``. ``bytes.translate`` and a substring test take ~5 µs for a 2 KB job, where
#: the regular expression ``[0-9]{19}`` took ~30 µs (it dominated the materialising of pages).
_DIGITS_ONLY = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_DIGIT_RUN = b"0" * 19


def may_hold_long_integer(text: str | bytes) -> bool:
    """Whether a JSON text holds 19 digits in a row, as every integer beyond 64 bits does."""
    raw = text.encode() if isinstance(text, str) else text
    return _DIGIT_RUN in raw.translate(_DIGITS_ONLY)


def load_job(text: str) -> dict[str, Any]:
    """Parse one stored job text, keeping integers beyond 64 bits exact.

    orjson reads such integers as floats; a text that may hold one (19 digits in a row) is
    read by the standard library instead, which keeps every digit.
    """
    job: dict[str, Any] = json.loads(text) if may_hold_long_integer(text) else orjson.loads(text)
    return job


def _refuse_duplicates(frame: pl.DataFrame, source: str) -> None:
    if frame.height and frame["JobId"].n_unique() != frame.height:
        duplicate = frame["JobId"].filter(frame["JobId"].is_duplicated()).sort()[0]
        raise DumpFormatError(source, f"duplicate JobId {duplicate!r}")


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str) and _NUMBER.fullmatch(value):
        return float(value)
    return None


def _roles(job: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    specs = job.get("JobSpecs")
    if not isinstance(specs, list):
        return []
    return [spec for spec in specs if isinstance(spec, Mapping)]


def _job_row(job: Mapping[str, Any], source: str, index: int) -> tuple[Any, ...]:
    """Everything the index needs from one job, read by the rules of docs/semantics.md."""
    if not isinstance(job, Mapping):
        raise DumpFormatError(source, "a job must be a JSON object", record=index)
    if _string(job.get("JobId")) is None:
        raise DumpFormatError(source, "a job needs a non-empty string JobId", record=index)
    settings = job.get("Settings")
    if not isinstance(settings, Mapping):
        settings = {}
    roles = _roles(job)
    strings = tuple(_string(job.get(name)) for name in STRING_FIELDS)
    settings_strings = tuple(_string(settings.get(name)) for name in SETTINGS_FIELDS)
    times = tuple(_string(job.get(name)) for name in TIME_FIELDS)
    numbers = tuple(_number(job.get(name)) for name in NUMERIC_FIELDS)

    oversold = _string(settings.get("OversoldType"))
    if oversold is None:
        oversold = next(
            (kind for role in roles if (kind := _string(role.get("OversoldType")))), None
        )
    if oversold is not None and oversold.casefold() == "acceptquotaoversold":
        used = job.get("UseOversoldResource") is True
        oversold = f"AcceptQuotaOverSold-{'true' if used else 'false'}"

    if any(role.get("UseSpotInstance") is True for role in roles):
        payment = "Spot"
    elif _string(job.get("ResourceId")) is not None:
        payment = "PrePaid"
    else:
        payment = "PostPaid"

    assign_node = any(
        isinstance(spec := role.get("AssignNodeSpec"), Mapping)
        and spec.get("EnableAssignNode") is True
        for role in roles
    )

    tags = settings.get("Tags")
    pairs: list[str] = []
    if isinstance(tags, Mapping):
        for key, value in tags.items():
            text = tag_value_text(value)
            if text is not None:
                pairs.append(tag_pair(str(key), text))

    images = [
        image_tokens for role in roles if (image_tokens := token_text([_string(role.get("Image"))]))
    ]
    history = job.get("StatusHistory")
    reasons: list[str | None] = [_string(job.get("ReasonCode")), _string(job.get("ReasonMessage"))]
    if isinstance(history, list):
        for entry in history:
            if isinstance(entry, Mapping):
                reasons += [_string(entry.get("ReasonCode")), _string(entry.get("ReasonMessage"))]

    return (
        *strings,
        *settings_strings,
        *times,
        *numbers,
        job.get("IsDeleted") is True,
        oversold,
        payment,
        assign_node,
        pairs,
        images,
        token_text([_string(job.get("UserCommand"))]),
        token_text(reasons),
    )


_ROW_LAYOUT = (
    *STRING_FIELDS,
    *(f"Settings.{name}" for name in SETTINGS_FIELDS),
    *(f"raw.{name}" for name in TIME_FIELDS),
    *NUMERIC_FIELDS,
    "IsDeleted",
    "ix_OversoldInfo",
    "ix_PaymentType",
    "ix_EnableAssignNode",
    "ix_tags",
    "ix_image_tokens",
    "ix_command_tokens",
    "ix_reason_tokens",
)


def _extract_columns(jobs: Sequence[Mapping[str, Any]], source: str) -> dict[str, pl.Series]:
    rows = [_job_row(job, source, index) for index, job in enumerate(jobs)]
    values: list[Sequence[Any]] = (
        list(zip(*rows, strict=True)) if rows else [[] for _ in _ROW_LAYOUT]
    )
    by_name = dict(zip(_ROW_LAYOUT, values, strict=True))
    columns: dict[str, pl.Series] = {}
    for name in STRING_FIELDS:
        columns[name] = pl.Series(name, by_name[name], dtype=pl.String)
    for name in SETTINGS_FIELDS:
        columns[name] = pl.Series(name, by_name[f"Settings.{name}"], dtype=pl.String)
    for name in TIME_FIELDS:
        columns[name] = parse_times(name, by_name[f"raw.{name}"])
    for name in NUMERIC_FIELDS:
        columns[name] = pl.Series(name, by_name[name], dtype=pl.Float64)
    columns["IsDeleted"] = pl.Series("IsDeleted", by_name["IsDeleted"], dtype=pl.Boolean)
    for name in CASEFOLDED_FIELDS:
        columns[index_column(name)] = _casefold(index_column(name), columns[name])
    accessibility = columns["Accessibility"].fill_null("PUBLIC")
    columns["ix_Accessibility"] = _casefold("ix_Accessibility", accessibility)
    for name in ("ix_OversoldInfo", "ix_PaymentType"):
        columns[name] = _casefold(name, pl.Series(name, by_name[name], dtype=pl.String))
    columns["ix_EnableAssignNode"] = pl.Series(
        "ix_EnableAssignNode", by_name["ix_EnableAssignNode"], dtype=pl.Boolean
    )
    for name in ("ix_tags", "ix_image_tokens"):
        columns[name] = pl.Series(name, by_name[name], dtype=pl.List(pl.String))
    for name in ("ix_command_tokens", "ix_reason_tokens"):
        columns[name] = pl.Series(name, by_name[name], dtype=pl.String)
    return columns


# only shapes where the native parser and parse_timestamp agree: no year 0, no leap second
_SIMPLE_TIME = (
    r"^(?:000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})-[0-9]{2}-[0-9]{2}"
    r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z$"
)


def parse_times(name: str, texts: Sequence[str | None] | pl.Series) -> pl.Series:
    """Parse timestamps natively where they have the common shape, by parse_timestamp otherwise.

    The native parser only sees strings of the exact shape ``YYYY-MM-DDTHH:MM:SSZ``, where it and
    :func:`parse_timestamp` agree; every other string goes through ``parse_timestamp`` itself.
    """
    raw = pl.Series(name, texts, dtype=pl.String)
    return _parsed_times(raw.to_frame(), [name])[name]


def _parsed_times(frame: pl.DataFrame, names: Sequence[str]) -> dict[str, pl.Series]:
    """:func:`parse_times` of several String columns of a frame, in one Polars query."""
    simple = frame.select(
        pl.col(name).str.contains(_SIMPLE_TIME).fill_null(False).alias(name) for name in names
    )
    found = frame.select(
        expression
        for name in names
        for expression in (
            pl.when(simple[name])
            .then(
                pl.col(name).str.to_datetime(
                    "%Y-%m-%dT%H:%M:%SZ", time_unit="us", time_zone="UTC", strict=False
                )
            )
            .alias(name),
            (pl.col(name).is_not_null() & ~simple[name]).alias(f"{name}.odd"),
        )
    )
    columns = {}
    for name in names:
        parsed = found[name]
        odd = found[f"{name}.odd"].arg_true()
        if len(odd):
            raw = frame[name].gather(odd).to_list()
            slow = pl.Series(name, [parse_timestamp(text) for text in raw], parsed.dtype)
            parsed = parsed.scatter(odd, slow)
        columns[name] = parsed
    return columns


def _is_ascii(column: pl.Series) -> pl.Series:
    """Whether each string is ASCII (null: true): as many bytes as characters, which takes a
    fifth of the time of the regular expression ``^[\\x00-\\x7f]*$``."""
    return (column.str.len_bytes() == column.str.len_chars()).fill_null(True)


def _on_distinct(column: pl.Series, compute: Callable[[pl.Series], pl.Series]) -> pl.Series:
    """``compute(column)``, computed once per distinct value when values repeat (images,
    commands, reasons and tag objects do: 32 distinct images among 31k roles), then mapped
    back; nulls stay null. ``compute`` must map each value on its own, and null to null."""
    distinct = column.drop_nulls().unique()
    if len(distinct) * 2 > len(column):
        return compute(column)
    computed = compute(distinct)
    table = pl.DataFrame({"value": distinct, "computed": computed})
    rows = pl.DataFrame({"value": column})
    # a left join keeps the rows' order; a null value matches nothing and stays null
    mapped = rows.join(table, on="value", how="left", maintain_order="left")["computed"]
    return mapped.alias(computed.name)


def _casefold(name: str, column: pl.Series) -> pl.Series:
    """``str.casefold`` of a column: ASCII strings natively (there it equals lower-casing)."""
    return _casefolded(column.to_frame("value"), {name: "value"})[name]


def _casefolded(frame: pl.DataFrame, names: Mapping[str, str]) -> dict[str, pl.Series]:
    """:func:`_casefold` of several String columns of a frame (``names``: each result's name
    and its column), in one Polars query."""
    lowered = frame.select(
        pl.col(source).str.to_lowercase().alias(name) for name, source in names.items()
    )
    found = lowered.with_columns(
        expression
        for name, source in names.items()
        for expression in (
            # not ASCII: as many bytes as characters, a fifth of the time of a regex
            (frame[source].str.len_bytes() != frame[source].str.len_chars())
            .fill_null(False)
            .alias(f"{name}.odd"),
            (pl.col(name) != frame[source]).fill_null(False).any().alias(f"{name}.changed"),
        )
    )
    columns = {}
    for name, source in names.items():
        folded = found[name]
        odd = found[f"{name}.odd"].arg_true()
        if len(odd):
            slow = [text.casefold() for text in frame[source].gather(odd).to_list()]
            folded = folded.scatter(odd, pl.Series(name, slow, dtype=pl.String))
        elif frame.height >= _SHARING_MIN_ROWS and not found[f"{name}.changed"][0]:
            # nothing to fold: the column itself, its buffers shared (_put_in_order keeps them)
            folded = frame[source].alias(name)
        columns[name] = folded
    return columns


def index_columns_equal_to_their_field(columns: Mapping[str, pl.Series]) -> dict[str, str]:
    """The ``ix_<field>`` columns equal to ``<field>`` (ids are mostly lower case already),
    each with its field: such a column is stored as the field's column again, its buffers
    shared (48 bytes per job for ``ix_JobId``)."""
    return {
        name: field
        for name, column in columns.items()
        if (field := name.removeprefix("ix_")) != name
        and field in columns
        and column.equals(columns[field], check_dtypes=True)
    }


def _put_in_order(unsorted: list[pl.Series]) -> pl.DataFrame:
    """The frame of the columns ``unsorted``, sorted by :data:`ROW_ORDER`, its strings packed.
    The list is emptied. (The rank columns are computed on first use: :meth:`Snapshot.rank`.)

    Columns are put in order a few at a time (one per build thread), each unsorted column let
    go as soon as its sorted copy exists, so that the build holds about one copy of the table,
    not two. They come as columns, not a frame: any operation on a frame whose columns are
    chunked differently (the job texts by build chunk, the others by piece) first rechunks
    every column, which cost 0.3 GiB per million jobs on top of the build's peak.
    """
    by_name = {column.name: column for column in unsorted}
    rows = _row_order(*(by_name[name] for name in ROW_ORDER))
    same_as_field = {}
    if len(rows) >= _SHARING_MIN_ROWS:
        same_as_field = index_columns_equal_to_their_field(by_name)
    del by_name
    names = [column.name for column in unsorted if not column.name.startswith("ix_rank")]
    # an index column equal to its field becomes the field's sorted column again
    own = [
        column for column in unsorted if column.name in names and column.name not in same_as_field
    ]
    unsorted.clear()
    with ThreadPoolExecutor(max_workers=BUILD_THREADS) as pool:
        # the pool holds each column until its task is done, then lets it go
        sorted_columns = {
            column.name: column
            for column in pool.map(lambda column: _in_order(column, rows), _handed_over(own))
        }
    for name, field_name in same_as_field.items():
        sorted_columns[name] = sorted_columns[field_name].alias(name)
    return pl.DataFrame([sorted_columns[name] for name in names])


def _handed_over(columns: list[pl.Series]) -> Iterator[pl.Series]:
    """The columns of a list, emptying it as they are taken (so that none stays referenced
    by the list once its task has it)."""
    columns.reverse()
    while columns:
        yield columns.pop()


def _row_order(
    deleted: pl.Series, created: pl.Series, folded_id: pl.Series, job_id: pl.Series
) -> pl.Series:
    """The permutation that puts rows in :data:`ROW_ORDER` (missing values first).

    Sorted by the two numeric keys with numpy; only rows that tie on both (jobs created in
    the same microsecond) are sorted by their ids, with Polars: a sort of all rows by the
    four columns spent most of its time comparing ids (docs/performance.md).
    """
    is_deleted = deleted.fill_null(False).to_numpy()
    moments = created.dt.epoch("us").fill_null(np.iinfo(np.int64).min).to_numpy()
    order = np.lexsort((moments, is_deleted))
    moments, is_deleted = moments[order], is_deleted[order]
    same = (moments[1:] == moments[:-1]) & (is_deleted[1:] == is_deleted[:-1])
    if same.any():
        # runs of ties: each run's rows sorted by the ids, in place in the order
        starts = np.flatnonzero(np.concatenate([[True], ~same]))
        run = np.repeat(np.arange(len(starts)), np.diff(np.concatenate([starts, [len(order)]])))
        tied = np.flatnonzero(np.concatenate([same, [False]]) | np.concatenate([[False], same]))
        ties = pl.DataFrame(
            {
                "run": run[tied],
                "folded": folded_id.gather(order[tied]),
                "id": job_id.gather(order[tied]),
                "row": order[tied],
            }
        ).sort(["run", "folded", "id"], nulls_last=False, maintain_order=True)
        order[tied] = ties["row"].to_numpy()
    return pl.Series("rows", order, dtype=pl.UInt32 if len(order) < 2**32 else pl.UInt64)


def _rank(frame: pl.DataFrame, sort_key: str) -> np.ndarray:
    """The rank column of a sort key over a frame in row order (see :meth:`Snapshot.rank`).

    Ties on the key keep row order, which is already (GmtCreateTime, JobId): the rank is then
    the job's position in the spec's total order (§3.5.8), ascending, missing smallest, among
    the listable jobs (0 to their count - 1; the deleted ones rank after them).
    """
    permutation = frame.select(
        pl.arg_sort_by(rank_order_columns(sort_key), nulls_last=False, maintain_order=True)
    ).to_series()
    rank = np.empty(frame.height, dtype=np.uint32)
    rank[permutation.to_numpy()] = np.arange(frame.height, dtype=np.uint32)
    return rank


def _in_order(column: pl.Series, order: pl.Series) -> pl.Series:
    """A column gathered into ``order``, its strings packed (except the job texts).

    A gather leaves string data scattered, and substring scans ran 7.7x slower on it (DESIGN.md).
    A string column whose values repeat is rebuilt from its distinct values (:func:`_shared`):
    every row's view points at the one copy of its value. Any other string column is repacked
    by an Arrow round trip. A column of strings of 12 bytes or fewer needs neither: an Arrow
    string view holds such a string itself, so a gather moves the data with the view. The job
    texts are never scanned, only read by row: they keep pointing into the input's buffers,
    which costs no copy of the largest column.

    The build's columns come in one chunk per 25k jobs; gathering across chunks cost 5-40x
    more than gathering from one (0.1-0.2 s per string column at 300k jobs), and joining the
    chunks first costs next to nothing for strings (their views are copied, not the text).
    """
    inline = False
    if column.dtype == pl.String and column.name != JOB_JSON:
        longest = column.str.len_bytes().max()
        inline = not isinstance(longest, int) or longest <= _INLINE_BYTES
        shared = None if inline else _shared(column, order)
        if shared is not None:
            return shared
    column = column.rechunk().gather(order)
    if inline or column.name == JOB_JSON or column.dtype not in (pl.String, pl.List(pl.String)):
        return column
    return _repacked(column)


#: Arrow string views hold strings of up to this many bytes inline (no data buffer).
_INLINE_BYTES = 12


def _repacked(column: pl.Series) -> pl.Series:
    repacked = pl.from_arrow(column.to_arrow())
    assert isinstance(repacked, pl.Series)
    return repacked.alias(column.name)


#: Rows sampled to guess whether a column's values repeat enough to be worth sharing.
_SHARING_SAMPLE = 20_000
#: Below this many rows a column is not worth sharing: the few kilobytes saved cost ~1 ms per
#: column (a build of 24 jobs took 104 ms instead of 64, which the test suite felt).
_SHARING_MIN_ROWS = 1_000


def _shared(column: pl.Series, order: pl.Series | None = None) -> pl.Series | None:
    """A string column (gathered into ``order``) whose equal values share one copy of their
    bytes, or None when its values seldom repeat (judged on its first rows).

    Arrow string views point into data buffers, and nothing stops many views from pointing at
    the same bytes: a column of a few hundred user ids then costs its 16-byte views and the
    few hundred ids, not every row's copy. With the index columns equal to their fields shared
    too (:func:`_put_in_order`), a million jobs went from 1,807 to 1,189 bytes per job with
    compressed texts (3,871 to 3,253 with plain texts), in about the time the repacking took.
    """
    if len(column) < _SHARING_MIN_ROWS:
        return None
    sample = column.head(_SHARING_SAMPLE)
    if sample.n_unique() * 2 > len(sample):
        return None
    distinct = _repacked(column.unique().drop_nulls())
    codes = (
        column.to_frame("value")
        .join(
            distinct.to_frame("value").with_row_index("code"),
            on="value",
            how="left",
            maintain_order="left",
        )
        .get_column("code")
    )
    # a null value matched no code, and a null code gathers a null
    return distinct.gather(codes if order is None else codes.gather(order)).alias(column.name)


def newest_time(snapshot: Snapshot, where: pl.Expr | None = None) -> datetime | None:
    """The newest timestamp of any ``Gmt*Time`` field in the snapshot (of its jobs for which
    ``where`` holds, when given); None when there is none."""
    frame = snapshot.frame.lazy()
    if where is not None:
        frame = frame.filter(where)
    newest = frame.select(pl.max_horizontal([pl.col(name).max() for name in TIME_FIELDS]))
    value = newest.collect().item()
    return value.astimezone(UTC) if isinstance(value, datetime) else None


# ---------------------------------------------------------------------------------------------
# The build: every index column from the JSON texts, without a Python object per job.
#
# The texts are cut into pieces of a few MiB, read on every core at once: each piece is parsed
# by ``pyarrow.json`` for the fields the index reads (:mod:`jobquery.native_read`), and the
# index columns of the texts that parse vouches for are derived vectorised
# (:func:`_native_columns`). The other texts — *doubtful* ones — are handed to a judge, which
# reads them one by one by the reference rules (:func:`read_job`) and keeps or refuses each;
# the kept ones are indexed by ``_job_row``. Correctness never rests on clean data.

#: The fields the index reads, for the native reader.
INDEX_FIELDS = IndexFields(STRING_FIELDS, TIME_FIELDS, NUMERIC_FIELDS)
#: Below this many jobs, the index columns of the texts the native parse vouches for are still
#: read in Python: the fixed cost of the vectorised derivation (~80 ms: a hundred small Polars
#: queries) exceeds reading the jobs in Python (~0.2 ms each, measured); the result is the same.
_NATIVE_MIN_ROWS = 300
#: A piece's texts: parsed by one ``pyarrow.json`` call (one block, so an error names the row
#: in the piece) and indexed by one round of Polars queries. Small enough that the threads
#: share the work and a piece's transient copies stay small, large enough that the per-piece
#: cost of those queries stays small.
PIECE_BYTES = 64 << 20
_MIN_PIECE_BYTES = 16 << 20
#: Pieces read at once: pyarrow's parser and most of Polars' work release the GIL.
BUILD_THREADS = max(1, min(os.cpu_count() or 1, 8))


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


def read_job(text: str | None, source: str, record: int) -> dict[str, Any]:
    """A job from its text by the reference rules, or a DumpFormatError naming ``record``.

    The text must be what orjson accepts (strict JSON: no ``NaN``, no lone surrogate, nesting
    up to 1024 levels), an object with a non-empty string ``JobId``, and give no key the index
    reads twice in one object (:func:`repeated_index_key`). Integers beyond 64 bits keep their
    digits (:func:`load_job`).
    """
    if text is None:
        raise DumpFormatError(source, f"{JOB_JSON} is empty", record=record)
    try:
        job = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise DumpFormatError(source, f"not valid JSON: {exc}", record=record) from exc
    reason = job_shape_error(job) or repeated_key_error(text)
    if reason is not None:
        raise DumpFormatError(source, reason, record=record)
    if may_hold_long_integer(text):
        job = load_job(text)
    assert isinstance(job, dict)
    return job


def job_shape_error(job: Any) -> str | None:
    """Why a parsed record is not a job (None when it is one)."""
    if not isinstance(job, dict):
        return "a job must be a JSON object"
    job_id = job.get("JobId")
    if not isinstance(job_id, str) or not job_id:
        return "a job needs a non-empty string JobId"
    return None


def repeated_key_error(text: str) -> str | None:
    """Why a job text is refused for a repeated key (None when it is not)."""
    repeated = repeated_index_key(text)
    return None if repeated is None else _repeated_reason(repeated)


def _repeated_reason(path: str) -> str:
    return (
        f"the key {path} is given twice in one object: JSON parsers differ on which value "
        "counts, so the job is refused"
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
    the index reads twice, with the reason (:func:`repeated_key_error`)."""
    parsed = _with_repeated_keys(document)
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
    kinds = NumericKinds(NUMERIC_FIELDS)
    kinds.guess_from(texts)
    bounds = _piece_bounds(texts, layout)

    build = _Build(texts, source, judge, kinds, native)

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
    kinds: NumericKinds,
    native: bool | None = None,
) -> IndexedTexts:
    """The columns of one piece of texts, in the calling thread (:func:`index_texts` cuts its
    texts into such pieces; a reader that cuts its input itself calls this per piece).

    ``kinds`` is shared by the pieces of one input (see :class:`NumericKinds`); ``native``
    derives the columns vectorised (by default from :data:`_NATIVE_MIN_ROWS` texts on: pass
    True for a piece of a larger input). Positions are among ``texts``.
    """
    native = len(texts) >= _NATIVE_MIN_ROWS if native is None else native
    return _index_piece(_Build(texts, source, judge, kinds, native), 0, len(texts), layout)


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
    kinds: NumericKinds
    native: bool


def _index_piece(build: _Build, start: int, stop: int, layout: TextLayout) -> IndexedTexts:
    """The columns of the texts ``start..stop`` (``layout``: where they lie)."""
    texts, source = build.texts, build.source
    piece = texts.slice(start, stop - start)
    candidates = np.flatnonzero(layout.braced() & piece.is_not_null().to_numpy())
    read = read_fields(piece, layout, candidates, INDEX_FIELDS, build.kinds)
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


def _native_columns(fields: pl.DataFrame) -> dict[str, pl.Series]:
    """Every column ``_extract_columns`` makes, from the fields read natively
    (:func:`jobquery.native_read.read_fields`)."""
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
    derived = fields.select(
        IsDeleted=pl.col("IsDeleted").fill_null(False),
        oversold_type=pl.coalesce(
            _nonempty(pl.col("Settings.OversoldType")),
            pl.col("JobSpecs.OversoldType")
            .list.eval(_nonempty(pl.element()))
            .list.drop_nulls()
            .list.first(),
        ),
        oversold_used=pl.col("UseOversoldResource").fill_null(False),
        spot=pl.col("JobSpecs.UseSpotInstance").list.any().fill_null(False),
        assign_node=pl.col("JobSpecs.EnableAssignNode").list.any().fill_null(False),
        images=pl.col("JobSpecs.Image").list.eval(_nonempty(pl.element())).list.drop_nulls(),
        reasons=pl.concat_str(
            _nonempty(pl.col("ReasonCode")),
            _nonempty(pl.col("ReasonMessage")),
            pl.col("StatusHistory.reasons").list.join(" ", ignore_nulls=True),
            separator=" ",
            ignore_nulls=True,
        ),
    )
    columns["IsDeleted"] = derived["IsDeleted"]
    folded = strings.with_columns(
        pl.col("Accessibility").fill_null("PUBLIC").alias("accessibility"),
        derived["oversold_type"].alias("oversold_type"),
    )
    columns.update(
        _casefolded(
            folded,
            {
                **{index_column(name): name for name in CASEFOLDED_FIELDS},
                "ix_Accessibility": "accessibility",
                "kind": "oversold_type",
            },
        )
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
        .when(columns["ResourceId"].is_not_null())
        .then(pl.lit("PrePaid"))
        .otherwise(pl.lit("PostPaid"))
    ).to_series()
    columns["ix_PaymentType"] = _casefold("ix_PaymentType", payment)
    columns["ix_EnableAssignNode"] = derived["assign_node"].alias("ix_EnableAssignNode")
    pairs = _tag_pair_lists(fields["tag_keys"], fields["tag_values"])
    columns["ix_tags"] = pairs.fill_null(pl.lit([], dtype=pl.List(pl.String))).alias("ix_tags")
    columns["ix_image_tokens"] = _image_tokens(derived["images"])
    columns["ix_command_tokens"] = _token_texts("ix_command_tokens", columns["UserCommand"])
    columns["ix_reason_tokens"] = _token_texts("ix_reason_tokens", derived["reasons"])
    return {name: column.alias(name) for name, column in columns.items()}


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
    values = tokens.filter(pl.Series(kept)).to_arrow().cast(pa.large_string())
    lists = pa.LargeListArray.from_arrays(pa.array(offsets), values)
    series = pl.Series("ix_image_tokens", lists)
    return series.cast(pl.List(pl.String))


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


# ---------------------------------------------------------------------------------------------
# Updates: merging changed jobs into a snapshot's sorted rows and rank runs.

#: The columns that order a snapshot's rows: the listable jobs first (``live`` is then a slice
#: of the frame), then GmtCreateTime and JobId (spec §3.5.8 ties).
ROW_ORDER = ("IsDeleted", "GmtCreateTime", "ix_JobId", "JobId")


def rank_order_columns(sort_key: str) -> list[str]:
    """The columns whose order a rank column holds: listable jobs first, as the rows."""
    if sort_key.startswith("Gmt"):
        return ["IsDeleted", sort_key]
    return ["IsDeleted", index_column(sort_key), sort_key]


def listable_first(frame: pl.DataFrame) -> pl.DataFrame:
    """A frame in the row order of format 1 of saved snapshots (deleted jobs among the others,
    ranks over all jobs) put in today's order: listable jobs first, ranks among them."""
    is_deleted = frame["IsDeleted"].to_numpy()
    rows = np.argsort(is_deleted, kind="stable")
    ranks = []
    for key in RANKED_SORT_KEYS:
        # the old order of a key, with the listable jobs moved first: ties cannot occur
        order = np.lexsort((frame[rank_column(key)].to_numpy(), is_deleted))
        rank = np.empty(frame.height, dtype=np.uint32)
        rank[order] = np.arange(frame.height, dtype=np.uint32)
        ranks.append(pl.Series(rank_column(key), rank[rows]))
    return frame[rows].with_columns(ranks)


_TIE = "ix_tie"  # a new row position, the last tie-break of every rank


def _merge(
    frame: pl.DataFrame, ranks: Mapping[str, np.ndarray], gone: np.ndarray, added: pl.DataFrame
) -> tuple[pl.DataFrame, dict[str, np.ndarray]]:
    """``frame`` without the rows marked ``gone``, with ``added`` merged in; and the rank
    columns given (``ranks``, by sort key) updated for it."""
    added = added.sort(list(ROW_ORDER), nulls_last=False)
    kept = np.flatnonzero(~gone)
    # where each new row goes among the kept rows, and so where every row ends up
    slots = _insertion_points(frame.select(ROW_ORDER), kept, added.select(ROW_ORDER))
    kept_rows, added_rows = _interleave(len(kept), slots)
    take = np.empty(len(kept) + added.height, dtype=np.int64)
    take[kept_rows] = kept
    take[added_rows] = frame.height + np.arange(added.height)
    merged = _stack_and_take(frame, added.select(frame.columns), take)

    new_row = np.full(frame.height, -1, dtype=np.int64)
    new_row[kept] = kept_rows
    merged_ranks = {}
    for key, old_rank in ranks.items():
        order = rank_order_columns(key)
        # the kept rows in this key's order: the old ranks sorted, minus the rows that went
        by_rank = np.empty(frame.height, dtype=np.int64)
        by_rank[old_rank] = np.arange(frame.height)
        run = by_rank[~gone[by_rank]]
        run_keys = frame.select(order).with_columns(pl.Series(_TIE, new_row))
        new_keys = added.select(order).with_columns(pl.Series(_TIE, added_rows))
        sorting = new_keys.select(pl.arg_sort_by([*order, _TIE], nulls_last=False)).to_series()
        new_keys = new_keys[sorting]
        run_slots = _insertion_points(run_keys, run, new_keys)
        in_run, in_new = _interleave(len(run), run_slots)
        rank = np.empty(merged.height, dtype=np.uint32)
        rank[new_row[run]] = in_run
        rank[new_keys[_TIE].to_numpy()] = in_new
        merged_ranks[key] = rank
    return merged, merged_ranks


#: Up to this many runs, a merge copies slices; beyond, one gather (see _stack_and_take).
_MAX_SLICES = 4096


def _stack_and_take(rows: pl.DataFrame, added: pl.DataFrame, take: np.ndarray) -> pl.DataFrame:
    """Rows ``take`` of ``rows`` stacked on ``added``, as one chunk.

    A small change leaves long runs of consecutive rows: copying those slices into one chunk
    costs about a third of a gather over the stacked frames (measured at 1M jobs). Many short
    runs make slicing slow, and then the gather is used.
    """
    edges = np.flatnonzero((np.diff(take) != 1) | (take[1:] == rows.height)) + 1
    if not len(take) or len(edges) >= _MAX_SLICES:
        return pl.concat([rows, added], rechunk=True).gather(take)
    slices = []
    for start, stop in zip([0, *edges], [*edges, len(take)], strict=True):
        first = int(take[start])
        if first < rows.height:
            slices.append(rows.slice(first, stop - start))
        else:
            slices.append(added.slice(first - rows.height, stop - start))
    return pl.concat(slices, rechunk=True)


def _interleave(run_length: int, slots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions after inserting sorted new items before run items ``slots``: (run, new)."""
    # a run item moves down by the number of new items inserted before or at its index
    moved = np.cumsum(np.bincount(slots, minlength=run_length + 1))[:run_length]
    return np.arange(run_length) + moved, slots + np.arange(len(slots))


def _insertion_points(
    run_keys: pl.DataFrame, run: np.ndarray, new_keys: pl.DataFrame
) -> np.ndarray:
    """For each new key (sorted), how many keys of the sorted run come before it.

    The run is ``run_keys`` at rows ``run``. One binary search per new key, all of them in
    lock step: each round reads the run at the middle of every open interval, with one gather.
    Keys compare column by column, missing values first; run and new keys are never equal.
    """
    low = np.zeros(new_keys.height, dtype=np.int64)
    high = np.full(new_keys.height, len(run), dtype=np.int64)
    while (open_ := np.flatnonzero(low < high)).size:
        middle = (low[open_] + high[open_]) // 2
        probes = run_keys[run[middle]]
        before = _precedes(probes, new_keys[open_])
        low[open_[before]] = middle[before] + 1
        high[open_[~before]] = middle[~before]
    return low


def _precedes(left: pl.DataFrame, right: pl.DataFrame) -> np.ndarray:
    """Row by row: does ``left`` come before ``right`` (lexicographic, missing smallest)?"""
    pairs = pl.concat([left, right.rename(lambda name: f"{name}'")], how="horizontal")
    before, undecided = pl.lit(False), pl.lit(True)
    for name in left.columns:
        a, b = pl.col(name), pl.col(f"{name}'")
        less = (a.is_null() & b.is_not_null()) | (a < b).fill_null(False)
        before = before | (undecided & less)
        undecided = undecided & a.eq_missing(b)
    return pairs.select(before).to_series().to_numpy()
