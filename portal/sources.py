"""Sources: codename accounts and their sessions.

The server never stores a codename. From it, Argon2id derives a lookup id
(stored as a hash) and the source's key pair (only the public key is
stored). While a source is logged in, the private key is kept wrapped under a
random key that lives only in the cookie; the cookie holds that key, a
random session id and the session's idle deadline, and nothing else.

The database keeps of a session only the last day it may be used, set at
login and never moved: the idle deadline, which needs minutes, travels in
the cookie under the server's MAC and is renewed with each page. So a
seized disk does not say when a source was active, only on which day they
logged in.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from nacl.public import PrivateKey
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from werkzeug.exceptions import ServiceUnavailable

from crypto.errors import TamperedError
from crypto.kdf import KdfCost
from crypto.source import SourceSecrets, derive_source_secrets, unwrap_source_key, wrap_source_key
from portal.models import Source, SourceSession, today
from portal.secretfile import write_once

SALT_FILE = "codename_salt"
COOKIE_NAME = "amanat_source"
# A session ends at the latest at the end of the day after the login,
# whatever the idle deadline says.
SESSION_DAYS = 1
_MAC_BYTES = 16

# Argon2id takes 64 MiB and most of a core per call: 16 logins at once pushed
# p99 to 1.5 s here (docs/PERFORMANCE.md, "The machine"). Two at a time per process, the rest wait.
_KDF_SLOTS = threading.BoundedSemaphore(2)
_KDF_WAIT_SECONDS = 20


@dataclass(frozen=True)
class LoggedIn:
    """The source behind a valid session cookie, with their private key."""

    source: Source
    key: PrivateKey
    session_digest: str
    # The cookie value with the idle deadline moved forward ("" at login,
    # where log_in returns the cookie itself).
    cookie: str = ""


def installation_salt(data_dir: Path) -> bytes:
    """The installation's 16-byte codename salt, created once (owner-only file).

    `amanat-server init` creates it; if it is missing, the first process to
    ask creates it, atomically (portal.secretfile), so concurrent first
    logins all get the same whole salt.
    """
    path = Path(data_dir) / SALT_FILE
    salt = write_once(path, os.urandom(16))
    if len(salt) != 16:
        raise RuntimeError(f"{path} is damaged: it must hold 16 bytes")
    return salt


def derive(codename: str, salt: bytes, cost: KdfCost) -> SourceSecrets:
    """Run the slow KDF, at most two at a time per process.

    Raises crypto BadCodenameError for a malformed codename (before any KDF
    work) and ServiceUnavailable if the queue does not clear in time.
    """
    from crypto.source import normalize_codename

    normalize_codename(codename)
    if not _KDF_SLOTS.acquire(timeout=_KDF_WAIT_SECONDS):
        raise ServiceUnavailable()
    try:
        return derive_source_secrets(codename, salt, cost)
    finally:
        _KDF_SLOTS.release()


def create_source(session: Session, derived: SourceSecrets) -> Source:
    """Add the source for a new codename. The caller commits."""
    source = Source(
        lookup_digest=derived.lookup_digest,
        box_public_key=bytes(derived.box.public_key),
    )
    session.add(source)
    session.flush()
    return source


def find_source(session: Session, derived: SourceSecrets) -> Source | None:
    return session.scalar(select(Source).where(Source.lookup_digest == derived.lookup_digest))


def clock() -> float:
    """The time in Unix seconds, for idle deadlines (tests replace it to move time)."""
    return time.time()


class CodenameInUse(Exception):
    """The create path was given a codename that already has a source."""


def log_in(
    session: Session,
    codename: str,
    salt: bytes,
    cost: KdfCost,
    minutes: int,
    *,
    secret: bytes,
    create: bool = False,
) -> tuple[LoggedIn, str] | None:
    """Open a session for the source of codename; return it and the cookie value.

    Without create, an unknown codename gives None. With create, the codename
    must be new: one that already has a source raises CodenameInUse, so the
    create path can never be a way into an existing codename. Raises
    BadCodenameError for a malformed codename (before any slow work). secret
    is the server's secret key (for the cookie's MAC). The caller commits.
    """
    derived = derive(codename, salt, cost)
    source = find_source(session, derived)
    if create:
        if source is not None:
            raise CodenameInUse()
        source = create_source(session, derived)
    elif source is None:
        return None
    cookie = start_session(session, source, derived.box, minutes, secret)
    return LoggedIn(source=source, key=derived.box, session_digest=""), cookie


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _digest(session_id: bytes) -> str:
    return hashlib.sha256(b"amanat.session\x00" + session_id).hexdigest()


def _mac(secret: bytes, session_id: bytes, deadline: int) -> bytes:
    key = hashlib.sha256(b"amanat.session-deadline\x00" + secret).digest()
    message = session_id + deadline.to_bytes(8, "big")
    return hmac.new(key, message, hashlib.sha256).digest()[:_MAC_BYTES]


def _cookie(session_id: bytes, unwrap_key: bytes, minutes: int, secret: bytes) -> str:
    deadline = int(clock()) + 60 * minutes
    mac = _mac(secret, session_id, deadline)
    return f"{_b64(session_id)}.{_b64(unwrap_key)}.{deadline}.{_b64(mac)}"


def start_session(
    session: Session, source: Source, key: PrivateKey, minutes: int, secret: bytes
) -> str:
    """Open a session for source; return the cookie value. The caller commits."""
    session_id = secrets.token_bytes(32)
    wrapped, unwrap_key = wrap_source_key(key)
    session.add(
        SourceSession(
            id_digest=_digest(session_id),
            source_id=source.id,
            wrapped_key=wrapped,
            expires_day=today() + dt.timedelta(days=SESSION_DAYS),
        )
    )
    return _cookie(session_id, unwrap_key, minutes, secret)


def _parse_cookie(cookie: str | None) -> tuple[bytes, bytes, int, bytes] | None:
    if not cookie or cookie.count(".") != 3 or len(cookie) > 200:
        return None
    session_text, key_text, deadline_text, mac_text = cookie.split(".")
    if not deadline_text.isdigit() or len(deadline_text) > 12:
        return None
    try:
        session_id, unwrap_key, mac = (_unb64(t) for t in (session_text, key_text, mac_text))
    except ValueError:
        return None
    if len(session_id) != 32 or len(unwrap_key) != 32 or len(mac) != _MAC_BYTES:
        return None
    return session_id, unwrap_key, int(deadline_text), mac


def load_session(
    session: Session, cookie: str | None, minutes: int, secret: bytes
) -> LoggedIn | None:
    """The logged-in source for a cookie, or None (unknown, idle too long, expired, tampered).

    Nothing is written for a valid session: the returned LoggedIn carries
    the cookie with its idle deadline moved forward by `minutes`, for the
    caller to send. An expired row is deleted; the caller commits.
    """
    parsed = _parse_cookie(cookie)
    if parsed is None:
        return None
    session_id, unwrap_key, deadline, mac = parsed
    if not hmac.compare_digest(mac, _mac(secret, session_id, deadline)) or deadline <= clock():
        return None
    row = session.get(SourceSession, _digest(session_id))
    if row is None:
        return None
    if row.expires_day < today():
        session.delete(row)
        return None
    try:
        key = unwrap_source_key(row.wrapped_key, unwrap_key)
    except TamperedError:
        return None
    source = session.get(Source, row.source_id)
    if source is None or bytes(key.public_key) != source.box_public_key:
        return None
    renewed = _cookie(session_id, unwrap_key, minutes, secret)
    return LoggedIn(source=source, key=key, session_digest=row.id_digest, cookie=renewed)


def end_session(session: Session, cookie: str | None) -> None:
    """Delete the session a cookie names, if any. The caller commits."""
    parsed = _parse_cookie(cookie)
    if parsed is not None:
        session.execute(delete(SourceSession).where(SourceSession.id_digest == _digest(parsed[0])))


def purge_expired_sessions(session: Session) -> int:
    """Delete every expired session; return how many. The caller commits."""
    result = session.execute(delete(SourceSession).where(SourceSession.expires_day < today()))
    return int(getattr(result, "rowcount", 0) or 0)
