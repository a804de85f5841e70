"""A reviewer's signature on a reply, so no one else (the server included) can forge one.

The signed message (docs/PROTOCOL.md, "Replies and case events") is the
canonical JSON of the report id and the reply envelope's SHA-256 in hex.
Version-1 signatures, over "amanat-reply-v1" LF report id LF hex digest,
still verify; only version 2 is written.
"""

from __future__ import annotations

from nacl.signing import SigningKey, VerifyKey

from crypto import canonical
from crypto.signatures import Purpose, sign, verify_any

REPLY_VERSION = 2


def reply_message(report_id: str, envelope_sha256: str) -> bytes:
    """The bytes a reply signature covers (version 2)."""
    return canonical.encode(
        {"v": REPLY_VERSION, "report_id": report_id, "envelope_sha256": envelope_sha256}
    )


def legacy_reply_message(report_id: str, envelope_sha256: str) -> bytes:
    """The bytes a version-1 reply signature covered; accepted, never written."""
    return f"amanat-reply-v1\n{report_id}\n{envelope_sha256}".encode()


def sign_reply(signing_key: SigningKey, report_id: str, envelope_sha256: str) -> bytes:
    """Sign the reply envelope with this SHA-256 as belonging to report_id."""
    return sign(signing_key, Purpose.REPLY, reply_message(report_id, envelope_sha256))


def verify_reply(
    verify_key: VerifyKey, report_id: str, envelope_sha256: str, signature: bytes
) -> None:
    """Return if the reviewer signed this reply for this report; raise BadSignatureError."""
    messages = [
        reply_message(report_id, envelope_sha256),
        legacy_reply_message(report_id, envelope_sha256),
    ]
    verify_any(verify_key, Purpose.REPLY, messages, signature)
