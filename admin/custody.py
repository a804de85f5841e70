"""Evidence custody: a signed log of who decrypted, exported or shared each file,
a check of every file against the server's receipt and its manifest, and a
package for a lawyer.

The custody log is made of case events (admin/case_events.py, type "custody"), so
it is sealed, signed and shared like the rest of the case, and the server
cannot forge or drop an entry unnoticed by a reviewer who holds it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from nacl.signing import VerifyKey

from admin import evidence_page, roster
from admin.case import Case, load_case
from admin.case_events import submit_event, today
from admin.client import ApiClient
from admin.evidence_page import CustodyEntry, EventSignature, PackedFile
from admin.evidence_verify import STATEMENT, STATEMENT_SIGNATURE
from admin.listing_types import BlobListing
from admin.vault import Vault, VaultError
from crypto.envelope import Kind, Opener
from crypto.errors import BadSignatureError, EnvelopeError, MalformedError
from crypto.manifest import Manifest
from crypto.receipts import Receipt, verify_receipt
from crypto.signatures import Purpose, sign

_CHUNK = 1024 * 1024


def record_custody(
    vault: Vault, client: ApiClient | None, report_id: str, blob_id: str, action: str
) -> bool:
    """Write a custody event (decrypt, export or share of a file) to the case.

    The event is sealed, signed and posted; if the server cannot be reached
    (or client is None) it is queued in the vault and posted at the next
    sync. Returns True if it was posted now. Raises ClientError if the
    server refuses it, CaseError for an unknown action.
    """
    manifest = vault.manifest_if_known(blob_id)
    if manifest is None:
        manifest = vault.manifest(blob_id)
    data = {"action": action, "blob_id": blob_id, "sha256": manifest.sha256}
    _, posted = submit_event(vault, client, report_id, "custody", data)
    return posted


# -- verify ------------------------------------------------------------------------


@dataclass
class FileCheck:
    """What holds for one file: the receipt, the ciphertext and the plaintext."""

    blob_id: str
    filename: str | None = None
    receipt: str = "not checked"
    ciphertext: str = "not checked"
    plaintext: str = "not checked"
    manifest_sha256: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _receipt_key(vault: Vault) -> VerifyKey:
    if not vault.receipt_key:
        raise VaultError("no server receipt key is pinned yet; run sync first")
    return VerifyKey(base64.b64decode(vault.receipt_key))


def check_receipt(key: VerifyKey, report_id: str, blob: BlobListing) -> None:
    """Return if the server's receipt covers this blob as listed; raise BadSignatureError."""
    receipt = Receipt.from_listing(report_id, blob)
    try:
        signature = base64.b64decode(str(blob.get("receipt")), validate=True)
    except (ValueError, binascii.Error) as exc:
        raise BadSignatureError("the receipt is not base64") from exc
    verify_receipt(key, receipt, signature)


def _hash_file(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def verify_file(vault: Vault, report_id: str, blob: BlobListing, key: VerifyKey) -> FileCheck:
    """Check one file's receipt, its ciphertext on disk and its plaintext against the manifest."""
    check = FileCheck(blob_id=blob["id"])
    try:
        check_receipt(key, report_id, blob)
        check.receipt = "the server's signed receipt holds for this report, size and SHA-256"
    except BadSignatureError:
        check.receipt = "FORGED OR ALTERED: the receipt does not verify with the pinned key"
        check.problems.append("receipt")
    path = vault.blob_path(blob["id"])
    if not path.is_file():
        check.ciphertext = "MISSING: not in the vault (run sync)"
        check.problems.append("missing")
        return check
    size, digest = _hash_file(path)
    if (size, digest) == (blob["size"], blob["sha256"]):
        check.ciphertext = "the ciphertext on disk is exactly what the server signed"
    else:
        check.ciphertext = "CHANGED: the ciphertext on disk is not what the receipt covers"
        check.problems.append("ciphertext")
    _check_plaintext(path, vault, check)
    return check


def _check_plaintext(path: Path, vault: Vault, check: FileCheck) -> None:
    # The opener is used directly (not FileOpener) so a mismatch can say what was found.
    digest = hashlib.sha256()
    size = 0
    try:
        with open(path, "rb") as src:
            opener = Opener(src, vault.key.box, Kind.FILE)
            for chunk in opener.chunks():
                digest.update(chunk)
                size += len(chunk)
            manifest = Manifest.from_bytes(opener.trailer or b"", strict=opener.version >= 2)
    except (EnvelopeError, MalformedError) as exc:
        check.plaintext = f"DOES NOT OPEN: {exc}"
        check.problems.append("envelope")
        return
    check.filename = manifest.filename
    check.manifest_sha256 = manifest.sha256
    if (manifest.size, manifest.sha256) == (size, digest.hexdigest()):
        check.plaintext = f"the plaintext matches its manifest: SHA-256 {manifest.sha256}"
    else:
        check.plaintext = (
            f"ALTERED: the manifest says SHA-256 {manifest.sha256} ({manifest.size} bytes), "
            f"the content is {digest.hexdigest()} ({size} bytes)"
        )
        check.problems.append("manifest")


def verify_report(vault: Vault, report_id: str) -> list[FileCheck]:
    """Check every file of the report. Raises UnknownReportError (no such report) or VaultError."""
    key = _receipt_key(vault)
    blobs = [b for b in vault.report(report_id).blobs if b["kind"] == "file"]
    return [verify_file(vault, report_id, b, key) for b in blobs]


# -- the evidence package --------------------------------------------------------------


def build_evidence(vault: Vault, report_id: str, out: Path) -> list[PackedFile]:
    """Write the evidence package to out (a zip that appears only when complete).

    Every file is decrypted and verified against its manifest on the way in;
    raises VaultError if any does not verify (nothing is written then).
    Returns the manifest entries.
    """
    report = vault.report(report_id)
    key = _receipt_key(vault)
    out = Path(out)
    tmp = out.with_name(f".{out.name}.{os.urandom(6).hex()}.partial")
    entries: list[PackedFile] = []
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as package:
            for blob in (b for b in report.blobs if b["kind"] == "file"):
                entries.append(_add_file(vault, report_id, blob, key, package))
            _add_logs(vault, report_id, package, entries)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return entries


def _add_file(
    vault: Vault, report_id: str, blob: BlobListing, key: VerifyKey, package: zipfile.ZipFile
) -> PackedFile:
    check = verify_file(vault, report_id, blob, key)
    if not check.ok:
        raise VaultError(f"file {blob['id']} does not verify ({', '.join(check.problems)})")
    manifest = vault.manifest(blob["id"])
    name = f"files/{blob['id'][:12]}-{_safe_name(manifest.filename)}"
    opener = vault.open_file(blob["id"])
    try:
        with package.open(name, "w", force_zip64=True) as dst:
            for chunk in opener.chunks():
                dst.write(chunk)
    except EnvelopeError as exc:
        raise VaultError(f"file {blob['id']} failed to verify while packing: {exc}") from exc
    package.write(vault.blob_path(blob["id"]), f"sealed/{blob['id']}")
    return PackedFile(
        path=name,
        filename=manifest.filename,
        content_type=manifest.content_type,
        size=manifest.size,
        sha256=manifest.sha256,
        blob_id=blob["id"],
        ciphertext_sha256=blob["sha256"],
        ciphertext_size=blob["size"],
        received_day=blob["created_day"],
        receipt=blob["receipt"],
    )


def _add_logs(
    vault: Vault, report_id: str, package: zipfile.ZipFile, entries: list[PackedFile]
) -> None:
    custody = _custody_log(load_case(vault, report_id))
    signatures = _event_signatures(vault.event_blobs(report_id))
    for event in vault.event_blobs(report_id):
        if vault.blob_path(event["id"]).exists():
            # The events' signatures cover these ciphertexts: without them
            # nobody outside the case could check a signature.
            package.write(vault.blob_path(event["id"]), f"events/{event['id']}")
    report_json = {"report_id": report_id, "files": entries}
    package.writestr("manifest.json", _json(report_json))
    package.writestr("custody_log.json", _json(custody))
    package.writestr("events.json", _json(signatures))
    package.writestr("receipt_key.txt", f"{vault.receipt_key}\n")
    _add_statement(vault, report_id, package, entries, custody, signatures)
    page = evidence_page.VERIFY.format(report_id=report_id, day=today(), reviewer=vault.key.name)
    package.writestr("VERIFY.txt", page)
    package.writestr("README.txt", page)
    package.writestr("verify_package.py", evidence_page.SCRIPT)


def _custody_log(case: Case) -> list[CustodyEntry]:
    """The case's custody events, each with its author and whether it holds."""
    return [
        CustodyEntry(
            day=item.event["day"],
            by=item.author_name,
            author_key=item.event["author"],
            status=item.status,
            # The data of a custody event is exactly these three (case_vocab.SCHEMAS).
            action=item.event["data"]["action"],
            blob_id=item.event["data"]["blob_id"],
            sha256=item.event["data"]["sha256"],
        )
        for item in case.history
        if item.event is not None and item.event["type"] == "custody"
    ]


def _event_signatures(blobs: list[BlobListing]) -> list[EventSignature]:
    return [
        EventSignature(
            blob_id=b["id"],
            author_key=b.get("author_key"),
            signature=b.get("signature"),
            ciphertext_sha256=b["sha256"],
            receipt=b["receipt"],
        )
        for b in blobs
    ]


def _add_statement(
    vault: Vault,
    report_id: str,
    package: zipfile.ZipFile,
    entries: list[PackedFile],
    custody: list[CustodyEntry],
    signatures: list[EventSignature],
) -> None:
    """The statement the packer signs, its signature, and the packer's public keys."""
    entry = _roster_entry(vault, package)
    statement = evidence_page.statement(
        report_id,
        today(),
        vault.key.bundle().to_dict(),
        vault.receipt_key or "",
        entries,
        custody,
        signatures,
        entry,
    )
    package.writestr(STATEMENT, statement)
    signature = sign(vault.key.signing, Purpose.EVIDENCE, statement)
    package.writestr(STATEMENT_SIGNATURE, base64.b64encode(signature).decode("ascii"))
    package.writestr("packer.bundle.json", vault.key.bundle().to_json())


def _roster_entry(vault: Vault, package: zipfile.ZipFile) -> dict[str, Any] | None:
    """Add the pinned roster to the package; return the packer's entry in it, if any.

    With it a reader sees the packer is a member without asking anyone but
    the organisation for its key.
    """
    pinned = roster.pinned_roster(vault)
    if pinned is None:
        return None
    package.writestr("roster.json", _json(pinned.to_dict()))
    own_key = base64.b64encode(bytes(vault.key.signing.verify_key)).decode("ascii")
    member = pinned.member(own_key)
    return member.to_dict() if member is not None else None


def _safe_name(filename: str) -> str:
    """The file's own name, without a path, for a zip member (manifest.json keeps the original)."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in ':*?"<>|')
    return name.strip(" .")[:120] or "file"


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def checks_json(checks: list[FileCheck]) -> list[dict[str, Any]]:
    return [{**asdict(c), "ok": c.ok} for c in checks]
