"""Codenames the server issues to a browser session, and nothing else.

The create path never takes a codename from the browser. GET /codename puts
a random nonce in the browser's signed session cookie; the codename is a
keyed hash of that nonce under the app's secret key, turned into digits.
The cookie therefore holds no codename, the server stores none, and a
browser cannot choose its own (28 zeros, or someone else's): it can only
send back the nonce the server signed for it. Once the codename has an
account the nonce is forgotten; a replayed old cookie gives a codename that
already exists, which the create path refuses.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import current_app, session

from crypto.source import GROUP, codename_from_seed

NONCE_KEY = "issued_codename"
GROUPS = 7


def _codename_for(nonce: str) -> str:
    key = str(current_app.secret_key).encode("utf-8")
    seed = hmac.new(key, b"amanat.codename\x00" + nonce.encode("ascii"), hashlib.sha256)
    return codename_from_seed(seed.digest())


def issue() -> str:
    """The codename issued to this browser session, issuing one if it has none.

    A reload shows the same codename: a source who is writing it down must
    not see it change.
    """
    nonce = session.get(NONCE_KEY)
    if not isinstance(nonce, str):
        nonce = session[NONCE_KEY] = secrets.token_urlsafe(32)
    return _codename_for(nonce)


def issued() -> str | None:
    """The codename issued to this session, or None if none was."""
    nonce = session.get(NONCE_KEY)
    return _codename_for(nonce) if isinstance(nonce, str) else None


def forget() -> None:
    """Drop this session's issued codename (it has an account now, or was refused)."""
    session.pop(NONCE_KEY, None)


def group_to_check(codename: str) -> int:
    """Which group (1-7) the source is asked to type back; never the first,
    which people copy best, and the same on every reload."""
    digest = hashlib.sha256(b"amanat.check\x00" + codename.encode("ascii")).digest()
    return 2 + digest[0] % (GROUPS - 1)


def group_of(codename: str, number: int) -> str:
    digits = codename.replace(" ", "")
    return digits[(number - 1) * GROUP : number * GROUP]


def groups_of(codename: str) -> list[str]:
    return codename.split()
