"""The page language (portal/i18n.py): Russian by default, a link to switch, no open redirect."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient


def test_default_language_is_russian(client: FlaskClient) -> None:
    response = client.get("/")
    assert '<html lang="ru">' in response.text
    assert "Рассказать, что случилось" in response.text


@pytest.mark.parametrize(
    "code, text",
    [("ky", "Эмне болгонун айтып берүү"), ("en", "Report what happened")],
)
def test_language_link_sets_cookie_and_returns(client: FlaskClient, code: str, text: str) -> None:
    response = client.get(f"/lang/{code}?next=/somewhere")
    assert response.status_code == 303
    assert response.headers["Location"] == "/somewhere"
    cookie = response.headers["Set-Cookie"]
    assert f"lang={code}" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    # A session cookie: a persistent one would be a trace on a shared device.
    assert "Expires" not in cookie and "Max-Age" not in cookie
    assert text in client.get("/").text


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "evil.example",
        "javascript:alert(1)",
        "/ok\r\nSet-Cookie: x=1",
        "",
    ],
)
def test_language_link_refuses_open_redirect(client: FlaskClient, target: str) -> None:
    response = client.get("/lang/en", query_string={"next": target})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_unknown_language_is_not_found(client: FlaskClient) -> None:
    assert client.get("/lang/de").status_code == 404


def test_unknown_language_cookie_falls_back_to_russian(client: FlaskClient) -> None:
    client.set_cookie("lang", "xx")
    assert '<html lang="ru">' in client.get("/").text
