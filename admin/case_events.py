"""Case events: made and signed here, or fetched and checked, before admin.case folds them.

An event::

    {"v": 1, "id": "<32 hex>", "report_id": "...", "author": "<b64 verify key>",
     "author_name": "...", "day": "YYYY-MM-DD", "clock": 7, "parents": ["<id>", ...],
     "type": "set_priority", "data": {"priority": "high"}}

`clock` is a Lamport clock (the highest clock seen in the report's events,
plus one); `parents` are the latest events the author had seen. Each of
those names its own parents in turn, so every signed event vouches for the
whole history its author had seen: a vault holding an event whose parent it
never received knows an event is missing from this case (`Case.missing`),
rather than showing a silently different history.

An event that fails a check (signature, author, report, shape) becomes a
rejected HistoryItem naming why; admin.case lists it and never applies it.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import os
import re
from dataclasses import dataclass
from typing import Any, cast

from nacl.signing import VerifyKey

from admin import roster
from admin.case_types import CaseEvent
from admin.case_vocab import EVENT_TYPES, DataError, check_data
from admin.client import ApiClient, ConnectionFailed
from admin.listing_types import BlobListing
from admin.sync import post_event
from admin.vault import Vault, VaultError
from admin.vault_contents import signed_digest
from crypto import canonical
from crypto.encoding import to_b64
from crypto.envelope import Kind, open_bytes
from crypto.errors import BadSignatureError, EnvelopeError
from crypto.events import verify_event

EVENT_VERSION = 1
MAX_CLOCK = 2**53
_EVENT_ID = re.compile(r"[0-9a-f]{32}")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class HistoryItem:
    """One event as the case page lists it: what, by whom, and whether it holds."""

    blob_id: str | None
    status: str  # "verified", "pending" (queued, not yet posted) or "rejected"
    author_name: str | None
    event: CaseEvent | None = None
    reason: str | None = None

    @property
    def event_id(self) -> str | None:
        return self.event["id"] if self.event else None

    @property
    def order(self) -> tuple[int, str]:
        if self.event is None:
            return (MAX_CLOCK + 1, self.blob_id or "")
        return (self.event["clock"], self.event["id"])


class CaseError(ValueError):
    """An event cannot be made as asked; the message is meant for the reviewer."""


# -- reading events --------------------------------------------------------------


def _reviewers(vault: Vault, report_id: str) -> dict[str, str]:
    """The report's reviewers, verify key (b64) to name, this reviewer included."""
    report = vault.report(report_id)
    names = {str(r.get("verify_key")): str(r.get("name") or "") for r in report.recipients}
    names.setdefault(to_b64(bytes(vault.key.signing.verify_key)), vault.key.name)
    return names


def parse_event(content: bytes, report_id: str, signer: str) -> CaseEvent:
    """Return the event in content if it is well formed, for report_id, by signer.

    Raises CaseError naming what is wrong.
    """
    try:
        event = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise CaseError("the event is not JSON") from exc
    if not isinstance(event, dict) or event.get("v") != EVENT_VERSION:
        raise CaseError("the event has an unknown version")
    if event.get("report_id") != report_id:
        raise CaseError("the event belongs to another report")
    if event.get("author") != signer:
        raise CaseError("the event names another author than the key that signed it")
    if not isinstance(event.get("id"), str) or not _EVENT_ID.fullmatch(event["id"]):
        raise CaseError("the event id is malformed")
    clock = event.get("clock")
    if not isinstance(clock, int) or isinstance(clock, bool) or not 0 < clock <= MAX_CLOCK:
        raise CaseError("the event clock is malformed")
    parents = event.get("parents")
    if not isinstance(parents, list) or not all(
        isinstance(p, str) and _EVENT_ID.fullmatch(p) for p in parents
    ):
        raise CaseError("the event parents are malformed")
    if not isinstance(event.get("day"), str) or not _DAY.fullmatch(event["day"]):
        raise CaseError("the event day is malformed")
    if event.get("type") not in EVENT_TYPES:
        raise CaseError(f"unknown event type {str(event.get('type'))[:40]!r}")
    _check_data(event["type"], event.get("data"))
    if not isinstance(event.get("author_name", ""), str):
        raise CaseError("the author name is malformed")
    return cast(CaseEvent, event)  # every key CaseEvent names was checked above


def _check_data(kind: str, data: Any) -> None:
    try:
        check_data(kind, data)
    except DataError as exc:
        raise CaseError(str(exc)) from exc


def _check_blob(
    vault: Vault, report_id: str, blob: BlobListing, reviewers: dict[str, str]
) -> HistoryItem:
    author_key = blob.get("author_key")
    blob_id = blob["id"]
    # The pinned roster names authors; without one, the server's listing does.
    author = roster.author_of(vault, author_key, blob_id)
    name = author.label if author.status != "unlisted" else reviewers.get(str(author_key))
    if not vault.has_blob(blob_id):
        return HistoryItem(blob_id, "rejected", name, reason="not in the vault yet (run sync)")
    if author.status == "unlisted" and author_key not in reviewers:
        return HistoryItem(
            blob_id, "rejected", None, reason="signed by a key that is not a reviewer of the report"
        )
    if not author.trusted:
        return HistoryItem(blob_id, "rejected", name, reason=author.problem)
    try:
        verify_event(
            VerifyKey(base64.b64decode(str(author_key), validate=True)),
            report_id,
            signed_digest(vault, blob),
            base64.b64decode(str(blob.get("signature")), validate=True),
        )
    except (BadSignatureError, ValueError, TypeError, binascii.Error):
        return HistoryItem(blob_id, "rejected", name, reason="the signature does not verify")
    return _checked_content(vault, report_id, blob_id, str(author_key), name, "verified")


def _checked_content(
    vault: Vault, report_id: str, blob_id: str | None, signer: str, name: str | None, status: str
) -> HistoryItem:
    try:
        if blob_id is None:
            raise VaultError("no blob")
        content = vault.open_event(blob_id)
        event = parse_event(content, report_id, signer)
    except (VaultError, CaseError) as exc:
        return HistoryItem(blob_id, "rejected", name, reason=str(exc))
    return HistoryItem(blob_id, status, name or event.get("author_name"), event=event)


def load_events(vault: Vault, report_id: str) -> list[HistoryItem]:
    """Every event of the report, checked: verified, pending (own, queued) or rejected."""
    reviewers = _reviewers(vault, report_id)
    items = [_check_blob(vault, report_id, b, reviewers) for b in vault.event_blobs(report_id)]
    own = to_b64(bytes(vault.key.signing.verify_key))
    for _, envelope, _signature in vault.pending_events(report_id):
        try:
            content = _open_envelope(vault, envelope)
            event = parse_event(content, report_id, own)
        except (VaultError, CaseError) as exc:
            items.append(HistoryItem(None, "rejected", vault.key.name, reason=str(exc)))
            continue
        items.append(HistoryItem(None, "pending", vault.key.name, event=event))
    return items


def _open_envelope(vault: Vault, envelope: bytes) -> bytes:
    try:
        return open_bytes(envelope, vault.key.box, Kind.EVENT).content
    except EnvelopeError as exc:
        raise VaultError("a queued event does not open") from exc


# -- making events ---------------------------------------------------------------


def today() -> str:
    return dt.datetime.now(dt.UTC).date().isoformat()


def make_event(vault: Vault, report_id: str, kind: str, data: Any) -> CaseEvent:
    """A new event by this reviewer, after every event the vault holds for the report.

    Raises CaseError if the type or data is not valid, UnknownReportError if no such report.
    """
    if kind not in EVENT_TYPES:
        raise CaseError(f"unknown event type {kind!r}; one of {', '.join(EVENT_TYPES)}")
    _check_data(kind, data)
    accepted = [
        i.event for i in load_events(vault, report_id) if i.event and i.status != "rejected"
    ]
    named = {p for e in accepted for p in e["parents"]}
    return {
        "v": EVENT_VERSION,
        "id": os.urandom(16).hex(),
        "report_id": report_id,
        "author": to_b64(bytes(vault.key.signing.verify_key)),
        "author_name": vault.key.name,
        "day": today(),
        "clock": max((e["clock"] for e in accepted), default=0) + 1,
        "parents": sorted(e["id"] for e in accepted if e["id"] not in named),
        "type": kind,
        "data": data,
    }


def submit_event(
    vault: Vault, client: ApiClient | None, report_id: str, kind: str, data: Any
) -> tuple[CaseEvent, bool]:
    """Make, seal, sign and post an event; queue it if the server cannot be reached.

    Returns (event, posted). Raises CaseError for invalid data and
    ClientError when the server refuses the event.
    """
    event = make_event(vault, report_id, kind, data)
    content = canonical.encode(event)
    envelope, signature = vault.seal_event(report_id, content)
    if client is None:
        vault.queue_event(report_id, envelope, signature)
        return event, False
    try:
        post_event(vault, client, report_id, envelope, signature)
    except ConnectionFailed:
        vault.queue_event(report_id, envelope, signature)
        return event, False
    return event, True


__all__ = [
    "EVENT_VERSION",
    "MAX_CLOCK",
    "CaseError",
    "HistoryItem",
    "load_events",
    "make_event",
    "parse_event",
    "submit_event",
    "today",
]
