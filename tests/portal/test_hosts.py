"""One installation, several hosts: every secret made at once and recorded, a second
host joined from the first's secrets, drift found by `check`, and a blob store
that can live anywhere (a setting, or deliberate symbolic links)."""

from __future__ import annotations

import ipaddress
import os
import shutil
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from portal import create_app, db
from portal.check import Deployment
from portal.check_hosts import check_blob_store, check_host_secrets
from portal.cli import main
from portal.hostsecrets import SECRET_FILES, create_secrets
from portal.models import InstallationSecret
from portal.services import blob_store
from portal.settings import ConfigError, Settings
from portal.sources import installation_salt
from portal.store import BlobStore, StoreError

from .api_client import ApiClient
from .journey import get_codename, only_report_id, reviewer_reads_files, submit_report

FILES = [("evidence", "photo.jpg", b"\xff\xd8 the photo", "image/jpeg")]


def test_300_concurrent_first_logins_all_get_the_same_whole_salt(tmp_path: Path) -> None:
    """Without an atomic creation, readers between create and write saw an empty salt."""
    start = threading.Barrier(300)
    salts: list[bytes] = []
    errors: list[BaseException] = []

    def first_login() -> None:
        start.wait()
        try:
            salts.append(installation_salt(tmp_path))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=first_login) for _ in range(300)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(salts) == 300 and len(set(salts)) == 1 and len(salts[0]) == 16
    assert sorted(p.name for p in tmp_path.iterdir()) == ["codename_salt"]


def host(runner: CliRunner, tmp_path: Path, name: str) -> dict[str, str]:
    """The environment of a host with its own data directory on the shared database."""
    return {**runner.env, "AMANAT_DATA_DIR": str(tmp_path / name)}


def test_init_creates_every_secret_at_once_and_records_them(
    runner: CliRunner, settings: Settings
) -> None:
    result = runner.invoke(main, ["init"])
    assert result.exit_code == 0, result.output
    for name in SECRET_FILES:
        assert (settings.data_dir / name).stat().st_mode & 0o777 == 0o600
    engine = db.make_engine(settings.database_url)
    with engine.connect() as connection:
        names = set(connection.scalars(select(InstallationSecret.name)))
    engine.dispose()
    assert names == set(SECRET_FILES)


def test_init_on_a_second_host_refuses_to_make_new_secrets(
    runner: CliRunner, tmp_path: Path
) -> None:
    assert runner.invoke(main, ["init"]).exit_code == 0
    second = host(runner, tmp_path, "second")
    result = runner.invoke(main, ["init"], env=second)
    assert result.exit_code == 1
    assert "amanat-server join FOLDER" in result.output
    assert not (tmp_path / "second" / "codename_salt").exists()
    assert not (tmp_path / "second" / "server_signing.key").exists()


def copy_secrets(data_dir: Path, folder: Path) -> Path:
    folder.mkdir()
    for name in SECRET_FILES:
        shutil.copy(data_dir / name, folder / name)
    return folder


def test_join_brings_a_second_host_up_with_the_first_hosts_secrets(
    runner: CliRunner, settings: Settings, tmp_path: Path
) -> None:
    first = runner.invoke(main, ["init"])
    folder = copy_secrets(settings.data_dir, tmp_path / "copied")
    second = host(runner, tmp_path, "second")
    result = runner.invoke(main, ["join", str(folder)], env=second)
    assert result.exit_code == 0, result.output
    key_line = next(line for line in first.output.splitlines() if "receipt verify key" in line)
    assert key_line in result.output
    for name in SECRET_FILES:
        assert (tmp_path / "second" / name).read_bytes() == (settings.data_dir / name).read_bytes()
    joined = Settings.from_env(second)
    assert check_host_secrets(Deployment(joined)) == []


def test_join_refuses_another_installations_secrets_and_writes_nothing(
    runner: CliRunner, settings: Settings, tmp_path: Path
) -> None:
    runner.invoke(main, ["init"])
    stranger = tmp_path / "stranger"
    create_secrets(Settings.from_env(host(runner, tmp_path, "stranger")), with_secret_key=True)
    second = host(runner, tmp_path, "second")
    result = runner.invoke(main, ["join", str(stranger)], env=second)
    assert result.exit_code == 1
    assert "is not this installation's" in result.output
    assert not any((tmp_path / "second" / n).exists() for n in SECRET_FILES[1:])


def test_check_reports_a_second_host_that_made_its_own_secrets(
    runner: CliRunner, tmp_path: Path
) -> None:
    """The issue's case: a second host whose secrets came from its own data directory."""
    runner.invoke(main, ["init"])
    second = host(runner, tmp_path, "second")
    create_secrets(Settings.from_env(second), with_secret_key=True)  # as an old `init` did
    result = runner.invoke(main, ["check"], env=second)
    assert result.exit_code == 1
    for name in SECRET_FILES:
        assert f"PROBLEM  host secrets: this host's {name} is not the installation's" in (
            result.output
        )
    assert "amanat-server join FOLDER" in result.output
    assert "codenames made on the other hosts are not found here" in result.output


def test_check_finds_a_foreign_receipt_key_by_the_database_receipts(
    app, client, recipient_key, settings: Settings, tmp_path: Path
) -> None:
    """An installation older than the record: the last receipt tells whose key signed it."""
    get_codename(client)
    submit_report(client)
    other = Settings.from_env(
        {"AMANAT_DATA_DIR": str(tmp_path / "other"), "AMANAT_DATABASE_URL": settings.database_url}
    )
    create_secrets(other, with_secret_key=True)
    problems = check_host_secrets(Deployment(other))
    assert [p.what.split(":")[0] for p in problems] == [
        "this host's receipt key did not sign the last receipt in the database"
    ]
    create_secrets(settings, with_secret_key=True)
    assert check_host_secrets(Deployment(settings)) == []


# --- where the blobs live --------------------------------------------------------


def test_blob_dir_setting_puts_blobs_and_incoming_on_shared_storage(
    environ, recipient_key, tmp_path: Path
) -> None:
    shared = tmp_path / "mnt" / "amanat" / "blobs"
    app = create_app(Settings.from_env({**environ, "AMANAT_BLOB_DIR": str(shared)}))
    client = app.test_client()
    get_codename(client)
    assert submit_report(client, files=FILES).status_code == 303
    assert len(list(shared.iterdir())) == 2  # the answers and the photo
    assert (tmp_path / "mnt" / "amanat" / "incoming").is_dir()
    assert not (Path(environ["AMANAT_DATA_DIR"]) / "blobs").exists()
    ((_, content),) = reviewer_reads_files(app, recipient_key, only_report_id(app))
    assert content == FILES[0][2]
    db.get_engine(app).dispose()


def test_blob_dir_must_be_absolute(environ) -> None:
    with pytest.raises(ConfigError, match="AMANAT_BLOB_DIR"):
        Settings.from_env({**environ, "AMANAT_BLOB_DIR": "shared/blobs"})


@pytest.fixture
def linked_store(environ, tmp_path: Path) -> Path:
    """data_dir/blobs and data_dir/incoming linked, on purpose, to folders elsewhere."""
    elsewhere = tmp_path / "elsewhere"
    data_dir = Path(environ["AMANAT_DATA_DIR"])
    data_dir.mkdir(mode=0o700)
    for name in ("blobs", "incoming"):
        (elsewhere / name).mkdir(parents=True, mode=0o700)
        (data_dir / name).symlink_to(elsewhere / name)
    return elsewhere


def test_symlinked_blobs_and_incoming_serve_without_errors(
    linked_store: Path, app, client, recipient_key
) -> None:
    get_codename(client)
    assert submit_report(client, files=FILES).status_code == 303
    reviewer = ApiClient(client, recipient_key)
    (report,) = reviewer.reports()
    for blob in report["blobs"]:
        assert reviewer.get(f"/api/v1/blobs/{blob['id']}").status_code == 200
    assert len(list((linked_store / "blobs").iterdir())) == 2


def test_containment_holds_inside_a_symlinked_store(linked_store: Path, app) -> None:
    outside = linked_store.parent / "secret.txt"
    outside.write_text("not a blob")
    with app.app_context():
        store = blob_store()
        planted = "A" * 32
        (store.root / planted).symlink_to(outside)
        with pytest.raises(StoreError):
            store.path_of(planted)
        with pytest.raises(StoreError):
            store.path_of("../" + "A" * 29)


def test_check_accepts_a_linked_store_and_refuses_a_split_one(
    linked_store: Path, settings: Settings, tmp_path: Path
) -> None:
    assert check_blob_store(Deployment(settings)) == []
    shm = Path("/dev/shm")
    if not shm.is_dir() or shm.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("no second file system (/dev/shm) to split the store across")
    split = Path(shm / f"amanat-test-{os.getpid()}")
    split.mkdir(mode=0o700)
    try:
        incoming = Path(settings.data_dir) / "incoming"
        incoming.unlink()
        incoming.symlink_to(split)
        (problem,) = check_blob_store(Deployment(settings))
        assert "different file systems" in problem.what
    finally:
        shutil.rmtree(split)


def test_store_made_from_settings_uses_the_blob_dir(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "data", tmp_path / "shared" / "blobs")
    assert store.root == (tmp_path / "shared" / "blobs").resolve()
    assert store.incoming == (tmp_path / "shared" / "incoming").resolve()


# --- the units' network rules for remote services -----------------------------

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def unit_lines(path: Path) -> list[tuple[str, str]]:
    """(key, value) of every setting in a unit file, repeated keys kept."""
    pairs = []
    for line in path.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            pairs.append((key.strip(), value.strip()))
    return pairs


def test_hosts_drop_in_opens_private_addresses_and_the_store_only() -> None:
    settings = unit_lines(DEPLOY / "amanat-hosts.conf")
    allowed = [value for key, value in settings if key == "IPAddressAllow"]
    assert allowed and all(ipaddress.ip_network(a).is_private for a in allowed)
    assert ("ReadWritePaths", "/srv/amanat-store") in settings
    assert ("After", "network-online.target remote-fs.target") in settings
    assert not any(key == "IPAddressDeny" for key, _ in settings)  # keeps the units' deny
    for unit in ("amanat.service", "amanat-retention.service"):
        rules = unit_lines(DEPLOY / unit)
        assert ("IPAddressDeny", "any") in rules and ("IPAddressAllow", "localhost") in rules
        assert "deploy/amanat-hosts.conf" in (DEPLOY / unit).read_text()
