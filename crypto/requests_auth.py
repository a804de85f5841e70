"""Signed API requests: how a reviewer proves who sends a request to the server.

No passwords and no bearer tokens: every request carries the reviewer's
Ed25519 signature over its method, its request target exactly as sent (path
and query, percent-escapes and all), the server's identity (its receipt key),
a timestamp, a nonce and the hash of its body. The server checks the key is
registered, the time is close to its own, the signature holds over what it
received, and the nonce is new. A request signed for one path or one server
verifies on no other. Version-1 signatures (decoded path, no server) are
refused: the Amanat-Signature-Version header must say 2.
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

from crypto import canonical
from crypto.errors import BadSignatureError
from crypto.signatures import Purpose, sign, verify

KEY_HEADER = "Amanat-Key"
TIMESTAMP_HEADER = "Amanat-Timestamp"
NONCE_HEADER = "Amanat-Nonce"
SIGNATURE_HEADER = "Amanat-Signature"
VERSION_HEADER = "Amanat-Signature-Version"
REQUEST_SIGNATURE_VERSION = 2
NONCE_BYTES = 16


class OldSignatureVersionError(BadSignatureError):
    """The request is signed in a form this server no longer accepts (version 1)."""


@dataclass(frozen=True)
class RequestFacts:
    """What a request signature binds; target is the raw request target as sent."""

    method: str
    target: str
    server: str  # base64 of the server's Ed25519 receipt key
    timestamp: int
    nonce: str
    body_sha256: str

    def message(self) -> bytes:
        """The bytes a request signature covers (docs/PROTOCOL.md, "API requests")."""
        return canonical.encode(
            {
                "v": REQUEST_SIGNATURE_VERSION,
                "method": self.method.upper(),
                "target": self.target,
                "server": self.server,
                "timestamp": self.timestamp,
                "nonce": self.nonce,
                "body_sha256": self.body_sha256,
            }
        )


def sign_request(
    signing_key: SigningKey,
    method: str,
    target: str,
    body: bytes,
    server: str,
    now: float | None = None,
) -> dict[str, str]:
    """Return the headers that authenticate this request to this server.

    target is the request target exactly as it goes on the wire (path and
    query, not decoded); server is the base64 receipt key of the server.
    """
    facts = RequestFacts(
        method=method,
        target=target,
        server=server,
        timestamp=int(time.time() if now is None else now),
        nonce=os.urandom(NONCE_BYTES).hex(),
        body_sha256=hashlib.sha256(body).hexdigest(),
    )
    signature = sign(signing_key, Purpose.API_REQUEST, facts.message())
    return {
        KEY_HEADER: base64.b64encode(bytes(signing_key.verify_key)).decode("ascii"),
        TIMESTAMP_HEADER: str(facts.timestamp),
        NONCE_HEADER: facts.nonce,
        SIGNATURE_HEADER: base64.b64encode(signature).decode("ascii"),
        VERSION_HEADER: str(REQUEST_SIGNATURE_VERSION),
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
        """Parse the headers; raise BadSignatureError if any is missing or malformed.

        Raises OldSignatureVersionError for a request signed in version 1.
        """
        if KEY_HEADER in headers and headers.get(VERSION_HEADER) != str(REQUEST_SIGNATURE_VERSION):
            raise OldSignatureVersionError("request signatures of version 1 are refused")
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

    def verify(self, method: str, target: str, server: str, body_sha256: str) -> None:
        """Return if the signature covers this request as received; raise BadSignatureError.

        target is the raw request target the server received, server its own
        receipt key (base64).
        """
        facts = RequestFacts(method, target, server, self.timestamp, self.nonce, body_sha256)
        verify(VerifyKey(self.verify_key), Purpose.API_REQUEST, facts.message(), self.signature)
