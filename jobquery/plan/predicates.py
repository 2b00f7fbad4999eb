"""The closed set of predicate kinds a plan is made of.

Every request parameter becomes one of these (see :mod:`jobquery.plan.filters`), and every
engine has exactly one compile rule per kind (:data:`jobquery.polars_engine.RULES`,
:func:`jobquery.dataset.sql.compile_predicate`, the index engine's tables). Values held here
are ready to compare: casefolded where the column is casefolded, parsed where the column is
typed. Each kind can say what it does in plain words, for ``explain``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import assert_never

from jobquery.request import format_timestamp


@dataclass(frozen=True)
class Substring:
    """The column contains ``needle`` (``prefix``: starts with it). Literal, never a pattern."""

    parameter: str
    column: str
    needle: str
    prefix: bool = False

    def describe(self) -> str:
        how = "starts with" if self.prefix else "contains"
        return f"{self.parameter}: {self.column} {how} {self.needle!r} (ignoring case)"


@dataclass(frozen=True)
class EqualsAny:
    """The column equals one of ``values`` (values already in the column's form)."""

    parameter: str
    column: str
    values: tuple[str, ...]

    def describe(self) -> str:
        listed = ", ".join(repr(value) for value in self.values)
        return f"{self.parameter}: {self.column} is one of {listed}"


@dataclass(frozen=True)
class TimeRange:
    """``start <= column <= end``; a job without the time never matches."""

    parameter: str
    column: str
    start: datetime
    end: datetime
    defaulted: tuple[str, ...] = ()

    def describe(self) -> str:
        note = f" ({', '.join(self.defaulted)} by default)" if self.defaulted else ""
        return (
            f"{self.parameter}: {self.column} between {format_timestamp(self.start)} and "
            f"{format_timestamp(self.end)}, inclusive{note}"
        )


@dataclass(frozen=True)
class NumericRange:
    """``low <= column <= high`` for the bounds given; a job without a number never matches."""

    parameter: str
    column: str
    low: int | None
    high: int | None

    def describe(self) -> str:
        low = "-inf" if self.low is None else str(self.low)
        high = "+inf" if self.high is None else str(self.high)
        return f"{self.parameter}: {self.column} between {low} and {high}, inclusive"


@dataclass(frozen=True)
class TagsContain:
    """The job's tag pairs include every one of ``pairs`` (encoded by ``snapshot.tag_pair``)."""

    parameter: str
    column: str
    pairs: tuple[str, ...]
    shown: tuple[tuple[str, str], ...]

    def describe(self) -> str:
        listed = ", ".join(f"{key}={value}" for key, value in self.shown)
        return f"{self.parameter}: Settings.Tags has {listed} (exact)"


@dataclass(frozen=True)
class TokenSearch:
    """Every token occurs in the column's token text (in one element, for a list column)."""

    parameter: str
    column: str
    tokens: tuple[str, ...]
    per_element: bool = False

    def describe(self) -> str:
        where = "some role's image" if self.per_element else self.column
        return f"{self.parameter}: {where} has every token of {' '.join(self.tokens)!r}"


@dataclass(frozen=True)
class Flag:
    """A boolean column equals ``value``."""

    parameter: str
    column: str
    value: bool

    def describe(self) -> str:
        return f"{self.parameter}: {self.column} is {'true' if self.value else 'false'}"


@dataclass(frozen=True)
class Visibility:
    """A non-admin caller sees ``PRIVATE`` jobs only when they own them."""

    user_id: str | None
    parameter: str = "(caller)"

    def describe(self) -> str:
        who = f"user {self.user_id!r}" if self.user_id is not None else "an anonymous caller"
        return f"visibility: PRIVATE jobs only if owned by {who}"


@dataclass(frozen=True)
class MatchNothing:
    """A filter no job can satisfy (for example a search with no token)."""

    parameter: str
    reason: str

    def describe(self) -> str:
        return f"{self.parameter}: matches no job ({self.reason})"


Predicate = (
    Substring
    | EqualsAny
    | TimeRange
    | NumericRange
    | TagsContain
    | TokenSearch
    | Flag
    | Visibility
    | MatchNothing
)


def columns_read(predicate: Predicate) -> tuple[str, ...]:
    """The columns of ``snapshot.live`` a predicate reads, each once, in the order its rules
    read them (the index engine tabulates over their dictionaries in that order)."""
    match predicate:
        case (
            Substring(column=column)
            | EqualsAny(column=column)
            | TimeRange(column=column)
            | NumericRange(column=column)
            | TagsContain(column=column)
            | TokenSearch(column=column)
            | Flag(column=column)
        ):
            return (column,)
        case Visibility(user_id=None):
            return ("ix_Accessibility",)
        case Visibility():
            return ("ix_Accessibility", "UserId")
        case MatchNothing():
            return ()
        case _:
            assert_never(predicate)
