"""Snapshots: an immutable, versioned Arrow table of job records and their index columns.

The package builds and holds a snapshot: :mod:`.table` (the :class:`Snapshot` class),
:mod:`.columns` (the names and encodings of its columns), :mod:`.native_index` (the build from
job texts) with :mod:`.native_read` (the native parse) and :mod:`.job_rows` (the reference
reading of one job), :mod:`.repeated_keys` (texts refused for a repeated key), :mod:`.layout`
(row order, ranks, packed strings), :mod:`.merge` (updates), :mod:`.index` (the structures a
snapshot derives on first use), :mod:`.derived` and :mod:`.text_bytes` (those structures),
:mod:`.textcodec` (compressed job texts).
"""

from jobquery.snapshot.columns import (
    INDEX_FIELDS,
    JOB_JSON,
    RANKED_SORT_KEYS,
    ROW,
    SETTINGS_FIELDS,
    STRING_FIELDS,
    index_column,
    rank_column,
    rank_key,
    tag_pair,
    tokenize,
)
from jobquery.snapshot.job_rows import (
    job_shape_error,
    load_job,
    may_hold_long_integer,
    parse_times,
)
from jobquery.snapshot.layout import (
    BUILD_THREADS,
    ROW_ORDER,
    index_columns_equal_to_their_field,
    listable_first,
    rank_order_columns,
)
from jobquery.snapshot.native_index import (
    IndexedTexts,
    Refusal,
    Verdict,
    index_piece,
    index_texts,
    piece_bytes,
)
from jobquery.snapshot.repeated_keys import (
    repeated_index_key,
    repeated_index_key_in,
    repeated_index_keys_of_jobs,
    repeated_key_error,
)
from jobquery.snapshot.table import Snapshot, newest_time

__all__ = [
    "BUILD_THREADS",
    "INDEX_FIELDS",
    "JOB_JSON",
    "RANKED_SORT_KEYS",
    "ROW",
    "ROW_ORDER",
    "SETTINGS_FIELDS",
    "STRING_FIELDS",
    "IndexedTexts",
    "Refusal",
    "Snapshot",
    "Verdict",
    "index_column",
    "index_columns_equal_to_their_field",
    "index_piece",
    "index_texts",
    "job_shape_error",
    "listable_first",
    "load_job",
    "may_hold_long_integer",
    "newest_time",
    "parse_times",
    "piece_bytes",
    "rank_column",
    "rank_key",
    "rank_order_columns",
    "repeated_index_key",
    "repeated_index_key_in",
    "repeated_index_keys_of_jobs",
    "repeated_key_error",
    "tag_pair",
    "tokenize",
]
