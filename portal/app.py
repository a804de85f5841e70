"""The portal's app factory.

`create_app` only wires the parts together; each part registers itself with
its own `init_app`.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

from flask import Flask
from flask_wtf import CSRFProtect

import templates
from portal import (
    api,
    crisis,
    db,
    errors,
    headers,
    i18n,
    limits,
    source_login,
    source_views,
    views,
)
from portal.hardening import harden_process
from portal.settings import Settings
from portal.wrappers import PortalRequest

MIB = 1024**2
csrf = CSRFProtect()


class Portal(Flask):
    """The portal's Flask app: its error log names no request path (portal.errors)."""

    def log_exception(
        self,
        exc_info: tuple[type, BaseException, TracebackType] | tuple[None, None, None],
    ) -> None:
        errors.log_unhandled(exc_info)


def configure(app: Flask, settings: Settings) -> None:
    """Give app its request class, its settings and its Flask config."""
    app.request_class = PortalRequest
    app.extensions["amanat"] = settings
    app.config.update(
        SECRET_KEY=settings.secret_key,
        # The largest upload plus room for the form's other fields.
        MAX_CONTENT_LENGTH=settings.max_upload_bytes + MIB,
        MAX_FORM_PARTS=1000,
        # A source may spend hours on a report (writing, then a large video
        # over Tor); a form token that expired meanwhile would throw the
        # report away at the end. Flask's signed cookie, which holds only the
        # form-token secret, is accepted for 12 hours (Flask checks this age
        # even for browser-session cookies), and the token itself has no
        # separate limit. The source's login session is separate and
        # expires after AMANAT_SESSION_MINUTES idle.
        PERMANENT_SESSION_LIFETIME=12 * 3600,
        WTF_CSRF_TIME_LIMIT=None,
    )


def create_app(settings: Settings | None = None) -> Flask:
    """Return the portal app for settings (default: read from the environment).

    Raises settings.UnsafeConfigError rather than serve with an unsafe
    production configuration.
    """
    harden_process()  # before anything creates a file (portal.hardening)
    if settings is None:
        settings = Settings.from_env(os.environ)
    settings.check_safe()

    app = Portal(
        __name__,
        # The templates live in their own package so they install with
        # `pip install .` as well as work from a checkout.
        template_folder=str(Path(templates.__file__).parent),
        static_folder="static",
    )
    configure(app, settings)
    headers.init_app(app, settings)
    db.init_app(app, settings.database_url)
    errors.init_app(app)
    crisis.init_app(app, settings)
    i18n.init_app(app)
    csrf.init_app(app)
    # The source pages exempt their streaming uploads from CSRFProtect
    # (they check the token themselves) and renew the source's cookie.
    source_views.init_app(app)
    limits.init_app(app, settings)
    app.register_blueprint(views.bp)
    app.register_blueprint(source_login.bp)
    app.register_blueprint(source_views.bp)
    # The reviewers' sync API: signed requests, JSON errors, no CSRF tokens.
    api.init_app(app)
    return app
