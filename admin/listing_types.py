"""The server's listings as the reviewer side keeps them, once admin.sync has checked them.

These name the keys of the JSON the server sends (docs/API.md, the report
listing) as admin.sync.check_listing returns it and the vault index keeps
it; they describe that JSON, they do not change it. What the server sends
before it is checked is plain JSON (`ServerAnswer`) and is read with
isinstance checks, never trusted to have these keys.
"""

from __future__ import annotations

from typing import Any, TypedDict

# A JSON object as the server sent it, not yet checked: every value is read
# with a type check (admin.sync.check_listing, admin.acks, admin.sync_batch).
ServerAnswer = dict[str, Any]


class BlobListing(TypedDict):
    """One blob of a report's listing: what the server's receipt signed, and who wrote it."""

    id: str
    kind: str  # one of admin.sync.BLOB_KINDS: answers, file, message, reply, event
    author: str  # "source" or "reviewer"
    author_key: str | None  # the reviewer's verify key (b64) for a reviewer's blob
    size: int
    sha256: str
    receipt: str  # b64 Ed25519 signature by the server's receipt key
    signature: str | None  # b64 signature by the reviewer, for replies and events
    created_day: str  # YYYY-MM-DD


class RecipientListing(TypedDict):
    """A reviewer the report is sealed to, as the server lists it."""

    id: object  # the server's own id for the reviewer, kept as sent and never relied on
    name: str
    box_key: str  # b64 X25519 public key
    verify_key: str  # b64 Ed25519 verify key


class ReportListing(TypedDict):
    """One report of the server's listing, checked for shape (admin.sync.check_listing)."""

    id: str
    status: str
    created_day: str
    updated_day: str
    source_key: str
    recipients: list[RecipientListing]
    blobs: list[BlobListing]


class Ack(TypedDict):
    """A signed acknowledgement that this vault holds a blob (POST /api/v1/acks)."""

    blob: str
    sha256: str
    signature: str  # b64, crypto.acks.sign_ack


__all__ = ["Ack", "BlobListing", "RecipientListing", "ReportListing", "ServerAnswer"]
