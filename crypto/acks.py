"""A reviewer's signed acknowledgement that a blob is in their vault, checked.

Retention (portal.retention) deletes a report only once every reviewer it is
sealed to has acknowledged every blob of it. The signature covers the blob id
and the SHA-256 the reviewer's machine measured on the file it keeps, so the
server cannot count a download that broke off, or a blob the vault refused.
The message is canonical JSON (version 2); version-1 acknowledgements, over
"amanat-delivery-ack-v1" LF blob id LF hex digest, still verify.
"""

from __future__ import annotations

from nacl.signing import SigningKey, VerifyKey

from crypto import canonical
from crypto.signatures import Purpose, sign, verify_any


def ack_message(blob_id: str, sha256: str) -> bytes:
    """The bytes an acknowledgement signature covers (version 2)."""
    return canonical.encode({"v": 2, "blob_id": blob_id, "sha256": sha256})


def legacy_ack_message(blob_id: str, sha256: str) -> bytes:
    """What a version-1 acknowledgement covered; accepted, never written."""
    return f"amanat-delivery-ack-v1\n{blob_id}\n{sha256}".encode()


def sign_ack(signing_key: SigningKey, blob_id: str, sha256: str) -> bytes:
    """Sign that the blob blob_id, whose ciphertext has this SHA-256, is held and checked."""
    return sign(signing_key, Purpose.DELIVERY_ACK, ack_message(blob_id, sha256))


def verify_ack(verify_key: VerifyKey, blob_id: str, sha256: str, signature: bytes) -> None:
    """Return if the reviewer acknowledged this blob with this SHA-256; raise BadSignatureError."""
    messages = [ack_message(blob_id, sha256), legacy_ack_message(blob_id, sha256)]
    verify_any(verify_key, Purpose.DELIVERY_ACK, messages, signature)
