"""Signatures are bound to their purpose, message and key."""

import pytest
from nacl.signing import SigningKey

from crypto.errors import BadSignatureError
from crypto.signatures import Purpose, sign, verify

KEY = SigningKey.generate()


def test_signature_verifies_for_its_key_purpose_and_message():
    signature = sign(KEY, Purpose.REPLY, b"message")
    verify(KEY.verify_key, Purpose.REPLY, b"message", signature)


def test_signature_made_for_one_purpose_does_not_verify_for_another():
    signature = sign(KEY, Purpose.REPLY, b"same bytes")
    for purpose in Purpose:
        if purpose is not Purpose.REPLY:
            with pytest.raises(BadSignatureError):
                verify(KEY.verify_key, purpose, b"same bytes", signature)


def test_plain_ed25519_signature_over_the_message_is_refused():
    signature = KEY.sign(b"message").signature
    with pytest.raises(BadSignatureError):
        verify(KEY.verify_key, Purpose.API_REQUEST, b"message", signature)


def test_altered_message_is_refused():
    signature = sign(KEY, Purpose.CASE_EVENT, b"status=closed")
    with pytest.raises(BadSignatureError):
        verify(KEY.verify_key, Purpose.CASE_EVENT, b"status=open", signature)


def test_another_key_is_refused():
    signature = sign(KEY, Purpose.RECEIPT, b"sha256")
    with pytest.raises(BadSignatureError):
        verify(SigningKey.generate().verify_key, Purpose.RECEIPT, b"sha256", signature)


@pytest.mark.parametrize("signature", [b"", b"\x00" * 63, b"\x00" * 65])
def test_signature_of_the_wrong_length_is_refused(signature):
    with pytest.raises(BadSignatureError):
        verify(KEY.verify_key, Purpose.RECEIPT, b"sha256", signature)
