"""Pull new ciphertext from the server into the vault, trusting nothing it says unchecked.

The server's receipt key is pinned at the first sync. Every blob is
downloaded into partial/ (resuming an interrupted download), and moves into
the vault only when its size and SHA-256 are what the server's receipt
signed at intake. A blob that fails is named and left out; the rest of the
sync goes on. Case events made while the server was unreachable (custody
records, admin/case_events.py) are posted first; case events are blobs like the
rest and are fetched the same way.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nacl.signing import VerifyKey

from admin.acks import acknowledge_held
from admin.client import ApiClient, ApiError, ClientError, ConnectionFailed
from admin.listing_types import BlobListing, RecipientListing, ReportListing, ServerAnswer
from admin.roster import RosterRefused, accept_roster
from admin.sync_batch import Progress, Wanted, fetch_many, receipt_problem
from admin.vault import Vault, VaultError, check_id

BLOB_KINDS = ("answers", "file", "message", "reply", "event")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


class SyncError(Exception):
    """The sync stopped; the message is meant for the reviewer."""


@dataclass(frozen=True)
class Refusal:
    """A blob (or a report's listing) the vault would not take, and why."""

    blob_id: str | None
    report_id: str | None
    reason: str

    def __str__(self) -> str:
        if self.blob_id:
            return f"blob {self.blob_id} of report {self.report_id}: {self.reason}"
        return f"report {self.report_id}: {self.reason}"


@dataclass
class SyncResult:
    """What one sync did: blob ids fetched and skipped (already held), and refusals."""

    fetched: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    reports: list[str] = field(default_factory=list)
    posted: list[str] = field(default_factory=list)
    acknowledged: list[str] = field(default_factory=list)
    # Called with (blobs, bytes) as blobs arrive: the CLI's progress bar.
    progress: Progress | None = field(default=None, repr=False)
    roster_note: str | None = None


PAGE = 500


def sync(
    vault: Vault,
    client: ApiClient,
    *,
    acknowledge: bool = True,
    progress: Progress | None = None,
) -> SyncResult:
    """Bring the vault up to date with the server.

    A courier (admin/courier.py) passes acknowledge=False: it holds the
    ciphertext only on its way to the offline machine, which acknowledges.

    Raises SyncError if the server's receipt key is not the pinned one, or
    if the server cannot be reached (progress so far is kept; run it again).
    """
    result = SyncResult(progress=progress)
    try:
        info = _server_info(vault, client)
        receipt_key = _pin_receipt_key(vault, info.get("receipt_key"))
        result.roster_note = accept_roster(vault, info.get("roster"))
        vault.server_url = client.server_url
        result.posted = post_pending_events(vault, client)
        _sync_listing(vault, client, receipt_key, result)
        if acknowledge:
            result.acknowledged = acknowledge_held(vault, client)
    except ConnectionFailed as exc:
        raise SyncError(f"{exc}; what was fetched is kept, run sync again to continue") from exc
    except (ClientError, RosterRefused) as exc:
        raise SyncError(str(exc)) from exc
    finally:
        vault.save()
    return result


def _server_info(vault: Vault, client: ApiClient) -> ServerAnswer:
    """GET /api/v1/server, signing for the pinned receipt key without asking for it first.

    Over Tor that saves a round trip; a server whose key changed refuses
    the signature (401), and then its own word is asked for, so the sync
    stops with the plain "receipt key has changed" message.
    """
    if client.server_identity is not None or not vault.receipt_key:
        return client.server_info()
    client.server_identity = vault.receipt_key
    try:
        return client.server_info()
    except ApiError as exc:
        if exc.status != 401:
            raise
        client.server_identity = None
        return client.server_info()


def _sync_listing(
    vault: Vault, client: ApiClient, receipt_key: VerifyKey, result: SyncResult
) -> None:
    """Follow the server's change sequence from the vault's cursor, a page at a time.

    The cursor moves past a report only once all of its blobs are held, and
    stops before the first report with a refusal, so that report is listed
    again at the next sync.
    """
    since = vault.cursor or 0
    held_back = False
    while True:
        reports, cursor, more = check_page(client.list_changes(since, PAGE), since)
        held_back = _sync_page(vault, client, receipt_key, reports, result, held_back)
        vault.save()
        if not held_back:
            vault.cursor = cursor
        if not more:
            return
        since = cursor


def check_page(listing: ServerAnswer, since: int) -> tuple[list[Any], int, bool]:
    """The reports, cursor and more-flag of one page, checked to move forward; raise SyncError."""
    reports, cursor, more = listing.get("reports"), listing.get("cursor"), listing.get("more")
    if not isinstance(reports, list) or not isinstance(cursor, int) or not isinstance(more, bool):
        raise SyncError("the server's report listing is malformed")
    numbers: list[int] = []
    for raw in reports:
        number = raw.get("seq") if isinstance(raw, dict) else None
        if not isinstance(number, int) or isinstance(number, bool):
            raise SyncError("the server's report listing is malformed (a report has no number)")
        numbers.append(number)
    if numbers != sorted(set(numbers)) or any(not since < n <= cursor for n in numbers):
        raise SyncError("the server's report listing goes backwards; nothing was taken from it")
    if more and cursor <= since:
        raise SyncError("the server's report listing does not move forward")
    return reports, cursor, more


def post_event(
    vault: Vault, client: ApiClient, report_id: str, envelope: bytes, signature: bytes
) -> BlobListing:
    """POST a sealed, signed case event and keep it in the vault; return its listing.

    Raises ClientError (ConnectionFailed when the server cannot be reached).
    """
    stored = client.post_event(report_id, envelope, signature)
    try:
        blob = check_blob(stored)
    except (ValueError, KeyError, TypeError, VaultError) as exc:
        raise ClientError("the server's answer does not describe the event it stored") from exc
    if blob["kind"] != "event" or not vault.keep_posted_blob(report_id, blob, envelope):
        raise ClientError("the server's answer does not describe the event it stored")
    vault.save()
    return blob


def post_pending_events(vault: Vault, client: ApiClient) -> list[str]:
    """Post the events queued while offline; return the blob ids the server gave them.

    An event the server refuses (the report was deleted, say) stays queued
    and is tried again; a broken connection stops the sync as usual.
    """
    posted = []
    for report_id, envelope, signature in vault.pending_events():
        try:
            blob = post_event(vault, client, report_id, envelope, signature)
        except ConnectionFailed:
            raise
        except ClientError:
            continue
        vault.drop_pending_event(envelope)
        vault.save()
        posted.append(blob["id"])
    return posted


def _pin_receipt_key(vault: Vault, offered: Any) -> VerifyKey:
    try:
        if not isinstance(offered, str) or len(base64.b64decode(offered, validate=True)) != 32:
            raise ValueError
    except (ValueError, binascii.Error) as exc:
        raise SyncError("the server did not send a valid receipt key") from exc
    if vault.receipt_key is None:
        vault.receipt_key = offered
    elif vault.receipt_key != offered:
        raise SyncError(
            "The server's receipt key has changed since the first sync "
            f"(pinned {vault.receipt_key}, now {offered}). Nothing was downloaded. "
            "Ask the operator and compare with the output of `amanat-server init`."
        )
    return VerifyKey(base64.b64decode(offered))


def _sync_page(
    vault: Vault,
    client: ApiClient,
    receipt_key: VerifyKey,
    reports: list[Any],
    result: SyncResult,
    held_back: bool,
) -> bool:
    """Merge a page's reports, fetch their missing blobs, move the cursor; return held_back."""
    checked: list[tuple[int, ReportListing | None]] = []
    wanted: list[Wanted] = []
    for raw in reports:
        report = _merge_report(vault, raw, result)
        checked.append((raw["seq"], report))
        if report is None:
            continue
        for blob in report["blobs"]:
            if vault.has_blob(blob["id"]):
                result.skipped.append(blob["id"])
            elif (problem := receipt_problem(receipt_key, report["id"], blob)) is not None:
                result.refused.append(Refusal(blob["id"], report["id"], problem))
            else:
                wanted.append((report["id"], blob))

    def fetch_one(report_id: str, blob: BlobListing) -> str | None:
        return download_checked(vault, client, blob)

    outcome = fetch_many(vault, client, wanted, fetch_one, result.progress)
    for report_id, blob in wanted:
        if outcome.get(blob["id"]) is None:
            result.fetched.append(blob["id"])
        else:
            result.refused.append(Refusal(blob["id"], report_id, str(outcome[blob["id"]])))
    refused_reports = {r.report_id for r in result.refused}
    for seq, report in checked:
        held_back = held_back or report is None or report["id"] in refused_reports
        if not held_back:
            vault.cursor = seq
    return held_back


def _merge_report(vault: Vault, raw: Any, result: SyncResult) -> ReportListing | None:
    report_id = raw.get("id") if isinstance(raw, dict) else None
    try:
        report = check_listing(raw)
    except (VaultError, ValueError, KeyError, TypeError) as exc:
        result.refused.append(Refusal(None, str(report_id)[:64], f"malformed listing ({exc})"))
        return None
    vault.merge_report(report)
    result.reports.append(report["id"])
    return report


def fetch_blob(
    vault: Vault, client: ApiClient, receipt_key: VerifyKey, report_id: str, blob: BlobListing
) -> str | None:
    """Download one blob into the vault. Return None, or why it was refused.

    Raises ConnectionFailed (the partial file stays, to resume next time).
    """
    problem = receipt_problem(receipt_key, report_id, blob)
    return problem if problem is not None else download_checked(vault, client, blob)


def download_checked(vault: Vault, client: ApiClient, blob: BlobListing) -> str | None:
    """Download one blob (resuming with Range) and keep it if it is what the receipt says."""
    blob_id = blob["id"]
    partial = vault.partial_path(blob_id)
    try:
        client.download_blob(blob_id, partial, max_bytes=blob["size"])
    except ConnectionFailed:
        raise
    except ClientError as exc:
        partial.unlink(missing_ok=True)
        return str(exc)
    size, digest = _measure(partial)
    if size != blob["size"]:
        partial.unlink(missing_ok=True)
        return f"the size does not match what the server signed ({size} bytes, not {blob['size']})"
    if digest != blob["sha256"]:
        partial.unlink(missing_ok=True)
        return "the SHA-256 does not match what the server signed"
    vault.accept_blob(blob_id)
    return None


def check_listing(raw: Any) -> ReportListing:
    """Return the parts of one report's listing the vault keeps, checked for shape.

    Raises ValueError (or VaultError for an unsafe id) when something is malformed.
    """
    if not isinstance(raw, dict):
        raise ValueError("not an object")
    report: ReportListing = {
        "id": check_id(raw["id"], "report id"),
        "status": _text(raw.get("status", "")),
        "created_day": _day(raw.get("created_day")),
        "updated_day": _day(raw.get("updated_day")),
        "source_key": _text(raw["source_key"]),
        "recipients": [_recipient(r) for r in _list(raw.get("recipients", []))],
        "blobs": [check_blob(b) for b in _list(raw["blobs"])],
    }
    return report


def check_blob(raw: Any) -> BlobListing:
    """Return one blob of a listing, checked for shape; raise ValueError if malformed."""
    if not isinstance(raw, dict):
        raise ValueError("a blob is not an object")
    size = raw["size"]
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ValueError("a blob's size is not a number")
    sha256 = _text(raw["sha256"])
    if not _SHA256.fullmatch(sha256):
        raise ValueError("a blob's SHA-256 is malformed")
    kind = raw["kind"]
    if kind not in BLOB_KINDS:
        raise ValueError(f"unknown blob kind {kind!r}")
    return {
        "id": check_id(raw["id"], "blob id"),
        "kind": kind,
        "author": "reviewer" if raw.get("author") == "reviewer" else "source",
        "author_key": _optional_text(raw.get("author_key")),
        "size": size,
        "sha256": sha256,
        "receipt": _text(raw["receipt"]),
        "signature": _optional_text(raw.get("signature")),
        "created_day": _day(raw["created_day"]),
    }


def _recipient(raw: Any) -> RecipientListing:
    if not isinstance(raw, dict):
        raise ValueError("a recipient is not an object")
    return {
        "id": raw.get("id"),
        "name": _text(raw.get("name", "")),
        "box_key": _text(raw["box_key"]),
        "verify_key": _text(raw["verify_key"]),
    }


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError("expected a list")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 1000:
        raise ValueError("expected a short text")
    return value


def _optional_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def _day(value: Any) -> str:
    if not isinstance(value, str) or not _DAY.fullmatch(value):
        raise ValueError("expected a day (YYYY-MM-DD)")
    return value


def _measure(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()
