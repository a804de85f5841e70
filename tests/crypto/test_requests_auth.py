"""Request signatures cover method, raw target, server, time, nonce and body."""

import base64
import hashlib

import pytest
from nacl.signing import SigningKey

from crypto import canonical
from crypto.errors import BadSignatureError
from crypto.requests_auth import (
    SIGNATURE_HEADER,
    VERSION_HEADER,
    OldSignatureVersionError,
    SignedRequest,
    sign_request,
)
from crypto.signatures import Purpose, sign

KEY = SigningKey.generate()
SERVER = base64.b64encode(bytes(SigningKey.generate().verify_key)).decode()
OTHER_SERVER = base64.b64encode(bytes(SigningKey.generate().verify_key)).decode()
BODY = b'{"status": "closed"}'
TARGET = "/api/v1/reports/x/status"


def signed(method="PUT", target=TARGET, body=BODY, server=SERVER):
    headers = sign_request(KEY, method, target, body, server, now=1_700_000_000)
    return SignedRequest.from_headers(headers)


def test_signed_request_verifies():
    request = signed()
    request.verify("PUT", TARGET, SERVER, hashlib.sha256(BODY).hexdigest())
    assert request.timestamp == 1_700_000_000
    assert request.verify_key == bytes(KEY.verify_key)


def test_signature_covers_the_documented_canonical_message():
    request = signed()
    message = canonical.encode(
        {
            "v": 2,
            "method": "PUT",
            "target": TARGET,
            "server": SERVER,
            "timestamp": 1_700_000_000,
            "nonce": request.nonce,
            "body_sha256": hashlib.sha256(BODY).hexdigest(),
        }
    )
    from crypto.signatures import verify

    verify(KEY.verify_key, Purpose.API_REQUEST, message, request.signature)


@pytest.mark.parametrize(
    ("method", "target", "body"),
    [
        ("POST", TARGET, BODY),
        ("PUT", "/api/v1/reports/y/status", BODY),
        ("PUT", TARGET + "?x=1", BODY),
        ("PUT", TARGET, b'{"status": "open"}'),
        # The same resource spelled another way is another request target.
        ("PUT", "/api/v1/reports/%78/status", BODY),
        ("PUT", "/api/v1/reports/x/%73tatus", BODY),
        ("PUT", "/api/v1//reports/x/status", BODY),
        ("PUT", "/api/v1/reports/./x/status", BODY),
    ],
)
def test_signature_does_not_cover_another_request(method, target, body):
    with pytest.raises(BadSignatureError):
        signed().verify(method, target, SERVER, hashlib.sha256(body).hexdigest())


def test_signature_for_one_server_is_refused_by_another():
    with pytest.raises(BadSignatureError):
        signed().verify("PUT", TARGET, OTHER_SERVER, hashlib.sha256(BODY).hexdigest())


def test_a_version_1_signature_is_refused():
    # What version 1 signed: the decoded path, no server, text lines.
    digest = hashlib.sha256(BODY).hexdigest()
    nonce = "00" * 16
    old = "\n".join(["amanat-api-v1", "PUT", TARGET, "1700000000", nonce, digest]).encode()
    headers = {
        "Amanat-Key": base64.b64encode(bytes(KEY.verify_key)).decode(),
        "Amanat-Timestamp": "1700000000",
        "Amanat-Nonce": nonce,
        SIGNATURE_HEADER: base64.b64encode(sign(KEY, Purpose.API_REQUEST, old)).decode(),
    }
    with pytest.raises(OldSignatureVersionError):
        SignedRequest.from_headers(headers)
    headers[VERSION_HEADER] = "2"
    with pytest.raises(BadSignatureError):
        SignedRequest.from_headers(headers).verify("PUT", TARGET, SERVER, digest)


def test_nonces_differ_between_requests():
    assert signed().nonce != signed().nonce


@pytest.mark.parametrize(
    "missing", ["Amanat-Key", "Amanat-Timestamp", "Amanat-Nonce", SIGNATURE_HEADER]
)
def test_missing_header_is_refused(missing):
    headers = sign_request(KEY, "GET", "/api/v1/reports", b"", SERVER)
    del headers[missing]
    with pytest.raises(BadSignatureError):
        SignedRequest.from_headers(headers)


def test_malformed_signature_header_is_refused():
    headers = sign_request(KEY, "GET", "/api/v1/reports", b"", SERVER)
    headers[SIGNATURE_HEADER] = "not base64!"
    with pytest.raises(BadSignatureError):
        SignedRequest.from_headers(headers)
