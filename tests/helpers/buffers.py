"""Where a string column's bytes live: to check that a repeated string is stored once."""

from __future__ import annotations

import polars as pl


def data_buffers(column: pl.Series) -> dict[int, int]:
    """The address and size of each data buffer a string column's views point into."""
    exported = column.to_arrow(compat_level=pl.CompatLevel.newest())
    return {
        buffer.address: buffer.size
        for chunk in getattr(exported, "chunks", [exported])
        for buffer in chunk.buffers()[2:]  # validity, views, then the data buffers
        if buffer is not None
    }
