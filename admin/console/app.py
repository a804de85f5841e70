"""The reviewer console: a local web UI on 127.0.0.1 to read, triage and answer reports.

`create_console` only wires the parts together. The console runs on the
reviewer's own machine: it decrypts in memory, keeps the unlocked key in
this process only (admin/console/state.py), and sends the browser pages
with no script and no inline style under a strict Content-Security-Policy.
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
from pathlib import Path

from flask import Flask, request
from flask_babel import Babel
from flask_wtf import CSRFProtect
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Response

import templates
from admin.console import airgap as console_airgap
from admin.console import case as console_case
from admin.console import errors as console_errors
from admin.console import files as console_files
from admin.console import origin as console_origin
from admin.console import templates as console_templates
from admin.console import views as console_views
from admin.console.state import Keyring
from admin.stats import views as stats_views
from portal.languages import COOKIE_NAME, DEFAULT_LANGUAGE, LANGUAGES
from portal.security_headers import SECURITY_HEADERS

# The console's catalogs and stylesheet stay in admin/ (setup.cfg ships them from there).
ADMIN_DIR = Path(__file__).resolve().parent.parent
TRANSLATIONS_DIR = ADMIN_DIR / "translations"
DEFAULT_PORT = 8081
LOOPBACK = "127.0.0.1"


class UnsafeHostError(ValueError):
    """The console was asked to listen somewhere other than this machine's loopback."""


def check_loopback(host: str) -> str:
    """Return host if it is an IPv4 loopback address ("localhost" means 127.0.0.1).

    Raises UnsafeHostError for anything else: 0.0.0.0, ::, a LAN address or a
    name would let other machines reach decrypted reports.
    """
    if host == "localhost":
        return LOOPBACK
    try:
        address = ipaddress.ip_address(host)
    except ValueError as exc:
        raise UnsafeHostError(f"the console only listens on {LOOPBACK}, not on {host!r}") from exc
    if address.version != 4 or not address.is_loopback:
        raise UnsafeHostError(
            f"the console only listens on {LOOPBACK} (this machine), not on {host}: "
            "anyone on the network could otherwise read decrypted reports"
        )
    return host


def select_locale() -> str:
    chosen = request.cookies.get(COOKIE_NAME, "")
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def create_console(
    keyfile: Path, vault_dir: Path, server_url: str | None, idle_minutes: int = 15
) -> Flask:
    """Return the console app for one key file and its vault (both opened only on unlock)."""
    app = Flask(
        "admin.console",
        template_folder=str(Path(templates.__file__).parent),
        static_folder=str(ADMIN_DIR / "static"),
    )
    app.config.update(
        # Generated at every start and never written anywhere: restarting the
        # console ends every session.
        SECRET_KEY=secrets.token_bytes(32),
        SESSION_COOKIE_NAME="amanat_console",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        # Answers a request for another host name (DNS rebinding) with 400.
        TRUSTED_HOSTS=["127.0.0.1", "localhost"],
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session cookie
    )
    app.extensions["amanat_console"] = console_views.ConsoleConfig(
        keyfile=Path(keyfile),
        vault_dir=Path(vault_dir),
        server_url=server_url,
        keyring=Keyring(idle_seconds=idle_minutes * 60),
    )
    Babel(
        app,
        default_locale=DEFAULT_LANGUAGE,
        default_translation_directories=str(TRANSLATIONS_DIR),
        locale_selector=select_locale,
    )
    app.jinja_env.globals.update(LANGUAGES=LANGUAGES, current_language=select_locale)
    CSRFProtect(app)
    app.after_request(_add_security_headers)
    console_errors.init_app(app)
    console_origin.init_app(app)
    app.register_blueprint(console_views.bp)
    app.register_blueprint(console_files.bp)
    app.register_blueprint(console_case.bp)
    app.register_blueprint(console_templates.bp)
    app.register_blueprint(console_airgap.bp)
    app.register_blueprint(stats_views.bp)
    return app


def _add_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value
    return response


class QuietRequestHandler(WSGIRequestHandler):
    """Werkzeug's handler without the access log: no client address, no report ids in paths."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def log(self, type: str, message: str, *args: object) -> None:
        getattr(logging.getLogger("werkzeug"), type, logging.getLogger("werkzeug").info)(
            message, *args
        )


def serve(app: Flask, host: str, port: int) -> None:
    """Serve the console on host:port (loopback only) until interrupted."""
    host = check_loopback(host)
    app.extensions["amanat_console"].keyring.start_reaper()
    server = make_server(host, port, app, threaded=True, request_handler=QuietRequestHandler)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
