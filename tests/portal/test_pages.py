"""Every source page: no script, small, and every POST guarded by a CSRF token."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select, update

from crypto.keys import ReviewerKey
from portal import create_app, db
from portal.limits import limiter
from portal.models import Blob, Report, Source, SourceSession
from portal.recipients import register_recipient
from portal.services import blob_store

from .journey import get_codename, login, only_report_id, submit_report, text_of, token_in
from .multipart_body import content_type, encode

LIMIT_BYTES = 30 * 1024


class Resources(HTMLParser):
    """Collects what a page would load or run."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.forms: list[tuple[str, bool]] = []
        self._form: list[bool] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script":
            self.problems.append("script element")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{name} handler on {tag}")
            if name == "style":
                self.problems.append(f"inline style on {tag}")
            if value and value.strip().lower().startswith("javascript:"):
                self.problems.append(f"javascript: URL on {tag}")
            if name in ("src", "href", "action", "srcset", "poster", "data") and value:
                external = re.match(r"^(https?:)?//", value)
                if external:
                    self.problems.append(f"external resource {value}")
        if tag == "form" and attributes.get("method", "get").lower() == "post":
            self.forms.append((attributes.get("action", ""), False))
        if tag == "input" and attributes.get("name") == "csrf_token" and self.forms:
            action, _ = self.forms[-1]
            self.forms[-1] = (action, True)


def source_pages(app, client):
    """(name, response) for every page a source sees, in the client's language."""
    pages = [("landing", client.get("/")), ("codename", client.get("/codename"))]
    pages.append(("login", client.get("/login")))
    get_codename(client)
    pages.append(("report", client.get("/report")))
    received = submit_report(client, in_danger_now="yes")
    pages.append(("received", client.get(received.headers["Location"])))
    pages.append(("status", client.get("/status")))
    pages.append(("not found", client.get("/no-such-page")))
    pages.append(("help", client.get("/help")))
    pages.append(("invalid report", submit_report(client, narrative="")))
    return pages


@pytest.mark.parametrize("lang", ["ru", "ky", "en"])
def test_every_source_page_is_script_free_small_and_csrf_guarded(app, client, recipient_key, lang):
    client.get(f"/lang/{lang}")
    with client.get("/static/portal.css") as response:
        css = response.data
    for name, response in source_pages(app, client):
        page = response.get_data(as_text=True)
        parser = Resources()
        parser.feed(page)
        assert parser.problems == [], f"{name}: {parser.problems}"
        assert len(response.data) + len(css) < LIMIT_BYTES, f"{name} is {len(response.data)} bytes"
        for action, has_token in parser.forms:
            assert has_token, f"{name}: the form posting to {action} has no CSRF token"
        assert f'<html lang="{lang}">' in page
        assert 'name="viewport"' in page


def count(app, model) -> int:
    with app.app_context():
        return db.get_session().scalar(select(func.count()).select_from(model))


def test_every_post_without_a_csrf_token_is_refused_and_stores_nothing(app, client, recipient_key):
    source = get_codename(client)
    submit_report(client)
    report_id = only_report_id(app)
    before = {m: count(app, m) for m in (Source, SourceSession, Report, Blob)}
    forms = {
        "/codename": {"check": "0454"},
        "/login": {"codename": source.codename},
        "/logout": {},
    }
    for path, data in forms.items():
        assert client.post(path, data=data).status_code == 400, path
    uploads = ["/report", f"/report/{report_id}/followup"]
    for path in uploads:
        body = encode(
            [("narrative", "без токена"), ("message", "x"), ("store_report", "yes")],
            [("evidence", "a.txt", b"x", "text/plain")],
        )
        assert client.post(path, data=body, content_type=content_type()).status_code == 400, path
        body = encode([("csrf_token", "forged"), ("narrative", "x")])
        assert client.post(path, data=body, content_type=content_type()).status_code == 400, path
    assert {m: count(app, m) for m in before} == before
    with app.app_context():
        assert list(blob_store().incoming.iterdir()) == []


def test_every_source_route_is_covered_by_the_csrf_test(app):
    """A new POST route must be added to the test above."""
    posts = sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if "POST" in rule.methods and not rule.rule.startswith("/api/")
    )
    assert posts == sorted(
        ["/codename", "/login", "/logout", "/report", "/report/<report_id>/followup"]
    )


@pytest.fixture
def small_limit_app(settings):
    """A portal taking uploads up to 64 KiB, with one reviewer to seal them to."""
    app = create_app(dataclasses.replace(settings, max_upload_bytes=64 * 1024))
    app.config["TESTING"] = True
    with app.app_context():
        register_recipient(db.get_session(), ReviewerKey.generate("r").bundle())
        db.get_session().commit()
    yield app
    db.get_engine(app).dispose()


def test_upload_over_the_limit_is_a_clean_413_leaving_nothing(small_limit_app):
    app = small_limit_app
    client = app.test_client()
    get_codename(client)
    big = bytes(3 * 1024 * 1024)
    response = submit_report(client, files=[("evidence", "big.mp4", big, "video/mp4")])
    assert response.status_code == 413
    assert "413" in response.get_data(as_text=True)
    assert count(app, Report) == 0
    assert count(app, Blob) == 0
    with app.app_context():
        assert list(blob_store().incoming.iterdir()) == []
        assert list(blob_store().root.iterdir()) == []


def test_chunked_upload_over_the_limit_is_refused_too(small_limit_app):
    app = small_limit_app
    client = app.test_client()
    get_codename(client)
    page = text_of(client.get("/report"))
    body = encode(
        [("csrf_token", token_in(page)), ("store_report", "yes"), ("narrative", "x")],
        [("evidence", "big.mp4", bytes(3 * 1024 * 1024), "video/mp4")],
    )

    # No Content-Length, as with chunked transfer encoding: the limit can only
    # be found by reading, and must still stop the upload and clean up.
    response = client.post(
        "/report",
        input_stream=io.BytesIO(body),
        content_type=content_type(),
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413
    assert count(app, Report) == 0
    with app.app_context():
        assert list(blob_store().incoming.iterdir()) == []


def test_codename_login_is_rate_limited(app, client, recipient_key):
    limiter.enabled = True
    try:
        get_codename(client)
        statuses = [
            login(client, "0000 0000 0000 0000 0000 0000 0000").status_code for _ in range(35)
        ]
    finally:
        limiter.reset()
    assert 429 in statuses
    assert statuses.index(429) >= 20


def test_expired_session_is_refused_and_removed(app, client, recipient_key):
    get_codename(client)
    with app.app_context():
        session = db.get_session()
        session.execute(
            update(SourceSession).values(
                expires_day=dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
            )
        )
        session.commit()
    response = client.get("/status")
    assert response.status_code == 303
    assert "/login" in response.headers["Location"]
    assert count(app, SourceSession) == 0
