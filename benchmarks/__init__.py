"""Benchmarks of jobquery against DuckDB, plain Polars and the reference (see report.py)."""
