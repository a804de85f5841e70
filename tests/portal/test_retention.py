"""Retention: what the server deletes, when, and that nothing deleted can be read back."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.keys import ReviewerKey
from portal import db
from portal.cli import main
from portal.models import Blob, Report, Source, SourceSession, today
from portal.recipients import revoke_recipient
from portal.retention import due_reports, purge, stranded_reports
from portal.services import blob_store
from portal.settings import Settings
from portal.shred import shred_file
from tests.portal.api_client import ApiClient
from tests.portal.api_helpers import post_acks, signed_ack
from tests.portal.journey import get_codename, submit_report


def _download_all(client, key: ReviewerKey) -> None:
    """What a vault does: download every blob, then acknowledge it, signed."""
    api = ApiClient(client, key)
    blobs = [b for r in api.reports() for b in r["blobs"]]
    for blob in blobs:
        assert api.get(f"/api/v1/blobs/{blob['id']}").status_code == 200
    response = post_acks(client, key, [signed_ack(b, key) for b in blobs])
    assert response.status_code == 200, response.get_json()


def _blob_files(app: Flask, report_id: str) -> list[Path]:
    with app.app_context():
        rows = db.get_session().scalars(select(Blob).where(Blob.report_id == report_id))
        return [blob_store().path_of(b.storage_name) for b in rows]


def _purge(app: Flask, days_later: int) -> int:
    with app.app_context():
        done = purge(db.get_session(), blob_store(), 30, on=today() + dt.timedelta(days_later))
        return done.reports


def test_a_report_goes_retention_days_after_every_reviewer_synced_it(
    app: Flask, client, recipient_key: ReviewerKey, report_id: str
) -> None:
    _download_all(client, recipient_key)
    assert _purge(app, 29) == 0
    assert _purge(app, 30) == 1
    with app.app_context():
        assert db.get_session().get(Report, report_id) is None


def test_a_report_stays_until_every_reviewer_synced_it(
    app: Flask, client, add_recipient, report_id: str, recipient_key: ReviewerKey
) -> None:
    # A second reviewer registered before the report: sealed to both.
    assert report_id
    _download_all(client, recipient_key)
    with app.app_context():
        session = db.get_session()
        assert due_reports(session, 30, today() + dt.timedelta(30)) == [report_id]


def test_two_readers_both_must_sync(app: Flask, client, add_recipient) -> None:
    first, second = add_recipient("First"), add_recipient("Second")
    get_codename(client)
    assert submit_report(client).status_code == 303
    _download_all(client, first)
    assert _purge(app, 100) == 0
    _download_all(client, second)
    assert _purge(app, 100) == 1


def test_reports_sealed_only_to_revoked_keys_are_flagged_not_purged(
    app: Flask, client, recipient_key: ReviewerKey, add_recipient, report_id: str
) -> None:
    _download_all(client, recipient_key)
    coordinator = add_recipient("Coordinator")
    with app.app_context():
        session = db.get_session()
        revoke_recipient(session, 1)
        session.commit()
        assert stranded_reports(session) == [report_id]
    assert _purge(app, 365) == 0
    info = ApiClient(client, coordinator).get("/api/v1/server").get_json()
    assert info["stranded_reports"] == [report_id]
    regional = add_recipient("Regional", regions=["osh"])
    assert "stranded_reports" not in ApiClient(client, regional).get("/api/v1/server").get_json()


def test_expired_sessions_are_purged(app: Flask, db_session: Session) -> None:
    source = Source(lookup_digest="d" * 64, box_public_key=b"\x01" * 32)
    db_session.add(source)
    db_session.flush()
    for digest, days in (("a" * 64, -1), ("b" * 64, 0)):
        db_session.add(
            SourceSession(
                id_digest=digest,
                source_id=source.id,
                wrapped_key=b"k",
                expires_day=today() + dt.timedelta(days=days),
            )
        )
    db_session.commit()
    done = purge(db_session, blob_store(), None)
    assert done.sessions == 1
    assert [s.id_digest for s in db_session.scalars(select(SourceSession))] == ["b" * 64]


def test_nothing_deleted_can_be_read_back(
    app: Flask,
    client,
    recipient_key: ReviewerKey,
    report_id: str,
    settings: Settings,
    database_url: str,
) -> None:
    files = _blob_files(app, report_id)
    fragments = []
    for path in files:
        data = path.read_bytes()
        fragments.append(data[len(data) // 2 : len(data) // 2 + 32])
    with app.app_context():
        blob_ids = [b.id for b in db.get_session().scalars(select(Blob))]
    response = ApiClient(client, recipient_key).delete(f"/api/v1/reports/{report_id}")
    assert response.status_code == 204
    assert _purge(app, 0) == 0  # the sweep and the WAL truncation run all the same
    db.get_engine(app).dispose()
    needles = [*fragments, report_id.encode(), *(i.encode() for i in blob_ids)]
    searched = list(settings.data_dir.rglob("*"))
    if database_url.startswith("sqlite:///"):
        database = Path(database_url.removeprefix("sqlite:///"))
        searched += list(database.parent.glob(database.name + "*"))
        # The rows were there before the delete: the search can find them.
        assert database in searched
    for path in searched:
        if path.is_file():
            data = path.read_bytes()
            assert not [n for n in needles if n in data], path


def test_shredding_overwrites_the_file_before_unlinking(tmp_path: Path) -> None:
    path = tmp_path / "blob"
    path.write_bytes(b"ciphertext " * 1000)
    # A second name for the same inode shows what happened to its blocks.
    os.link(path, tmp_path / "witness")
    assert shred_file(path) is True
    assert not path.exists()
    witness = (tmp_path / "witness").read_bytes()
    assert len(witness) == 11_000 and b"ciphertext" not in witness
    assert shred_file(path) is False


def test_the_api_delete_shreds_blob_files(
    app: Flask, client, recipient_key: ReviewerKey, report_id: str, tmp_path: Path
) -> None:
    files = _blob_files(app, report_id)
    witnesses = []
    for n, path in enumerate(files):
        witnesses.append((path.read_bytes(), tmp_path / f"witness{n}"))
        os.link(path, tmp_path / f"witness{n}")
    assert (
        ApiClient(client, recipient_key).delete(f"/api/v1/reports/{report_id}").status_code == 204
    )
    for before, witness in witnesses:
        assert witness.read_bytes() != before


def test_sqlite_deletes_securely(app: Flask, database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("a SQLite pragma")
    with db.get_engine(app).connect() as connection:
        assert connection.exec_driver_sql("PRAGMA secure_delete").scalar() == 1


def test_purge_command(runner: CliRunner, report_id: str) -> None:
    result = runner.invoke(main, ["purge"])
    assert result.exit_code == 0, result.output
    assert "Shredded 0 report(s)" in result.output


def test_retention_days_setting() -> None:
    assert Settings.from_env({"AMANAT_DATA_DIR": "/x"}).retention_days == 30
    assert (
        Settings.from_env({"AMANAT_DATA_DIR": "/x", "AMANAT_RETENTION_DAYS": "7"}).retention_days
        == 7
    )
    never = Settings.from_env({"AMANAT_DATA_DIR": "/x", "AMANAT_RETENTION_DAYS": "never"})
    assert never.retention_days is None
