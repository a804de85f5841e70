"""Request signatures cover method, path, time, nonce and body."""

import hashlib

import pytest
from nacl.signing import SigningKey

from crypto.errors import BadSignatureError
from crypto.requests_auth import SIGNATURE_HEADER, SignedRequest, sign_request

KEY = SigningKey.generate()
BODY = b'{"status": "closed"}'


def signed(method="PUT", path="/api/v1/reports/x/status", body=BODY):
    return SignedRequest.from_headers(sign_request(KEY, method, path, body, now=1_700_000_000))


def test_signed_request_verifies():
    request = signed()
    request.verify("PUT", "/api/v1/reports/x/status", hashlib.sha256(BODY).hexdigest())
    assert request.timestamp == 1_700_000_000
    assert request.verify_key == bytes(KEY.verify_key)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/reports/x/status", BODY),
        ("PUT", "/api/v1/reports/y/status", BODY),
        ("PUT", "/api/v1/reports/x/status?x=1", BODY),
        ("PUT", "/api/v1/reports/x/status", b'{"status": "open"}'),
    ],
)
def test_signature_does_not_cover_another_request(method, path, body):
    with pytest.raises(BadSignatureError):
        signed().verify(method, path, hashlib.sha256(body).hexdigest())


def test_nonces_differ_between_requests():
    assert signed().nonce != signed().nonce


@pytest.mark.parametrize(
    "missing", ["Amanat-Key", "Amanat-Timestamp", "Amanat-Nonce", SIGNATURE_HEADER]
)
def test_missing_header_is_refused(missing):
    headers = sign_request(KEY, "GET", "/api/v1/reports", b"")
    del headers[missing]
    with pytest.raises(BadSignatureError):
        SignedRequest.from_headers(headers)


def test_malformed_signature_header_is_refused():
    headers = sign_request(KEY, "GET", "/api/v1/reports", b"")
    headers[SIGNATURE_HEADER] = "not base64!"
    with pytest.raises(BadSignatureError):
        SignedRequest.from_headers(headers)
