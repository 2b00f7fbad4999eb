"""The vocabulary of a snapshot's columns: their names, and how index columns encode values.

The typed columns of the top-level scalar fields keep their JSON names (``JobId``,
``DisplayName`` ...); the ``ix_*`` index columns the engines filter and sort on are named by
:func:`index_column` and :func:`rank_column`. Tag pairs (:func:`tag_pair`) and full-text
tokens (:func:`tokenize`, :func:`token_text`) are written here once, for the build and for the
filters that look them up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from jobquery.request import NUMERIC_FIELDS, TIME_FIELDS
from jobquery.snapshot.native_read import IndexFields

JOB_JSON = "job_json"
#: Top-level string fields exported as typed columns (missing, empty or non-string → null).
STRING_FIELDS = (
    "JobId",
    "DisplayName",
    "JobType",
    "Status",
    "SubStatus",
    "UserId",
    "Username",
    "WorkspaceId",
    "WorkspaceName",
    "ResourceId",
    "ResourceName",
    "ResourceQuotaName",
    "ResourceType",
    "Accessibility",
    "TemplateId",
    "ReasonCode",
    "ReasonMessage",
    "UserCommand",
    "Description",
)
SETTINGS_FIELDS = ("BusinessUserId", "Caller", "PipelineId")
#: Every snapshot's typed top-level columns, in order (``job_json`` and ``ix_*`` aside): what
#: ``--columns`` and ``stats --by`` name, known before a dump is read.
TYPED_COLUMNS = (*STRING_FIELDS, *SETTINGS_FIELDS, *TIME_FIELDS, *NUMERIC_FIELDS, "IsDeleted")
#: String targets compared casefolded: their ``ix_<name>`` columns hold ``str.casefold()``.
CASEFOLDED_FIELDS = (
    "JobId",
    "DisplayName",
    "JobType",
    "Status",
    "UserId",
    "Username",
    "WorkspaceId",
    "ResourceId",
    "ResourceQuotaName",
    "TemplateId",
    "Description",
    *SETTINGS_FIELDS,
)
#: Sort keys with a precomputed rank column (GmtCreateTime is the row order itself).
RANKED_SORT_KEYS = ("DisplayName", "JobType", "Status", "GmtFinishTime")
ROW = "ix_row"


_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
#: A CJK ideograph alone, or a run of letters and digits that holds no CJK ideograph.
_TOKEN = re.compile(f"[{_CJK}]|[^\\W_{_CJK}]+")


def index_column(field_name: str) -> str:
    """The name of the casefolded index column of a string field."""
    return f"ix_{field_name}"


def rank_column(sort_key: str) -> str:
    """The name of the rank column of a sort key (see :meth:`Snapshot.rank`)."""
    return f"{_RANK_PREFIX}{sort_key}"


def rank_key(column: str) -> str | None:
    """The sort key whose rank column ``column`` is, or None for any other column."""
    key = column.removeprefix(_RANK_PREFIX)
    return key if key != column and key in RANKED_SORT_KEYS else None


_RANK_PREFIX = "ix_rank_"


def tokenize(text: str) -> list[str]:
    """Full-text tokens (spec §3.5.7): casefolded letter/digit runs, each CJK ideograph alone."""
    tokens: list[str] = _TOKEN.findall(text.casefold())
    return tokens


def token_text(texts: Iterable[str | None]) -> str | None:
    """The tokens of some texts as ``" a b c "``; None when there is no token at all."""
    tokens = [token for text in texts if text for token in tokenize(text)]
    return f" {' '.join(tokens)} " if tokens else None


def tag_pair(key: str, value: str) -> str:
    """The text one tag pair is stored and looked up as: length-prefixed, so unambiguous."""
    return f"{len(key)}:{key}={value}"


#: The fields the index reads, for the native reader.
INDEX_FIELDS = IndexFields(STRING_FIELDS, TIME_FIELDS, NUMERIC_FIELDS)
