"""The size thresholds every choice of the index engine reads, as one frozen value.

The index engine computes the same rows several ways (postings or a scan of the window, a mask
or a row list, a numpy table or a Polars query, a walk down the rank order or a partition...)
and picks one by comparing sizes with these thresholds. They are fields of one frozen
:class:`SelectionPolicy`, passed in by the store (``JobStore(..., policy=...)``) down to each
step, never module globals: two stores in one process may run different policies, and a test
forces a path by passing a policy with that path's thresholds at an extreme
(``dataclasses.replace(DEFAULT_POLICY, postings_share=math.inf)``).

Every field changes which way the engine computes a result, never the result itself.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SelectionPolicy:
    """The thresholds of the index engine's choices (defaults: the tuned values)."""

    # -- select: tabulating a predicate on its columns' distinct values ----------------------

    max_table_size: int = 1 << 16
    """A product of distinct values up to this size is tabulated for a predicate over several
    columns (visibility: accessibility x user); a larger product costs more to build than the
    rows it would spare."""

    max_table_share: float = 1.0
    """A predicate is tabulated only when its distinct values are at most this many per row of
    the window: testing many distinct names can cost more than testing the window's rows."""

    tables_by_numpy: bool = True
    """Tabulate by numpy on the values' bytes and numbers where a rule exists; False sends every
    table to a Polars query on the distinct values (the same meaning, slower on few values)."""

    max_numpy_values: int = 16
    """An equality with up to this many values is tabulated by numpy (one pass over the
    dictionary per value); more go to Polars."""

    max_python_values: int = 4096
    """A list column's distinct values are tested one by one in Python up to this many; more go
    to Polars (Python per value against Polars' fixed cost per query)."""

    visibility_without_product: bool = True
    """Visibility whose accessibility x user product is too large to tabulate is tested on
    each column's codes apart; False leaves it to Polars on the rows."""

    few_comparisons: int = 4
    """Up to this many codes kept (or dropped), a row's flag is computed by comparing its code
    with each of them instead of a table lookup (a comparison pass is cheaper than a gather)."""

    # -- select: how the selected rows are held ------------------------------------------------

    postings_share: float = 0.25
    """A predicate fetches its rows from postings when they are at most this share of the
    window; above it, scanning the window's codes costs less than gathering postings."""

    rows_share: float = 0.0625
    """A mask turns into a row list when at most this share of the window is still selected
    (later steps then test those rows only, at the price of a gather)."""

    polars_rows_share: float = 0.5
    """A predicate left to Polars tests only the rows still selected when they are at most this
    share of the window, else every row of the window (a slice, no gather)."""

    count_chunk_rows: int = 1 << 14
    """Rows per chunk when counting a mask to find the rows of a page: smaller chunks list
    fewer rows around the page, at more counting passes."""

    max_lists: int = 16
    """A plan's only predicate, on one dictionary, selects its rows as the unmerged postings of
    its kept codes when it keeps at most this many: a count is two binary searches per code and
    a page merges a page's worth of rows per code, but each membership test searches every
    list."""

    # -- select: the lookup indexes of nearly unique columns -----------------------------------

    use_lookups: bool = True
    """Predicates on columns without a dictionary use the lookup indexes; False tests them by
    Polars on the rows (the rule the indexes replace)."""

    lookup_first: bool = True
    """A lookup may be the first filter; False applies lookups after the others, to the row
    lists and masks those leave."""

    candidate_share: float = 0.5
    """A lookup whose candidates need checking is used only when they are at most this share of
    the rows a scan would test (checking a candidate costs more than testing a row in a scan)."""

    survivors_share: float = 1.0
    """A lookup applied after other filters tests their survivors when they are at most this
    share of the rows it would fetch (a search per survivor); more survivors are intersected
    with its fetched rows."""

    max_remembered_rows: int = 1 << 16
    """A lookup's rows are remembered for the next query with the same filter and range when
    there are at most this many (memory per remembered result against a repeated fetch)."""

    common_share: float = 0.25
    """A trigram held by more than this share of rows keeps no postings: they would cost memory
    and narrow almost nothing; a needle made only of such trigrams is left to a scan."""

    index_chunk_rows: int = 1 << 20
    """Rows indexed at a time when a lookup index is built: bounds the memory of a build, at
    more chunks for a lookup to read."""

    assume_collisions: bool = False
    """Treat every hash index as if two values shared a hash, so candidates are checked against
    the values (real collisions are too rare for tests to meet; costs a check per row)."""

    # -- the column dictionaries ---------------------------------------------------------------

    max_distinct_share: float = 0.5
    """A column gets a dictionary only when at most this share of its rows are distinct values;
    beyond it (``JobId``: every row) a dictionary costs more than it saves."""

    min_rows_for_distinct_limit: int = 64
    """...but a snapshot with fewer rows gets dictionaries whatever their size (they cost next
    to nothing)."""

    few_codes: int = 8
    """Up to this many codes, their rows in a range are found by a binary search per code (and
    counted exactly); more codes' postings are gathered whole."""

    max_slices: int = 4096
    """Up to this many codes, their postings are gathered as one slice each (a Python loop);
    more are gathered by one index array (a fixed cost that wins over many slices)."""

    max_remembered: int = 256
    """How many small results (predicate tables, lookups) a snapshot keeps for later queries
    (memory against recomputing a repeated filter)."""

    # -- order and page --------------------------------------------------------------------------

    walk_share: float = 1.0
    """A rank-ordered page walks the rank order when the rows it expects to visit (the rows
    wanted over the share of rows selected) are fewer than this many times the matches; else
    the matches' ranks are partitioned."""

    few_ties: int = 64
    """When at most this many jobs share a page token job's ``GmtCreateTime``, it is found
    among them by hashing their JobIds one by one; beyond, the tie's hashes are computed once
    and remembered with the snapshot."""


#: The tuned thresholds, what a store uses unless given another policy.
DEFAULT_POLICY = SelectionPolicy()
