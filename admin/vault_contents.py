"""What the vault's blobs say, opened in memory: answers, the conversation and files.

Nothing decrypted is written here: answers, messages and replies are opened
when asked for, and files are streamed to the caller or exported only where
the reviewer says. A reply shows as a reviewer's only if its signature holds
and the organisation's roster (admin.roster) vouches for the key.
"""

from __future__ import annotations

import binascii
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from nacl.signing import VerifyKey

from admin import roster
from admin.listing_types import BlobListing
from admin.vault_errors import DamagedVaultError, VaultError, check_id
from crypto.encoding import from_b64, to_b64
from crypto.envelope import Kind, open_bytes
from crypto.errors import BadSignatureError, EnvelopeError
from crypto.keys import ReviewerKey
from crypto.manifest import FileOpener, Manifest
from crypto.manifest import export_file as _export_file
from crypto.replies import verify_reply

if TYPE_CHECKING:
    from admin.vault import Vault

NOT_A_REVIEWER = "signed by a key that is not one of this report's reviewers"


@dataclass(frozen=True)
class Entry:
    """One message of a conversation, opened in memory.

    text is None when the blob is not in the vault or does not open; for a
    reviewer's reply, verified is False when its signature does not hold, and
    its text must then not be presented as that reviewer's.
    """

    blob_id: str
    kind: str  # "message" (from the source) or "reply" (from a reviewer)
    author: str  # "source" or "reviewer"
    day: str
    text: str | None
    verified: bool
    author_name: str | None = None
    problem: str | None = None
    # For a reply, what the organisation's roster says of its author
    # (admin.roster.Author.status): "roster", "unlisted", "revoked",
    # "not_on_roster"; "bad_signature" when the signature fails.
    author_check: str | None = None


@dataclass(frozen=True)
class FileEntry:
    """An evidence file: what the listing says of its ciphertext, and the manifest once known."""

    blob_id: str
    size: int
    sha256: str
    day: str
    author: str
    present: bool
    manifest: Manifest | None = None


class _ClosingFileOpener(FileOpener):
    """A FileOpener that closes the vault file it reads once chunks() ends."""

    def __init__(self, src: BinaryIO, key: ReviewerKey) -> None:
        self._file = src
        try:
            super().__init__(src, key.box)
        except BaseException:
            src.close()
            raise

    def chunks(self):  # type: ignore[no-untyped-def]
        try:
            yield from super().chunks()
        finally:
            self._file.close()

    def close(self) -> None:
        self._file.close()


def answers(vault: Vault, report_id: str) -> dict[str, Any]:
    """The source's questionnaire answers, opened in memory."""
    report = vault.report(report_id)
    blob = next((b for b in report.blobs if b["kind"] == "answers"), None)
    if blob is None:
        raise VaultError(f"report {report_id} has no answers")
    try:
        content = open_bytes(vault.read_blob(blob["id"]), vault.key.box, Kind.REPORT).content
        found = json.loads(content.decode("utf-8"))
    except EnvelopeError as exc:
        raise DamagedVaultError(f"the answers of report {report_id} do not open") from exc
    except ValueError as exc:
        raise DamagedVaultError(f"the answers of report {report_id} are unreadable") from exc
    if not isinstance(found, dict):
        raise DamagedVaultError(f"the answers of report {report_id} are unreadable")
    return found


def conversation(vault: Vault, report_id: str) -> list[Entry]:
    """The source's follow-ups and reviewers' replies, oldest first, opened in memory."""
    report = vault.report(report_id)
    reviewers = {r.get("verify_key"): r.get("name") for r in report.recipients}
    entries: list[Entry] = []
    for blob in report.blobs:
        if blob["kind"] == "message":
            entries.append(_message(vault, blob, Kind.MESSAGE))
        elif blob["kind"] == "reply":
            entries.append(_reply(vault, report_id, blob, reviewers))
    entries.sort(key=lambda e: e.day)  # stable: same-day entries keep the server's order
    return entries


def _open_text(vault: Vault, blob: BlobListing, kind: Kind) -> tuple[str | None, str | None]:
    if not vault.has_blob(blob["id"]):
        return None, "not in the vault yet (run sync)"
    try:
        content = open_bytes(vault.read_blob(blob["id"]), vault.key.box, kind).content
        return content.decode("utf-8"), None
    except (EnvelopeError, UnicodeDecodeError):
        return None, "does not open with this key (damaged or not sealed to you)"


def _message(vault: Vault, blob: BlobListing, kind: Kind) -> Entry:
    text, problem = _open_text(vault, blob, kind)
    return Entry(
        blob_id=blob["id"],
        kind=blob["kind"],
        author=blob.get("author", "source"),
        day=blob.get("created_day", ""),
        text=text,
        verified=problem is None,
        problem=problem,
    )


def _reply(vault: Vault, report_id: str, blob: BlobListing, reviewers: dict[Any, Any]) -> Entry:
    entry = _message(vault, blob, Kind.REPLY)
    if entry.text is None:
        return entry
    author_key = blob.get("author_key")
    own_keys = {to_b64(bytes(vault.key.signing.verify_key)), *vault.former_verify_keys()}
    author = roster.author_of(vault, author_key, blob["id"])
    if author.status == "unlisted" and author_key not in own_keys | set(reviewers):
        author = roster.Author("not_on_roster", None, NOT_A_REVIEWER)
    if not author.trusted:
        return _unverified(entry, author.problem, author.status, author.label)
    try:
        verify_reply(
            VerifyKey(from_b64(author_key)),
            report_id,
            signed_digest(vault, blob),
            from_b64(blob.get("signature")),
        )
    except (BadSignatureError, ValueError, TypeError, binascii.Error):
        problem = "the reviewer's signature does not verify"
        return _unverified(entry, problem, "bad_signature", author.label)
    name = author.label or (vault.key.name if author_key in own_keys else None)
    name = name or reviewers.get(author_key)
    return Entry(**{**entry.__dict__, "author_name": name, "author_check": author.status})


def signed_digest(vault: Vault, blob: BlobListing) -> str:
    """The SHA-256 a reply's or event's signature covers: the ciphertext as the server received it.

    A blob re-sealed to a new key (admin.rekey) is no longer those bytes;
    if it is still the file the re-sealing wrote, the digest the server's
    receipt vouched for at sync stands in for it.
    """
    digest = hashlib.sha256(vault.read_blob(blob["id"])).hexdigest()
    if vault.resealed_digest(blob["id"]) == digest:
        return str(blob["sha256"])
    return digest


def _unverified(entry: Entry, problem: str | None, check: str, label: str | None = None) -> Entry:
    changes = {"verified": False, "problem": problem, "author_check": check, "author_name": label}
    return Entry(**{**entry.__dict__, **changes})


def files(vault: Vault, report_id: str) -> list[FileEntry]:
    """The report's evidence files (ciphertext facts; the manifest once it is cached)."""
    report = vault.report(report_id)
    return [
        FileEntry(
            blob_id=b["id"],
            size=b["size"],
            sha256=b["sha256"],
            day=b.get("created_day", ""),
            author=b.get("author", "source"),
            present=vault.has_blob(b["id"]),
            manifest=vault.manifest_if_known(b["id"]),
        )
        for b in report.blobs
        if b["kind"] == "file"
    ]


def _file_blob(vault: Vault, blob_id: str) -> None:
    if vault.blob_kind(check_id(blob_id, "blob id")) != "file":
        raise VaultError(f"blob {blob_id} is not a file")


def open_file(vault: Vault, blob_id: str) -> FileOpener:
    """A streaming opener for a file; its chunks() closes the vault file when done.

    As with any FileOpener, output is proven whole only when chunks() ends
    without raising: on an exception, discard everything streamed.
    """
    _file_blob(vault, blob_id)
    try:
        src = open(vault.blob_path(blob_id), "rb")  # noqa: SIM115 - closed by the opener
    except FileNotFoundError as exc:
        raise VaultError(f"file {blob_id} is not in the vault yet; run sync") from exc
    try:
        return _ClosingFileOpener(src, vault.key)
    except EnvelopeError as exc:
        raise DamagedVaultError(f"file {blob_id} does not open with this key") from exc


def read_manifest(vault: Vault, blob_id: str) -> Manifest:
    """Decrypt the file once, discarding the output, to learn its manifest."""
    opener = open_file(vault, blob_id)
    try:
        for _ in opener.chunks():
            pass
    except EnvelopeError as exc:
        raise DamagedVaultError(f"file {blob_id} is damaged: {exc}") from exc
    assert opener.manifest is not None  # noqa: S101 - chunks() sets it when it ends
    return opener.manifest


def export_file(vault: Vault, blob_id: str, out: Path) -> Manifest:
    """Decrypt a file to out; out appears only if the whole file verifies."""
    _file_blob(vault, blob_id)
    try:
        with open(vault.blob_path(blob_id), "rb") as src:
            return _export_file(src, Path(out), vault.key.box)
    except FileNotFoundError as exc:
        raise VaultError(f"file {blob_id} is not in the vault yet; run sync") from exc
    except EnvelopeError as exc:
        raise DamagedVaultError(f"file {blob_id} is damaged: {exc}") from exc
