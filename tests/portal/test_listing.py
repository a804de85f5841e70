"""The listing cursor is a change number given at commit, so nothing committed late is skipped."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from portal import db
from portal.models import Report

from .api_client import ApiClient
from .api_helpers import error_of, new_report
from .journey import send_followup


def _changes(reviewer: ApiClient, since: int, limit: int = 100) -> dict:
    response = reviewer.get(f"/api/v1/reports?since={since}&limit={limit}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def _sessions(app: Flask) -> tuple[Session, Session]:
    factory = sessionmaker(bind=db.get_engine(app), expire_on_commit=False)
    return factory(), factory()


def test_a_report_committed_after_the_cursor_moved_is_still_listed(
    app: Flask, reviewer: ApiClient
) -> None:
    _, _, late = new_report(app)
    _, _, early = new_report(app)
    cursor = _changes(reviewer, 0)["cursor"]
    slow, quick = _sessions(app)
    try:
        # The slow transaction changes its report first...
        report = slow.get(Report, late)
        assert report is not None
        report.status = "in_review"
        if db.get_engine(app).dialect.name == "postgresql":
            # ...and writes it, uncommitted (SQLite has one writer: the quick
            # transaction below could not commit while this one holds it).
            slow.flush()
        quick_report = quick.get(Report, early)
        assert quick_report is not None
        quick_report.status = "closed"
        quick.commit()
        # A listing between the two commits moves the cursor past the quick one.
        page = _changes(reviewer, cursor)
        assert [r["id"] for r in page["reports"]] == [early]
        slow.commit()
    finally:
        slow.close()
        quick.close()
    after = _changes(reviewer, page["cursor"])
    assert [(r["id"], r["status"]) for r in after["reports"]] == [(late, "in_review")]
    assert after["cursor"] > page["cursor"]


def test_a_new_message_moves_its_report_to_the_end_of_the_sequence(
    app: Flask, reviewer: ApiClient
) -> None:
    browser, _, first = new_report(app)
    _, _, second = new_report(app)
    listed = _changes(reviewer, 0)
    assert [r["id"] for r in listed["reports"]] == [first, second]
    assert _changes(reviewer, listed["cursor"])["reports"] == []
    assert send_followup(browser, first, "Ещё одно сообщение").status_code == 303
    again = _changes(reviewer, listed["cursor"])
    assert [r["id"] for r in again["reports"]] == [first]
    assert sorted(b["kind"] for b in again["reports"][0]["blobs"]) == ["answers", "message"]


def test_pages_follow_the_sequence_without_gaps_or_repeats(app: Flask, reviewer: ApiClient) -> None:
    ids = [new_report(app)[2] for _ in range(5)]
    seen, cursor, pages = [], 0, 0
    while True:
        page = _changes(reviewer, cursor, limit=2)
        seen += [r["id"] for r in page["reports"]]
        cursor, pages = page["cursor"], pages + 1
        if not page["more"]:
            break
    assert seen == ids and pages == 3


def test_since_and_limit_must_be_plain_numbers(app: Flask, reviewer: ApiClient) -> None:
    for query in ("since=-1", "since=1.5", "since=", "since=1e3", "since=0&limit=0"):
        assert error_of(reviewer.get(f"/api/v1/reports?{query}")) == (400, "bad_request"), query
    assert error_of(reviewer.get("/api/v1/reports?since=0&limit=2001")) == (400, "bad_request")
    assert error_of(reviewer.get("/api/v1/reports?since=" + "9" * 19)) == (400, "bad_request")
