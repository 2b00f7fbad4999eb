"""The index engine: how ``JobStore.list_jobs`` answers a plan without a Polars pipeline.

A call walks down four steps, each a module:

1. :mod:`~jobquery.index_engine.select` — which rows of the snapshot's window match, from
   column dictionaries, postings and the lookup indexes of :mod:`~jobquery.index_engine.lookups`;
2. :mod:`~jobquery.index_engine.order` — those rows in the order of a sort key: a walk down
   the rank order or a partition of the matches' ranks;
3. :mod:`~jobquery.index_engine.page` — the rows of one offset page or keyset page (the tokens
   of :mod:`~jobquery.index_engine.page_tokens`);
4. :mod:`~jobquery.index_engine.materialise` — the stored job dicts of the page's rows.

Every size-based choice the steps make reads one frozen
:class:`~jobquery.index_engine.policy.SelectionPolicy`, passed in by the store.
"""
