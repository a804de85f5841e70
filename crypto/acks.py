"""A reviewer's signed acknowledgement that a blob is in their vault, checked.

Retention (portal.retention) deletes a report only once every reviewer it is
sealed to has acknowledged every blob of it. The signature covers the blob id
and the SHA-256 the reviewer's machine measured on the file it keeps, so the
server cannot count a download that broke off, or a blob the vault refused.
"""

from __future__ import annotations

from nacl.signing import SigningKey, VerifyKey

from crypto.signatures import Purpose, sign, verify


def ack_message(blob_id: str, sha256: str) -> bytes:
    return f"amanat-delivery-ack-v1\n{blob_id}\n{sha256}".encode()


def sign_ack(signing_key: SigningKey, blob_id: str, sha256: str) -> bytes:
    """Sign that the blob blob_id, whose ciphertext has this SHA-256, is held and checked."""
    return sign(signing_key, Purpose.DELIVERY_ACK, ack_message(blob_id, sha256))


def verify_ack(verify_key: VerifyKey, blob_id: str, sha256: str, signature: bytes) -> None:
    """Return if the reviewer acknowledged this blob with this SHA-256; raise BadSignatureError."""
    verify(verify_key, Purpose.DELIVERY_ACK, ack_message(blob_id, sha256), signature)
