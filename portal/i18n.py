"""Languages: Russian (default), Kyrgyz and English, chosen by a cookie.

The choice is a plain link (`/lang/ky?next=/`) that sets a `lang` cookie, so
it works without JavaScript. The cookie lasts only for the browser session:
a persistent cookie on a shared device would be a trace of the visit.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, request
from flask_babel import Babel
from werkzeug.wrappers import Response

LANGUAGES = {"ru": "Русский", "ky": "Кыргызча", "en": "English"}
DEFAULT_LANGUAGE = "ru"
COOKIE_NAME = "lang"
TRANSLATIONS_DIR = Path(__file__).parent / "translations"


def select_locale() -> str:
    """The language of the current request: the cookie's if known, else Russian."""
    chosen = request.cookies.get(COOKIE_NAME, "")
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def init_app(app: Flask) -> None:
    """Set up Flask-Babel with the portal's catalogs and make LANGUAGES known to templates."""
    Babel(
        app,
        default_locale=DEFAULT_LANGUAGE,
        default_translation_directories=str(TRANSLATIONS_DIR),
        locale_selector=select_locale,
    )
    app.jinja_env.globals["LANGUAGES"] = LANGUAGES
    app.jinja_env.globals["current_language"] = select_locale


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
