"""A reviewer's signature on a reply, so no one else (the server included) can forge one."""

from __future__ import annotations

from nacl.signing import SigningKey, VerifyKey

from crypto.signatures import Purpose, sign, verify


def reply_message(report_id: str, envelope_sha256: str) -> bytes:
    return f"amanat-reply-v1\n{report_id}\n{envelope_sha256}".encode()


def sign_reply(signing_key: SigningKey, report_id: str, envelope_sha256: str) -> bytes:
    """Sign the reply envelope with this SHA-256 as belonging to report_id."""
    return sign(signing_key, Purpose.REPLY, reply_message(report_id, envelope_sha256))


def verify_reply(
    verify_key: VerifyKey, report_id: str, envelope_sha256: str, signature: bytes
) -> None:
    """Return if the reviewer signed this reply for this report; raise BadSignatureError."""
    verify(verify_key, Purpose.REPLY, reply_message(report_id, envelope_sha256), signature)
