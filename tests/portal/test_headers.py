"""Security headers, cookie flags and the absence of client addresses in logs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask, session
from flask.testing import FlaskClient

from portal import create_app
from portal.cli import AddresslessRequestHandler
from portal.security_headers import CONTENT_SECURITY_POLICY, SECURITY_HEADERS
from portal.settings import Settings

PATHS = ["/", "/no-such-page", "/static/portal.css", "/lang/ky?next=/"]


@pytest.mark.parametrize("path", PATHS)
def test_every_response_forbids_scripts(client: FlaskClient, path: str) -> None:
    with client.get(path) as response:
        csp = response.headers["Content-Security-Policy"]
    assert csp == CONTENT_SECURITY_POLICY
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert "script-src" not in directives  # so default-src 'none' applies
    assert directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert directives["form-action"] == "'self'"


@pytest.mark.parametrize("path", PATHS)
def test_every_response_carries_the_security_headers(client: FlaskClient, path: str) -> None:
    with client.get(path) as response:
        headers = response.headers
    for name, value in SECURITY_HEADERS.items():
        assert headers[name] == value
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"
    assert headers["X-Frame-Options"] == "DENY"
    assert "camera=()" in headers["Permissions-Policy"]
    assert "geolocation=()" in headers["Permissions-Policy"]
    assert "interest-cohort=()" in headers["Permissions-Policy"]
    assert "Onion-Location" not in headers


def test_onion_location_points_to_the_same_page(app_with: Callable[..., Flask]) -> None:
    response = app_with(AMANAT_ONION_ADDRESS="abcdefgh.onion").test_client().get("/no-such-page")
    assert response.headers["Onion-Location"] == "http://abcdefgh.onion/no-such-page"


def test_onion_location_is_not_sent_on_the_onion_itself(app_with: Callable[..., Flask]) -> None:
    client = app_with(AMANAT_ONION_ADDRESS="abcdefgh.onion").test_client()
    for host in ("abcdefgh.onion", "ABCDEFGH.onion:80"):
        assert "Onion-Location" not in client.get("/", headers={"Host": host}).headers


def _session_cookie(app: Flask) -> str:
    @app.get("/touch-session")
    def touch_session() -> str:
        session["seen"] = True
        return "ok"

    return app.test_client().get("/touch-session").headers["Set-Cookie"]


def test_session_cookie_is_httponly_and_strict(app: Flask) -> None:
    cookie = _session_cookie(app)
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Secure" not in cookie  # development runs on plain http://127.0.0.1


def test_production_cookies_are_secure(tmp_path: Path, database_url: str) -> None:
    data_dir = tmp_path / "prod"
    data_dir.mkdir(mode=0o700)
    settings = Settings.from_env(
        {
            "AMANAT_ENV": "production",
            "AMANAT_DATA_DIR": str(data_dir),
            "AMANAT_DATABASE_URL": database_url,
            "AMANAT_SECRET_KEY": "p" * 40,
            "AMANAT_RATELIMIT_STORAGE": "redis://127.0.0.1:6379/0",
        }
    )
    app = create_app(settings)
    assert "Secure" in _session_cookie(app)
    lang_cookie = app.test_client().get("/lang/en").headers["Set-Cookie"]
    assert "Secure" in lang_cookie


def test_access_log_never_records_client_address(caplog: pytest.LogCaptureFixture) -> None:
    handler = AddresslessRequestHandler.__new__(AddresslessRequestHandler)
    handler.client_address = ("203.0.113.7", 40000)
    handler.requestline = "GET /report/abc HTTP/1.1"
    with caplog.at_level(logging.DEBUG, logger="werkzeug"):
        handler.log_request(200, 1234)
        handler.log_error("bad request %s", "syntax")
    text = caplog.text
    assert "203.0.113.7" not in text
    assert "/report/abc" not in text
    assert "bad request syntax" in text
