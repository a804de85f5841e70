"""A seized disk does not say when a source (or a reviewer) was active: days, not moments.

source_sessions.expires_at and api_nonces.expires_at held microsecond times
refreshed on every page. Now the database keeps the day a session ends, set
at login and never moved, and the day a nonce may go; the idle timeout
travels in the cookie under the server's MAC. These tests read the raw
database, as whoever takes the disk would.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import time

import pytest
from sqlalchemy import create_engine, text

from tests.portal.api_client import ApiClient
from tests.portal.journey import get_codename

MOMENT = re.compile(r"\d{1,2}:\d{2}")


def raw_rows(app, table: str) -> list[tuple]:
    """Every row of table as the database file holds it (no ORM type conversion)."""
    url = app.extensions["amanat"].database_url
    if url.startswith("sqlite:///"):
        connection = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            return connection.execute(f"SELECT * FROM {table}").fetchall()  # noqa: S608
        finally:
            connection.close()
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(r) for r in connection.execute(text(f"SELECT * FROM {table}"))]  # noqa: S608
    finally:
        engine.dispose()


def holds_a_moment(rows: list[tuple]) -> list[str]:
    found = []
    for row in rows:
        for value in row:
            if isinstance(value, dt.datetime | dt.time) or (
                isinstance(value, str) and MOMENT.search(value)
            ):
                found.append(repr(value))
    return found


def later(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    moved = time.time() + seconds
    monkeypatch.setattr("portal.sources.clock", lambda: moved)


def test_source_sessions_hold_a_day_not_a_moment_and_do_not_move_with_activity(
    app, client, recipient_key, monkeypatch
):
    get_codename(client)
    at_login = raw_rows(app, "source_sessions")
    assert len(at_login) == 1
    assert holds_a_moment(at_login) == []
    for minutes in (5, 20, 35):  # each page renews the cookie, not the row
        later(monkeypatch, minutes * 60)
        assert client.get("/status").status_code == 200
    assert raw_rows(app, "source_sessions") == at_login


def test_api_nonces_hold_a_day_not_a_moment(app, recipient_key):
    reviewer = ApiClient(app.test_client(), recipient_key)
    assert reviewer.get("/api/v1/server").status_code == 200
    rows = raw_rows(app, "api_nonces")
    assert len(rows) == 1
    assert holds_a_moment(rows) == []


def test_an_idle_session_still_ends_after_its_minutes(app, client, recipient_key, monkeypatch):
    get_codename(client)
    later(monkeypatch, 31 * 60)
    response = client.get("/status")
    assert response.status_code == 303
    assert "/login" in response.headers["Location"]


def test_an_active_source_stays_logged_in_past_the_first_deadline(
    app, client, recipient_key, monkeypatch
):
    get_codename(client)
    for minutes in (20, 40, 60):
        later(monkeypatch, minutes * 60)
        assert client.get("/status").status_code == 200


def test_a_cookie_with_a_moved_deadline_is_refused(app, client, recipient_key, monkeypatch):
    get_codename(client)
    session_id, key, deadline, mac = client.get_cookie("amanat_source").value.split(".")
    forged = f"{session_id}.{key}.{int(deadline) + 86400}.{mac}"
    client.set_cookie("amanat_source", forged)
    later(monkeypatch, 31 * 60)
    assert client.get("/status").status_code == 303
