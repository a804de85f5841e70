"""Leave quickly really leaves: the session ends on the server and the browser forgets it."""

from __future__ import annotations

from sqlalchemy import func, select

from portal import db
from portal.models import SourceSession
from portal.services import blob_store
from portal.source_login import EXIT_URL

from .journey import get_codename, submit_report, text_of


def sessions(app) -> int:
    with app.app_context():
        return db.get_session().scalar(select(func.count()).select_from(SourceSession))


def test_leave_quickly_ends_the_session_on_the_server_and_clears_the_cookies(
    app, client, recipient_key
):
    get_codename(client)
    client.set_cookie("lang", "ky")
    stolen = client.get_cookie("amanat_source").value
    response = client.get("/leave")
    assert response.status_code == 303
    assert response.headers["Location"] == EXIT_URL
    assert sessions(app) == 0
    cleared = " ".join(response.headers.getlist("Set-Cookie"))
    for name in ("amanat_source=;", "session=;", "lang=;"):
        assert name in cleared, name
    assert '"cache"' in response.headers["Clear-Site-Data"]
    assert client.get_cookie("amanat_source") is None
    # Back or reload: the personal pages send the browser to the login page.
    for path in ("/status", "/report"):
        assert client.get(path).status_code == 303
    # Even the old cookie, if someone kept it, opens nothing: the session is gone.
    client.set_cookie("amanat_source", stolen)
    assert client.get("/status").status_code == 303


def test_leave_quickly_shreds_files_kept_for_a_fix(app, client, recipient_key):
    get_codename(client)
    submit_report(client, narrative="", files=[("evidence", "v.mp4", b"x" * 1000, "video/mp4")])
    with app.app_context():
        assert len(list(blob_store().incoming.iterdir())) == 1
    client.get("/leave")
    with app.app_context():
        assert list(blob_store().incoming.iterdir()) == []


def test_leave_quickly_is_a_plain_link_on_every_page(client, recipient_key):
    for path in ("/", "/login", "/help", "/codename", "/no-such-page"):
        assert 'class="leave" href="/leave"' in text_of(client.get(path)), path


def test_personal_pages_are_never_stored_by_the_browser(client, recipient_key):
    source = get_codename(client)
    assert source
    for path in ("/", "/codename", "/report", "/status", "/help", "/login"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path
