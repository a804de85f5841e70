"""The online courier's side of bundles: fetch ciphertext for the offline machine, post its answers.

A courier key file (split_key) holds the reviewer's API signing key and a
box key of its own that seals only the courier's vault index: no key that
opens a report, a file, a reply or a case event. The courier syncs as any
vault does (every receipt and hash checked) but never acknowledges: the
server may forget a report only once the offline machine holds it, so the
acknowledgements come back from there, signed, in an outgoing bundle.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from nacl.public import PrivateKey

from admin.client import ApiClient, ClientError, ConnectionFailed
from admin.media_bundle import TO_OFFLINE, TO_SERVER, Bundle, BundleError, read_bundle, write_bundle
from admin.sync import SyncResult, sync
from admin.vault import Vault, VaultError, check_id
from admin.vault_sealed import load_side, save_side
from crypto.keys import ReviewerKey

SIDE = "courier"


@dataclass
class ExportResult:
    sync: SyncResult
    reports: int = 0
    blobs: int = 0


@dataclass
class PostResult:
    already: bool = False
    accepted: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    acknowledged: int = 0


def split_key(full: ReviewerKey) -> ReviewerKey:
    """The courier's key: the reviewer's signing key, and a fresh box key that opens no report."""
    return ReviewerKey(name=full.name, box=PrivateKey.generate(), signing=full.signing)


def export_bundle(
    vault: Vault, client: ApiClient, out: Path, *, everything: bool = False
) -> ExportResult:
    """Sync, then write a bundle of what the offline machine has not been given yet."""
    synced = sync(vault, client, acknowledge=False)
    state = load_side(vault, SIDE)
    exported = set() if everything else set(state.get("exported", []))
    listings, entries = [], []
    for report in vault.reports():
        new = [b["id"] for b in report.blobs if vault.has_blob(b["id"]) and b["id"] not in exported]
        if new or report.id in synced.reports or everything:
            listings.append(vault.listing(report.id))
            entries += [(blob_id, vault.blob_path(blob_id)) for blob_id in new]
    seq = state.get("seq", 0) + 1
    data = {
        "receipt_key": vault.receipt_key,
        "listings": listings,
        "acked": state.get("acked", []),
    }
    write_bundle(out, vault.key.signing, TO_OFFLINE, seq, data, entries)
    state.update(
        seq=seq,
        exported=sorted(set(state.get("exported", [])) | {name for name, _ in entries}),
        acked=[],
    )
    save_side(vault, SIDE, state)
    return ExportResult(sync=synced, reports=len(listings), blobs=len(entries))


def post_bundle(vault: Vault, client: ApiClient, path: Path) -> PostResult:
    """Post an offline machine's replies, events and acknowledgements; say what was accepted."""
    bundle = read_bundle(path, vault.key.signing.verify_key, TO_SERVER)
    state = load_side(vault, SIDE)
    if bundle.seq == state.get("posted_seq") and bundle.digest == state.get("posted_digest"):
        return PostResult(already=True)
    if bundle.seq <= state.get("posted_seq", 0):
        raise BundleError(
            f"this is outgoing bundle number {bundle.seq}; number {state['posted_seq']} "
            "was posted before: a replayed or stale bundle; nothing was posted"
        )
    items = _items(bundle)
    acks = _acks(bundle)
    posted = set(state.get("posted", []))
    result = PostResult()
    for kind, report_id, envelope, signature in items:
        digest = hashlib.sha256(envelope).hexdigest()
        if digest in posted:
            continue
        try:
            if kind == "reply":
                client.post_reply(report_id, envelope, signature)
            else:
                client.post_event(report_id, envelope, signature)
        except ConnectionFailed:
            raise
        except ClientError as exc:
            result.refused.append(f"{kind} to report {report_id}: {exc}")
            continue
        posted.add(digest)
        result.accepted.append(f"{kind} to report {report_id}")
        state["posted"] = sorted(posted)
        save_side(vault, SIDE, state)  # a cut connection must not post one twice
    if acks:
        answer = client.post_acks(acks)
        counted = [a for a in answer.get("acknowledged", []) if isinstance(a, str)]
        state["acked"] = sorted(set(state.get("acked", [])) | set(counted))
        result.acknowledged = len(counted)
    state.update(posted_seq=bundle.seq, posted_digest=bundle.digest)
    save_side(vault, SIDE, state)
    return result


def _items(bundle: Bundle) -> list[tuple[str, str, bytes, bytes]]:
    """The replies and events of an outgoing bundle, checked for shape before any is posted."""
    items = []
    for kind, key in (("reply", "replies"), ("event", "events")):
        raw = bundle.data.get(key)
        if not isinstance(raw, list):
            raise BundleError(f"the bundle's {key} are malformed")
        for item in raw:
            try:
                report_id = check_id(item["report_id"], "report id")
                envelope = bundle.read_entry(item["entry"])
                signature = base64.b64decode(item["signature"], validate=True)
            except (VaultError, KeyError, TypeError, ValueError, binascii.Error) as exc:
                raise BundleError(f"an item of the bundle's {key} is malformed") from exc
            if len(signature) != 64:
                raise BundleError(f"an item of the bundle's {key} has a malformed signature")
            items.append((kind, report_id, envelope, signature))
    return items


def _acks(bundle: Bundle) -> list[Mapping[str, object]]:
    raw = bundle.data.get("acks")
    if not isinstance(raw, list) or not all(isinstance(a, dict) for a in raw):
        raise BundleError("the bundle's acknowledgements are malformed")
    return list(raw)
