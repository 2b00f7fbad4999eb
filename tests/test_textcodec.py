"""Compressed job texts: every way in and out of a snapshot gives back the exact texts.

A snapshot built with ``compress_texts`` must equal the plain one in every column but
``job_json`` (whose texts it gives back through :meth:`Snapshot.json_texts`), however its
texts arrive (one column, or chunks of any size). The engine's answers on compressed stores
are checked against the reference in ``tests/test_differential.py``, their updates in
``tests/test_live.py`` and their saved files in ``tests/test_persistence.py``.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal, assert_series_equal

from jobquery import synth
from jobquery.snapshot import JOB_JSON, Snapshot
from jobquery.snapshot.textcodec import TextCodec
from jobquery.store import JobStore
from tests.helpers.jsonvalues import fewer

NOW = synth.DEFAULT_END
EVERYTHING = {"StartTime": "2000-01-01T00:00:00Z", "PageSize": "100"}


@settings(max_examples=fewer(4))
@given(texts=st.lists(st.text(), max_size=40), training=st.lists(st.text(), max_size=40))
def test_any_text_comes_back_exactly(texts: list[str], training: list[str]) -> None:
    """Texts unlike the training ones, empty ones and any Unicode included."""
    codec = TextCodec.train(pl.Series(training, dtype=pl.String))
    compressed = codec.compress(pl.Series(JOB_JSON, texts, dtype=pl.String))
    assert compressed.dtype == pl.Binary
    assert codec.decompress(compressed).to_list() == texts
    assert [text.decode() for text in codec.decompress_each(compressed)] == texts


@settings(max_examples=fewer(4))
@given(
    chunks=st.lists(st.lists(st.text(min_size=0, max_size=30), max_size=12), max_size=5),
    drop=st.integers(0, 3),
)
def test_texts_spread_over_chunks_and_buffers_come_back_in_order(
    chunks: list[list[str]], drop: int
) -> None:
    """Compression reads each text where its string view points: texts of several chunks
    (several data buffers), inline ones (12 bytes or fewer) among them, and a slice."""
    parts = [pl.Series(JOB_JSON, chunk, dtype=pl.String) for chunk in chunks]
    texts = pl.concat(parts, rechunk=False) if parts else pl.Series(JOB_JSON, [], pl.String)
    texts = texts.slice(min(drop, len(texts)))
    codec = TextCodec.train(synth.generate_lines(50, seed=1))
    assert codec.decompress(codec.compress(texts)).to_list() == texts.to_list()


@pytest.mark.parametrize(
    "training",
    [
        ["\x18Ã", "", "", "", "", "\x18Ã", "Ê\x8e", "\x18Ã"],  # crashed zstd: empty samples
        ["c", "c", "Ð", "Ð", "c", "c", "\x974"],  # crashed zstd: division by zero
    ],
)
def test_texts_zstd_cannot_train_on_give_a_working_codec(training: list[str]) -> None:
    codec = TextCodec.train(pl.Series(training, dtype=pl.String))
    texts = pl.Series(JOB_JSON, [*training, '{"JobId": "a"}'], dtype=pl.String)
    assert codec.decompress(codec.compress(texts)).to_list() == texts.to_list()


def test_a_codec_from_its_dictionary_reads_the_same_texts() -> None:
    texts = synth.generate_lines(2_000, seed=3).alias(JOB_JSON)
    codec = TextCodec.train(texts)
    compressed = codec.compress(texts)
    assert compressed.estimated_size() * 4 < texts.estimated_size(), "does not compress"
    assert_series_equal(TextCodec(codec.dictionary).decompress(compressed), texts)


@pytest.mark.parametrize("chunk_size", [10_000, 1_700, 299, 1])
def test_chunked_compressed_build_equals_the_plain_build(chunk_size: int) -> None:
    """Chunks below the native build's minimum (299, 1) are read job by job."""
    count = 2_100 if chunk_size > 1 else 40
    plain = Snapshot.from_texts(synth.generate_lines(count, seed=8))
    chunks = synth.iter_line_chunks(count, seed=8, chunk_size=chunk_size)
    compressed = Snapshot.from_text_chunks(chunks, compress_texts=True)
    assert compressed.frame.schema[JOB_JSON] == pl.Binary
    assert_frame_equal(compressed.frame.drop(JOB_JSON), plain.frame.drop(JOB_JSON))
    assert_series_equal(compressed.json_texts(), plain.frame[JOB_JSON])
    assert compressed.records() == plain.records()


def test_an_empty_compressed_snapshot() -> None:
    for empty in (Snapshot.from_texts([], compress_texts=True), Snapshot.from_text_chunks([])):
        assert len(empty) == 0
        assert empty.json_texts().to_list() == []


def test_a_plain_frame_with_a_codec_is_refused() -> None:
    plain = Snapshot.from_texts(synth.generate_lines(10, seed=1))
    with pytest.raises(ValueError, match="codec"):
        Snapshot.from_frame(plain.frame, codec=TextCodec.train(plain.json_texts()))


def test_every_output_of_a_compressed_store_is_plain_text(tmp_path: Path) -> None:
    """Pages, queries, single jobs and exports: nothing shows the compressed bytes."""
    records = synth.generate_records(400, seed=6)
    plain = JobStore.from_records(records)
    compressed = JobStore.from_records(records, compress_texts=True)
    for page in ("1", "2"):
        request = {**EVERYTHING, "PageNumber": page}
        answers = [
            store.list_jobs(request, now=NOW, request_id="R") for store in (compressed, plain)
        ]
        assert answers[0].to_wire() == answers[1].to_wire()
    assert_frame_equal(compressed.query(EVERYTHING, now=NOW), plain.query(EVERYTHING, now=NOW))
    job_id = records[7]["JobId"]
    assert compressed.get_job(job_id) == plain.get_job(job_id) == records[7]
    for name in ("jobs.ndjson", "jobs.parquet"):
        compressed.export(tmp_path / f"compressed-{name}")
        plain.export(tmp_path / f"plain-{name}")
        exported = (tmp_path / f"compressed-{name}").read_bytes()
        assert exported == (tmp_path / f"plain-{name}").read_bytes(), name
    lines = (tmp_path / "compressed-jobs.ndjson").read_text().splitlines()
    assert [orjson.loads(line) for line in lines] == compressed.snapshot.records()
