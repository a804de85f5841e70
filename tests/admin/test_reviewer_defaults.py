"""A reviewer's defaults: key file and vault under the user's data directory; export by name."""

from __future__ import annotations

import stat

import pytest
from click.testing import CliRunner

from admin.cli import main
from crypto.kdf import MINIMAL
from crypto.keys import read_keyfile, write_keyfile
from tests.portal.journey import get_codename, only_report_id, submit_report

PASSPHRASE = "a long passphrase"
FILE_BYTES = b"FILE-MARKER " + bytes(range(256)) * 100


@pytest.fixture
def source(app):
    """A source who sent a report with one photo; returns (client, codename, report id)."""
    client = app.test_client()
    codename = get_codename(client).codename
    files = [("evidence", "фото.jpg", FILE_BYTES, "image/jpeg")]
    assert submit_report(client, files=files).status_code == 303
    return client, codename, only_report_id(app)


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A user with an empty home and no Amanat variables set."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name in ("XDG_DATA_HOME", "AMANAT_KEYFILE", "AMANAT_VAULT"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "home"


def run(*args, **env):
    return CliRunner().invoke(main, list(args), env={"AMANAT_PASSPHRASE": PASSPHRASE, **env})


def test_keygen_writes_to_the_data_directory_by_default(home):
    made = run("keygen", "--name", "Айгуль", "--kdf", "minimal")
    assert made.exit_code == 0, made.output
    keyfile = home / ".local" / "share" / "amanat" / "reviewer.key"
    assert read_keyfile(keyfile, PASSPHRASE).name == "Айгуль"
    assert stat.S_IMODE(keyfile.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(keyfile.stat().st_mode) == 0o600


def test_list_works_without_flags(home, recipient_key, live_server, source):
    _, _, report_id = source
    keyfile = home / ".local" / "share" / "amanat" / "reviewer.key"
    keyfile.parent.mkdir(parents=True)
    write_keyfile(keyfile, recipient_key, PASSPHRASE, MINIMAL)
    synced = run("sync", "--server", live_server.url)
    assert synced.exit_code == 0, synced.output
    assert (home / ".local" / "share" / "amanat" / "vault").is_dir()
    listed = run("list")
    assert listed.exit_code == 0, listed.output
    assert report_id in listed.output


def test_amanat_keyfile_and_xdg_data_home_choose_other_places(
    home, tmp_path, recipient_key, live_server, source
):
    _, _, report_id = source
    elsewhere = tmp_path / "usb" / "aigul.key"
    elsewhere.parent.mkdir()
    write_keyfile(elsewhere, recipient_key, PASSPHRASE, MINIMAL)
    data = tmp_path / "data"
    env = {"AMANAT_KEYFILE": str(elsewhere), "XDG_DATA_HOME": str(data)}
    assert run("sync", "--server", live_server.url, **env).exit_code == 0
    assert report_id in run("list", **env).output
    assert (data / "amanat" / "vault").is_dir()
    assert not (home / ".local").exists()


def test_a_missing_default_key_file_says_what_to_do(home):
    listed = run("list")
    assert listed.exit_code == 2
    assert "no key file at" in listed.output and "amanat-admin keygen" in listed.output
    assert "AMANAT_KEYFILE" in listed.output


@pytest.fixture
def synced(home, tmp_path, recipient_key, live_server, source):
    keyfile = tmp_path / "me.key"
    write_keyfile(keyfile, recipient_key, PASSPHRASE, MINIMAL)
    env = {"AMANAT_KEYFILE": str(keyfile)}
    assert run("sync", "--server", live_server.url, **env).exit_code == 0
    return env, source[2]


@pytest.mark.parametrize("name", ["фото.jpg", "ФОТО.JPG"])
def test_export_takes_the_file_name_shown(synced, tmp_path, name):
    env, report_id = synced
    out = tmp_path / "out.jpg"
    exported = run("export", "--out", str(out), "--", report_id, name, **env)
    assert exported.exit_code == 0, exported.output
    assert out.read_bytes() == FILE_BYTES


def test_export_still_takes_the_id_and_names_the_files_when_nothing_matches(synced, tmp_path):
    env, report_id = synced
    missing = run("export", "--out", str(tmp_path / "x"), "--", report_id, "nothing.png", **env)
    assert missing.exit_code == 1
    assert "has no file named 'nothing.png'" in missing.output and "'фото.jpg' (" in missing.output
    blob_id = missing.output.split("'фото.jpg' (", 1)[1].split(")", 1)[0]
    out = tmp_path / "by-id.jpg"
    assert run("export", "--out", str(out), "--", report_id, blob_id, **env).exit_code == 0
    assert out.read_bytes() == FILE_BYTES
    assert not (tmp_path / "x").exists()
