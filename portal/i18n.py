"""Languages: Russian (default), Kyrgyz and English, chosen by a cookie.

The choice is a plain link (`/lang/ky?next=/`) that sets a `lang` cookie, so
it works without JavaScript. The cookie lasts only for the browser session:
a persistent cookie on a shared device would be a trace of the visit.
"""

from __future__ import annotations

from datetime import date
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
    app.jinja_env.filters["local_size"] = local_size
    app.jinja_env.filters["local_date"] = local_date


def local_size(size: int) -> str:
    """A size in the page's language: "3,4 МБ" in Russian, "3.4 MB" in English."""
    from flask_babel import format_decimal
    from flask_babel import gettext as _

    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            break
        value /= 1000
    number = format_decimal(value, format="#,##0" if unit == "B" else "#,##0.#")
    units = {
        "B": _("%(number)s bytes", number=number),
        "KB": _("%(number)s KB", number=number),
        "MB": _("%(number)s MB", number=number),
        "GB": _("%(number)s GB", number=number),
    }
    return str(units[unit])


def local_date(day: date) -> str:
    """A day in the page's language: "2 декабря 2026 г.", "December 2, 2026"."""
    from flask_babel import format_date

    return str(format_date(day, "long"))
