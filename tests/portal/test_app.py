"""The app factory (portal/app.py), its pages' size and sources, and uploads that never
reach Werkzeug's temp files (portal/wrappers.py)."""

from __future__ import annotations

import io
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask, request
from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

import templates
from portal import csrf
from portal.settings import GIB, Settings


def test_templates_come_from_the_installed_templates_package(app: Flask) -> None:
    assert app.template_folder == str(Path(templates.__file__).parent)


def test_app_keeps_its_settings(app: Flask, settings: Settings) -> None:
    assert app.extensions["amanat"] is settings
    assert app.config["MAX_FORM_PARTS"] == 1000


def test_upload_limit_is_max_upload_plus_form_overhead(app: Flask, settings: Settings) -> None:
    assert settings.max_upload_bytes == 2 * GIB
    assert app.config["MAX_CONTENT_LENGTH"] == 2 * GIB + 1024**2


def test_oversized_request_is_refused_with_a_413_page(app: Flask, client: FlaskClient) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 100
    app.add_url_rule("/form", view_func=lambda: request.form["note"], methods=["POST"])
    response = client.post("/form", data={"note": "x" * 1000})
    assert response.status_code == 413
    assert "Слишком большой" in response.text


def test_landing_page_links_to_codename_and_login(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert 'href="/codename"' in response.text
    assert 'href="/login"' in response.text
    assert "REAct" in response.text
    assert "Tor Browser" in response.text


def test_landing_page_shows_operator_crisis_contacts(app_with: Callable[..., Flask]) -> None:
    app = app_with(AMANAT_CRISIS_CONTACTS="Горячая линия: 0 800 000 000")
    response = app.test_client().get("/")
    assert "Горячая линия: 0 800 000 000" in response.text


def test_pages_load_nothing_from_other_sites_and_run_no_script(client: FlaskClient) -> None:
    for path in ("/", "/no-such-page"):
        html = client.get(path).text
        assert "<script" not in html.lower()
        assert not re.search(r"\sstyle=", html)
        assert not re.search(r"\son[a-z]+=", html)
        external = set(re.findall(r'(?:href|src|action)="(https?://[^"]*)"', html))
        # Not even the exit: "Leave quickly" goes through /leave, which ends the session first.
        assert external == set()


def test_each_page_with_its_css_is_under_30_kb(client: FlaskClient) -> None:
    with client.get("/static/portal.css") as response:
        assert response.status_code == 200
        css = response.data
    assert len(css) < 10 * 1024
    for path in ("/", "/no-such-page"):
        assert len(client.get(path).data) + len(css) < 30 * 1024


# Uploads never reach Werkzeug's temp files.


def _no_temp_files(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a temporary file was created")

    for name in ("SpooledTemporaryFile", "TemporaryFile", "NamedTemporaryFile", "mkstemp"):
        monkeypatch.setattr(tempfile, name, refuse)
    monkeypatch.setattr("werkzeug.formparser.SpooledTemporaryFile", refuse)


def _multipart_upload(size: int) -> dict[str, object]:
    # Encoded here, in memory: the test client would buffer a large body in
    # a temp file of its own and leave it open when the server refuses early.
    photo = FileStorage(io.BytesIO(b"\x89PNG" + b"p" * size), filename="photo.png")
    fields = {"note": "hello", "evidence": photo}
    boundary, body = encode_multipart(fields)
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


def test_multipart_form_access_never_spools_to_disk(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []

    @csrf.exempt
    def careless_upload() -> str:
        seen.append(request.form.get("note", ""))
        return "parsed"

    app.add_url_rule("/careless", view_func=careless_upload, methods=["POST"])
    _no_temp_files(monkeypatch)
    response = app.test_client().post("/careless", **_multipart_upload(2 * 1024**2))
    assert response.status_code == 400
    assert seen == []


def test_multipart_upload_is_refused_before_csrf_check_spools_it(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    # CSRFProtect reads request.form, which must not parse a file part either.
    app.add_url_rule("/protected", view_func=lambda: "parsed", methods=["POST"])
    _no_temp_files(monkeypatch)
    response = app.test_client().post("/protected", **_multipart_upload(600_000))
    assert response.status_code == 400


def test_text_only_multipart_forms_still_parse(app: Flask) -> None:
    @csrf.exempt
    def text_form() -> str:
        return request.form["note"]

    app.add_url_rule("/text", view_func=text_form, methods=["POST"])
    response = app.test_client().post(
        "/text", data={"note": "привет"}, content_type="multipart/form-data"
    )
    assert response.status_code == 200
    assert response.text == "привет"


def test_raw_stream_stays_readable_for_the_sealer(app: Flask) -> None:
    @csrf.exempt
    def streaming() -> str:
        return str(len(request.stream.read()))

    app.add_url_rule("/stream", view_func=streaming, methods=["POST"])
    response = app.test_client().post("/stream", **_multipart_upload(1000))
    assert response.status_code == 200
    assert int(response.text) > 1000
