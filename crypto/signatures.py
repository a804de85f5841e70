"""Detached Ed25519 signatures with domain separation.

Each signature covers a purpose label as well as the message, so a signature
made for one purpose (say, a reply) never verifies for another (say, an API
request), even over the same bytes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from nacl.exceptions import BadSignatureError as NaclBadSignature
from nacl.signing import SigningKey, VerifyKey

from crypto import canonical
from crypto.errors import BadSignatureError

_DOMAIN = b"amanat-signature-v1"
SIGNATURE_BYTES = 64


class Purpose(enum.Enum):
    """What a signature is for. The value is part of the signed bytes."""

    API_REQUEST = "api-request"
    REPLY = "reply"
    CASE_EVENT = "case-event"
    RECEIPT = "receipt"
    BUNDLE = "recipient-bundle"
    EVIDENCE = "evidence-package"
    # "status" was listed in version 1 and never used: a report's status is
    # server-side workflow data the server can change anyway, and PUT
    # /status is already authenticated by the request signature. The label
    # stays retired: no new purpose may take it.
    DELIVERY_ACK = "delivery-ack"
    ROSTER = "organisation-roster"
    MEDIA_BUNDLE = "media-bundle"


def _signed_bytes(purpose: Purpose, message: bytes) -> bytes:
    label = purpose.value.encode("ascii")
    return _DOMAIN + b"\x00" + bytes([len(label)]) + label + b"\x00" + message


def sign(signing_key: SigningKey, purpose: Purpose, message: bytes) -> bytes:
    """Return a 64-byte detached signature over purpose and message."""
    return signing_key.sign(_signed_bytes(purpose, message)).signature


def verify(verify_key: VerifyKey, purpose: Purpose, message: bytes, signature: bytes) -> None:
    """Return if the signature holds for this key, purpose and message; raise otherwise.

    Raises BadSignatureError; never returns False.
    """
    if len(signature) != SIGNATURE_BYTES:
        raise BadSignatureError("a signature is 64 bytes")
    try:
        verify_key.verify(_signed_bytes(purpose, message), signature)
    except NaclBadSignature as exc:
        raise BadSignatureError(f"the {purpose.value} signature does not verify") from exc


def verify_any(
    verify_key: VerifyKey, purpose: Purpose, messages: list[bytes], signature: bytes
) -> None:
    """Return if the signature holds over one of messages (the current form, then older ones).

    For formats whose older versions bind exactly the same facts: accepting
    them admits nothing the current form would refuse. Raises BadSignatureError.
    """
    for message in messages[:-1]:
        try:
            verify(verify_key, purpose, message, signature)
        except BadSignatureError:
            continue
        return
    verify(verify_key, purpose, messages[-1], signature)


@dataclass(frozen=True)
class ReportEnvelopeSignature:
    """A signature binding one sealed envelope (its SHA-256 in hex) to one report.

    Replies (crypto.replies) and case events (crypto.events) are signed alike,
    each under its own purpose: the canonical JSON of the version, the report
    id and the digest. Version-1 signatures, over legacy_label LF report id LF
    hex digest, still verify (they bind the same two facts); only the current
    version is written.
    """

    purpose: Purpose
    version: int
    legacy_label: str

    def message(self, report_id: str, envelope_sha256: str) -> bytes:
        """The bytes a signature of this version covers."""
        return canonical.encode(
            {"v": self.version, "report_id": report_id, "envelope_sha256": envelope_sha256}
        )

    def legacy_message(self, report_id: str, envelope_sha256: str) -> bytes:
        """The bytes a version-1 signature covered; accepted, never written."""
        return f"{self.legacy_label}\n{report_id}\n{envelope_sha256}".encode()

    def sign(self, signing_key: SigningKey, report_id: str, envelope_sha256: str) -> bytes:
        """Sign the envelope with this SHA-256 as belonging to report_id."""
        return sign(signing_key, self.purpose, self.message(report_id, envelope_sha256))

    def verify(
        self, verify_key: VerifyKey, report_id: str, envelope_sha256: str, signature: bytes
    ) -> None:
        """Return if the key signed this envelope for this report; raise BadSignatureError."""
        messages = [
            self.message(report_id, envelope_sha256),
            self.legacy_message(report_id, envelope_sha256),
        ]
        verify_any(verify_key, self.purpose, messages, signature)
