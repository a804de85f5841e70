"""Reviewing on a machine that never goes online: a courier carries ciphertext by USB, both ways.

Through the people's own commands: the reviewer splits their key, the
courier (online, no key that decrypts) exports a bundle, the offline machine
imports it and answers, the courier posts the answers, the source reads the
reply. A bundle that was altered, cut, replayed or crafted by a hostile
courier is refused, named, and leaves the vault exactly as it was.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from pathlib import Path

import pytest
from click.testing import CliRunner
from nacl.exceptions import CryptoError
from nacl.public import SealedBox

from admin.cli import main as admin_main
from admin.console.app import create_console
from admin.media_bundle import MAGIC
from crypto import canonical
from crypto.keys import read_keyfile
from crypto.signatures import Purpose, sign
from portal.cli import main as server_main
from tests.portal.journey import (
    get_codename,
    login,
    only_report_id,
    send_followup,
    submit_report,
    text_of,
    token_in,
)

PASSPHRASE = "reviewer passphrase"
EVIDENCE = b"\xff\xd8\xff\xe0JFIF" + b"EVIDENCE-MARKER" * 400
NARRATIVE = "NARRATIVE-MARKER Меня задержали у пункта ОЗТ."
REPLY = "Юрист свяжется с вами здесь."


class People:
    """The reviewer's two machines, the operator and a source, on one test portal."""

    def __init__(self, tmp_path: Path, app, runner, live_server) -> None:
        self.tmp, self.app, self.live = tmp_path, app, live_server
        self.full, self.courier = tmp_path / "full.key", tmp_path / "courier.key"
        self.offline_vault, self.courier_vault = tmp_path / "offline", tmp_path / "courier"
        bundle = tmp_path / "aigul.json"
        self.admin("keygen", "--name", "Айгуль", "--keyfile", str(self.full),
                   "--bundle", str(bundle), "--kdf", "minimal")  # fmt: skip
        added = runner.invoke(server_main, ["recipient", "add", str(bundle)])
        assert added.exit_code == 0, added.output
        self.admin("key-split", "--keyfile", str(self.full),
                   "--courier-keyfile", str(self.courier), "--kdf", "minimal")  # fmt: skip

    def admin(self, *args: str, input: str | None = None, ok: bool = True):
        env = {"AMANAT_PASSPHRASE": PASSPHRASE}
        result = CliRunner().invoke(admin_main, list(args), env=env, input=input)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    def on_courier(self, *args: str, ok: bool = True):
        vault = ["--keyfile", str(self.courier), "--vault", str(self.courier_vault)]
        words = 2 if args[0] == "bundle" else 1
        return self.admin(*args[:words], *vault, *args[words:], ok=ok)

    def on_offline(self, *args: str, input: str | None = None, ok: bool = True):
        vault = ["--keyfile", str(self.full), "--vault", str(self.offline_vault)]
        words = 2 if args[0] == "bundle" else 1
        return self.admin(*args[:words], *vault, *args[words:], input=input, ok=ok)

    def export(self, name: str) -> Path:
        out = self.tmp / name
        self.on_courier("bundle", "export", "--server", self.live.url, "--out", str(out))
        return out


@pytest.fixture
def people(tmp_path, app, runner, live_server) -> People:
    return People(tmp_path, app, runner, live_server)


@pytest.fixture
def reported(people):
    """A source who sent a report with one file; returns (client, codename, report id)."""
    source = people.app.test_client()
    codename = get_codename(source).codename
    response = submit_report(
        source,
        narrative=NARRATIVE,
        contact_me="yes",
        files=[("evidence", "фото.jpg", EVIDENCE, "image/jpeg")],
    )
    assert response.status_code == 303
    return source, codename, only_report_id(people.app)


def snapshot(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_a_report_goes_offline_and_the_reply_comes_back_by_usb(people, reported):
    source, codename, report_id = reported
    inbound = people.export("in-1.amanat")
    checked = people.admin("bundle", "verify", str(inbound), "--keyfile", str(people.full))
    assert "signature and every hash verify" in checked.output
    people.on_offline("bundle", "import", str(inbound))

    shown = json.loads(people.on_offline("show", "--json", "--", report_id).stdout)
    assert shown["answers"]["narrative"] == NARRATIVE
    (entry,) = shown["files"]
    out = people.tmp / "photo.jpg"
    people.on_offline("export", "--out", str(out), "--", report_id, entry["blob_id"])
    assert out.read_bytes() == EVIDENCE

    people.on_offline("reply", "--", report_id, input=REPLY + "\n")
    event = people.on_offline("event", "--json", "-", "--", report_id, "set_priority",
                              input='{"priority": "high"}')  # fmt: skip
    assert "outgoing bundle" in event.output
    outgoing = people.tmp / "out-1.amanat"
    made = people.on_offline("bundle", "outgoing", "--out", str(outgoing))
    # The events: the priority, and the custody record of the export above.
    assert "1 reply(ies), 2 event(s)" in made.output

    posted = people.on_courier("bundle", "post", "--server", people.live.url, str(outgoing))
    assert "Accepted: reply to report" in posted.output
    assert "Accepted: event to report" in posted.output
    assert "counted 2 acknowledgement(s)" in posted.output  # the answers and the photo

    source.delete_cookie("amanat_source")
    assert login(source, codename).status_code == 303
    assert REPLY in text_of(source.get("/status"))

    people.on_offline("bundle", "import", str(people.export("in-2.amanat")))
    case = json.loads(people.on_offline("case", "--json", "--", report_id).stdout)
    assert json.dumps(case, ensure_ascii=False).count("high") >= 1
    again = people.tmp / "out-2.amanat"
    made = people.on_offline("bundle", "outgoing", "--out", str(again))
    assert "0 reply(ies), 0 event(s)" in made.output, "delivered answers are not sent twice"


def test_the_courier_holds_no_key_that_opens_any_blob(people, reported):
    people.export("in-1.amanat")
    courier = read_keyfile(people.courier, PASSPHRASE)
    full = read_keyfile(people.full, PASSPHRASE)
    assert courier.signing == full.signing  # it must talk to the server as the reviewer
    keys = [courier.box, courier.signing.to_curve25519_private_key()]
    blobs = list((people.courier_vault / "blobs").iterdir())
    assert len(blobs) == 2
    for blob in blobs:
        data = blob.read_bytes()
        for key in keys:
            assert not _opens(data, key), f"{blob.name} opens with a courier key"
    secret = bytes(full.box)
    for path in [people.courier, *people.courier_vault.rglob("*")]:
        if path.is_file():
            raw = path.read_bytes()
            assert secret not in raw and base64.b64encode(secret) not in raw, path


def _opens(envelope: bytes, key) -> bool:
    """Whether any 80-byte key slot of the envelope opens with key (SealedBox)."""
    box = SealedBox(key)
    for start in range(len(envelope) - 80):
        try:
            box.decrypt(envelope[start : start + 80])
        except CryptoError:
            pass
        else:
            return True
    return False


# -- what a courier, a stick or a hostile courier can get wrong ---------------------------


FOLLOW_UP = "FOLLOWUP-MARKER Они вернулись."


@pytest.fixture
def second(people, reported) -> Path:
    """The offline vault imported bundle 1; bundle 2 (carrying a follow-up) waits on the stick."""
    source, _, report_id = reported
    people.on_offline("bundle", "import", str(people.export("in-1.amanat")))
    assert send_followup(source, report_id, FOLLOW_UP).status_code == 303
    return people.export("in-2.amanat")


def refused(people, path: Path, reason: str) -> None:
    before = snapshot(people.offline_vault)
    result = people.on_offline("bundle", "import", str(path), ok=False)
    assert result.exit_code == 1
    assert reason in result.output, result.output
    assert "Traceback" not in result.output
    assert snapshot(people.offline_vault) == before, "a refused bundle changed the vault"


def test_a_bundle_with_a_flipped_byte_in_a_blob_is_refused(people, second):
    data = bytearray(second.read_bytes())
    data[-10] ^= 0x01
    second.write_bytes(bytes(data))
    refused(people, second, "does not match its SHA-256")


def test_a_bundle_with_a_flipped_byte_in_its_header_is_refused(people, second):
    data = bytearray(second.read_bytes())
    data[len(MAGIC) + 4 + 20] ^= 0x01
    second.write_bytes(bytes(data))
    refused(people, second, "signature does not verify")


def test_a_bundle_missing_a_blob_is_refused(people, second):
    data = second.read_bytes()
    second.write_bytes(data[: len(data) - 100])
    refused(people, second, "an entry is missing")


def test_a_replayed_older_bundle_is_refused_and_the_same_one_twice_changes_nothing(people, second):
    people.on_offline("bundle", "import", str(second))
    refused(people, people.tmp / "in-1.amanat", "older than number 2")
    before = snapshot(people.offline_vault)
    again = people.on_offline("bundle", "import", str(second))
    assert "imported before; nothing changed" in again.output
    assert snapshot(people.offline_vault) == before


def crafted(people, name: str, entries: list[tuple[str, bytes]], data: dict, seq: int) -> Path:
    """A bundle a hostile courier made with the reviewer's signing key (it holds it)."""
    key = read_keyfile(people.courier, PASSPHRASE).signing
    header = canonical.encode(
        {
            "v": 1,
            "direction": "to-offline",
            "seq": seq,
            "made": "2026-12-03",
            "key": base64.b64encode(bytes(key.verify_key)).decode(),
            "data": data,
            "entries": [
                {"name": n, "size": len(b), "sha256": hashlib.sha256(b).hexdigest()}
                for n, b in entries
            ],
        }
    )
    path = people.tmp / name
    body = b"".join(b for _, b in entries)
    signature = sign(key, Purpose.MEDIA_BUNDLE, header)
    path.write_bytes(MAGIC + struct.pack(">I", len(header)) + header + signature + body)
    return path


def honest_data(bundle: Path) -> tuple[dict, list[tuple[str, bytes]]]:
    """What an honest bundle carries: its data and entries, as the courier wrote them."""
    raw = bundle.read_bytes()
    (length,) = struct.unpack(">I", raw[len(MAGIC) : len(MAGIC) + 4])
    header = json.loads(raw[len(MAGIC) + 4 : len(MAGIC) + 4 + length])
    offset = len(MAGIC) + 4 + length + 64
    entries = []
    for entry in header["entries"]:
        entries.append((entry["name"], raw[offset : offset + entry["size"]]))
        offset += entry["size"]
    return header["data"], entries


def test_a_path_in_an_entry_name_is_refused(people, second):
    data, entries = honest_data(second)
    _name, content = entries[0]
    bad = crafted(people, "evil.amanat", [("../../.bashrc", content), *entries[1:]], data, 3)
    refused(people, bad, "name is not an identifier")
    assert not (people.tmp / ".bashrc").exists()


def test_an_entry_larger_than_its_receipt_is_refused(people, second):
    data, entries = honest_data(second)
    (name, content), *rest = entries
    bad = crafted(people, "big.amanat", [(name, content + b"\x00" * 4096), *rest], data, 3)
    refused(people, bad, "the server's receipt says")


def test_a_blob_the_server_never_signed_is_refused(people, second):
    data, entries = honest_data(second)
    (name, content), *rest = entries
    forged = bytearray(content)
    forged[-1] ^= 1
    for listing in data["listings"]:
        for blob in listing["blobs"]:
            if blob["id"] == name:
                blob["sha256"] = hashlib.sha256(bytes(forged)).hexdigest()
    bad = crafted(people, "forged.amanat", [(name, bytes(forged)), *rest], data, 3)
    refused(people, bad, "receipt for blob")


def test_a_bundle_path_that_is_a_link_is_refused(people, second):
    link = people.tmp / "link.amanat"
    link.symlink_to(second)
    refused(people, link, "is a link")


# -- the console on the offline machine ------------------------------------------------


def offline_console(people, lang: str):
    """The console on the offline machine, unlocked, in lang."""
    console = create_console(people.full, people.offline_vault, None)
    console.config["TESTING"] = True
    browser = console.test_client()
    browser.set_cookie("lang", lang)
    page = browser.get("/").get_data(as_text=True)
    browser.post("/", data={"csrf_token": token_in(page), "passphrase": PASSPHRASE})
    return browser


def test_the_offline_console_imports_a_bundle_and_keeps_replies_for_the_courier(people, reported):
    _, _, report_id = reported
    inbound = people.export("in-1.amanat")
    browser = offline_console(people, "en")

    inbox = browser.get("/inbox").get_data(as_text=True)
    assert "Import a bundle" in inbox
    imported = browser.post(
        "/bundle/import", data={"csrf_token": token_in(inbox), "path": str(inbound)}
    )
    assert imported.status_code == 303
    inbox = browser.get("/inbox").get_data(as_text=True)
    assert "Bundle imported: 2 new item(s) for 1 report(s)." in inbox
    assert "Sync now" not in inbox, "an offline vault offers bundles, not a sync"
    assert report_id in inbox

    page = browser.get(f"/reports/{report_id}").get_data(as_text=True)
    assert "NARRATIVE-MARKER" in page
    browser.post(f"/reports/{report_id}/reply", data={"csrf_token": token_in(page), "text": REPLY})
    outgoing = people.tmp / "out-1.amanat"
    inbox = browser.get("/inbox").get_data(as_text=True)
    assert "it goes out in your next outgoing bundle" in inbox
    browser.post("/bundle/outgoing", data={"csrf_token": token_in(inbox), "path": str(outgoing)})
    assert "Outgoing bundle written: 1 reply(ies)" in browser.get("/inbox").get_data(as_text=True)
    posted = people.on_courier("bundle", "post", "--server", people.live.url, str(outgoing))
    assert "Accepted: reply to report" in posted.output


def test_the_console_names_a_refused_bundle_in_the_reviewers_language(people, second):
    data = bytearray(second.read_bytes())
    data[-1] ^= 0x01
    second.write_bytes(bytes(data))
    browser = offline_console(people, "ru")
    inbox = browser.get("/inbox").get_data(as_text=True)
    before = snapshot(people.offline_vault)
    browser.post("/bundle/import", data={"csrf_token": token_in(inbox), "path": str(second)})
    inbox = browser.get("/inbox").get_data(as_text=True)
    assert "Пакет отклонён, ничего не изменилось" in inbox
    assert snapshot(people.offline_vault) == before
