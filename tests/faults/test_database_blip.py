"""The database blinks at the end of a long upload, or restarts between requests.

A finished upload's rows are written again for a bounded time while its
sealed blobs wait (portal.retry): the report is kept, once, with every
file. An outage longer than that loses the upload but leaves nothing
behind. After a PostgreSQL restart, the pool's dead connections are
replaced before use, so the first request works.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from portal import db, retry
from portal.models import Blob, Report
from tests.adversarial.conftest import row_counts, stored_files
from tests.portal.journey import (
    get_codename,
    only_report_id,
    reviewer_reads_answers,
    reviewer_reads_files,
    send_followup,
    submit_report,
)

EVIDENCE = os.urandom(300_000)


class Clock:
    """Replaces portal.retry's clock and pause: waiting moves time, nothing sleeps."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.time = 0.0
        self.waits: list[float] = []
        monkeypatch.setattr(retry, "now", lambda: self.time)
        monkeypatch.setattr(retry, "pause", self.pause)

    def pause(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.time += seconds


def database_down_for(monkeypatch: pytest.MonkeyPatch, failures: int) -> list[int]:
    """Make the next `failures` flushes of report or blob rows fail as if the server were gone."""
    real_flush = Session.flush
    seen = [0]

    def flush(self: Session, *args: Any, **kwargs: Any) -> None:
        if any(isinstance(row, Report | Blob) for row in self.new) and seen[0] < failures:
            seen[0] += 1
            raise OperationalError("INSERT", {}, ConnectionRefusedError("connection refused"))
        real_flush(self, *args, **kwargs)

    monkeypatch.setattr(Session, "flush", flush)
    return seen


def test_a_database_blip_at_the_end_of_an_upload_keeps_the_report(
    app, client, recipient_key, monkeypatch
):
    clock = Clock(monkeypatch)
    get_codename(client)
    failures = database_down_for(monkeypatch, 4)
    response = submit_report(client, files=[("evidence", "v.mp4", EVIDENCE, "video/mp4")])
    assert response.status_code == 303
    assert failures[0] == 4
    assert clock.waits == [0.25, 0.5, 1.0, 2.0]
    report_id = only_report_id(app)
    assert reviewer_reads_answers(app, recipient_key, report_id)["narrative"]
    [(_, content)] = reviewer_reads_files(app, recipient_key, report_id)
    assert content == EVIDENCE
    assert row_counts(app)["Blob"] == 2
    assert [f for f in stored_files(app) if f.startswith("incoming/")] == []
    assert len(stored_files(app)) == 2


def test_a_database_blip_during_a_followup_keeps_the_followup(
    app, client, recipient_key, monkeypatch
):
    Clock(monkeypatch)
    get_codename(client)
    assert submit_report(client).status_code == 303
    report_id = only_report_id(app)
    database_down_for(monkeypatch, 2)
    response = send_followup(client, report_id, "ещё", [("evidence", "b.bin", EVIDENCE, "x/y")])
    assert response.status_code == 303
    [(_, content)] = reviewer_reads_files(app, recipient_key, report_id)
    assert content == EVIDENCE
    assert row_counts(app)["Blob"] == 3


def test_an_outage_longer_than_the_retry_time_leaves_nothing(
    app, client, recipient_key, monkeypatch
):
    clock = Clock(monkeypatch)
    get_codename(client)
    before, files_before = row_counts(app), stored_files(app)
    database_down_for(monkeypatch, 10**6)
    response = submit_report(client, files=[("evidence", "v.mp4", EVIDENCE, "video/mp4")])
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"
    assert 50 <= clock.time <= app.extensions["amanat"].commit_retry_seconds
    monkeypatch.undo()
    assert row_counts(app) == before
    assert stored_files(app) == files_before


def test_a_commit_whose_answer_was_lost_is_not_written_twice(
    app, client, recipient_key, monkeypatch
):
    Clock(monkeypatch)
    get_codename(client)
    real_commit = Session.commit
    lost = [0]

    def commit(self: Session) -> None:
        carries_report = any(isinstance(row, Report) for row in self.identity_map.values())
        real_commit(self)
        if carries_report and not lost[0]:
            lost[0] += 1  # the server committed; its answer never arrived
            raise OperationalError("COMMIT", {}, ConnectionResetError("connection reset"))

    monkeypatch.setattr(Session, "commit", commit)
    response = submit_report(client, files=[("evidence", "v.mp4", EVIDENCE, "video/mp4")])
    assert response.status_code == 303
    assert lost[0] == 1
    counts = row_counts(app)
    assert (counts["Report"], counts["Blob"]) == (1, 2)
    assert len(stored_files(app)) == 2
    [(_, content)] = reviewer_reads_files(app, recipient_key, only_report_id(app))
    assert content == EVIDENCE


def test_a_constraint_error_is_not_retried(app, client, recipient_key, monkeypatch):
    clock = Clock(monkeypatch)
    get_codename(client)
    from sqlalchemy.exc import IntegrityError

    def flush(self: Session, *args: Any, **kwargs: Any) -> None:
        raise IntegrityError("INSERT", {}, ValueError("duplicate"))

    before = row_counts(app)
    monkeypatch.setattr(Session, "flush", flush)
    with pytest.raises(IntegrityError):
        submit_report(client)
    monkeypatch.undo()
    assert clock.waits == []
    assert row_counts(app) == before


@pytest.mark.postgres
def test_the_first_request_after_a_postgresql_restart_works(app, client, recipient_key):
    url = app.extensions["amanat"].database_url
    if not url.startswith("postgresql"):
        pytest.skip("a PostgreSQL-only fault")
    assert client.get("/codename").status_code == 200  # a pooled connection now exists
    # What a restart does to every open connection: the server ends it.
    admin = create_engine(url)
    with admin.connect() as connection:
        ended = connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar()
        connection.commit()
    admin.dispose()
    assert ended >= 1
    assert client.get("/codename").status_code == 200
    with app.app_context():
        assert db.get_session().scalar(select(Report.id)) is None
