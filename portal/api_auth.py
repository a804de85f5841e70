"""Who sent an API request: the reviewer whose key signed it (docs/API.md).

Each request carries the reviewer's Ed25519 signature over its method, its
request target as sent, this server's receipt key, a timestamp, a nonce and
the body hash (crypto.requests_auth). The checks run in the
documented order, and the nonce is recorded only once the signature holds,
so a stranger cannot burn a reviewer's nonces.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time

from flask import Request
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crypto.errors import BadSignatureError
from crypto.requests_auth import (
    KEY_HEADER,
    NONCE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    VERSION_HEADER,
    OldSignatureVersionError,
    SignedRequest,
)
from portal.models import ApiNonce, Recipient

CLOCK_WINDOW_SECONDS = 300
# Twice the clock window: a request old enough for its nonce to be forgotten
# is refused as stale anyway.
NONCE_LIFETIME = dt.timedelta(seconds=2 * CLOCK_WINDOW_SECONDS)


def clock() -> float:
    """The server's clock in Unix seconds. Tests replace it to move time."""
    return time.time()


class ApiError(Exception):
    """An API request refused: the HTTP status, a stable code and a message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class NotAuthenticated(ApiError):
    """A 401: the request does not prove it comes from an active reviewer."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(401, code, message)


def signed_target(request: Request) -> str:
    """The request target a signature covers: exactly as the client sent it.

    Never the decoded path: /api/v1/%73erver routes like /api/v1/server but
    is another request target, so a signature made for one fails on the
    other. Gunicorn puts the raw target in RAW_URI, Werkzeug in REQUEST_URI.
    """
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if not isinstance(raw, str) or not raw.startswith("/"):
        raise NotAuthenticated("unsigned", "the server cannot see the request target as sent")
    return raw


def authenticate(session: Session, request: Request, server_identity: str) -> Recipient:
    """Return the active reviewer who signed request, having recorded its nonce.

    Reads the whole body (the caller caps its size first) and commits the
    session. server_identity is this server's receipt key (base64), which the
    signature must name. Raises NotAuthenticated whose code names the first
    check that failed: unsigned, old_signature_version, unknown_key,
    revoked_key, stale_timestamp, bad_signature, replayed_nonce.
    """
    names = (KEY_HEADER, TIMESTAMP_HEADER, NONCE_HEADER, SIGNATURE_HEADER, VERSION_HEADER)
    # Header names are case-insensitive: look each up in Werkzeug's Headers.
    headers = {name: value for name in names if (value := request.headers.get(name)) is not None}
    try:
        signed = SignedRequest.from_headers(headers)
    except OldSignatureVersionError as exc:
        raise NotAuthenticated(
            "old_signature_version",
            "requests signed by version 1 are refused: update amanat-admin",
        ) from exc
    except BadSignatureError as exc:
        raise NotAuthenticated("unsigned", "the request is not signed") from exc
    reviewer = session.scalar(select(Recipient).where(Recipient.verify_key == signed.verify_key))
    if reviewer is None:
        raise NotAuthenticated("unknown_key", "this key is not registered")
    if not reviewer.active:
        raise NotAuthenticated("revoked_key", "this key has been revoked")
    now = clock()
    if abs(now - signed.timestamp) > CLOCK_WINDOW_SECONDS:
        raise NotAuthenticated(
            "stale_timestamp", "the request's time is too far from the server's clock"
        )
    body_sha256 = hashlib.sha256(request.get_data(cache=True)).hexdigest()
    try:
        signed.verify(request.method, signed_target(request), server_identity, body_sha256)
    except BadSignatureError as exc:
        raise NotAuthenticated("bad_signature", "the signature does not verify") from exc
    record_nonce(session, signed, now)
    return reviewer


def record_nonce(session: Session, signed: SignedRequest, now: float) -> None:
    """Remember signed's nonce, forgetting expired ones, and commit.

    Raises NotAuthenticated (replayed_nonce) if this key has used it before.
    """
    moment = dt.datetime.fromtimestamp(now, dt.UTC)
    # Days, not moments: a nonce is kept to the end of the day its ten
    # minutes end in, so the disk shows on which days a key synced, no more.
    session.execute(delete(ApiNonce).where(ApiNonce.expires_day < moment.date()))
    session.add(
        ApiNonce(
            verify_key=signed.verify_key,
            nonce=signed.nonce,
            expires_day=(moment + NONCE_LIFETIME).date(),
        )
    )
    try:
        session.commit()
    except IntegrityError as exc:
        # The unique (verify_key, nonce) constraint decides, so two copies
        # of a request racing each other cannot both pass.
        session.rollback()
        raise NotAuthenticated("replayed_nonce", "this nonce was already used") from exc
