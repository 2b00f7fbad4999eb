"""Compressed job texts: each job's JSON compressed on its own with a shared zstd dictionary.

A snapshot keeps every job's lossless JSON text: most of a snapshot's memory, and the reason
the largest job sets do not fit in memory as plain text (docs/performance.md). Jobs of one
platform repeat the same keys, images, commands and resource names, so a dictionary trained on
a sample of them lets zstd compress each job *alone* several times over, while a page still
decompresses only its own jobs. Whole-column compression (Parquet, Arrow IPC) compresses
better but cannot fetch one job without decompressing its neighbours.

Why zstandard (the ``zstandard`` package): it is the reference binding of zstd, trains
dictionaries, and compresses a batch of texts on several threads in C
(``multi_compress_to_buffer``), none of which pyarrow or Polars offer per value.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa
import zstandard

#: Bytes of the trained dictionary; zstd's default size (larger ones gained little on
#: synthetic jobs).
_DICTIONARY_BYTES = 112_640
#: Jobs the dictionary is trained on (spread evenly over the sample given).
_TRAINING_JOBS = 4_000
#: What zstd's trainer is given at the least (see TextCodec.train): samples of fewer bytes
#: crashed it, found by the Hypothesis test of any text.
_MIN_SAMPLE_BYTES = 8
_MIN_TRAINING_BYTES = 64 * 1024
#: zstd level 3 (its default): close to the ratio of level 9, in a fraction of its time.
_LEVEL = 3
_THREADS = 2
#: Arrow keeps a text of at most this many bytes inside its view, with no data buffer.
_INLINE_VIEW_BYTES = 12
#: An Arrow string view: the length, then the text (12 bytes or fewer) or its first four
#: bytes, the data buffer's index and the offset in it (Arrow's columnar format).
_VIEW = np.dtype([("length", "<i4"), ("prefix", "V4"), ("buffer", "<i4"), ("offset", "<i4")])


@dataclass(frozen=True, eq=False)
class TextCodec:
    """Compresses and decompresses job texts one by one with a shared dictionary.

    Attributes
    ----------
    dictionary : bytes
        The trained zstd dictionary; a snapshot saved with compressed texts stores it, and
        the same bytes always decompress the same texts.
    """

    dictionary: bytes
    _local: threading.local = field(default_factory=threading.local, repr=False)

    @classmethod
    def train(cls, texts: pl.Series) -> TextCodec:
        """A codec whose dictionary is trained on (an even spread of) some job texts.

        Too few or too uniform texts to train on give a codec with a raw-content dictionary
        of the texts themselves, which still compresses. zstd's trainer crashes the process
        (segmentation fault, division by zero) on empty or very short samples, so it is only
        given samples of :data:`_MIN_SAMPLE_BYTES` or more, and only when they add up to
        :data:`_MIN_TRAINING_BYTES` (a few dozen jobs).
        """
        step = max(1, len(texts) // _TRAINING_JOBS)
        sample = [text.encode() for text in texts.gather_every(step) if text is not None]
        trainable = [text for text in sample if len(text) >= _MIN_SAMPLE_BYTES]
        if sum(map(len, trainable)) >= _MIN_TRAINING_BYTES:
            try:
                trained = zstandard.train_dictionary(_DICTIONARY_BYTES, trainable, level=_LEVEL)
                return cls(trained.as_bytes())
            except zstandard.ZstdError:
                pass
        return cls(b"".join(sample)[-_DICTIONARY_BYTES:])

    def compress(self, texts: pl.Series) -> pl.Series:
        """The texts (``pl.String``, no nulls) compressed one by one, as ``pl.Binary``.

        The texts are read where they lie: Polars hands its string views to Arrow as they are,
        and each view names the data buffer and the place of its text, which are the segments
        zstd's batch compressor takes (:func:`_view_segments`). Converting the views to one
        contiguous string column first would copy every text, and took most of the time.
        """
        name = texts.name
        if texts.is_empty():
            return pl.Series(name, [], dtype=pl.Binary)
        views = texts.to_arrow(compat_level=pl.CompatLevel.newest())
        chunks = views.chunks if isinstance(views, pa.ChunkedArray) else [views]
        blobs: list[bytes] = []
        for chunk in chunks:
            blobs += self._compress_views(chunk)
        return pl.Series(name, pa.array(blobs, type=pa.large_binary()), dtype=pl.Binary)

    def _compress_views(self, views: pa.Array) -> list[bytes]:
        """Each text of a ``string_view`` array compressed, in order."""
        lengths, buffers, offsets = _view_segments(views)
        blobs: list[bytes] = [b""] * len(views)
        inline = np.flatnonzero(lengths <= _INLINE_VIEW_BYTES)
        if len(inline):  # texts of 12 bytes or fewer lie in the view itself (never a job's)
            compress = self._compressor().compress
            for row in inline.tolist():
                blobs[row] = compress(views[row].as_py().encode())
        outside = lengths > _INLINE_VIEW_BYTES
        data = views.buffers()[2:]
        for buffer in np.unique(buffers[outside]).tolist():
            rows = np.flatnonzero(outside & (buffers == buffer))
            segments = np.empty((len(rows), 2), dtype=np.uint64)
            segments[:, 0] = offsets[rows]
            segments[:, 1] = lengths[rows]
            batch = zstandard.BufferWithSegments(memoryview(data[buffer]), segments.tobytes())
            compressed = self._compressor().multi_compress_to_buffer(batch, threads=_THREADS)
            for row, at in zip(rows.tolist(), range(len(compressed)), strict=True):
                blobs[row] = compressed[at].tobytes()
        return blobs

    def decompress(self, blobs: pl.Series) -> pl.Series:
        """Compressed texts (``pl.Binary``) back as ``pl.String``; nulls stay null."""
        texts = [None if blob is None else self.text(blob) for blob in blobs]
        return pl.Series(blobs.name, texts, dtype=pl.String)

    def decompress_each(self, blobs: Iterable[bytes | memoryview]) -> list[bytes]:
        """Some compressed texts back as UTF-8 bytes, in order."""
        decompress = self._decompressor().decompress
        return [decompress(blob) for blob in blobs]

    def text(self, blob: bytes | memoryview) -> str:
        """One compressed text back as a string."""
        decompressed: bytes = self._decompressor().decompress(blob)
        return decompressed.decode()

    def _compressor(self) -> zstandard.ZstdCompressor:
        # zstd contexts are not safe to share between threads: one of each per thread, made
        # once (loading the dictionary into a context costs as much as a page's decompression)
        found: zstandard.ZstdCompressor | None = getattr(self._local, "compressor", None)
        if found is None:
            found = zstandard.ZstdCompressor(
                level=_LEVEL,
                dict_data=self._dictionary(),
                write_checksum=False,
                write_content_size=True,
                write_dict_id=False,
            )
            self._local.compressor = found
        return found

    def _decompressor(self) -> zstandard.ZstdDecompressor:
        found: zstandard.ZstdDecompressor | None = getattr(self._local, "decompressor", None)
        if found is None:
            found = zstandard.ZstdDecompressor(dict_data=self._dictionary())
            self._local.decompressor = found
        return found

    def _dictionary(self) -> zstandard.ZstdCompressionDict | None:
        # nothing to train on (no jobs) leaves no dictionary: zstd then compresses plainly
        return zstandard.ZstdCompressionDict(self.dictionary) if self.dictionary else None


def _view_segments(
    views: pa.Array,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Each text's length, data buffer and offset in it, read off a ``string_view`` array
    (buffer and offset are meaningless for the texts short enough to be inline)."""
    raw = np.frombuffer(views.buffers()[1], dtype=_VIEW)[views.offset : views.offset + len(views)]
    return (
        raw["length"].astype(np.int64),
        raw["buffer"].astype(np.int64),
        raw["offset"].astype(np.int64),
    )
