"""Check an evidence package with nothing but the package and the public keys it names.

No vault, no key file, no server: what a lawyer, a court expert or another
organisation runs (`amanat-admin verify-package`). The package's
statement.json is signed by the reviewer who packed it; it names every file
with its plaintext and ciphertext SHA-256, the server's receipt, and the
custody log that reviewer decrypted. docs/PROTOCOL.md section 8 gives the
formats; VERIFY.txt inside the package explains the same checks for sha256sum.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nacl.signing import VerifyKey

from crypto import canonical
from crypto.errors import BadBundleError, BadSignatureError, CryptoError
from crypto.events import verify_event
from crypto.keys import RecipientBundle
from crypto.receipts import Receipt, verify_receipt
from crypto.roster import RosterError, from_signed, organisation_fingerprint
from crypto.signatures import Purpose, verify

STATEMENT = "statement.json"
STATEMENT_SIGNATURE = "statement.sig"
PACKAGE_FORMAT = "amanat-evidence-package"
PACKAGE_VERSION = 1


@dataclass
class PackageCheck:
    """What held and what did not; problems name the member and the reason."""

    report_id: str | None = None
    packer: str | None = None
    packer_fingerprint: str | None = None
    receipt_key: str | None = None
    organisation_fingerprint: str | None = None
    files_checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _sha256(package: zipfile.ZipFile, name: str) -> tuple[int, str] | None:
    try:
        info = package.getinfo(name)
    except KeyError:
        return None
    digest = hashlib.sha256()
    with package.open(info) as src:
        while chunk := src.read(1024 * 1024):
            digest.update(chunk)
    return info.file_size, digest.hexdigest()


def verify_package(path: Path, receipt_key: str | None = None) -> PackageCheck:
    """Check everything the package claims; never raises for a bad package.

    receipt_key (base64), if given, must be the server key the package names.
    """
    check = PackageCheck()
    try:
        with zipfile.ZipFile(path) as package:
            statement = _signed_statement(package, check)
            if statement is not None:
                _check_contents(package, statement, check, receipt_key)
    except (OSError, zipfile.BadZipFile) as exc:
        check.problems.append(f"the package cannot be read: {exc}")
    return check


def _signed_statement(package: zipfile.ZipFile, check: PackageCheck) -> dict[str, Any] | None:
    try:
        data = package.read(STATEMENT)
        signature = base64.b64decode(package.read(STATEMENT_SIGNATURE), validate=True)
        statement: dict[str, Any] = canonical.parse(data)
        if statement.get("format") != PACKAGE_FORMAT or statement.get("v") != PACKAGE_VERSION:
            raise ValueError("not an evidence package statement of version 1")
        packer = RecipientBundle.from_dict(statement["packer"])
    except (KeyError, ValueError, AttributeError, binascii.Error, BadBundleError) as exc:
        check.problems.append(f"{STATEMENT}: missing or malformed ({exc})")
        return None
    check.packer, check.packer_fingerprint = packer.name, packer.fingerprint
    try:
        verify(packer.verify_key, Purpose.EVIDENCE, data, signature)
    except BadSignatureError:
        check.problems.append(
            f"{STATEMENT}: the packer's signature does not verify: the file list "
            "or the custody log was changed after packing"
        )
        return None
    return statement


def _check_contents(
    package: zipfile.ZipFile,
    statement: dict[str, Any],
    check: PackageCheck,
    expected_key: str | None,
) -> None:
    check.report_id = statement["report_id"]
    check.receipt_key = statement["receipt_key"]
    if expected_key is not None and expected_key != check.receipt_key:
        check.problems.append("the package names another server receipt key than the one given")
    server = VerifyKey(base64.b64decode(statement["receipt_key"]))
    for entry in statement["files"]:
        _check_file(package, statement["report_id"], server, entry, check)
    try:
        shown = json.loads(package.read("custody_log.json"))
    except (KeyError, ValueError):
        shown = None
    if shown != statement["custody"]:
        check.problems.append("custody_log.json: differs from the signed statement")
    for event in statement["events"]:
        _check_event(package, statement["report_id"], event, check)
    _check_roster(package, statement, check)


def _check_roster(package: zipfile.ZipFile, statement: dict[str, Any], check: PackageCheck) -> None:
    entry = statement.get("roster_entry")
    try:
        data = json.loads(package.read("roster.json"))
    except KeyError:
        if entry is not None:
            check.problems.append("roster.json: missing, though the statement names a roster entry")
        return
    except ValueError:
        check.problems.append("roster.json: not JSON")
        return
    try:
        roster = from_signed(data)
    except RosterError as exc:
        check.problems.append(f"roster.json: {exc}")
        return
    organisation = VerifyKey(base64.b64decode(roster.organisation_key))
    check.organisation_fingerprint = organisation_fingerprint(organisation)
    member = roster.member(statement["packer"]["verify_key"])
    if member is None or member.to_dict() != entry:
        check.problems.append("roster.json: the packer is not the member the statement names")


def _check_file(
    package: zipfile.ZipFile,
    report_id: str,
    server: VerifyKey,
    entry: dict[str, Any],
    check: PackageCheck,
) -> None:
    check.files_checked += 1
    found = _sha256(package, entry["path"])
    if found != (entry["size"], entry["sha256"]):
        check.problems.append(
            f"{entry['path']}: the file's SHA-256 is not the one the signed statement names"
        )
    sealed = f"sealed/{entry['blob_id']}"
    if _sha256(package, sealed) != (entry["ciphertext_size"], entry["ciphertext_sha256"]):
        check.problems.append(f"{sealed}: the ciphertext is not the one the receipt covers")
    receipt = Receipt(
        blob_id=entry["blob_id"],
        report_id=report_id,
        kind="file",
        size=entry["ciphertext_size"],
        sha256=entry["ciphertext_sha256"],
        day=entry["received_day"],
    )
    try:
        signature = base64.b64decode(entry["receipt"], validate=True)
        verify_receipt(server, receipt, signature)
    except (ValueError, binascii.Error, CryptoError):
        check.problems.append(
            f"{entry['path']}: the server's receipt does not verify under the receipt key"
        )


def _check_event(
    package: zipfile.ZipFile, report_id: str, event: dict[str, Any], check: PackageCheck
) -> None:
    name = f"events/{event['blob_id']}"
    found = _sha256(package, name)
    if found is None:
        return  # not held by the packer: listed, but not checkable here
    if found[1] != event["ciphertext_sha256"]:
        check.problems.append(f"{name}: the event's ciphertext is not the one listed")
        return
    try:
        key = VerifyKey(base64.b64decode(event["author_key"], validate=True))
        signature = base64.b64decode(event["signature"], validate=True)
        verify_event(key, report_id, found[1], signature)
    except (ValueError, TypeError, binascii.Error, CryptoError):
        check.problems.append(f"{name}: its author's signature does not verify")
