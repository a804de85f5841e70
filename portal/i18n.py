"""Languages: Russian (default), Kyrgyz and English, chosen by a cookie.

The choice is a plain link (`/lang/ky?next=/`) that sets a `lang` cookie, so
it works without JavaScript. The cookie lasts only for the browser session:
a persistent cookie on a shared device would be a trace of the visit.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, request
from flask_babel import Babel

# The language list and cookie are shared with the reviewer's console.
from portal.languages import COOKIE_NAME, DEFAULT_LANGUAGE, LANGUAGES, safe_next, set_language

__all__ = ["COOKIE_NAME", "DEFAULT_LANGUAGE", "LANGUAGES", "safe_next", "set_language"]

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
