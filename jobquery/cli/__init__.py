"""The ``jobquery`` command line: offline analysis of PAI-DLC job dumps.

Commands (``jobquery COMMAND --help`` for each)::

    list      ListJobs over dump files: one option per API parameter, as a table or JSON
    get       one job by its exact JobId, as pretty JSON
    stats     counts, success and failure rates, durations, GPU-hours and queueing per group
    explain   how a request is understood and answered: list's steps, query()'s Polars plan
    convert   between JSON pages, NDJSON, Parquet and Arrow (lossless)
    generate  synthetic job dumps

The command line adds no query logic of its own: options become a ListJobs *wire mapping*
that :class:`~jobquery.store.JobStore` validates and answers, so every value is checked (and
every error worded) by the request model. What the CLI adds is the clock: without ``--now``
the default 7-day window ends at the newest job time in the dump, not at the wall clock, so an
old dump still lists its jobs (and stderr says which window applies).

The modules, one per job:

    app       the ``jobquery`` group and the entry point (gathers the commands)
    options   help sections and the ListJobs parameters as options (from the parameter table)
    output    printing, notices, errors (one line, exit 2) and the job renderers
    progress  the progress bar for work that lasts
    session   reading dumps (through the snapshot cache), the caller and the clock
    query     list, get, stats and explain (the statistics themselves: :mod:`jobquery.stats`)
    dumps     convert and generate
    dataset   ``jobquery dataset`` and the ``--dataset DIR`` side of the query commands
    serve     the HTTP endpoint (:mod:`jobquery.server`)
    cache     the snapshot cache

Output that is not a terminal is plain and stable: no colour, no progress bar, fixed width.
Errors are one line on stderr with exit status 2, never a traceback; with ``--format json``
the API error body is printed on stdout as well.
"""
