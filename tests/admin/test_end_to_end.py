"""From nothing to a reply, as the three people would do it, through their own commands.

A reviewer makes a key with amanat-admin, the operator registers the bundle
with amanat-server, a source reports through the portal pages with two
files, the reviewer syncs, reads and exports, replies, and the source reads
the reply after logging in again with the codename.
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from admin.cli import main as admin_main
from portal.cli import main as server_main
from tests.portal.journey import get_codename, login, only_report_id, submit_report, text_of

PASSPHRASE = "reviewer passphrase"
VIDEO = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 3000
PHOTO = b"\xff\xd8\xff\xe0JFIF" + b"photo" * 500


def _keygen(admin, keyfile: Path, bundle: Path) -> str:
    """amanat-admin keygen at the minimal KDF cost; return the printed fingerprint."""
    made = admin(
        "keygen",
        "--name",
        "Айгуль",
        "--keyfile",
        str(keyfile),
        "--bundle",
        str(bundle),
        "--kdf",
        "minimal",
    )
    return json.loads(made.stdout)["fingerprint"]


def _export_every_file(admin, keyfile: Path, out_dir: Path, report_id: str, files) -> list[bytes]:
    """amanat-admin export of each file shown; return the exported files' bytes."""
    exported = []
    for entry in files:
        out = out_dir / entry["blob_id"]
        admin("export", "--keyfile", str(keyfile), "--out", str(out), report_id, entry["blob_id"])
        exported.append(out.read_bytes())
    return exported


def test_keygen_register_report_sync_show_export_reply(tmp_path, app, runner, live_server):
    keyfile, bundle = tmp_path / "aigul.key", tmp_path / "aigul.json"
    admin_env = {"AMANAT_PASSPHRASE": PASSPHRASE, "AMANAT_VAULT": str(tmp_path / "vault")}

    def admin(*args, input=None):
        result = CliRunner().invoke(admin_main, list(args), env=admin_env, input=input)
        assert result.exit_code == 0, result.output
        return result

    fingerprint = _keygen(admin, keyfile, bundle)
    registered = runner.invoke(server_main, ["recipient", "add", str(bundle), "--regions", "osh"])
    assert registered.exit_code == 0, registered.output
    assert fingerprint in registered.output

    source = app.test_client()
    codename = get_codename(source).codename
    response = submit_report(
        source,
        narrative="Меня задержали у пункта ОЗТ и забрали деньги.",
        files=[
            ("evidence", "видео.mp4", VIDEO, "video/mp4"),
            ("evidence", "фото.jpg", PHOTO, "image/jpeg"),
        ],
    )
    assert response.status_code == 303
    report_id = only_report_id(app)

    admin("sync", "--server", live_server.url, "--keyfile", str(keyfile))
    shown = json.loads(admin("show", "--keyfile", str(keyfile), "--json", report_id).stdout)
    assert shown["answers"]["narrative"] == "Меня задержали у пункта ОЗТ и забрали деньги."
    exported = _export_every_file(admin, keyfile, tmp_path, report_id, shown["files"])
    assert set(exported) == {VIDEO, PHOTO}

    admin("reply", "--keyfile", str(keyfile), report_id, input="Юрист свяжется с вами здесь.\n")
    source.delete_cookie("amanat_source")
    assert login(source, codename).status_code == 303
    assert "Юрист свяжется с вами здесь." in text_of(source.get("/status"))
