"""Signed API requests: how a reviewer proves who sends a request to the server.

No passwords and no bearer tokens: every request carries the reviewer's
Ed25519 signature over its method, path, a timestamp, a nonce and the hash of
its body. The server checks the key is registered, the time is close to its
own, the nonce is new, and the signature holds.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass

from nacl.signing import SigningKey, VerifyKey

from crypto.errors import BadSignatureError
from crypto.signatures import Purpose, sign, verify

KEY_HEADER = "Amanat-Key"
TIMESTAMP_HEADER = "Amanat-Timestamp"
NONCE_HEADER = "Amanat-Nonce"
SIGNATURE_HEADER = "Amanat-Signature"
NONCE_BYTES = 16


def request_message(method: str, path: str, timestamp: int, nonce: str, body_sha256: str) -> bytes:
    """The bytes a request signature covers. path includes the query string, as sent."""
    parts = ["amanat-api-v1", method.upper(), path, str(timestamp), nonce, body_sha256]
    return "\n".join(parts).encode("utf-8")


def sign_request(
    signing_key: SigningKey, method: str, path: str, body: bytes, now: float | None = None
) -> dict[str, str]:
    """Return the four headers that authenticate this request."""
    timestamp = int(time.time() if now is None else now)
    nonce = os.urandom(NONCE_BYTES).hex()
    digest = hashlib.sha256(body).hexdigest()
    signature = sign(
        signing_key, Purpose.API_REQUEST, request_message(method, path, timestamp, nonce, digest)
    )
    return {
        KEY_HEADER: base64.b64encode(bytes(signing_key.verify_key)).decode("ascii"),
        TIMESTAMP_HEADER: str(timestamp),
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: base64.b64encode(signature).decode("ascii"),
    }


@dataclass(frozen=True)
class SignedRequest:
    """The authentication headers of a request, parsed but not yet trusted."""

    verify_key: bytes
    timestamp: int
    nonce: str
    signature: bytes

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> SignedRequest:
        """Parse the headers; raise BadSignatureError if any is missing or malformed."""
        try:
            verify_key = base64.b64decode(headers[KEY_HEADER], validate=True)
            timestamp = int(headers[TIMESTAMP_HEADER])
            nonce = headers[NONCE_HEADER]
            signature = base64.b64decode(headers[SIGNATURE_HEADER], validate=True)
        except (KeyError, ValueError, binascii.Error) as exc:
            raise BadSignatureError("the request is not signed") from exc
        if len(verify_key) != 32 or len(signature) != 64:
            raise BadSignatureError("the request's key or signature has the wrong length")
        if len(nonce) != 2 * NONCE_BYTES or any(c not in "0123456789abcdef" for c in nonce):
            raise BadSignatureError("the request's nonce is malformed")
        return cls(verify_key, timestamp, nonce, signature)

    def verify(self, method: str, path: str, body_sha256: str) -> None:
        """Return if the signature covers this request; raise BadSignatureError otherwise."""
        message = request_message(method, path, self.timestamp, self.nonce, body_sha256)
        verify(VerifyKey(self.verify_key), Purpose.API_REQUEST, message, self.signature)
