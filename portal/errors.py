"""Error pages: a title and what to do next, in the visitor's language.

`error_response(code)` renders the page directly, so any code can answer
with an error page without raising; the handlers registered here turn
raised errors (abort(), Werkzeug, CSRF, a database outage) into the same
pages. The pages never show a traceback, a path or an exception message.
"""

from __future__ import annotations

import errno
import logging
import traceback
from types import TracebackType

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from portal.store import StoreError

log = logging.getLogger(__name__)

# Headers an error response must keep: Allow for 405, Retry-After for 429/503.
_KEPT_HEADERS = ("Allow", "Retry-After")

MESSAGES = {
    400: (
        _l("The request could not be understood"),
        _l("Go back, check what you entered and send it again."),
    ),
    403: (
        _l("Access denied"),
        _l("You cannot open this page. Go back to the start page."),
    ),
    404: (
        _l("Page not found"),
        _l("Check the address, or go back to the start page."),
    ),
    405: (
        _l("This action is not possible here"),
        _l("Go back to the previous page and use its buttons and links."),
    ),
    413: (
        _l("What you sent is too large"),
        _l("Go back and send fewer or smaller files, a few at a time."),
    ),
    429: (
        _l("Too many requests right now"),
        _l("Wait a few minutes, then try again. What you entered was not saved."),
    ),
    500: (
        _l("Something went wrong on our side"),
        _l("What you sent may not have arrived. Wait a little and try again."),
    ),
    503: (
        _l("The service is temporarily unavailable"),
        _l("Please try again in a few minutes."),
    ),
}

CSRF_MESSAGE = (
    _l("The form has expired"),
    _l("For your safety, forms expire. Go back, and send it again."),
)


def error_response(code: int, title: str | None = None, advice: str | None = None) -> Response:
    """Return the error page for HTTP status code, in the current language.

    title and advice replace the standard texts for code. Unknown codes get
    the texts of 500 but keep their own status.
    """
    standard_title, standard_advice = MESSAGES.get(code, MESSAGES[500])
    html = render_template(
        "portal/error.html",
        code=code,
        title=title or standard_title,
        advice=advice or standard_advice,
    )
    return Response(html, status=code, mimetype="text/html")


def _http_error(exc: HTTPException) -> Response:
    response = error_response(exc.code or 500)
    if exc.response is None:
        for name, value in exc.get_headers():
            if name in _KEPT_HEADERS:
                response.headers[name] = value
    return response


def _csrf_error(exc: CSRFError) -> Response:
    return error_response(400, str(CSRF_MESSAGE[0]), str(CSRF_MESSAGE[1]))


def _database_unavailable(exc: OperationalError) -> Response:
    # Logged without parameters: a statement's values could be report metadata.
    log.error("database unavailable: %s", type(exc.orig).__name__)
    response = error_response(503)
    response.headers["Retry-After"] = "60"
    return response


# A full disk (or quota): the upload stopped and was deleted; say so, as 507
# (Werkzeug has no exception for 507, so it is not in MESSAGES).
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)
NO_SPACE_MESSAGE = (
    _l("There is not enough space on the server right now"),
    _l("Nothing you sent was kept. Try again in a few hours, or send fewer or smaller files."),
)


def _storage_error(exc: OSError) -> Response:
    if exc.errno not in _NO_SPACE:
        raise exc  # any other OSError stays an internal error
    log.error("storage full: an upload was refused and deleted")
    return try_again_later(507, ("insufficient_storage", "disk full"), NO_SPACE_MESSAGE, 3600)


def try_again_later(
    status: int, api_error: tuple[str, str], page: tuple[LazyString, LazyString], seconds: int
) -> Response:
    """Refuse for now, with Retry-After seconds: to the sync API, api_error's
    code and message as JSON; to a person, the error page with page's title
    and advice."""
    if request.path.startswith("/api/"):
        code, message = api_error
        response = jsonify({"error": {"code": code, "message": message}})
        response.status_code = status
    else:
        response = error_response(status, str(page[0]), str(page[1]))
    response.headers["Retry-After"] = str(seconds)
    return response


def log_unhandled(
    exc_info: tuple[type, BaseException, TracebackType] | tuple[None, None, None],
) -> None:
    """Log an unhandled exception without the request's path or the exception's text.

    Flask's own log line names the path ("Exception on /report/<id>/...")
    and a traceback ends with the exception's message; both can carry
    report and blob ids, and a path can carry a forged line break. What is
    logged: the route's name, the method, the exception's class and where
    it was raised (file, line, function), which is what a fix needs.
    """
    kind, _, trace = exc_info
    frames = "".join(
        f"\n  {frame.filename}:{frame.lineno} in {frame.name}"
        for frame in traceback.extract_tb(trace)
    )
    name = kind.__name__ if kind is not None else "exception"
    log.error("unhandled %s in %s [%s]%s", name, request.endpoint, request.method, frames)


def _store_error(exc: StoreError) -> Response:
    # A blob file that is a link or lies outside the store (tampering): the
    # visitor gets "not found", the log says what without naming the blob.
    log.warning("a blob file is not where the store keeps its files (%s)", exc)
    return error_response(404)


def init_app(app: Flask) -> None:
    """Register the error pages on app."""
    for code in MESSAGES:
        app.register_error_handler(code, _http_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(OSError, _storage_error)
    app.register_error_handler(StoreError, _store_error)
