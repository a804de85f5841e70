"""Signed requests to the sync API (portal/api_auth.py): who may ask, and replays."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import select

from crypto.keys import ReviewerKey
from crypto.requests_auth import NONCE_HEADER, SIGNATURE_HEADER, VERSION_HEADER
from portal import api_auth, db
from portal.models import ApiNonce, Recipient, today
from portal.recipients import revoke_recipient

from .api_client import ApiClient
from .api_helpers import b64, error_of, rows

NOW = 1_900_000_000.0


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """Set the server's clock: set(t) makes the API believe it is t."""

    def set_clock(value: float) -> None:
        monkeypatch.setattr(api_auth, "clock", lambda: value)

    set_clock(NOW)
    return set_clock


# Authentication


def test_unsigned_request_is_401(app: Flask, reviewer: ApiClient) -> None:
    assert error_of(app.test_client().get("/api/v1/server")) == (401, "unsigned")
    headers = reviewer.headers("GET", "/api/v1/server")
    headers[NONCE_HEADER] = "not hex"
    assert error_of(app.test_client().get("/api/v1/server", headers=headers)) == (401, "unsigned")


def test_unknown_key_is_401(app: Flask, recipient_key: ReviewerKey) -> None:
    stranger = ApiClient(app.test_client(), ReviewerKey.generate("Stranger"))
    assert error_of(stranger.get("/api/v1/reports")) == (401, "unknown_key")


def test_revoked_key_is_401(app: Flask, reviewer: ApiClient) -> None:
    assert reviewer.get("/api/v1/server").status_code == 200
    with app.app_context():
        session = db.get_session()
        revoke_recipient(session, session.scalars(select(Recipient.id)).one())
        session.commit()
    assert error_of(reviewer.get("/api/v1/server")) == (401, "revoked_key")


def test_stale_timestamp_is_401(
    app: Flask, reviewer: ApiClient, fixed_clock: Callable[[float], None]
) -> None:
    for skew in (-300, 300):
        reviewer.now = NOW + skew
        assert reviewer.get("/api/v1/server").status_code == 200
    for skew in (-301, 301):
        reviewer.now = NOW + skew
        assert error_of(reviewer.get("/api/v1/server")) == (401, "stale_timestamp")


def test_bad_signature_is_401(app: Flask, reviewer: ApiClient) -> None:
    # Signed for another path, another body, another method.
    headers = reviewer.headers("GET", "/api/v1/reports")
    assert error_of(reviewer.client.get("/api/v1/server", headers=headers)) == (
        401,
        "bad_signature",
    )
    headers = reviewer.headers("GET", "/api/v1/reports?after=2026-01-01")
    response = reviewer.client.get("/api/v1/reports?after=2020-01-01", headers=headers)
    assert error_of(response) == (401, "bad_signature")
    headers = reviewer.headers("PUT", "/api/v1/reports/x/status", b'{"status": "closed"}')
    response = reviewer.client.put(
        "/api/v1/reports/x/status", data=b'{"status": "in_review"}', headers=headers
    )
    assert error_of(response) == (401, "bad_signature")
    headers = reviewer.headers("GET", "/api/v1/reports/x")
    assert error_of(reviewer.client.delete("/api/v1/reports/x", headers=headers)) == (
        401,
        "bad_signature",
    )


def test_signature_covers_the_query_string_as_sent(app: Flask, reviewer: ApiClient) -> None:
    assert reviewer.get(f"/api/v1/reports?after={today()}").status_code == 200
    assert reviewer.get("/api/v1/reports").status_code == 200
    # The target is signed as sent: a bare "?" makes another one (docs/API.md).
    headers = reviewer.headers("GET", "/api/v1/reports")
    raw = {"RAW_URI": "/api/v1/reports?", "REQUEST_URI": "/api/v1/reports?"}
    response = reviewer.client.get("/api/v1/reports", headers=headers, environ_overrides=raw)
    assert error_of(response) == (401, "bad_signature")


@pytest.mark.parametrize(
    ("signed_for", "sent"),
    [
        ("/api/v1/server", "/api/v1/%73erver"),
        ("/api/v1/%73erver", "/api/v1/server"),
        ("/api/v1/server", "/api/v1/%73%65rver"),
        ("/api/v1/reports?after=2026-01-01", "/api/v1/reports?after=2026%2D01%2D01"),
        ("/api/v1/reports?after=2026%2D01%2D01", "/api/v1/reports?after=2026-01-01"),
        ("/api/v1/reports", "/api/v1/%72eports"),
    ],
)
def test_a_request_signed_for_one_target_is_refused_on_another_spelling(
    app: Flask, reviewer: ApiClient, signed_for: str, sent: str
) -> None:
    headers = reviewer.headers("GET", signed_for)
    assert error_of(reviewer.client.get(sent, headers=headers)) == (401, "bad_signature")


def test_a_percent_encoded_target_verifies_as_sent(app: Flask, reviewer: ApiClient) -> None:
    headers = reviewer.headers("GET", "/api/v1/%73erver")
    assert reviewer.client.get("/api/v1/%73erver", headers=headers).status_code == 200


def test_a_request_signed_for_another_server_is_refused(app: Flask, reviewer: ApiClient) -> None:
    other = b64(bytes(ReviewerKey.generate("Other server").signing.verify_key))
    headers = reviewer.headers("GET", "/api/v1/server", server=other)
    assert error_of(reviewer.client.get("/api/v1/server", headers=headers)) == (
        401,
        "bad_signature",
    )


def test_a_version_1_request_signature_is_refused_with_its_own_code(
    app: Flask, reviewer: ApiClient
) -> None:
    headers = reviewer.headers("GET", "/api/v1/server")
    del headers[VERSION_HEADER]
    assert error_of(reviewer.client.get("/api/v1/server", headers=headers)) == (
        401,
        "old_signature_version",
    )


def test_identity_is_public_and_names_the_receipt_key(app: Flask, reviewer: ApiClient) -> None:
    response = app.test_client().get("/api/v1/identity")
    assert response.status_code == 200
    assert (
        response.get_json()["receipt_key"]
        == reviewer.get("/api/v1/server").get_json()["receipt_key"]
    )


def test_checks_run_in_the_documented_order(
    app: Flask, reviewer: ApiClient, fixed_clock: Callable[[float], None]
) -> None:
    reviewer.now = NOW - 1000
    headers = reviewer.headers("GET", "/api/v1/reports")
    headers[SIGNATURE_HEADER] = b64(bytes(64))
    # Stale and badly signed: the clock is checked first.
    assert error_of(reviewer.client.get("/api/v1/server", headers=headers)) == (
        401,
        "stale_timestamp",
    )
    with app.app_context():
        session = db.get_session()
        revoke_recipient(session, session.scalars(select(Recipient.id)).one())
        session.commit()
    # Revoked, stale and badly signed: revocation first.
    assert error_of(reviewer.client.get("/api/v1/server", headers=headers)) == (
        401,
        "revoked_key",
    )


def test_replayed_nonce_is_401(app: Flask, reviewer: ApiClient) -> None:
    headers = reviewer.headers("GET", "/api/v1/reports")
    assert reviewer.client.get("/api/v1/reports", headers=headers).status_code == 200
    replay = reviewer.client.get("/api/v1/reports", headers=headers)
    assert error_of(replay) == (401, "replayed_nonce")


def test_forged_request_cannot_burn_a_reviewers_nonce(app: Flask, reviewer: ApiClient) -> None:
    headers = reviewer.headers("GET", "/api/v1/reports")
    forged = {**headers, SIGNATURE_HEADER: b64(bytes(64))}
    assert error_of(reviewer.client.get("/api/v1/reports", headers=forged)) == (
        401,
        "bad_signature",
    )
    assert reviewer.client.get("/api/v1/reports", headers=headers).status_code == 200


def test_nonces_are_kept_to_the_end_of_their_day_then_forgotten(
    app: Flask, reviewer: ApiClient, fixed_clock: Callable[[float], None]
) -> None:
    reviewer.now = NOW
    assert reviewer.get("/api/v1/server").status_code == 200
    assert reviewer.get("/api/v1/server").status_code == 200
    fixed_clock(NOW + 601)
    reviewer.now = NOW + 601
    assert reviewer.get("/api/v1/server").status_code == 200
    # Ten minutes on, the same day: kept (only stricter against replays).
    assert len(rows(app, ApiNonce)) == 3
    later = NOW + 2 * 86400
    fixed_clock(later)
    reviewer.now = later
    assert reviewer.get("/api/v1/server").status_code == 200
    (kept,) = rows(app, ApiNonce)
    assert kept.expires_day == dt.datetime.fromtimestamp(later + 600, dt.UTC).date()
