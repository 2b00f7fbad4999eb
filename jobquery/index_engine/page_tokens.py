"""Keyset page tokens: the ``NextToken`` extension of ListJobs.

Offset pages (``PageNumber``/``PageSize``) are what the API defines, and they keep working
unchanged. They shift when jobs are added or removed between two requests, and a deep page
costs more than the first. A *page token* fixes both:

- ``NextToken=*`` (:data:`FIRST_PAGE`) asks for the first keyset page; every keyset response
  carries ``NextToken``: the token of the next page, or ``""`` after the last page.
- A token pins the **snapshot** the first page was answered from (by its *identity*, 16 random
  bytes drawn when the store published that version), the clock (``now``, so the default 7-day
  window does not move), the **last job served** (its ``GmtCreateTime`` and a 16-byte hash of
  its ``JobId``: the store finds its row, and so its place in any order, in the pinned
  snapshot) and the ``TotalCount`` of the walk. Following the tokens walks that one snapshot:
  no job twice, none skipped, whatever is updated meanwhile.
- A token is tied to the request it continues: a digest of the canonical request without its
  paging fields (:meth:`ListJobsRequest.to_wire` minus ``PageNumber``, ``PageSize``,
  ``NextToken``; ``SortBy``/``Order`` as resolved) and of the caller. ``PageSize`` may change
  from page to page.

**A token reveals nothing the caller cannot see.** Everything in it is either random (the
snapshot identity, the nonce), given by the caller (the request digest, ``now``), or a value
the caller was shown (the last job's time and JobId, the ``TotalCount`` of the visible
matches): no row number, rank, version counter or count that other users' private jobs would
change. And it is sealed: AES-256-GCM (authenticated encryption, from the ``cryptography``
package) with a fresh random 96-bit nonce per token and a key derived (HKDF-SHA256) from the
store's ``token_key``. Every token has the same length; any change to one, or a token sealed
with another key, raises :class:`~jobquery.errors.PageTokenError`.

Layout: URL-safe base64 (136 characters, no padding) of 102 bytes::

    2s  format tag (authenticated, not encrypted)     12s nonce
    72s the sealed fields:  16s snapshot identity     q   now, µs since the epoch (UTC)
                            q   the last job's GmtCreateTime (µs; the smallest int64 if none)
                            16s BLAKE2b-128 of the last job's JobId
                            Q   total count           16s request digest
    16s GCM tag
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from jobquery.errors import PageTokenError
from jobquery.plan import DEFAULT_ORDER, DEFAULT_SORT_KEY
from jobquery.request import Caller, ListJobsRequest

#: The ``NextToken`` value that asks for the first keyset page.
FIRST_PAGE = "*"
#: The ``NextToken`` of the last page's response: there is no next page.
LAST_PAGE = ""
#: Request fields that page rather than select: left out of the request digest.
PAGING_PARAMETERS = ("PageNumber", "PageSize", "NextToken")
#: Bytes of a snapshot identity (random, drawn per published version).
IDENTITY_SIZE = 16

_FORMAT = b"J2"
_NONCE_SIZE = 12
_TAG_SIZE = 16
_FIELDS = struct.Struct(">16sqq16sQ16s")
TOKEN_SIZE = len(_FORMAT) + _NONCE_SIZE + _FIELDS.size + _TAG_SIZE
#: Characters of every token's text.
TOKEN_LENGTH = len(base64.urlsafe_b64encode(bytes(TOKEN_SIZE)))
_KEY_INFO = b"jobquery page tokens, format J2"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

RESTART = "request the first page again with NextToken=* (or without NextToken for offset pages)"


@dataclass(frozen=True)
class PageToken:
    """What a token pins: where a walk over one snapshot stands.

    Attributes
    ----------
    snapshot : bytes
        The identity of the snapshot the walk reads (see :func:`new_snapshot_identity`).
    now : datetime
        The clock of the first page (the default window is relative to it).
    last_create_time : int
        ``GmtCreateTime`` of the last job served, in µs since the epoch, as
        ``Snapshot.create_times`` holds it (the smallest int64 when the job has none).
    last_job : bytes
        :func:`job_key` of the last job served.
    total_count : int
        The number of matches the caller can see in the pinned snapshot (every page's
        ``TotalCount``).
    request_digest : bytes
        16 bytes: :func:`request_digest` of the request that started the walk.
    """

    snapshot: bytes
    now: datetime
    last_create_time: int
    last_job: bytes
    total_count: int
    request_digest: bytes


def new_snapshot_identity() -> bytes:
    """A fresh snapshot identity: random, so it says nothing about the jobs, and a version that
    was never saved has one no other process will ever hold."""
    return secrets.token_bytes(IDENTITY_SIZE)


def job_key(job_id: str) -> bytes:
    """The 16 bytes that name a job in a token: BLAKE2b-128 of its ``JobId``."""
    return hashlib.blake2b(job_id.encode("utf-8", "surrogatepass"), digest_size=16).digest()


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
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).digest()[:16]


class PageTokenCodec:
    """Seals page tokens into text and opens them again.

    Parameters
    ----------
    key : bytes
        The secret (at least 16 bytes) the AES-256-GCM key is derived from. Processes that
        must accept each other's tokens share it.
    """

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes) or len(key) < 16:
            raise ValueError("a page token key must be at least 16 bytes")
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_INFO)
        self._cipher = AESGCM(derived.derive(key))

    def encode(self, token: PageToken) -> str:
        """The opaque text of a token (a new nonce each time: two encodings differ)."""
        now = (token.now.astimezone(UTC) - _EPOCH) // timedelta(microseconds=1)
        fields = _FIELDS.pack(
            token.snapshot,
            now,
            token.last_create_time,
            token.last_job,
            token.total_count,
            token.request_digest,
        )
        nonce = secrets.token_bytes(_NONCE_SIZE)
        sealed = _FORMAT + nonce + self._cipher.encrypt(nonce, fields, _FORMAT)
        return base64.urlsafe_b64encode(sealed).decode("ascii")

    def decode(self, text: str) -> PageToken:
        """Open a token's text and read it.

        Raises
        ------
        PageTokenError
            Not a token, or a token that was modified or sealed with another key.
        """
        try:
            sealed = base64.urlsafe_b64decode(text.encode("ascii"))
        except (UnicodeEncodeError, binascii.Error, ValueError):
            sealed = b""
        # the decoder skips stray characters: only the canonical spelling is the token
        if len(sealed) != TOKEN_SIZE or base64.urlsafe_b64encode(sealed).decode() != text:
            raise PageTokenError(
                text,
                f"not a page token; pass the NextToken of the previous response, "
                f"or {FIRST_PAGE} for the first page",
            )
        tag, nonce = sealed[: len(_FORMAT)], sealed[len(_FORMAT) : len(_FORMAT) + _NONCE_SIZE]
        try:
            fields = self._cipher.decrypt(nonce, sealed[len(_FORMAT) + _NONCE_SIZE :], tag)
        except InvalidTag:
            raise PageTokenError(
                text,
                "the page token was modified, or issued by another job store or process "
                f"(stores accept each other's tokens only when they share token_key); {RESTART}",
            ) from None
        snapshot, now, last_time, last_job, total, digest = _FIELDS.unpack(fields)
        return PageToken(
            snapshot=snapshot,
            now=_EPOCH + timedelta(microseconds=now),
            last_create_time=last_time,
            last_job=last_job,
            total_count=total,
            request_digest=digest,
        )
