"""amanat-admin vault-backup / vault-restore: a restored vault opens and syncs on."""

from __future__ import annotations

import stat
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from admin.backup import VaultBackupError, backup_vault, restore_vault
from admin.cli import main
from admin.client import ApiClient
from admin.sync import sync
from admin.vault import Vault
from admin.vault_log import LOG_NAME
from crypto.kdf import MINIMAL
from crypto.keys import ReviewerKey, write_keyfile
from tests.portal.journey import get_codename, only_report_id, submit_report

PASSPHRASE = "a long passphrase"
FILE_BYTES = b"photo " * 40_000


@pytest.fixture
def vault_dir(tmp_path, app, client, live_server, recipient_key) -> Path:
    get_codename(client)
    response = submit_report(client, files=[("evidence", "p.jpg", FILE_BYTES, "image/jpeg")])
    assert response.status_code == 303
    vault = Vault.open(tmp_path / "vault", recipient_key)
    with ApiClient(live_server.url, recipient_key) as api:
        sync(vault, api)
    return tmp_path / "vault"


def test_a_restored_vault_opens_and_syncs_on(
    tmp_path: Path, app, client, live_server, recipient_key: ReviewerKey, vault_dir: Path
) -> None:
    archive = tmp_path / "vault.tar"
    assert (vault_dir / LOG_NAME).is_file()  # the sync's saves are in the index's log
    assert backup_vault(vault_dir, archive).blobs == 2
    with tarfile.open(archive) as tar:
        assert {"index.amanat", LOG_NAME} <= set(tar.getnames())
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    restore_vault(archive, tmp_path / "restored")
    restored = Vault.open(tmp_path / "restored", recipient_key)
    report_id = only_report_id(app)
    assert restored.answers(report_id)["narrative"]
    (entry,) = restored.files(report_id)
    assert b"".join(restored.open_file(entry.blob_id).chunks()) == FILE_BYTES
    # The restored vault keeps its server, pinned key and cursor: sync goes on.
    get_codename(client)
    assert submit_report(client, narrative="После бэкапа").status_code == 303
    with ApiClient(live_server.url, recipient_key) as api:
        result = sync(restored, api)
    assert len(result.fetched) == 1 and not result.refused


def test_restore_refuses_an_existing_vault_and_strange_files(
    tmp_path: Path, vault_dir: Path
) -> None:
    archive = tmp_path / "vault.tar"
    backup_vault(vault_dir, archive)
    with pytest.raises(VaultBackupError, match="already holds a vault"):
        restore_vault(archive, vault_dir)
    with pytest.raises(VaultBackupError, match="already exists"):
        backup_vault(vault_dir, archive)
    with pytest.raises(VaultBackupError, match="no vault"):
        backup_vault(tmp_path / "nothing", tmp_path / "x.tar")
    evil = tmp_path / "evil.tar"
    with tarfile.open(evil, "w") as tar:
        tar.add(vault_dir / "index.amanat", "index.amanat")
        tar.add(vault_dir / "index.amanat", "../outside")
    with pytest.raises(VaultBackupError, match="unexpected entry"):
        restore_vault(evil, tmp_path / "new")
    assert not (tmp_path / "outside").exists()
    (tmp_path / "junk.tar").write_bytes(b"junk")
    with pytest.raises(VaultBackupError, match="not a vault backup"):
        restore_vault(tmp_path / "junk.tar", tmp_path / "new2")


def test_vault_commands(tmp_path: Path, recipient_key: ReviewerKey, vault_dir: Path) -> None:
    keyfile = tmp_path / "me.key"
    write_keyfile(keyfile, recipient_key, PASSPHRASE, MINIMAL)
    runner = CliRunner(env={"AMANAT_PASSPHRASE": PASSPHRASE})
    archive = tmp_path / "v.tar"
    result = runner.invoke(main, ["vault-backup", "--vault", str(vault_dir), "--out", str(archive)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["vault-restore", str(archive), "--vault", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        main, ["list", "--keyfile", str(keyfile), "--vault", str(tmp_path / "r")]
    )
    assert result.exit_code == 0 and "created" in result.output
    result = runner.invoke(main, ["vault-restore", str(archive), "--vault", str(tmp_path / "r")])
    assert result.exit_code == 1 and "already holds a vault" in result.output
