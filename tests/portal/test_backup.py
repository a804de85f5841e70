"""`amanat-server backup` / `restore`: a restored portal serves the same reports."""

from __future__ import annotations

import json
import stat
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from crypto.envelope import Kind, open_bytes
from crypto.keys import ReviewerKey
from portal import create_app, db
from portal.backup import BackupError, create_backup, restore_backup
from portal.cli import main
from portal.settings import Settings
from tests.conftest import drop_everything
from tests.portal.api_client import ApiClient
from tests.portal.journey import get_codename, login, only_report_id, submit_report


@pytest.fixture
def reported(app: Flask, client, recipient_key: ReviewerKey) -> tuple[str, str]:
    """(report id, codename) of a report with a file, sent through the pages."""
    source = get_codename(client)
    response = submit_report(
        client, files=[("evidence", "a.jpg", b"jpeg" * 50_000, "image/jpeg")], narrative="Backed up"
    )
    assert response.status_code == 303
    return only_report_id(app), source.codename


def _restored_app(tmp_path: Path, database_url: str) -> tuple[Settings, Flask]:
    settings = Settings.from_env(
        {
            "AMANAT_DATA_DIR": str(tmp_path / "restored"),
            "AMANAT_DATABASE_URL": database_url,
            "AMANAT_KDF_COST": "minimal",
        }
    )
    return settings, create_app(settings)


def _reviewer_reads(app: Flask, key: ReviewerKey, report_id: str) -> str:
    api = ApiClient(app.test_client(), key)
    (report,) = api.reports()
    assert report["id"] == report_id
    (answers,) = [b for b in report["blobs"] if b["kind"] == "answers"]
    sealed = api.get(f"/api/v1/blobs/{answers['id']}").get_data()
    for blob in report["blobs"]:
        assert api.get(f"/api/v1/blobs/{blob['id']}").status_code == 200
    narrative: str = json.loads(open_bytes(sealed, key.box, Kind.REPORT).content)["narrative"]
    return narrative


def test_restore_into_a_fresh_sqlite_portal(
    app: Flask, settings: Settings, recipient_key: ReviewerKey, reported, tmp_path: Path
) -> None:
    report_id, codename = reported
    archive = tmp_path / "backup.tar"
    summary = create_backup(settings, archive)
    assert (summary.reports, summary.blobs, summary.missing) == (1, 2, [])
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    restored_settings, restored = _restored_app(tmp_path, f"sqlite:///{tmp_path / 'r.db'}")
    assert restore_backup(restored_settings, archive).blobs == 2
    try:
        assert _reviewer_reads(restored, recipient_key, report_id) == "Backed up"
        # The codename salt came back too: the source logs in as before.
        assert login(restored.test_client(), codename).status_code == 303
    finally:
        db.get_engine(restored).dispose()


def test_restore_into_the_same_kind_of_database(
    app: Flask, settings: Settings, recipient_key: ReviewerKey, reported, tmp_path: Path
) -> None:
    report_id, _ = reported
    archive = tmp_path / "backup.tar"
    create_backup(settings, archive)
    db.get_engine(app).dispose()
    drop_everything(settings.database_url)  # the server is lost
    restored_settings, restored = _restored_app(tmp_path, settings.database_url)
    restore_backup(restored_settings, archive)
    try:
        assert _reviewer_reads(restored, recipient_key, report_id) == "Backed up"
        with restored.app_context():  # new ids do not collide with restored ones
            from portal.recipients import register_recipient

            register_recipient(db.get_session(), ReviewerKey.generate("New").bundle())
            db.get_session().commit()
    finally:
        db.get_engine(restored).dispose()


def test_restore_refuses_a_database_with_data(settings: Settings, reported, tmp_path: Path) -> None:
    archive = tmp_path / "backup.tar"
    create_backup(settings, archive)
    with pytest.raises(BackupError, match="already holds data"):
        restore_backup(settings, archive)
    with pytest.raises(BackupError, match="already exists"):
        create_backup(settings, archive)


def test_restore_refuses_unexpected_names(settings: Settings, tmp_path: Path) -> None:
    archive = tmp_path / "evil.tar"
    with tarfile.open(archive, "w") as tar:
        manifest = tmp_path / "m.json"
        manifest.write_text(json.dumps({"format": "amanat-backup", "version": 1}))
        tar.add(manifest, "amanat-backup.json")
        tar.add(manifest, "blobs/../../etc/passwd")
    with pytest.raises(BackupError, match="unexpected name"):
        restore_backup(settings, archive)
    (tmp_path / "junk.tar").write_bytes(b"not a tar")
    with pytest.raises(BackupError, match="not a backup"):
        restore_backup(settings, tmp_path / "junk.tar")


def test_backup_and_restore_commands(runner: CliRunner, reported, tmp_path: Path) -> None:
    archive = tmp_path / "b.tar"
    result = runner.invoke(main, ["backup", "--out", str(archive)])
    assert result.exit_code == 0, result.output
    assert "1 report(s) and 2 blob(s)" in result.output
    env = {
        "AMANAT_DATA_DIR": str(tmp_path / "new"),
        "AMANAT_DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}",
    }
    result = runner.invoke(main, ["restore", str(archive)], env=env)
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["restore", str(archive)], env=env)
    assert result.exit_code == 1 and "already holds data" in result.output
