"""Files the server creates are owner-only, whatever umask it was started with; no core dumps.

SQLite created the database, its -wal and -shm 0644 (and so did a
restore): every user of the machine could read recent pages. Every server
process now sets a umask of 077 first (portal.hardening), `check` names
loose files, and the units forbid core dumps, which would write worker
memory (decrypted upload frames, form text) to disk.
"""

from __future__ import annotations

import configparser
import os
import resource
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from portal import create_app, db
from portal.check import Deployment
from portal.check_files import check_file_modes
from portal.cli import main
from portal.services import blob_store
from portal.settings import Settings
from tests.portal.journey import get_codename, submit_report

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """Start as a careless shell would: umask 022."""
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


def open_to_others(root: Path) -> list[str]:
    found = []
    for folder, folders, files in os.walk(root):
        for name in [*folders, *files]:
            mode = (Path(folder) / name).lstat().st_mode
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                found.append(f"{name} {stat.filemode(mode)}")
    return found


def cli_env(data: Path) -> dict[str, str]:
    return {
        "AMANAT_DATA_DIR": str(data),
        "AMANAT_KDF_COST": "minimal",
        "AMANAT_BACKUP_PASSPHRASE": "correct horse battery staple",
    }


def test_files_the_server_creates_are_owner_only(tmp_path, loose_umask, recipient_key_bundle):
    data = tmp_path / "data"
    runner = CliRunner(env=cli_env(data))
    assert runner.invoke(main, ["init"]).exit_code == 0
    assert runner.invoke(main, ["recipient", "add", str(recipient_key_bundle)]).exit_code == 0
    os.umask(0o022)  # the portal sets its own, whatever it was started with
    settings = Settings.from_env(cli_env(data))
    app = create_app(settings)
    client = app.test_client()
    get_codename(client)
    files = [("evidence", "a.jpg", b"\xff\xd8" + os.urandom(600_000), "image/jpeg")]
    assert submit_report(client, files=files).status_code == 303
    names = {p.name for p in data.iterdir()}
    assert {"amanat.db", "amanat.db-wal", "amanat.db-shm"} <= names
    assert open_to_others(data) == []
    assert check_file_modes(Deployment(settings)) == []
    db.get_engine(app).dispose()


@pytest.fixture
def recipient_key_bundle(tmp_path: Path) -> Path:
    from crypto.keys import ReviewerKey

    path = tmp_path / "bundle.json"
    path.write_text(ReviewerKey.generate("Modes").bundle().to_json())
    return path


def test_a_restore_creates_owner_only_files(tmp_path, loose_umask, recipient_key_bundle):
    old = tmp_path / "old"
    runner = CliRunner(env=cli_env(old))
    assert runner.invoke(main, ["init"]).exit_code == 0
    assert runner.invoke(main, ["recipient", "add", str(recipient_key_bundle)]).exit_code == 0
    archive = tmp_path / "b.tar"
    assert runner.invoke(main, ["backup", "--out", str(archive)]).exit_code == 0
    os.umask(0o022)
    new = tmp_path / "new"
    result = CliRunner(env=cli_env(new)).invoke(main, ["restore", str(archive)])
    assert result.exit_code == 0, result.output
    assert (new / "amanat.db").exists()
    assert open_to_others(new) == []


def test_check_names_files_open_to_others(settings, tmp_path):
    app = create_app(settings)
    with app.app_context():
        blob = blob_store().root / ("x" * 32)
    blob.write_bytes(b"ciphertext")
    database = Path(settings.database_url.removeprefix("sqlite:///"))
    if database.exists():  # made by the test's fixture, under the test's umask
        database.chmod(0o600)
    assert check_file_modes(Deployment(settings)) == []
    blob.chmod(0o644)
    if database.exists():
        database.chmod(0o644)
    [problem] = check_file_modes(Deployment(settings))
    assert str(blob) in problem.what
    if database.exists():
        assert str(database) in problem.what
    assert "chmod -R go-rwx" in problem.fix
    db.get_engine(app).dispose()


def test_the_server_turns_core_dumps_off(settings):
    create_app(settings)
    assert resource.getrlimit(resource.RLIMIT_CORE) == (0, 0)


@pytest.mark.parametrize("unit", ["amanat.service", "amanat-retention.service"])
def test_the_units_forbid_core_dumps_and_loose_modes(unit):
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DEPLOY / unit)
    assert parser["Service"]["LimitCORE"] == "0"
    assert parser["Service"]["UMask"] == "0077"
