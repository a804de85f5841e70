"""Evidence custody: verify catches swapped files, lying manifests and forged receipts;
exports are logged as signed case events; the evidence package holds the original bytes."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile

import pytest
from click.testing import CliRunner
from nacl.signing import SigningKey

from admin.actions import log_custody
from admin.case import load_case
from admin.cli import main
from admin.client import ApiClient
from admin.custody import build_evidence, record_custody, verify_report
from admin.evidence_verify import verify_package
from admin.sync import sync
from admin.vault import Vault
from crypto import canonical
from crypto.envelope import Kind, Sealer
from crypto.kdf import MINIMAL
from crypto.keys import write_keyfile
from crypto.manifest import Manifest
from crypto.receipts import Receipt, sign_receipt
from crypto.signatures import Purpose, sign
from tests.portal.journey import get_codename, only_report_id, submit_report

PASSPHRASE = "a long passphrase"
PHOTO = b"PHOTO " + bytes(range(256)) * 300
VIDEO = b"VIDEO " * 20_000


@pytest.fixture
def report_id(app):
    client = app.test_client()
    get_codename(client)
    response = submit_report(
        client,
        files=[
            ("evidence", "фото.jpg", PHOTO, "image/jpeg"),
            ("evidence", "video.mp4", VIDEO, "video/mp4"),
        ],
    )
    assert response.status_code == 303
    return only_report_id(app)


@pytest.fixture
def vault(tmp_path, recipient_key, live_server, report_id):
    vault = Vault.open(tmp_path / "vault", recipient_key)
    with ApiClient(live_server.url, recipient_key) as client:
        assert not sync(vault, client).refused
    return vault


def file_blobs(vault, report_id):
    return [b for b in vault.report(report_id).blobs if b["kind"] == "file"]


def test_verify_holds_for_untouched_files(vault, report_id):
    checks = verify_report(vault, report_id)
    assert len(checks) == 2 and all(c.ok for c in checks)
    assert {c.manifest_sha256 for c in checks} == {
        hashlib.sha256(PHOTO).hexdigest(),
        hashlib.sha256(VIDEO).hexdigest(),
    }


def test_verify_catches_a_swapped_file(vault, report_id):
    first, second = file_blobs(vault, report_id)
    # Another blob of the same report, sealed to the same key: it opens fine.
    vault.blob_path(first["id"]).write_bytes(vault.blob_path(second["id"]).read_bytes())
    checks = {c.blob_id: c for c in verify_report(vault, report_id)}
    assert checks[first["id"]].problems == ["ciphertext"]
    assert checks[first["id"]].ciphertext.startswith("CHANGED")
    assert checks[second["id"]].ok


def test_verify_catches_an_altered_manifest(vault, report_id, live_server):
    first, _ = file_blobs(vault, report_id)
    lying = Manifest("фото.jpg", "image/jpeg", len(PHOTO), hashlib.sha256(b"other").hexdigest())
    out = io.BytesIO()
    sealer = Sealer(out, [vault.key.box.public_key], Kind.FILE)
    sealer.write(PHOTO)
    sealer.close(lying.to_bytes())
    envelope = out.getvalue()
    # Even with a receipt the server really signed for these bytes, the lie shows.
    server_key = live_server.app.extensions["amanat.server_key"]
    first.update(size=len(envelope), sha256=hashlib.sha256(envelope).hexdigest())
    receipt = Receipt(
        first["id"], report_id, "file", first["size"], first["sha256"], first["created_day"]
    )
    first["receipt"] = base64.b64encode(sign_receipt(server_key, receipt)).decode()
    vault.add_blob_listing(report_id, first)
    vault.blob_path(first["id"]).write_bytes(envelope)
    check = {c.blob_id: c for c in verify_report(vault, report_id)}[first["id"]]
    assert check.problems == ["manifest"]
    assert check.plaintext.startswith("ALTERED")


def test_verify_catches_a_forged_receipt(vault, report_id):
    first, _ = file_blobs(vault, report_id)
    receipt = Receipt(
        first["id"], report_id, "file", first["size"], first["sha256"], first["created_day"]
    )
    first["receipt"] = base64.b64encode(sign_receipt(SigningKey.generate(), receipt)).decode()
    vault.add_blob_listing(report_id, first)
    check = {c.blob_id: c for c in verify_report(vault, report_id)}[first["id"]]
    assert check.problems == ["receipt"]
    assert check.receipt.startswith("FORGED")


def test_custody_event_is_queued_offline_and_posted_at_sync(vault, report_id, live_server):
    first, _ = file_blobs(vault, report_id)
    assert not record_custody(vault, None, report_id, first["id"], "decrypt")
    with ApiClient(live_server.url, vault.key) as client:
        assert len(sync(vault, client).posted) == 1
    (item,) = load_case(vault, report_id).history
    assert item.status == "verified"
    assert item.event["data"] == {
        "action": "decrypt",
        "blob_id": first["id"],
        "sha256": vault.manifest(first["id"]).sha256,
    }
    assert item.event["data"]["sha256"] in {
        hashlib.sha256(PHOTO).hexdigest(),
        hashlib.sha256(VIDEO).hexdigest(),
    }


def test_every_files_custody_event_is_kept_when_the_server_is_away(vault, report_id):
    blob_ids = [b["id"] for b in file_blobs(vault, report_id)]
    assert not log_custody(vault, None, report_id, blob_ids, "share")
    queued = load_case(vault, report_id).history
    assert sorted(i.event["data"]["blob_id"] for i in queued) == sorted(blob_ids)
    assert {i.status for i in queued} == {"pending"}


def test_evidence_package_holds_the_original_bytes_and_the_custody_log(
    tmp_path, vault, report_id, live_server
):
    first, second = file_blobs(vault, report_id)
    with ApiClient(live_server.url, vault.key) as client:
        record_custody(vault, client, report_id, first["id"], "share")
    out = tmp_path / "evidence.zip"
    build_evidence(vault, report_id, out)
    with zipfile.ZipFile(out) as package:
        manifest = json.loads(package.read("manifest.json"))
        contents = {f["sha256"]: package.read(f["path"]) for f in manifest["files"]}
        custody = json.loads(package.read("custody_log.json"))
        assert package.read("receipt_key.txt").decode().strip() == vault.receipt_key
        assert "How to check" in package.read("README.txt").decode()
        assert package.read(f"sealed/{second['id']}") == vault.blob_path(second["id"]).read_bytes()
    assert contents == {
        hashlib.sha256(PHOTO).hexdigest(): PHOTO,
        hashlib.sha256(VIDEO).hexdigest(): VIDEO,
    }
    assert [(c["action"], c["blob_id"], c["status"]) for c in custody] == [
        ("share", first["id"], "verified")
    ]


def test_evidence_is_refused_when_a_file_does_not_verify(tmp_path, vault, report_id):
    first, second = file_blobs(vault, report_id)
    vault.blob_path(first["id"]).write_bytes(vault.blob_path(second["id"]).read_bytes())
    out = tmp_path / "evidence.zip"
    with pytest.raises(Exception, match="does not verify"):
        build_evidence(vault, report_id, out)
    assert not out.exists() and list(tmp_path.glob(".evidence.zip*")) == []


# -- the commands --------------------------------------------------------------------


@pytest.fixture
def admin(tmp_path, recipient_key, vault):
    keyfile = tmp_path / "me.key"
    write_keyfile(keyfile, recipient_key, PASSPHRASE, MINIMAL)

    def run(command, *args, opts=(), input=None):
        env = {"AMANAT_PASSPHRASE": PASSPHRASE, "AMANAT_VAULT": str(vault.path)}
        return CliRunner().invoke(
            main, [command, "--keyfile", str(keyfile), *opts, "--", *args], env=env, input=input
        )

    return run


def test_export_command_writes_a_custody_event(tmp_path, admin, vault, report_id):
    first, _ = file_blobs(vault, report_id)
    out = tmp_path / "out.jpg"
    result = admin("export", report_id, first["id"], opts=["--out", str(out)])
    assert result.exit_code == 0, result.output
    shown = json.loads(admin("case", report_id, opts=["--json"]).stdout)
    (entry,) = shown["history"]
    assert entry["status"] == "verified"
    assert entry["event"]["type"] == "custody" and entry["event"]["data"]["action"] == "export"


def test_verify_command_says_plainly_what_holds(admin, vault, report_id):
    ok = admin("verify", report_id)
    assert ok.exit_code == 0, ok.output
    assert ok.output.count("HOLDS") == 2
    first, second = file_blobs(vault, report_id)
    vault.blob_path(first["id"]).write_bytes(vault.blob_path(second["id"]).read_bytes())
    bad = admin("verify", report_id)
    assert bad.exit_code == 1
    assert "DOES NOT HOLD" in bad.output and "CHANGED" in bad.output
    assert "Traceback" not in bad.output


def test_event_and_case_commands(admin, report_id):
    sent = admin(
        "event", report_id, "set_priority", opts=["--json", "-"], input='{"priority": "high"}'
    )
    assert sent.exit_code == 0, sent.output
    bad = admin("event", report_id, "set_priority", opts=["--json", "-"], input='{"priority": "x"}')
    assert bad.exit_code == 1 and "Nothing was sent" in bad.output
    shown = admin("case", report_id)
    assert 'priority: "high"' in shown.output
    assert "[ok]" in shown.output and "set_priority" in shown.output


def test_evidence_command_writes_the_package(tmp_path, admin, report_id):
    out = tmp_path / "case.zip"
    result = admin("evidence", report_id, opts=["--out", str(out)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as package:
        custody = json.loads(package.read("custody_log.json"))
    assert [c["action"] for c in custody] == ["share", "share"]


# -- the package checked alone -----------------------------------------------------------


def rewrite(package_path, out_path, changes):
    """Copy a zip, replacing members: changes maps a name to new bytes."""
    with zipfile.ZipFile(package_path) as src, zipfile.ZipFile(out_path, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, changes.get(info.filename, src.read(info.filename)))
    return out_path


@pytest.fixture
def package(tmp_path, vault, report_id, live_server):
    first, _ = file_blobs(vault, report_id)
    with ApiClient(live_server.url, vault.key) as client:
        record_custody(vault, client, report_id, first["id"], "share")
        sync(vault, client)
    out = tmp_path / "evidence.zip"
    build_evidence(vault, report_id, out)
    return out


def test_evidence_package_verifies_with_no_vault(tmp_path, package, vault, report_id):
    import shutil

    shutil.rmtree(vault.path)
    check = verify_package(package)
    assert check.ok, check.problems
    assert (check.report_id, check.files_checked) == (report_id, 2)
    assert check.packer_fingerprint == vault.key.bundle().fingerprint
    with zipfile.ZipFile(package) as zipped:
        statement = json.loads(zipped.read("statement.json"))
    assert [c["action"] for c in statement["custody"]] == ["share"]
    result = CliRunner(env={"AMANAT_VAULT": str(tmp_path / "none")}).invoke(
        main, ["verify-package", str(package)]
    )
    assert result.exit_code == 0, result.output
    assert "OK: report" in result.output


def test_the_packages_own_script_verifies_it_with_pynacl_only(tmp_path, package):
    import subprocess
    import sys

    with zipfile.ZipFile(package) as zipped:
        script = tmp_path / "verify_package.py"
        script.write_bytes(zipped.read("verify_package.py"))
    done = subprocess.run(
        [sys.executable, "-I", str(script), str(package)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    bad = rewrite(package, tmp_path / "bad.zip", {first_file_path(package): b"forged"})
    done = subprocess.run(
        [sys.executable, "-I", str(script), str(bad)], capture_output=True, text=True
    )
    assert done.returncode == 1 and "SHA-256 differs" in done.stdout


def first_file_path(package):
    with zipfile.ZipFile(package) as zipped:
        return json.loads(zipped.read("statement.json"))["files"][0]["path"]


def test_a_tampered_file_in_the_package_is_refused(tmp_path, package):
    path = first_file_path(package)
    check = verify_package(rewrite(package, tmp_path / "t.zip", {path: b"another photo"}))
    assert check.problems == [
        f"{path}: the file's SHA-256 is not the one the signed statement names"
    ]


def test_a_tampered_ciphertext_in_the_package_is_refused(tmp_path, package):
    with zipfile.ZipFile(package) as zipped:
        blob_id = json.loads(zipped.read("statement.json"))["files"][0]["blob_id"]
    check = verify_package(rewrite(package, tmp_path / "t.zip", {f"sealed/{blob_id}": b"x"}))
    assert check.problems == [f"sealed/{blob_id}: the ciphertext is not the one the receipt covers"]


def test_a_tampered_custody_entry_is_refused(tmp_path, package):
    with zipfile.ZipFile(package) as zipped:
        statement = json.loads(zipped.read("statement.json"))
        shown = json.loads(zipped.read("custody_log.json"))
    shown[0]["action"] = "export"
    check = verify_package(
        rewrite(package, tmp_path / "a.zip", {"custody_log.json": json.dumps(shown).encode()})
    )
    assert check.problems == ["custody_log.json: differs from the signed statement"]
    statement["custody"][0]["by"] = "someone else"
    forged = canonical.encode(statement)
    check = verify_package(rewrite(package, tmp_path / "b.zip", {"statement.json": forged}))
    assert len(check.problems) == 1 and "packer's signature does not verify" in check.problems[0]


def test_a_tampered_receipt_is_refused_even_when_the_packer_signs_it(tmp_path, package, vault):
    with zipfile.ZipFile(package) as zipped:
        statement = json.loads(zipped.read("statement.json"))
    statement["files"][0]["received_day"] = "2020-01-01"
    forged = canonical.encode(statement)
    signature = base64.b64encode(sign(vault.key.signing, Purpose.EVIDENCE, forged))
    changes = {"statement.json": forged, "statement.sig": signature}
    check = verify_package(rewrite(package, tmp_path / "r.zip", changes))
    path = statement["files"][0]["path"]
    assert check.problems == [f"{path}: the server's receipt does not verify under the receipt key"]


def test_a_package_checked_against_another_server_key_is_refused(package):
    other = base64.b64encode(bytes(SigningKey.generate().verify_key)).decode()
    check = verify_package(package, receipt_key=other)
    assert check.problems == ["the package names another server receipt key than the one given"]


def test_the_packers_roster_entry_travels_with_the_package(tmp_path, package, vault):
    check = verify_package(package)
    assert check.ok, check.problems
    assert check.organisation_fingerprint is not None
    with zipfile.ZipFile(package) as zipped:
        statement = json.loads(zipped.read("statement.json"))
        roster = json.loads(zipped.read("roster.json"))
    assert statement["roster_entry"]["fingerprint"] == vault.key.bundle().fingerprint
    roster["members"][0]["name"] = "Someone else"
    changed = {"roster.json": json.dumps(roster).encode()}
    check = verify_package(rewrite(package, tmp_path / "r.zip", changed))
    assert check.problems == ["roster.json: the roster's signature does not verify"]
