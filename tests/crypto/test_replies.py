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
