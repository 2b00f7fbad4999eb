"""The plan: a validated request, the clock and the caller turned into what to compute.

The stage between the request and the engines. :mod:`~jobquery.plan.predicates` is the closed
set of predicate kinds; :mod:`~jobquery.plan.filters` the registry that turns each request
parameter into one; :mod:`~jobquery.plan.build` resolves every default into a :class:`Plan`
(predicates, :class:`Ordering`, :class:`Page`); :mod:`~jobquery.plan.window` holds the window
and order both engines start from (the row range of a ``GmtCreateTime`` window, the column of
the total order). The engines — :mod:`jobquery.index_engine` for ``list_jobs``,
:mod:`jobquery.polars_engine` for ``query`` — read a plan; nothing here reads an engine.
"""

from jobquery.plan.build import (
    DEFAULT_ORDER,
    DEFAULT_PAGE_NUMBER,
    DEFAULT_SORT_KEY,
    Ordering,
    Page,
    Plan,
    build_plan,
)

__all__ = [
    "DEFAULT_ORDER",
    "DEFAULT_PAGE_NUMBER",
    "DEFAULT_SORT_KEY",
    "Ordering",
    "Page",
    "Plan",
    "build_plan",
]
