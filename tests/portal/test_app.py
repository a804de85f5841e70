"""The app factory, settings, uploads, error pages and languages."""

from __future__ import annotations

import io
import re
import tempfile
from pathlib import Path

import pytest
from flask import Flask, abort, request
from flask.testing import FlaskClient
from sqlalchemy.exc import OperationalError
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

import templates
from portal import create_app, csrf
from portal.limits import limiter
from portal.settings import GIB, ConfigError, Settings, UnsafeConfigError

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "portal" / "translations"
LANGS = ("ru", "ky", "en")


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    data_dir = tmp_path / "prod"
    data_dir.mkdir(mode=0o700, exist_ok=True)
    env = {
        "AMANAT_ENV": "production",
        "AMANAT_DATA_DIR": str(data_dir),
        "AMANAT_DATABASE_URL": f"sqlite:///{tmp_path / 'prod.db'}",
        "AMANAT_SECRET_KEY": "k" * 48,
        # Never connected to by these tests: only views that are rate-limited do.
        "AMANAT_RATELIMIT_STORAGE": "redis://127.0.0.1:6379/0",
    }
    env.update(overrides)
    return env


# --- the factory -------------------------------------------------------------


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


def test_landing_page_shows_operator_crisis_contacts(tmp_path: Path, database_url: str) -> None:
    settings = Settings.from_env(
        {
            "AMANAT_DATA_DIR": str(tmp_path / "d"),
            "AMANAT_DATABASE_URL": database_url,
            "AMANAT_CRISIS_CONTACTS": "Горячая линия: 0 800 000 000",
        }
    )
    response = create_app(settings).test_client().get("/")
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


# --- settings ----------------------------------------------------------------


def test_settings_defaults(tmp_path: Path) -> None:
    settings = Settings.from_env({"AMANAT_DATA_DIR": str(tmp_path / "d")})
    assert settings.database_url == f"sqlite:///{tmp_path / 'd' / 'amanat.db'}"
    assert not settings.production
    assert not settings.secure_cookies
    assert settings.kdf_cost_name == "interactive"
    assert settings.ratelimit_storage == "memory://"
    assert settings.onion_address is None
    assert settings.session_minutes == 30
    assert settings.regions[:2] == ("bishkek", "osh_city")
    assert len(settings.regions) == 9


def test_settings_read_from_environment(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "AMANAT_DATA_DIR": str(tmp_path),
            "AMANAT_KDF_COST": "moderate",
            "AMANAT_MAX_UPLOAD_BYTES": "1000",
            "AMANAT_REGIONS": " osh, naryn ,",
            "AMANAT_RATELIMIT_STORAGE": "redis://127.0.0.1:6379",
            "AMANAT_ONION_ADDRESS": "example.onion",
            "AMANAT_SESSION_MINUTES": "15",
        }
    )
    assert settings.kdf_cost.opslimit > 0
    assert settings.max_upload_bytes == 1000
    assert settings.regions == ("osh", "naryn")
    assert settings.ratelimit_storage == "redis://127.0.0.1:6379"
    assert settings.onion_address == "example.onion"
    assert settings.session_minutes == 15


@pytest.mark.parametrize(
    "name, value",
    [
        ("AMANAT_KDF_COST", "fast"),
        ("AMANAT_MAX_UPLOAD_BYTES", "2GB"),
        ("AMANAT_MAX_UPLOAD_BYTES", "-1"),
        ("AMANAT_SESSION_MINUTES", "0"),
    ],
)
def test_unparseable_settings_are_refused(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({"AMANAT_DATA_DIR": str(tmp_path), name: value})


def test_development_secret_key_is_generated_once_and_private(tmp_path: Path) -> None:
    env = {"AMANAT_DATA_DIR": str(tmp_path / "d")}
    first = Settings.from_env(env)
    second = Settings.from_env(env)
    assert len(first.secret_key) >= 32
    assert first.secret_key == second.secret_key
    key_file = tmp_path / "d" / "secret_key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "d").stat().st_mode & 0o777 == 0o700


def test_secret_key_is_not_in_settings_repr(tmp_path: Path) -> None:
    settings = Settings.from_env({"AMANAT_DATA_DIR": str(tmp_path), "AMANAT_SECRET_KEY": "s" * 40})
    assert "s" * 40 not in repr(settings)


def test_production_never_generates_a_secret_key(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    del env["AMANAT_SECRET_KEY"]
    settings = Settings.from_env(env)
    assert settings.secret_key == ""
    assert not (tmp_path / "prod" / "secret_key").exists()


def test_production_reads_the_secret_key_file_from_init(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    del env["AMANAT_SECRET_KEY"]
    (tmp_path / "prod" / "secret_key").write_text("f" * 64 + "\n")
    assert Settings.from_env(env).secret_key == "f" * 64


def test_safe_production_config_starts(tmp_path: Path) -> None:
    settings = Settings.from_env(production_env(tmp_path))
    settings.check_safe()
    app = create_app(settings)
    assert app.config["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"AMANAT_SECRET_KEY": ""}, "AMANAT_SECRET_KEY"),
        ({"AMANAT_SECRET_KEY": "short"}, "AMANAT_SECRET_KEY"),
        ({"AMANAT_KDF_COST": "minimal"}, "minimal"),
    ],
)
def test_unsafe_production_config_refuses_to_start(
    tmp_path: Path, overrides: dict[str, str], message: str
) -> None:
    settings = Settings.from_env(production_env(tmp_path, **overrides))
    with pytest.raises(UnsafeConfigError, match=message):
        create_app(settings)


def test_production_refuses_a_data_dir_others_can_read(tmp_path: Path) -> None:
    settings = Settings.from_env(production_env(tmp_path))
    settings.data_dir.chmod(0o750)
    with pytest.raises(UnsafeConfigError, match="group or others"):
        create_app(settings)


def test_production_refuses_a_missing_data_dir(tmp_path: Path) -> None:
    settings = Settings.from_env(production_env(tmp_path, AMANAT_DATA_DIR=str(tmp_path / "no")))
    with pytest.raises(UnsafeConfigError, match="does not exist"):
        settings.check_safe()


def test_development_accepts_anything(tmp_path: Path) -> None:
    settings = Settings.from_env({"AMANAT_DATA_DIR": str(tmp_path), "AMANAT_KDF_COST": "minimal"})
    settings.check_safe()


# --- uploads never reach Werkzeug's temp files --------------------------------


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


# --- error pages ----------------------------------------------------------------


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


def test_rate_limits_are_shared_by_all_visitors(app: Flask) -> None:
    # Behind Tor every visitor is 127.0.0.1; the limit must not depend on it.
    @limiter.limit("2 per minute")
    def limited() -> str:
        return "ok"

    app.add_url_rule("/limited", view_func=limited)
    client = app.test_client()
    statuses = [
        client.get("/limited", environ_base={"REMOTE_ADDR": f"10.0.0.{n}"}).status_code
        for n in range(3)
    ]
    assert statuses == [200, 200, 429]
    response = client.get("/limited")
    assert "Сейчас слишком много запросов" in response.text
    assert "X-RateLimit-Limit" not in response.headers


# --- languages --------------------------------------------------------------------


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
