"""How a snapshot file opens: which column types Polars takes from a memory map without a copy.

Usage::

    python -m benchmarks.mapped_open --dump bench-data/first-answer-200000.ndjson

The snapshot of the dump is written as an uncompressed Arrow IPC file three times — strings
and binaries as views (``string_view``, what Polars holds), as ``large_string``/``large_binary``
(64-bit offsets) and as ``string``/``binary`` (32-bit offsets) — and each file is opened in a
new process:

- ``pyarrow.memory_map`` + ``pyarrow.ipc.open_file(...).read_all()`` + ``polars.from_arrow``
  (what :mod:`jobquery.io.cache` does);
- ``polars.read_ipc`` (Polars 2 reads the file into memory: it has no ``memory_map`` option).

For each: the time to a DataFrame, and the process's resident memory after it, split into
anonymous memory (copies) and file pages (the map). Also timed, in this process: writing the
views file (through the page cache, then ``fsync``), and a CRC-32 / SHA-256 of it, which is what
a full check on open would add.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Sequence
from pathlib import Path

import polars as pl
import pyarrow as pa

from jobquery.io.cache import load

OPEN = """
import json, sys, time
def status():
    found = {}
    for line in open("/proc/self/status"):
        key, _, value = line.partition(":")
        if key in ("RssAnon", "RssFile"):
            found[key] = int(value.split()[0]) * 1024
    return found
import polars as pl, pyarrow as pa
how, path = sys.argv[1:3]
before = status()
began = time.perf_counter()
if how == "map":
    table = pa.ipc.open_file(pa.memory_map(path)).read_all()
    frame = pl.from_arrow(table)
else:
    frame = pl.read_ipc(path)
seconds = time.perf_counter() - began
after = status()
print(json.dumps({"seconds": seconds, "height": frame.height,
                  **{key: after[key] - before[key] for key in after}}))
"""


def _with_32_bit_offsets(field: pa.Field) -> pa.Field:
    """``large_string`` as ``string`` (and the same inside lists), ``large_binary`` as
    ``binary``: Arrow's older string layout, with 32-bit offsets."""
    kind = field.type
    if kind == pa.large_string():
        return field.with_type(pa.string())
    if kind == pa.large_binary():
        return field.with_type(pa.binary())
    if pa.types.is_large_list(kind) and kind.value_type == pa.large_string():
        return field.with_type(pa.large_list(pa.string()))
    return field


def write(table: pa.Table, path: Path) -> float:
    began = time.perf_counter()
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as out:
        out.write_table(table)
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    return time.perf_counter() - began


def digest_seconds(path: Path, digest: str) -> float:
    began = time.perf_counter()
    with path.open("rb") as handle:
        if digest == "crc32":
            crc = 0
            while block := handle.read(1 << 24):
                crc = zlib.crc32(block, crc)
        else:
            hashlib.file_digest(handle, digest)
    return time.perf_counter() - began


def opened(how: str, path: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", OPEN, how, str(path)], capture_output=True, text=True, check=True
    )
    result: dict[str, float] = json.loads(done.stdout)
    return result


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.mapped_open", description=__doc__)
    parser.add_argument("--dump", type=Path, required=True)
    args = parser.parse_args(argv)
    snapshot = load([args.dump]).snapshot
    views = snapshot.frame.to_arrow(compat_level=pl.CompatLevel.newest())
    large = snapshot.frame.to_arrow(compat_level=pl.CompatLevel.oldest())
    small = large.cast(pa.schema([_with_32_bit_offsets(field) for field in large.schema]))
    rows = []
    with tempfile.TemporaryDirectory(dir=args.dump.parent) as folder:
        paths = {name: Path(folder) / f"{name}.arrow" for name in ("views", "large", "small")}
        write_seconds = write(views, paths["views"])
        write(large, paths["large"])
        write(small, paths["small"])
        del snapshot, views, large, small
        size = paths["views"].stat().st_size
        for label, how, path in (
            ("string_view, memory map + from_arrow", "map", paths["views"]),
            ("large_string, memory map + from_arrow", "map", paths["large"]),
            ("string, memory map + from_arrow", "map", paths["small"]),
            ("string_view, pl.read_ipc", "read", paths["views"]),
        ):
            result = opened(how, path)
            rows.append(
                f"| {label} | {result['seconds'] * 1e3:,.0f} ms | "
                f"{result['RssAnon'] / 2**20:,.0f} MiB | {result['RssFile'] / 2**20:,.0f} MiB |"
            )
        crc = digest_seconds(paths["views"], "crc32")
        sha = digest_seconds(paths["views"], "sha256")
    print(f"snapshot of {args.dump.name}: {size / 2**20:,.0f} MiB as an IPC file of views")
    print()
    print("| open | time to a DataFrame | anonymous memory after | file pages after |")
    print("|---|---|---|---|")
    print("\n".join(rows))
    print()
    print(
        f"writing it (page cache, then fsync): {write_seconds:.2f} s "
        f"({size / write_seconds / 1e6:,.0f} MB/s); reading it back with a CRC-32: {crc:.2f} s "
        f"({size / crc / 1e6:,.0f} MB/s), with a SHA-256: {sha:.2f} s "
        f"({size / sha / 1e6:,.0f} MB/s)"
    )


if __name__ == "__main__":
    main()
