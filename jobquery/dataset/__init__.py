"""Job datasets: ListJobs over partitioned Parquet files, answered by DuckDB or Spark.

For job sets larger than one machine's memory. A dataset is written once by jobquery — the
index columns computed by the snapshot build, where the matching rules live — and read by an
engine that only compares values::

    from jobquery.dataset import write_dataset, JobDataset
    write_dataset(store_or_paths, "jobs-dataset/")            # partitioned Parquet + index columns
    ds = JobDataset.open("jobs-dataset/", engine="duckdb")     # or engine="spark"
    ds.list_jobs(request_or_wire, now=..., caller=...)        # the ListJobsResponse of JobStore

The format: :mod:`jobquery.dataset.format`; the SQL: :mod:`jobquery.dataset.sql`; the engines:
:mod:`jobquery.dataset.engines`. The user's guide is ``docs/dataset.md``.
"""

from jobquery.errors import DatasetError

try:  # the optional extra 'dataset': every module below builds its SQL with sqlglot
    import sqlglot  # noqa: F401
except ModuleNotFoundError as missing:
    raise DatasetError(
        f"job datasets need the optional extra 'dataset' ({missing.name or missing} is missing): "
        "pip install 'jobquery[dataset]'"
    ) from missing

from jobquery.dataset.format import Manifest, WriteProgress, read_manifest
from jobquery.dataset.job_dataset import JobDataset
from jobquery.dataset.write import write_dataset, write_dataset_from_texts

__all__ = [
    "JobDataset",
    "Manifest",
    "WriteProgress",
    "read_manifest",
    "write_dataset",
    "write_dataset_from_texts",
]
