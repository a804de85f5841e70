"""The offline machine's side of bundles: import what the courier fetched, write what goes out.

The offline machine holds the full key and never connects. `bundle import`
takes a bundle the courier wrote (admin/courier.py): it is checked whole
first (its structure, the reviewer's signature, every hash, every receipt
against the pinned server key, every size against the receipt) and only
then does anything enter the vault, so a bundle with one altered byte
changes nothing. `bundle outgoing` writes the replies, case events and
delivery acknowledgements made here, signed, for the courier to post.
Queued replies and events stay queued until a later bundle shows the server
stored them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

from nacl.signing import VerifyKey

from admin.acks import unacknowledged
from admin.custody import check_receipt
from admin.listing_types import ReportListing
from admin.media_bundle import TO_OFFLINE, TO_SERVER, Bundle, BundleError, read_bundle, write_bundle
from admin.sync import check_listing
from admin.vault import Vault, VaultError
from admin.vault_sealed import load_side, save_side
from crypto.errors import BadSignatureError

SIDE = "airgap"


class QueuedReply(TypedDict):
    """A reply sealed here and waiting in the side file for the next outgoing bundle."""

    report_id: str
    envelope: str  # b64
    signature: str  # b64
    sha256: str  # of the envelope: the server's listing of it tells that it arrived


@dataclass
class ImportResult:
    already: bool = False
    reports: list[str] = field(default_factory=list)
    blobs: list[str] = field(default_factory=list)
    posted: list[str] = field(default_factory=list)


@dataclass
class OutgoingResult:
    replies: int = 0
    events: int = 0
    acks: int = 0


def is_offline(vault: Vault) -> bool:
    """Whether this vault takes its reports from bundles (it has imported one)."""
    return bool(load_side(vault, SIDE).get("in_seq"))


def import_bundle(vault: Vault, path: Path) -> ImportResult:
    """Take a courier's bundle into the vault, all of it or nothing. Raises BundleError."""
    bundle = read_bundle(path, vault.key.signing.verify_key, TO_OFFLINE)
    state = load_side(vault, SIDE)
    last, last_digest = state.get("in_seq", 0), state.get("in_digest")
    if bundle.seq == last and bundle.digest == last_digest:
        return ImportResult(already=True)
    if bundle.seq <= last:
        raise BundleError(
            f"this is bundle number {bundle.seq}, older than number {last} imported before: "
            "a replayed or stale bundle; nothing was imported"
        )
    receipt_key, listings = _checked(vault, bundle)
    result = ImportResult()
    for listing in listings:
        vault.merge_report(listing)
        result.reports.append(listing["id"])
    for name in bundle.entries:
        if not vault.has_blob(name):
            with open(vault.partial_path(name), "wb") as out:
                bundle.copy_entry(name, out)
            vault.accept_blob(name)
            result.blobs.append(name)
    if vault.receipt_key is None:
        vault.receipt_key = receipt_key
    acked = [b for b in bundle.data.get("acked", []) if isinstance(b, str)]
    vault.mark_acknowledged(acked, [])
    result.posted = _drop_delivered(vault, state, listings)
    state.update(in_seq=bundle.seq, in_digest=bundle.digest)
    save_side(vault, SIDE, state)
    vault.save()
    return result


def _checked(vault: Vault, bundle: Bundle) -> tuple[str, list[ReportListing]]:
    """Every listing, receipt, size and hash of the bundle, checked before any is used."""
    offered = bundle.data.get("receipt_key")
    if vault.receipt_key is not None and offered != vault.receipt_key:
        raise BundleError(
            "the bundle's server receipt key is not the one this vault pinned; nothing was imported"
        )
    try:
        verify_key = VerifyKey(base64.b64decode(str(offered), validate=True))
    except (ValueError, TypeError, binascii.Error) as exc:
        raise BundleError("the bundle carries no valid server receipt key") from exc
    raw = bundle.data.get("listings")
    if not isinstance(raw, list):
        raise BundleError("the bundle's report listings are malformed")
    listings: list[ReportListing] = []
    for item in raw:
        try:
            listings.append(check_listing(item))
        except (VaultError, ValueError, KeyError, TypeError) as exc:
            raise BundleError(f"a report listing in the bundle is malformed ({exc})") from exc
    listed = {b["id"]: (listing["id"], b) for listing in listings for b in listing["blobs"]}
    for name, entry in bundle.entries.items():
        if name not in listed:
            raise BundleError(f"entry {name} is in no report the bundle lists")
        report_id, blob = listed[name]
        if entry.size != blob["size"]:
            raise BundleError(
                f"blob {name} is {entry.size} bytes; the server's receipt says {blob['size']}"
            )
        if entry.sha256 != blob["sha256"]:
            raise BundleError(f"blob {name} is not the one the server's receipt signed")
        try:
            check_receipt(verify_key, report_id, blob)
        except (BadSignatureError, ValueError, TypeError, KeyError) as exc:
            raise BundleError(f"the server's receipt for blob {name} does not verify") from exc
    return str(offered), listings


def _drop_delivered(
    vault: Vault, state: dict[str, Any], listings: list[ReportListing]
) -> list[str]:
    """Forget queued replies and events the server now lists; return their blob ids."""
    stored = {b["sha256"]: b["id"] for listing in listings for b in listing["blobs"]}
    done = []
    for _report_id, envelope, _signature in vault.pending_events():
        blob_id = stored.get(hashlib.sha256(envelope).hexdigest())
        if blob_id:
            vault.drop_pending_event(envelope)
            done.append(blob_id)
    kept = []
    for reply in state.get("replies", []):
        blob_id = stored.get(reply["sha256"])
        if blob_id:
            done.append(blob_id)
        else:
            kept.append(reply)
    state["replies"] = kept
    return done


def queue_reply(vault: Vault, report_id: str, text: str) -> None:
    """Seal and sign a reply here; it goes out in the next outgoing bundle."""
    envelope, signature = vault.seal_reply(report_id, text)
    state = load_side(vault, SIDE)
    reply: QueuedReply = {
        "report_id": report_id,
        "envelope": base64.b64encode(envelope).decode("ascii"),
        "signature": base64.b64encode(signature).decode("ascii"),
        "sha256": hashlib.sha256(envelope).hexdigest(),
    }
    state.setdefault("replies", []).append(reply)
    save_side(vault, SIDE, state)


def pending_replies(vault: Vault) -> list[QueuedReply]:
    return list(load_side(vault, SIDE).get("replies", []))


def write_outgoing(vault: Vault, path: Path) -> OutgoingResult:
    """Write what this machine made since (replies, events, acknowledgements) for the courier."""
    state = load_side(vault, SIDE)
    entries: list[tuple[str, Path | bytes]] = []
    replies, events = [], []
    for number, reply in enumerate(state.get("replies", []), 1):
        name = f"reply-{number}"
        entries.append((name, base64.b64decode(reply["envelope"])))
        replies.append(
            {"report_id": reply["report_id"], "entry": name, "signature": reply["signature"]}
        )
    for number, (report_id, envelope, signature) in enumerate(vault.pending_events(), 1):
        name = f"event-{number}"
        entries.append((name, envelope))
        events.append(
            {
                "report_id": report_id,
                "entry": name,
                "signature": base64.b64encode(signature).decode("ascii"),
            }
        )
    acks = unacknowledged(vault)
    seq = state.get("out_seq", 0) + 1
    data = {"replies": replies, "events": events, "acks": acks}
    write_bundle(path, vault.key.signing, TO_SERVER, seq, data, entries)
    state["out_seq"] = seq
    save_side(vault, SIDE, state)
    return OutgoingResult(replies=len(replies), events=len(events), acks=len(acks))
