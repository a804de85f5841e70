"""Intake receipts: the server's signature over what arrived, and when.

The server signs each blob's ciphertext SHA-256 as it is stored. A reviewer
who later holds the ciphertext, the receipt and the server's public key can
show that these exact bytes reached the server on that day, in that report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from nacl.signing import SigningKey, VerifyKey

from crypto import canonical
from crypto.signatures import Purpose, sign, verify

RECEIPT_VERSION = 1


@dataclass(frozen=True)
class Receipt:
    """The facts a receipt covers."""

    blob_id: str
    report_id: str
    kind: str
    size: int
    sha256: str
    day: str  # ISO date, UTC

    @classmethod
    def from_listing(cls, report_id: str, blob: Mapping[str, Any]) -> Receipt:
        """The facts a listed blob's receipt must cover (docs/API.md, the report listing)."""
        return cls(
            blob_id=blob["id"],
            report_id=report_id,
            kind=blob["kind"],
            size=blob["size"],
            sha256=blob["sha256"],
            day=blob["created_day"],
        )

    def message(self) -> bytes:
        body = {"v": RECEIPT_VERSION, **asdict(self)}
        return canonical.encode(body)


def sign_receipt(signing_key: SigningKey, receipt: Receipt) -> bytes:
    """Return the server's 64-byte signature over receipt."""
    return sign(signing_key, Purpose.RECEIPT, receipt.message())


def verify_receipt(verify_key: VerifyKey, receipt: Receipt, signature: bytes) -> None:
    """Return if the signature covers exactly these facts; raise BadSignatureError otherwise."""
    verify(verify_key, Purpose.RECEIPT, receipt.message(), signature)
