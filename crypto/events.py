"""A reviewer's signature on a case event, so no one else (the server included) can forge one.

The signature covers the report id and the SHA-256 of the sealed envelope,
exactly as a reply's does (crypto.replies), under its own purpose label: a
reply signature never passes for an event's, nor the other way round.
Version-1 signatures, over "amanat-case-event-v1" LF report id LF hex
digest, still verify; only version 2 (canonical JSON) is written.
"""

from __future__ import annotations

from nacl.signing import SigningKey, VerifyKey

from crypto import canonical
from crypto.signatures import Purpose, sign, verify_any

EVENT_SIGNATURE_VERSION = 2


def event_message(report_id: str, envelope_sha256: str) -> bytes:
    """The bytes an event signature covers (version 2)."""
    return canonical.encode(
        {"v": EVENT_SIGNATURE_VERSION, "report_id": report_id, "envelope_sha256": envelope_sha256}
    )


def legacy_event_message(report_id: str, envelope_sha256: str) -> bytes:
    """The bytes a version-1 event signature covered; accepted, never written."""
    return f"amanat-case-event-v1\n{report_id}\n{envelope_sha256}".encode()


def sign_event(signing_key: SigningKey, report_id: str, envelope_sha256: str) -> bytes:
    """Sign the event envelope with this SHA-256 as belonging to report_id."""
    return sign(signing_key, Purpose.CASE_EVENT, event_message(report_id, envelope_sha256))


def verify_event(
    verify_key: VerifyKey, report_id: str, envelope_sha256: str, signature: bytes
) -> None:
    """Return if the reviewer signed this event for this report; raise BadSignatureError."""
    messages = [
        event_message(report_id, envelope_sha256),
        legacy_event_message(report_id, envelope_sha256),
    ]
    verify_any(verify_key, Purpose.CASE_EVENT, messages, signature)
