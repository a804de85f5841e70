"""The disk fills during an upload; the database goes away during a submission.

Each time: the source is told plainly, in their language, what happened and
what to do; no report row and no blob file is left; what was stored before
is untouched.
"""

from __future__ import annotations

import errno
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from portal import store as store_module
from portal.models import Blob, Report
from portal.writer import BackgroundWriter
from tests.adversarial.conftest import row_counts, stored_files
from tests.faults.test_database_blip import Clock
from tests.portal.journey import (
    get_codename,
    reviewer_reads_answers,
    send_followup,
    submit_report,
    text_of,
)

FULL_AFTER_BYTES = 200_000


class FillingDisk:
    """A file whose disk fills once `room` more bytes have been written."""

    def __init__(self, file: Any, room: int) -> None:
        self._file = file
        self.room = room

    def write(self, data: bytes) -> int:
        if len(data) > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return int(self._file.write(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)


@pytest.fixture
def disk_fills(monkeypatch: pytest.MonkeyPatch):
    """From now on, each blob's disk has FULL_AFTER_BYTES of room."""

    class Writer(BackgroundWriter):
        def __init__(self, file: Any) -> None:
            super().__init__(FillingDisk(file, FULL_AFTER_BYTES))  # type: ignore[arg-type]

    monkeypatch.setattr(store_module, "BackgroundWriter", Writer)


def reported_before(app, client):
    """A report stored while the disk had room: it must survive what follows."""
    get_codename(client)
    response = submit_report(client, files=[("evidence", "old.txt", b"kept", "text/plain")])
    assert response.status_code == 303
    return response.headers["Location"].split("/")[-2], stored_files(app)


@pytest.mark.parametrize(
    ("lang", "title"),
    [("ru", "недостаточно места"), ("ky", "орун жетишсиз"), ("en", "not enough space")],
)
def test_disk_full_during_an_upload_is_a_clear_507_leaving_nothing(
    app, client, recipient_key, disk_fills, lang, title
):
    client.get(f"/lang/{lang}")
    report_id, files_before = reported_before(app, client)
    # (the fixture's writer only applies to blobs created from here on)
    before = row_counts(app)
    big = bytes(1024 * 1024)
    response = submit_report(client, files=[("evidence", "video.mp4", big, "video/mp4")])
    assert response.status_code == 507
    page = text_of(response)
    assert title.lower() in page.lower()
    assert "Traceback" not in page and "ENOSPC" not in page and "No space" not in page
    assert row_counts(app) == before
    assert stored_files(app) == files_before
    followup = send_followup(client, report_id, "ещё", [("evidence", "v.mp4", big, "video/mp4")])
    assert followup.status_code == 507
    assert row_counts(app) == before
    assert stored_files(app) == files_before
    assert reviewer_reads_answers(app, recipient_key, report_id)["narrative"]


def test_database_unreachable_during_a_submission_is_a_503_leaving_nothing(
    app, client, recipient_key, monkeypatch
):
    report_id, files_before = reported_before(app, client)
    before = row_counts(app)
    Clock(monkeypatch)  # the retries (tests/faults/test_database_blip.py) take no real time

    real_flush = Session.flush

    def flush(self: Session, *args: Any, **kwargs: Any) -> None:
        # The upload has streamed in and been sealed; the database is gone
        # by the time the report's rows are written.
        if any(isinstance(row, Report | Blob) for row in self.new):
            raise OperationalError("INSERT", {}, ConnectionRefusedError("connection refused"))
        real_flush(self, *args, **kwargs)

    monkeypatch.setattr(Session, "flush", flush)
    response = submit_report(client, files=[("evidence", "new.txt", b"x" * 300_000, "text/plain")])
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"
    assert "Сервис временно недоступен" in text_of(response)
    monkeypatch.undo()
    assert row_counts(app) == before
    assert stored_files(app) == files_before
    with app.app_context():
        from portal import db

        names = set(db.get_session().scalars(select(Blob.storage_name)))
    assert {f.split("/")[1] for f in files_before} == names
    assert reviewer_reads_answers(app, recipient_key, report_id)["narrative"]
