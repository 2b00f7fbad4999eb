"""Keyset page tokens: the ``NextToken`` extension of ListJobs.

Offset pages (``PageNumber``/``PageSize``) are what the API defines, and they keep working
unchanged. They shift when jobs are added or removed between two requests, and a deep page
costs more than the first. A *page token* fixes both:

- ``NextToken=*`` (:data:`FIRST_PAGE`) asks for the first keyset page; every keyset response
  carries ``NextToken``: the token of the next page, or ``""`` after the last page.
- A token pins the snapshot **version** the first page was answered from, the clock (``now``,
  so the default 7-day window does not move), the **position** of the last job served (its
  value in the order column of that version: a row number or a rank, a total order), and the
  ``TotalCount`` of the walk. Following the tokens walks that one version: no job twice, none
  skipped, whatever is updated meanwhile. A page after the cursor is a filter
  ``order column > position`` plus a top-k: a deep page costs what the first one does.
- A token is tied to the request it continues: a digest of the canonical request without its
  paging fields (:meth:`ListJobsRequest.to_wire` minus ``PageNumber``, ``PageSize``,
  ``NextToken``; ``SortBy``/``Order`` as resolved) and of the caller. ``PageSize`` may change
  from page to page.
- Tokens are opaque (URL-safe base64, 120 characters) and tamper-evident: an HMAC-SHA256 with
  the store's secret key signs them. Any change, a token of another store or of another
  request raises :class:`~jobquery.errors.PageTokenError`.

Layout (big-endian, 90 bytes, so that base64 needs no padding and every character counts)::

    2s  format tag          8s  lineage (the store's job list)     Q  snapshot version
    q   now, in µs since the epoch (UTC)                           Q  position of the last job
    Q   total count         16s request digest                     32s HMAC-SHA256 of the rest
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from jobquery.errors import PageTokenError
from jobquery.plan import DEFAULT_ORDER, DEFAULT_SORT_KEY
from jobquery.request import Caller, ListJobsRequest

#: The ``NextToken`` value that asks for the first keyset page.
FIRST_PAGE = "*"
#: The ``NextToken`` of the last page's response: there is no next page.
LAST_PAGE = ""
#: Request fields that page rather than select: left out of the request digest.
PAGING_PARAMETERS = ("PageNumber", "PageSize", "NextToken")

_FORMAT = b"J1"
_BODY = struct.Struct(">2s8sQqQQ16s")
_MAC_SIZE = 32
TOKEN_SIZE = _BODY.size + _MAC_SIZE
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

RESTART = "request the first page again with NextToken=* (or without NextToken for offset pages)"


@dataclass(frozen=True)
class PageToken:
    """What a token pins: where a walk over one snapshot version stands.

    Attributes
    ----------
    lineage : bytes
        8 bytes naming the store's job list (kept across save/open); versions count within it.
    version : int
        The snapshot version the walk reads.
    now : datetime
        The clock of the first page (the default window is relative to it).
    position : int
        The order-column value of the last job served (a row of ``live`` or a rank).
    total_count : int
        The number of matches in the pinned version (``TotalCount`` of every page).
    request_digest : bytes
        16 bytes: :func:`request_digest` of the request that started the walk.
    """

    lineage: bytes
    version: int
    now: datetime
    position: int
    total_count: int
    request_digest: bytes


def request_digest(request: ListJobsRequest, caller: Caller | None) -> bytes:
    """A digest of what a walk selects: the canonical request minus paging, and the caller."""
    wire = {
        name: value for name, value in request.to_wire().items() if name not in PAGING_PARAMETERS
    }
    # the order as resolved: leaving out SortBy or spelling out its default is one request
    wire.setdefault("SortBy", DEFAULT_SORT_KEY)
    wire.setdefault("Order", DEFAULT_ORDER)
    who = None if caller is None else [caller.user_id, caller.is_admin]
    canonical = json.dumps([wire, who], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).digest()[:16]


class PageTokenCodec:
    """Signs page tokens into text and checks them back.

    Parameters
    ----------
    key : bytes
        The HMAC-SHA256 secret (at least 16 bytes). Processes that must accept each other's
        tokens share it.
    """

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes) or len(key) < 16:
            raise ValueError("a page token key must be at least 16 bytes")
        self._key = key

    def encode(self, token: PageToken) -> str:
        """The opaque text of a token."""
        now = (token.now.astimezone(UTC) - _EPOCH) // timedelta(microseconds=1)
        body = _BODY.pack(
            _FORMAT,
            token.lineage,
            token.version,
            now,
            token.position,
            token.total_count,
            token.request_digest,
        )
        signed = body + self._mac(body)
        return base64.urlsafe_b64encode(signed).decode("ascii")

    def decode(self, text: str) -> PageToken:
        """Check a token's text and read it.

        Raises
        ------
        PageTokenError
            Not a token, or a token that was modified or signed with another key.
        """
        try:
            signed = base64.urlsafe_b64decode(text.encode("ascii"))
        except (UnicodeEncodeError, binascii.Error, ValueError):
            signed = b""
        # the decoder skips stray characters: only the canonical spelling is the token
        if len(signed) != TOKEN_SIZE or base64.urlsafe_b64encode(signed).decode() != text:
            raise PageTokenError(
                text,
                f"not a page token; pass the NextToken of the previous response, "
                f"or {FIRST_PAGE} for the first page",
            )
        body, mac = signed[: _BODY.size], signed[_BODY.size :]
        if not hmac.compare_digest(mac, self._mac(body)):
            raise PageTokenError(
                text, f"the page token was modified or issued by another job store; {RESTART}"
            )
        tag, lineage, version, now, position, total, digest = _BODY.unpack(body)
        if tag != _FORMAT:  # pragma: no cover - signed by us, so only a future format
            raise PageTokenError(text, f"a page token of an unknown format; {RESTART}")
        return PageToken(
            lineage=lineage,
            version=version,
            now=_EPOCH + timedelta(microseconds=now),
            position=position,
            total_count=total,
            request_digest=digest,
        )

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self._key, body, hashlib.sha256).digest()
