"""`amanat-server backup` / `restore`: a restored portal serves the same reports."""

from __future__ import annotations

import json
import stat
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import inspect

from crypto.archive import ArchiveWriter, Lock
from crypto.envelope import Kind, open_bytes
from crypto.kdf import MINIMAL
from crypto.keys import ReviewerKey
from portal import create_app, db
from portal.backup import KEY_FILES, BackupError, create_backup, restore_backup
from portal.cli import main
from portal.settings import Settings
from tests.conftest import drop_everything
from tests.portal.api_client import ApiClient
from tests.portal.journey import get_codename, login, only_report_id, submit_report

PASSPHRASE = b"correct horse battery staple"
LOCK = Lock(passphrase=PASSPHRASE, cost=MINIMAL)


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
    summary = create_backup(settings, archive, LOCK)
    assert (summary.reports, summary.blobs, summary.missing) == (1, 2, [])
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    restored_settings, restored = _restored_app(tmp_path, f"sqlite:///{tmp_path / 'r.db'}")
    assert restore_backup(restored_settings, archive, passphrase=PASSPHRASE).blobs == 2
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
    create_backup(settings, archive, LOCK)
    db.get_engine(app).dispose()
    drop_everything(settings.database_url)  # the server is lost
    restored_settings, restored = _restored_app(tmp_path, settings.database_url)
    restore_backup(restored_settings, archive, passphrase=PASSPHRASE)
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
    create_backup(settings, archive, LOCK)
    with pytest.raises(BackupError, match="already holds data"):
        restore_backup(settings, archive, passphrase=PASSPHRASE)
    with pytest.raises(BackupError, match="already exists"):
        create_backup(settings, archive, LOCK)


def sealed(plain: Path) -> Path:
    """plain encrypted as a backup is, with the test passphrase."""
    out = plain.with_suffix(".sealed")
    with out.open("wb") as dst:
        writer = ArchiveWriter(dst, LOCK)
        writer.write(plain.read_bytes())
        writer.close()
    return out


def test_restore_refuses_unexpected_names(settings: Settings, tmp_path: Path) -> None:
    archive = tmp_path / "evil.tar"
    with tarfile.open(archive, "w") as tar:
        manifest = tmp_path / "m.json"
        manifest.write_text(json.dumps({"format": "amanat-backup", "version": 1}))
        tar.add(manifest, "amanat-backup.json")
        tar.add(manifest, "blobs/../../etc/passwd")
    with pytest.raises(BackupError, match="unexpected name"):
        restore_backup(settings, sealed(archive), passphrase=PASSPHRASE)
    (tmp_path / "junk.tar").write_bytes(b"not a tar")
    with pytest.raises(BackupError, match="not a backup"):
        restore_backup(settings, sealed(tmp_path / "junk.tar"), passphrase=PASSPHRASE)
    with pytest.raises(BackupError, match="not an encrypted Amanat archive"):
        restore_backup(settings, tmp_path / "junk.tar", passphrase=PASSPHRASE)


def test_backup_and_restore_commands(runner: CliRunner, reported, tmp_path: Path) -> None:
    archive = tmp_path / "b.tar"
    runner.env["AMANAT_BACKUP_PASSPHRASE"] = PASSPHRASE.decode()
    result = runner.invoke(main, ["backup", "--out", str(archive)])
    assert result.exit_code == 0, result.output
    assert "1 report(s) and 2 blob(s)" in result.output
    env = {
        "AMANAT_BACKUP_PASSPHRASE": PASSPHRASE.decode(),
        "AMANAT_DATA_DIR": str(tmp_path / "new"),
        "AMANAT_DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}",
    }
    result = runner.invoke(main, ["restore", str(archive)], env=env)
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["restore", str(archive)], env=env)
    assert result.exit_code == 1 and "already holds data" in result.output


def test_a_backup_holds_no_receipt_signing_key_in_the_clear(
    settings: Settings, reported, tmp_path: Path
) -> None:
    archive = tmp_path / "backup.amanat"
    create_backup(settings, archive, LOCK)
    data = archive.read_bytes()
    secrets = [(settings.data_dir / name).read_bytes() for name in KEY_FILES]
    assert all(len(s) >= 16 for s in secrets)
    for secret in secrets:
        assert secret not in data and secret.strip() not in data
        assert secret.hex().encode() not in data
    assert b"amanat-backup" not in data and b"database.sqlite" not in data
    # No plaintext tar or partial was left beside it.
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_backup_to_the_operators_key_opens_only_with_its_private_key(
    runner: CliRunner, reported, tmp_path: Path, database_url: str
) -> None:
    key = tmp_path / "operator.key"
    assert runner.invoke(main, ["backup-keygen", "--out", str(key)]).exit_code == 0
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    archive = tmp_path / "b.amanat"
    result = runner.invoke(main, ["backup", "--out", str(archive), "--to", f"{key}.pub"])
    assert result.exit_code == 0, result.output
    assert key.read_text().strip().encode() not in archive.read_bytes()
    other = tmp_path / "other.key"
    assert runner.invoke(main, ["backup-keygen", "--out", str(other)]).exit_code == 0
    env = {
        "AMANAT_DATA_DIR": str(tmp_path / "new"),
        "AMANAT_DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}",
    }
    refused = runner.invoke(main, ["restore", str(archive), "--key", str(other)], env=env)
    assert refused.exit_code == 1 and "not sealed to this key" in refused.output
    done = runner.invoke(main, ["restore", str(archive), "--key", str(key)], env=env)
    assert done.exit_code == 0, done.output
    assert "1 report(s) and 2 blob(s)" in done.output


def test_an_altered_backup_or_a_wrong_passphrase_restores_nothing(
    settings: Settings, reported, tmp_path: Path, database_url: str
) -> None:
    archive = tmp_path / "backup.amanat"
    create_backup(settings, archive, LOCK)
    restored_settings, restored = _restored_app(tmp_path, f"sqlite:///{tmp_path / 'r.db'}")
    with pytest.raises(BackupError, match="does not open"):
        restore_backup(restored_settings, archive, passphrase=b"not the passphrase")
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 1
    altered = tmp_path / "altered.amanat"
    altered.write_bytes(bytes(data))
    with pytest.raises(BackupError, match="altered"):
        restore_backup(restored_settings, altered, passphrase=PASSPHRASE)
    # Nothing was touched: not even the schema, nor any blob or key file.
    assert "reports" not in inspect(db.get_engine(restored)).get_table_names()
    assert not (restored_settings.data_dir / "server_signing.key").exists()
    db.get_engine(restored).dispose()
