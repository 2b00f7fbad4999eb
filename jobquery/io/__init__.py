"""Files in and out: dumps read into snapshots, exports, saved snapshots and the cache.

``dumps`` finds dump files and reads them (JSON pages, NDJSON, Parquet, Arrow) into checked job
texts; ``writing`` writes snapshots and query results back out, atomically; ``saved`` keeps a
whole snapshot as one Parquet file to reopen without a rebuild; ``cache`` keeps the snapshots
of unchanged dumps, memory-mapped, so that reading them again is an open.
"""
