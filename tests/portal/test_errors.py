"""Error pages in the visitor's language (portal/errors.py): no traceback, no path."""

from __future__ import annotations

import pytest
from flask import Flask, abort
from flask.testing import FlaskClient
from sqlalchemy.exc import OperationalError


@pytest.mark.parametrize("code", [400, 403, 404, 405, 413, 429, 500, 503])
def test_error_pages_in_russian(app: Flask, code: int) -> None:
    app.add_url_rule("/fail", view_func=lambda: abort(code))
    response = app.test_client().get("/fail")
    assert response.status_code == code
    assert response.mimetype == "text/html"
    assert '<html lang="ru">' in response.text
    assert f"Код ошибки: {code}" in response.text
    assert "На главную" in response.text


def test_error_pages_in_kyrgyz(client: FlaskClient) -> None:
    client.set_cookie("lang", "ky")
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert '<html lang="ky">' in response.text
    assert "Барак табылган жок" in response.text


def test_method_not_allowed_keeps_allow_header(client: FlaskClient) -> None:
    response = client.delete("/")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]


def test_internal_error_shows_no_traceback(app: Flask) -> None:
    def broken() -> str:
        raise RuntimeError("secret detail /srv/amanat")

    app.add_url_rule("/broken", view_func=broken)
    app.config["TESTING"] = False  # let Flask handle it as in production
    response = app.test_client().get("/broken")
    assert response.status_code == 500
    assert "secret detail" not in response.text
    assert "Traceback" not in response.text
    assert "Код ошибки: 500" in response.text


def test_database_outage_is_a_503(app: Flask) -> None:
    def db_down() -> str:
        raise OperationalError("SELECT 1", {}, Exception("no such database"))

    app.add_url_rule("/db", view_func=db_down)
    response = app.test_client().get("/db")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"
    assert "Сервис временно недоступен" in response.text
    assert "SELECT" not in response.text


def test_expired_form_says_go_back_and_send_again(app: Flask) -> None:
    app.add_url_rule("/form", view_func=lambda: "sent", methods=["POST"])
    response = app.test_client().post("/form", data={"note": "x"})
    assert response.status_code == 400
    assert "Время заполнения формы истекло" in response.text
