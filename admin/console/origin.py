"""Only the console's own pages may make requests to it.

Browsers send the console's cookie with a request from any page served on
127.0.0.1, whatever its port (SameSite compares sites, and ports do not
make another site): a page of any other local program could otherwise
make the console decrypt a file, log a custody event or mark a report
read. A request that says it comes from elsewhere (Sec-Fetch-Site other
than same-origin or none, which is an address typed or bookmarked; or,
from a browser that sends no Sec-Fetch-Site, an Origin naming another
origin) is refused with 403, before any view runs. Every
POST also carries a CSRF token (Flask-WTF) that a page elsewhere cannot
read.
"""

from __future__ import annotations

from flask import Flask, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from admin.console.errors import error_page

ALLOWED_FETCH_SITES = frozenset({"same-origin", "none"})


def foreign_request() -> bool:
    """True if the request says it was made by a page of another origin.

    Sec-Fetch-Site, which pages cannot set, decides when the browser sends
    it. Otherwise an Origin naming another origin is refused; "null" is not,
    because under the console's no-referrer policy browsers send it for the
    console's own form posts (the CSRF token still guards those).
    """
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site not in ALLOWED_FETCH_SITES
    origin = request.headers.get("Origin")
    return origin not in (None, "null") and origin != request.host_url.rstrip("/")


def _refuse_foreign() -> Response | None:
    if not foreign_request():
        return None
    return error_page(
        403,
        _("Refused: this request came from another page"),
        _("Only the console's own pages can use it. Type the console's address yourself."),
    )


def init_app(app: Flask) -> None:
    app.before_request(_refuse_foreign)
