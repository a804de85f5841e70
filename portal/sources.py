"""Sources: codename accounts and their sessions.

The server never stores a codename. From it, Argon2id derives a lookup id
(stored as a hash) and the source's key pair (only the public key is
stored). While a source is logged in, the private key is kept wrapped under a
random key that lives only in the cookie; the cookie holds that key and a
random session id, and nothing else.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

from nacl.public import PrivateKey
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from werkzeug.exceptions import ServiceUnavailable

from crypto.errors import TamperedError
from crypto.kdf import KdfCost
from crypto.source import SourceSecrets, derive_source_secrets, unwrap_source_key, wrap_source_key
from portal.models import Source, SourceSession, utcnow
from portal.secretfile import write_once

SALT_FILE = "codename_salt"
COOKIE_NAME = "amanat_source"

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


def log_in(
    session: Session,
    codename: str,
    salt: bytes,
    cost: KdfCost,
    minutes: int,
    *,
    create: bool = False,
) -> tuple[LoggedIn, str] | None:
    """Open a session for the source of codename; return it and the cookie value.

    With create, a new codename gets its source; without, an unknown one
    gives None. Raises BadCodenameError for a malformed codename (before any
    slow work). The caller commits.
    """
    derived = derive(codename, salt, cost)
    source = find_source(session, derived)
    if source is None:
        if not create:
            return None
        source = create_source(session, derived)
    cookie = start_session(session, source, derived.box, minutes)
    return LoggedIn(source=source, key=derived.box, session_digest=""), cookie


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _digest(session_id: bytes) -> str:
    return hashlib.sha256(b"amanat.session\x00" + session_id).hexdigest()


def start_session(session: Session, source: Source, key: PrivateKey, minutes: int) -> str:
    """Open a session for source; return the cookie value. The caller commits."""
    session_id = secrets.token_bytes(32)
    wrapped, unwrap_key = wrap_source_key(key)
    session.add(
        SourceSession(
            id_digest=_digest(session_id),
            source_id=source.id,
            wrapped_key=wrapped,
            expires_at=utcnow() + dt.timedelta(minutes=minutes),
        )
    )
    return f"{_b64(session_id)}.{_b64(unwrap_key)}"


def _parse_cookie(cookie: str | None) -> tuple[bytes, bytes] | None:
    if not cookie or cookie.count(".") != 1 or len(cookie) > 100:
        return None
    try:
        session_id, unwrap_key = (_unb64(part) for part in cookie.split("."))
    except ValueError:
        return None
    if len(session_id) != 32 or len(unwrap_key) != 32:
        return None
    return session_id, unwrap_key


def load_session(session: Session, cookie: str | None, minutes: int) -> LoggedIn | None:
    """The logged-in source for a cookie, or None (unknown, expired or tampered).

    A valid session's expiry moves forward by `minutes`; the caller commits.
    """
    parsed = _parse_cookie(cookie)
    if parsed is None:
        return None
    session_id, unwrap_key = parsed
    row = session.get(SourceSession, _digest(session_id))
    if row is None:
        return None
    now = utcnow()
    if row.expires_at <= now:
        session.delete(row)
        return None
    try:
        key = unwrap_source_key(row.wrapped_key, unwrap_key)
    except TamperedError:
        return None
    source = session.get(Source, row.source_id)
    if source is None or bytes(key.public_key) != source.box_public_key:
        return None
    row.expires_at = now + dt.timedelta(minutes=minutes)
    return LoggedIn(source=source, key=key, session_digest=row.id_digest)


def end_session(session: Session, cookie: str | None) -> None:
    """Delete the session a cookie names, if any. The caller commits."""
    parsed = _parse_cookie(cookie)
    if parsed is not None:
        session.execute(delete(SourceSession).where(SourceSession.id_digest == _digest(parsed[0])))


def purge_expired_sessions(session: Session) -> int:
    """Delete every expired session; return how many. The caller commits."""
    result = session.execute(delete(SourceSession).where(SourceSession.expires_at <= utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)
