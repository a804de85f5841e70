"""Rate limits: one shared store, refused in production without it, and a clear
503 (never a 500, never an open door) when the store does not answer."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from flask import Flask
from sqlalchemy import func, select

from crypto.kdf import MINIMAL
from crypto.source import derive_source_secrets, generate_codename
from portal import create_app, db
from portal.limits import GLOBAL_KEY, limiter
from portal.models import Blob, Report
from portal.services import blob_store
from portal.settings import Settings, UnsafeConfigError
from portal.sources import COOKIE_NAME, create_source, start_session

from .deployment import closed_port
from .journey import submit_report, text_of, token_in


def production(tmp_path: Path, **env: str) -> Settings:
    data_dir = tmp_path / "prod"
    data_dir.mkdir(mode=0o700)
    base = {
        "AMANAT_ENV": "production",
        "AMANAT_DATA_DIR": str(data_dir),
        "AMANAT_SECRET_KEY": "s" * 48,
    }
    return Settings.from_env({**base, **env})


@pytest.mark.parametrize("store", [None, "memory://", "MEMORY://"])
def test_production_refuses_rate_limits_counted_per_process(tmp_path, store) -> None:
    settings = production(tmp_path, **({"AMANAT_RATELIMIT_STORAGE": store} if store else {}))
    with pytest.raises(UnsafeConfigError, match="AMANAT_RATELIMIT_STORAGE is memory://"):
        create_app(settings)


def test_production_starts_with_a_shared_store(tmp_path, redis_url) -> None:
    create_app(production(tmp_path, AMANAT_RATELIMIT_STORAGE=redis_url))


def test_logins_are_counted_in_the_shared_store(environ, redis_url, recipient_key) -> None:
    app = create_app(Settings.from_env({**environ, "AMANAT_RATELIMIT_STORAGE": redis_url}))
    client = app.test_client()
    token = token_in(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"csrf_token": token, "codename": generate_codename()})
    assert response.status_code == 400
    with redis.Redis.from_url(redis_url) as store:
        assert any(GLOBAL_KEY.encode() in key for key in store.keys("*"))
    db.get_engine(app).dispose()


@pytest.fixture
def store_down(environ, recipient_key) -> Flask:
    """A development portal (one reviewer) whose Redis does not answer.

    Made after the reviewer's fixture app: the limiter is one object, and
    the app initialised last chooses its store.
    """
    dead = f"redis://127.0.0.1:{closed_port()}/0"
    app = create_app(Settings.from_env({**environ, "AMANAT_RATELIMIT_STORAGE": dead}))
    yield app
    db.get_engine(app).dispose()


@pytest.mark.parametrize(
    ("lang", "title"),
    [("ru", "Отправка"), ("ky", "Жөнөтүү"), ("en", "Sending is paused")],
)
def test_rate_store_down_answers_503_in_the_sources_language(store_down, lang, title) -> None:
    client = store_down.test_client()
    client.get(f"/lang/{lang}")
    token = token_in(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"csrf_token": token, "codename": generate_codename()})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"
    assert title in text_of(response)


def test_rate_store_down_keeps_nothing_of_a_report(store_down) -> None:
    with store_down.app_context():
        session = db.get_session()
        derived = derive_source_secrets(generate_codename(), bytes(16), MINIMAL)
        secret = store_down.extensions["amanat"].secret_key.encode("utf-8")
        source = create_source(session, derived)
        cookie = start_session(session, source, derived.box, 30, secret)
        session.commit()
    client = store_down.test_client()
    client.set_cookie(COOKIE_NAME, cookie)
    response = submit_report(client, files=[("evidence", "a.jpg", b"\xff\xd8 photo", "image/jpeg")])
    assert response.status_code == 503
    with store_down.app_context():
        session = db.get_session()
        assert session.scalar(select(func.count()).select_from(Report)) == 0
        assert session.scalar(select(func.count()).select_from(Blob)) == 0
        store = blob_store()
        assert list(store.root.iterdir()) == list(store.incoming.iterdir()) == []


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
