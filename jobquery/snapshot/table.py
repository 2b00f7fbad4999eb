"""The snapshot: an immutable, versioned Arrow table of job records and their index columns.

A snapshot keeps every job **losslessly** as its JSON text (column ``job_json``) — unknown
fields, the string-or-object ``UserVpc``, ``HistoryPods`` of any depth and numbers sent as
strings all survive because nothing is ever projected onto a schema. Beside it sit typed columns
of the top-level scalar fields, useful outside jobquery (``JobId``, ``DisplayName``,
``Status``, ``Gmt*Time`` as timestamps, numeric values of ``RequestGPU`` and friends), and the
``ix_*`` index columns the engine filters and sorts on, derived once at build time
(:mod:`jobquery.snapshot.native_index`, :mod:`jobquery.snapshot.job_rows`):

- casefolded strings for every string filter (``str.casefold`` at build, never per query);
- tag pairs of ``Settings.Tags`` as length-prefixed texts (:func:`tag_pair`, one list per job);
- full-text tokens as ``" tok tok "`` strings, so a token test is a literal substring test;
- the derived ``PaymentType`` / ``OversoldInfo`` labels and role flags;
- ``ix_rank_<key>``: each job's position in the total order of every sort key, so ordering a
  page never sorts strings. These are not built with the rest: each is computed the first
  time it is used (:meth:`Snapshot.rank`; a store computes them in the background).

Rows are kept in :data:`~jobquery.snapshot.layout.ROW_ORDER` (:mod:`jobquery.snapshot.layout`);
updates are merged into them (:mod:`jobquery.snapshot.merge`). The rules for reading job
values are in ``docs/semantics.md``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from jobquery.errors import DumpFormatError
from jobquery.request import TIME_FIELDS
from jobquery.snapshot.columns import JOB_JSON, RANKED_SORT_KEYS, ROW, rank_column
from jobquery.snapshot.index import SnapshotIndex
from jobquery.snapshot.job_rows import _extract_columns, load_job
from jobquery.snapshot.layout import _put_in_order, _rank
from jobquery.snapshot.merge import _merge
from jobquery.snapshot.native_index import index_texts
from jobquery.snapshot.textcodec import TextCodec


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
    #: Structures derived from the columns on first use, each built once (rank columns, the
    #: dictionaries and orders of :mod:`jobquery.snapshot.derived`, lookup indexes), and the
    #: small results queries leave behind; a new snapshot (every update) starts with an empty one.
    index: SnapshotIndex = field(
        default_factory=SnapshotIndex, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        ranks = [rank_column(key) for key in RANKED_SORT_KEYS]
        for key, name in zip(RANKED_SORT_KEYS, ranks, strict=True):
            if name in self.frame.columns:
                column = self.frame[name].cast(pl.UInt32)
                self.index.ranks.put(key, column.to_numpy())
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
        found: np.ndarray = self.index.ranks.get(sort_key, lambda: _rank(self.frame, sort_key))
        return found

    def ranks_computed(self) -> dict[str, np.ndarray]:
        """The rank columns computed so far, by sort key."""
        found = {key: self.index.ranks.peek(key) for key in RANKED_SORT_KEYS}
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
            Keep each job's text zstd-compressed (:mod:`jobquery.snapshot.textcodec`): much less
            memory for the texts, for a decompression per job a page returns and a slower build.

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
        each unsorted column as it goes, so the peak stays close to the snapshot's own size
        (docs/performance.md). The dictionary of the compression is trained on the first chunk.
        Parameters as for :meth:`from_texts`.
        """
        parts: list[pl.DataFrame] = []
        codec: TextCodec | None = None
        # no chunk at all is one empty chunk: the frame still gets every column
        for chunk in itertools.chain(chunks, [None]):
            if chunk is None and parts:
                break
            texts = pl.Series(JOB_JSON, [], pl.String) if chunk is None else chunk
            # one chunk of string views over the same buffers (no text is copied): gathering
            # rows from several chunks copies every text, from one only the views
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
        codec: TextCodec | None = None,
        ids_unique: bool = False,
    ) -> Snapshot:
        """Build a snapshot from texts indexed already (the columns of
        :attr:`IndexedTexts.frame`, as ingest reads a file): the rows are only put in order
        (and the texts compressed). ``codec``: the texts are compressed already, by it.
        ``ids_unique``: the caller made the JobIds unique already (reading dumps does), so
        they are not checked again: that is a second pass over every id.

        The list is emptied as each column is put in order: a caller that holds no other
        reference to the columns never holds two copies of them.

        Raises
        ------
        DumpFormatError
            The same ``JobId`` twice.
        """
        if not ids_unique:
            ids = next(column for column in columns if column.name == "JobId")
            _refuse_duplicates(pl.DataFrame([ids]), source)
            del ids
        if codec is None and compress_texts:
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
        4 bytes per job and key); timings are in docs/embedding.md.

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
            latest.index.ranks.put(key, rank)
        return latest


def _refuse_duplicates(frame: pl.DataFrame, source: str) -> None:
    if frame.height and frame["JobId"].n_unique() != frame.height:
        duplicate = frame["JobId"].filter(frame["JobId"].is_duplicated()).sort()[0]
        raise DumpFormatError(source, f"duplicate JobId {duplicate!r}")


def newest_time(snapshot: Snapshot, where: pl.Expr | None = None) -> datetime | None:
    """The newest timestamp of any ``Gmt*Time`` field in the snapshot (of its jobs for which
    ``where`` holds, when given); None when there is none."""
    frame = snapshot.frame.lazy()
    if where is not None:
        frame = frame.filter(where)
    newest = frame.select(pl.max_horizontal([pl.col(name).max() for name in TIME_FIELDS]))
    value = newest.collect().item()
    return value.astimezone(UTC) if isinstance(value, datetime) else None
