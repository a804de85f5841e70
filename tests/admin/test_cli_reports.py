"""amanat-admin sync, list, show, export, reply and status, run against the real portal."""

from __future__ import annotations

import json
import socket

import pytest
from click.testing import CliRunner
from nacl.signing import SigningKey

from admin.cli import main
from tests.admin.synced_console import PASSPHRASE
from tests.admin.test_sync import blob_rows
from tests.portal.journey import login, source_with_report, text_of

NARRATIVE = "NARRATIVE-MARKER Меня задержали у пункта ОЗТ."
FILE_BYTES = b"FILE-MARKER " + bytes(range(256)) * 1000
REPLY = "REPLY-MARKER Мы получили ваше сообщение."


@pytest.fixture
def source(app):
    """A source who has sent a report with one file; returns (client, codename, report id)."""
    files = [("evidence", "фото.jpg", FILE_BYTES, "image/jpeg")]
    return source_with_report(app, files=files, narrative=NARRATIVE)


@pytest.fixture
def admin(tmp_path, keyfile):
    """Run amanat-admin with this test's vault and key file; the passphrase in the environment."""

    def run(command, *ids, opts=(), passphrase=PASSPHRASE, input=None):
        # Server ids may start with "-", so they follow "--" as a reviewer would type them.
        env = {"AMANAT_PASSPHRASE": passphrase, "AMANAT_VAULT": str(tmp_path / "vault")}
        args = [command, "--keyfile", str(keyfile), *opts, "--", *ids]
        return CliRunner().invoke(main, args, env=env, input=input)

    return run


def file_id_of(admin, report_id):
    shown = json.loads(admin("show", report_id, opts=["--json"]).stdout)
    (entry,) = shown["files"]
    return entry["blob_id"]


def test_sync_then_show_gives_back_what_the_source_sent(tmp_path, admin, live_server, source):
    _, _, report_id = source
    synced = admin("sync", opts=["--server", live_server.url])
    assert synced.exit_code == 0, synced.output
    assert "Fetched 2 blob(s) for 1 report(s)" in synced.output
    listed = admin("list")
    assert f"* {report_id}" in listed.output
    shown = admin("show", report_id)
    assert shown.exit_code == 0, shown.output
    assert NARRATIVE in shown.output and "region: osh" in shown.output
    assert "фото.jpg (image/jpeg)" in shown.output
    assert f"  {report_id}" in admin("list").output  # read now
    data = json.loads(admin("show", report_id, opts=["--json"]).stdout)
    assert data["answers"]["narrative"] == NARRATIVE
    file_id = data["files"][0]["blob_id"]
    out = tmp_path / "exported.jpg"
    exported = admin("export", report_id, file_id, opts=["--out", str(out)])
    assert exported.exit_code == 0, exported.output
    assert out.read_bytes() == FILE_BYTES


def test_tampered_blob_is_refused_by_the_command(admin, app, live_server, source):
    _, _, report_id = source
    ((file_id, path),) = blob_rows(app, report_id, "file")
    good = path.read_bytes()  # the last byte flipped: setting it to 0 left it as it was 1 in 256
    path.write_bytes(good[:-1] + bytes([good[-1] ^ 1]))
    result = admin("sync", opts=["--server", live_server.url])
    assert result.exit_code == 1
    assert f"Refused blob {file_id} of report {report_id}: the SHA-256 does not match" in (
        result.output
    )
    assert "Traceback" not in result.output


def test_changed_server_key_stops_the_command(admin, live_server, source):
    assert admin("sync", opts=["--server", live_server.url]).exit_code == 0
    # The server now signs with another key, as a swapped or impostor server would.
    live_server.app.extensions["amanat.server_key"] = SigningKey.generate()
    result = admin("sync")  # the server URL is remembered in the vault
    assert result.exit_code == 1
    assert "receipt key has changed" in result.output
    assert "Traceback" not in result.output


def test_wrong_passphrase_gives_a_clear_message(admin, live_server, source):
    result = admin("sync", opts=["--server", live_server.url], passphrase="not the passphrase")
    assert result.exit_code == 1
    assert "Wrong passphrase" in result.output
    assert "Traceback" not in result.output


def test_an_unreachable_server_is_one_line(admin):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = admin("sync", opts=["--server", f"http://127.0.0.1:{port}"])
    assert result.exit_code == 1
    assert result.output.strip().startswith("Error: Cannot reach the server")
    assert len(result.output.strip().splitlines()) == 1


def test_a_command_without_a_remembered_server_asks_for_one(admin):
    result = admin("status", "someid", "closed")
    assert result.exit_code != 0
    assert "Traceback" not in result.output


def test_reply_reaches_the_source(admin, app, live_server, source):
    _, codename, report_id = source
    assert admin("sync", opts=["--server", live_server.url]).exit_code == 0
    result = admin("reply", report_id, input=REPLY + "\n")
    assert result.exit_code == 0, result.output
    other_browser = app.test_client()
    login(other_browser, codename)
    assert REPLY in text_of(other_browser.get("/status"))
    shown = admin("show", report_id)
    assert REPLY in shown.output and "UNVERIFIED" not in shown.output


def test_status_is_seen_by_the_source(admin, app, live_server, source):
    _, codename, report_id = source
    assert admin("sync", opts=["--server", live_server.url]).exit_code == 0
    result = admin("status", report_id, "in_review")
    assert result.exit_code == 0, result.output
    other_browser = app.test_client()
    login(other_browser, codename)
    assert "Кейс-менеджер уже занимается вашим обращением" in text_of(other_browser.get("/status"))
    assert "in_review" in admin("list").output


def test_vault_holds_no_plaintext(tmp_path, admin, live_server, source):
    _, _, report_id = source
    assert admin("sync", opts=["--server", live_server.url]).exit_code == 0
    assert admin("show", report_id).exit_code == 0
    assert admin("reply", report_id, input=REPLY).exit_code == 0
    assert admin("show", report_id, opts=["--json"]).exit_code == 0
    markers = [b"NARRATIVE-MARKER", b"FILE-MARKER", b"REPLY-MARKER", "фото".encode()]
    files = [p for p in (tmp_path / "vault").rglob("*") if p.is_file()]
    assert len(files) >= 4  # the index, answers, file, reply
    for path in files:
        data = path.read_bytes()
        for marker in markers:
            assert marker not in data, (path, marker)


def test_an_unknown_report_id_is_named_in_one_line(admin, live_server, source):
    assert admin("sync", opts=["--server", live_server.url]).exit_code == 0
    shown = admin("show", "nosuchreport")
    assert shown.exit_code == 1
    assert "The vault holds no report nosuchreport." in shown.output
    assert "Traceback" not in shown.output


def test_a_key_error_from_a_bug_is_not_passed_off_as_an_unknown_report(
    admin, live_server, source, monkeypatch
):
    assert admin("sync", opts=["--server", live_server.url]).exit_code == 0
    report_id = source[2]

    def broken(self, report_id):
        return {}["answers"]

    monkeypatch.setattr("admin.vault.Vault.answers", broken)
    shown = admin("show", report_id)
    assert isinstance(shown.exception, KeyError)
    assert "holds no report" not in shown.output
