"""Error pages of the console: a title and what to do next, never a traceback."""

from __future__ import annotations

from flask import Flask, render_template
from flask.globals import request_ctx
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response


def error_page(status: int, title: str, text: str) -> Response:
    """The error page as a response with status."""
    return Response(
        render_template("admin/error.html", title=title, text=text),
        status=status,
        mimetype="text/html",
    )


def _csrf_error(exc: CSRFError) -> Response:
    return error_page(
        400,
        _("The form has expired"),
        _("Go back, reload the page and try again. Nothing was changed."),
    )


def _http_error(exc: HTTPException) -> Response | HTTPException:
    if exc.code is None or exc.code < 400:
        return exc
    if request_ctx.url_adapter is None:
        # An untrusted Host header (DNS rebinding): no page, no links, nothing to read.
        return Response("Bad host\n", status=400, mimetype="text/plain")
    titles = {
        404: _("Not found"),
        405: _("This action is not possible here"),
        413: _("What you sent is too large"),
    }
    title = titles.get(exc.code, _("The request could not be handled"))
    return error_page(exc.code, title, _("Go back to the inbox and try again."))


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
