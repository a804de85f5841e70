"""Case event signatures: bound to the report, the envelope and the case-event purpose."""

import hashlib

import pytest
from nacl.signing import SigningKey

from crypto.errors import BadSignatureError
from crypto.events import sign_event, verify_event
from crypto.replies import sign_reply, verify_reply

KEY = SigningKey.generate()
DIGEST = hashlib.sha256(b"envelope").hexdigest()


def test_event_signature_round_trips():
    signature = sign_event(KEY, "report-1", DIGEST)
    verify_event(KEY.verify_key, "report-1", DIGEST, signature)


@pytest.mark.parametrize(
    ("key", "report_id", "digest"),
    [
        (SigningKey.generate().verify_key, "report-1", DIGEST),  # another reviewer
        (KEY.verify_key, "report-2", DIGEST),  # another report
        (KEY.verify_key, "report-1", hashlib.sha256(b"other").hexdigest()),  # another envelope
    ],
)
def test_event_signature_fails_for_anything_else(key, report_id, digest):
    signature = sign_event(KEY, "report-1", DIGEST)
    with pytest.raises(BadSignatureError):
        verify_event(key, report_id, digest, signature)


def test_reply_and_event_signatures_do_not_stand_in_for_each_other():
    with pytest.raises(BadSignatureError):
        verify_event(KEY.verify_key, "report-1", DIGEST, sign_reply(KEY, "report-1", DIGEST))
    with pytest.raises(BadSignatureError):
        verify_reply(KEY.verify_key, "report-1", DIGEST, sign_event(KEY, "report-1", DIGEST))


def test_truncated_signature_is_refused():
    with pytest.raises(BadSignatureError):
        verify_event(KEY.verify_key, "report-1", DIGEST, sign_event(KEY, "report-1", DIGEST)[:-1])


def test_version_1_event_signatures_still_verify():
    from crypto.signatures import Purpose, sign

    old = sign(KEY, Purpose.CASE_EVENT, f"amanat-case-event-v1\nreport-1\n{DIGEST}".encode())
    verify_event(KEY.verify_key, "report-1", DIGEST, old)
    with pytest.raises(BadSignatureError):
        verify_event(KEY.verify_key, "report-2", DIGEST, old)
    with pytest.raises(BadSignatureError):
        verify_reply(KEY.verify_key, "report-1", DIGEST, old)
