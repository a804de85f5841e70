"""The languages the portal and the reviewer's console speak, and the choice cookie.

Shared by both apps, so it imports no Flask: the console on a reviewer's
laptop uses it without loading any of the server's modules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from werkzeug.wrappers import Response

LANGUAGES = {"ru": "Русский", "ky": "Кыргызча", "en": "English"}
DEFAULT_LANGUAGE = "ru"
COOKIE_NAME = "lang"


def set_language(response: Response, code: str, *, secure: bool) -> None:
    """Make response remember language code. Raises ValueError for an unknown code."""
    if code not in LANGUAGES:
        raise ValueError(f"unknown language {code!r}")
    response.set_cookie(COOKIE_NAME, code, httponly=True, samesite="Strict", secure=secure)


def safe_next(target: str | None, default: str = "/") -> str:
    """Return target if it is a path on this site, else default.

    Refuses absolute URLs, scheme-relative `//host` and `/\\host` (which
    browsers treat as another host), and anything with control characters,
    so the language link cannot become an open redirect.
    """
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target
