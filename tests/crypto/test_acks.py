"""Delivery acknowledgements: canonical JSON now, version-1 line form still accepted."""

import hashlib

import pytest
from nacl.signing import SigningKey

from crypto.acks import sign_ack, verify_ack
from crypto.errors import BadSignatureError
from crypto.signatures import Purpose, sign

KEY = SigningKey.generate()
DIGEST = hashlib.sha256(b"blob").hexdigest()


def test_ack_binds_blob_and_digest():
    signature = sign_ack(KEY, "B1", DIGEST)
    verify_ack(KEY.verify_key, "B1", DIGEST, signature)
    for blob_id, digest in [("B2", DIGEST), ("B1", hashlib.sha256(b"x").hexdigest())]:
        with pytest.raises(BadSignatureError):
            verify_ack(KEY.verify_key, blob_id, digest, signature)


def test_version_1_acks_still_verify():
    old = sign(KEY, Purpose.DELIVERY_ACK, f"amanat-delivery-ack-v1\nB1\n{DIGEST}".encode())
    verify_ack(KEY.verify_key, "B1", DIGEST, old)
    with pytest.raises(BadSignatureError):
        verify_ack(KEY.verify_key, "B2", DIGEST, old)
