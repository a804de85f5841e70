"""Receipts bind a blob's hash, size, report and day to the server's key."""

import dataclasses

import pytest
from nacl.signing import SigningKey

from crypto.errors import BadSignatureError
from crypto.receipts import Receipt, sign_receipt, verify_receipt

SERVER = SigningKey.generate()
RECEIPT = Receipt("blob1", "report1", "file", 1234, "ab" * 32, "2026-11-28")


def test_receipt_verifies_with_the_server_key():
    verify_receipt(SERVER.verify_key, RECEIPT, sign_receipt(SERVER, RECEIPT))


@pytest.mark.parametrize(
    "change",
    [
        {"blob_id": "blob2"},
        {"report_id": "report2"},
        {"kind": "answers"},
        {"size": 1235},
        {"sha256": "cd" * 32},
        {"day": "2026-11-29"},
    ],
)
def test_receipt_for_other_facts_does_not_verify(change):
    signature = sign_receipt(SERVER, RECEIPT)
    with pytest.raises(BadSignatureError):
        verify_receipt(SERVER.verify_key, dataclasses.replace(RECEIPT, **change), signature)


def test_receipt_forged_with_another_key_does_not_verify():
    with pytest.raises(BadSignatureError):
        verify_receipt(SERVER.verify_key, RECEIPT, sign_receipt(SigningKey.generate(), RECEIPT))
