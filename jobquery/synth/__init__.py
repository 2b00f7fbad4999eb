"""Deterministic synthetic PAI-DLC jobs, shaped and skewed like a real platform.

The jobs feed tests, the bundled sample and the benchmarks, so they must be realistic where
selectivity matters (how many jobs a filter keeps) and cheap at scale: a million jobs are
generated column-wise, with no Python loop per job.

How a job is made
-----------------
* **Every random choice is a function of (seed, stream, job index).** Each named stream is a
  PCG64 generator seeded by ``(seed, crc32(stream))`` and advanced to the first job of the block,
  so a job does not depend on the block or chunk it was generated in: ``generate_lines(n)``
  equals the concatenation of ``iter_line_chunks(n, chunk_size=k)`` for every ``k``.
* **The platform is fixed.** Users, workspaces, quotas, images, job-spec templates, commands and
  names are *catalogues* built once from a fixed generator, the same for every seed (one
  imaginary platform; the seed picks which jobs it ran). Each catalogue entry is pre-rendered
  JSON text; a job picks entries by index.
* **A job's text is assembled from pieces**, about 17 per job: catalogue fragments (gathered,
  not copied) and blocks of fixed-width text built in numpy (ids, timestamps, UIDs, IPs, numbers),
  where each row picks one of a few layouts (a job that never ran has no ``GmtRunningTime``, an
  unfinished interval has ``"EndTime":""``). One ``pl.concat_str`` per block of 32k jobs joins
  them; a null piece leaves its members out. Blocks are built by a small thread pool (numpy and
  polars release the GIL) and returned in order.

The skews
---------
Creation times grow linearly over the window and 15% of the jobs are spread over its last 30
days (more jobs recently: the default 7-day window holds about 7% of them); they cluster in
working hours (UTC+8), and some jobs share their creation second with the job before (pipeline
fan-out). Status depends on age (recent jobs are more often still active) and the times agree
with it: finished jobs carry ``GmtFinishTime`` and the matching ``GmtSuccessedTime``/
``GmtFailedTime``/``GmtStoppedTime``; active jobs have no finish time (the key is omitted, or
``""`` for a few jobs). About 300 users and 40 workspaces follow Zipf-like laws, and a user
mostly submits into a home workspace, so a workspace, user or quota filter keeps a realistic
share of jobs.

Profiles
--------
``profile="default"`` is the platform above: about 30,000 distinct DisplayNames per million
jobs (a few dozen name bases and a few hundred suffixes), 300 users, 40 workspaces, 0-3 tags
from small sets. Dictionaries of distinct values suit it well.

``profile="high-cardinality"`` is a platform whose columns are nearly unique, as real
histories are: every DisplayName is a model, a task and a random run suffix
(``qwen2-7b-sft-k3x9a2``; 6% are common names such as ``test``), 30,000 users whose shares of
jobs follow a Zipf-like law (the busiest submits about 3%), 400 workspaces, and at least three
tags per job: ``team`` (7 values; ``project`` and ``env`` in some jobs), ``experiment`` (4,000
values, skewed) and ``run_id`` (32 hex digits, unique per job). Everything else — the year of
creation times, statuses, specs, pods — is made as in the default profile. The default
profile's jobs do not change with this one: the same seed gives the same bytes as before it
existed.

The package
-----------
``draws`` (the random streams), ``window`` (the creation-time window), ``text`` (text built in
numpy), ``vocabulary`` (the platform's fixed facts and weights), ``catalogues`` (the platform:
pre-rendered fragments per profile), ``block`` (one block of jobs) and ``generate`` (the public
functions, re-exported here).
"""

from jobquery.synth.generate import (
    PROFILES,
    generate_lines,
    generate_records,
    iter_line_chunks,
    write_ndjson,
)
from jobquery.synth.vocabulary import STATUSES
from jobquery.synth.window import DEFAULT_END, DEFAULT_SPAN

__all__ = [
    "DEFAULT_END",
    "DEFAULT_SPAN",
    "PROFILES",
    "STATUSES",
    "generate_lines",
    "generate_records",
    "iter_line_chunks",
    "write_ndjson",
]
