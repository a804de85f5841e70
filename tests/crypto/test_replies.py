"""Reply signatures bind the reviewer, the report and the envelope."""

import pytest
from nacl.signing import SigningKey

from crypto.errors import BadSignatureError
from crypto.replies import sign_reply, verify_reply

KEY = SigningKey.generate()


def test_reply_signature_verifies():
    verify_reply(KEY.verify_key, "r1", "ab" * 32, sign_reply(KEY, "r1", "ab" * 32))


@pytest.mark.parametrize(("report", "digest"), [("r2", "ab" * 32), ("r1", "cd" * 32)])
def test_reply_signature_does_not_move_to_another_report_or_envelope(report, digest):
    with pytest.raises(BadSignatureError):
        verify_reply(KEY.verify_key, report, digest, sign_reply(KEY, "r1", "ab" * 32))


def test_reply_signature_covers_the_canonical_message():
    from crypto import canonical
    from crypto.signatures import Purpose, verify

    message = canonical.encode({"envelope_sha256": "ab" * 32, "report_id": "r1", "v": 2})
    verify(KEY.verify_key, Purpose.REPLY, message, sign_reply(KEY, "r1", "ab" * 32))


def test_version_1_reply_signatures_still_verify():
    from crypto.signatures import Purpose, sign

    old = sign(KEY, Purpose.REPLY, f"amanat-reply-v1\nr1\n{'ab' * 32}".encode())
    verify_reply(KEY.verify_key, "r1", "ab" * 32, old)
    with pytest.raises(BadSignatureError):
        verify_reply(KEY.verify_key, "r2", "ab" * 32, old)
