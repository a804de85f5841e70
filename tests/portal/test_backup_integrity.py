"""Backups and `check --deep` read every blob and hold it against its signed receipt.

A blob corrupted on disk went into a backup and a restore without a word.
Now the backup refuses, naming the blob, and `amanat-server check --deep`
names it too; an attacker who edits a blob and its row's hash together is
caught by the receipt, which only the server's key can sign.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from crypto.archive import Lock
from crypto.kdf import MINIMAL
from portal import db
from portal.backup import BackupError, create_backup
from portal.cli import main
from portal.models import Blob
from portal.services import blob_store

LOCK = Lock(passphrase=b"these tests are of integrity, not secrecy", cost=MINIMAL)


def file_blob(app) -> tuple[Blob, object]:
    with app.app_context():
        row = db.get_session().scalars(select(Blob).where(Blob.kind == "file")).one()
        return row, blob_store().path_of(row.storage_name)


def flip_a_byte(path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_corrupted_blob_is_named_and_the_backup_refused(app, settings, report_id, tmp_path):
    row, path = file_blob(app)
    flip_a_byte(path)
    out = tmp_path / "backup.amanat"
    with pytest.raises(BackupError) as refused:
        create_backup(settings, out, LOCK)
    assert row.id in str(refused.value)
    assert "SHA-256" in str(refused.value)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".backup")] == []


def test_a_blob_edited_with_its_hash_is_caught_by_the_receipt(app, settings, report_id, tmp_path):
    import hashlib

    row, path = file_blob(app)
    flip_a_byte(path)
    with app.app_context():
        session = db.get_session()
        session.execute(
            update(Blob)
            .where(Blob.id == row.id)
            .values(sha256=hashlib.sha256(path.read_bytes()).hexdigest())
        )
        session.commit()
    with pytest.raises(BackupError, match="receipt does not verify") as refused:
        create_backup(settings, tmp_path / "backup.amanat", LOCK)
    assert row.id in str(refused.value)


def test_check_deep_names_a_corrupted_blob(app, runner, report_id):
    row, path = file_blob(app)
    result = runner.invoke(main, ["check", "--deep"])
    assert f"blob {row.id}" not in result.output
    assert "ok       blob integrity (--deep)" in result.output
    flip_a_byte(path)
    assert f"blob {row.id}" not in runner.invoke(main, ["check"]).output
    result = runner.invoke(main, ["check", "--deep"])
    assert result.exit_code == 1
    assert f"blob {row.id} of report {row.report_id}: its SHA-256 differs" in result.output
    path.unlink()
    assert "its file is missing" in runner.invoke(main, ["check", "--deep"]).output
