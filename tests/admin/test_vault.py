"""The reviewer's vault: a sealed index, ciphertext blobs, everything opened in memory."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import stat

import pytest
from nacl.public import PrivateKey

from admin.vault import (
    DamagedVaultError,
    UnknownReportError,
    Vault,
    VaultError,
    WrongVaultKeyError,
    check_id,
)
from crypto.envelope import Kind, open_bytes, seal_bytes
from crypto.keys import ReviewerKey
from crypto.manifest import seal_file
from crypto.replies import sign_reply, verify_reply

MARKER = "MARKER-Бишкек-plaintext"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def blob_entry(blob_id, kind, data, author="source", author_key=None, signature=None, day=None):
    return {
        "id": blob_id,
        "kind": kind,
        "author": author,
        "author_key": author_key,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "receipt": "",
        "signature": signature,
        "created_day": day or "2026-11-28",
    }


@pytest.fixture
def me() -> ReviewerKey:
    return ReviewerKey.generate("Айгуль")


@pytest.fixture
def colleague() -> ReviewerKey:
    return ReviewerKey.generate("Colleague")


@pytest.fixture
def source() -> PrivateKey:
    return PrivateKey.generate()


def recipients(*keys: ReviewerKey) -> list[dict]:
    return [
        {
            "id": i,
            "name": k.name,
            "box_key": b64(bytes(k.box.public_key)),
            "verify_key": b64(bytes(k.signing.verify_key)),
        }
        for i, k in enumerate(keys, 1)
    ]


def add_report(vault, report_id, blobs, keys, source, day="2026-11-28"):
    """Put a report into the vault the way sync does: listing, then each blob."""
    listing = {
        "id": report_id,
        "status": "received",
        "created_day": day,
        "updated_day": day,
        "source_key": b64(bytes(source.public_key)),
        "recipients": recipients(*keys),
        "blobs": [entry for entry, _ in blobs],
    }
    vault.merge_report(listing)
    for entry, data in blobs:
        vault.store_blob(entry["id"], data)
    vault.save()


def a_report(vault, me, colleague, source, report_id="r1"):
    boxes = [me.box.public_key, colleague.box.public_key]
    answers = json.dumps({"narrative": MARKER, "region": "osh"}).encode()
    answers_blob = seal_bytes(answers, boxes, Kind.REPORT)
    message = seal_bytes(f"follow-up {MARKER}".encode(), boxes, Kind.MESSAGE)
    out = io.BytesIO()
    seal_file(io.BytesIO(MARKER.encode() * 1000), out, boxes, "фото.jpg", "image/jpeg")
    file_blob = out.getvalue()
    reply = seal_bytes(b"we are on it", [source.public_key, *boxes], Kind.REPLY)
    reply_sig = sign_reply(colleague.signing, report_id, hashlib.sha256(reply).hexdigest())
    forged = seal_bytes(b"forged by the server", [source.public_key, *boxes], Kind.REPLY)
    blobs = [
        (blob_entry(f"{report_id}-a", "answers", answers_blob), answers_blob),
        (blob_entry(f"{report_id}-f", "file", file_blob), file_blob),
        (blob_entry(f"{report_id}-m", "message", message), message),
        (
            blob_entry(
                f"{report_id}-r",
                "reply",
                reply,
                "reviewer",
                b64(bytes(colleague.signing.verify_key)),
                b64(reply_sig),
            ),
            reply,
        ),
        (
            blob_entry(
                f"{report_id}-x",
                "reply",
                forged,
                "reviewer",
                b64(bytes(colleague.signing.verify_key)),
                b64(reply_sig),  # a signature over another envelope
            ),
            forged,
        ),
    ]
    add_report(vault, report_id, blobs, [me, colleague], source)


def test_a_new_vault_is_private_and_its_index_is_sealed(tmp_path, me):
    vault = Vault.open(tmp_path / "vault", me)
    vault.server_url = "http://portal.example"
    vault.save()
    assert stat.S_IMODE((tmp_path / "vault").stat().st_mode) == 0o700
    index = tmp_path / "vault" / "index.amanat"
    assert stat.S_IMODE(index.stat().st_mode) == 0o600
    assert b"portal.example" not in index.read_bytes()
    assert Vault.open(tmp_path / "vault", me).server_url == "http://portal.example"


def test_another_key_cannot_open_the_vault(tmp_path, me, colleague):
    Vault.open(tmp_path / "vault", me)
    with pytest.raises(WrongVaultKeyError, match="another key"):
        Vault.open(tmp_path / "vault", colleague)


def test_a_damaged_index_is_a_clear_error(tmp_path, me):
    Vault.open(tmp_path / "vault", me)
    index = tmp_path / "vault" / "index.amanat"
    data = bytearray(index.read_bytes())
    data[-5] ^= 1
    index.write_bytes(bytes(data))
    with pytest.raises(DamagedVaultError, match="damaged"):
        Vault.open(tmp_path / "vault", me)


def test_answers_conversation_and_files_open_in_memory(tmp_path, me, colleague, source):
    vault = Vault.open(tmp_path / "vault", me)
    a_report(vault, me, colleague, source)
    assert vault.answers("r1")["narrative"] == MARKER
    entries = vault.conversation("r1")
    assert [(e.kind, e.author) for e in entries] == [
        ("message", "source"),
        ("reply", "reviewer"),
        ("reply", "reviewer"),
    ]
    assert entries[0].text == f"follow-up {MARKER}"
    assert entries[1].verified and entries[1].author_name == "Colleague"
    (file_entry,) = vault.files("r1")
    assert file_entry.present and file_entry.manifest is None
    assert vault.manifest(file_entry.blob_id).filename == "фото.jpg"
    # The manifest is cached in the (sealed) index.
    again = Vault.open(tmp_path / "vault", me)
    assert again.files("r1")[0].manifest.filename == "фото.jpg"


def test_a_reply_whose_signature_fails_is_not_verified(tmp_path, me, colleague, source):
    vault = Vault.open(tmp_path / "vault", me)
    a_report(vault, me, colleague, source)
    forged = vault.conversation("r1")[2]
    assert forged.verified is False
    assert "signature" in forged.problem


def test_open_file_streams_the_verified_content(tmp_path, me, colleague, source):
    vault = Vault.open(tmp_path / "vault", me)
    a_report(vault, me, colleague, source)
    opener = vault.open_file("r1-f")
    assert b"".join(opener.chunks()) == MARKER.encode() * 1000
    assert opener.manifest.content_type == "image/jpeg"


def test_export_writes_the_file_only_when_it_verifies(tmp_path, me, colleague, source):
    vault = Vault.open(tmp_path / "vault", me)
    a_report(vault, me, colleague, source)
    manifest = vault.export_file("r1-f", tmp_path / "out.jpg")
    assert (tmp_path / "out.jpg").read_bytes() == MARKER.encode() * 1000
    assert manifest.sha256 == hashlib.sha256(MARKER.encode() * 1000).hexdigest()
    blob = vault.blob_path("r1-f")
    data = bytearray(blob.read_bytes())
    data[-100] ^= 1
    blob.write_bytes(bytes(data))
    with pytest.raises(DamagedVaultError):
        vault.export_file("r1-f", tmp_path / "bad.jpg")
    assert not (tmp_path / "bad.jpg").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".bad")] == []


def test_a_sealed_reply_opens_for_the_source_and_every_reviewer(tmp_path, me, colleague, source):
    vault = Vault.open(tmp_path / "vault", me)
    a_report(vault, me, colleague, source)
    envelope, signature = vault.seal_reply("r1", "Мы вам поможем")
    for key in (source, me.box, colleague.box):
        assert open_bytes(envelope, key, Kind.REPLY).content.decode() == "Мы вам поможем"
    verify_reply(me.signing.verify_key, "r1", hashlib.sha256(envelope).hexdigest(), signature)


def test_reports_come_unread_first_then_newest(tmp_path, me, colleague, source):
    vault = Vault.open(tmp_path / "vault", me)
    for report_id, day in (("old", "2026-01-01"), ("new", "2026-11-01"), ("mid", "2026-05-01")):
        add_report(vault, report_id, [], [me], source, day)
    vault.mark_read("new")
    assert [r.id for r in Vault.open(tmp_path / "vault", me).reports()] == ["mid", "old", "new"]
    with pytest.raises(UnknownReportError):
        vault.report("missing")


def test_a_new_message_from_the_source_makes_a_report_unread_again(tmp_path, me, source):
    vault = Vault.open(tmp_path / "vault", me)
    add_report(vault, "r", [], [me], source)
    vault.mark_read("r")
    message = seal_bytes(b"more", [me.box.public_key], Kind.MESSAGE)
    add_report(vault, "r", [(blob_entry("m1", "message", message), message)], [me], source)
    assert vault.report("r").read is False


@pytest.mark.parametrize("bad", ["../x", "", "a/b", "x" * 65, ".", "..", "a b", None, 5])
def test_ids_from_the_server_are_checked_before_they_name_files(bad):
    with pytest.raises(VaultError):
        check_id(bad)


def test_the_vault_holds_no_plaintext(tmp_path, me, colleague, source):
    vault = Vault.open(tmp_path / "vault", me)
    a_report(vault, me, colleague, source)
    vault.answers("r1")
    vault.conversation("r1")
    vault.manifest("r1-f")
    vault.mark_read("r1")
    for path in (tmp_path / "vault").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert MARKER.encode() not in data, path
            assert "фото".encode() not in data, path


def test_manifests_learnt_in_bulk_are_saved_once_and_kept(
    tmp_path, me, colleague, source, monkeypatch
):
    vault = Vault.open(tmp_path / "vault", me)
    a_report(vault, me, colleague, source)
    saves = []
    original = Vault.save
    monkeypatch.setattr(Vault, "save", lambda self: (saves.append(1), original(self))[1])
    learnt = vault.learn_manifests(["r1-f"])
    assert learnt["r1-f"].filename == "фото.jpg" and len(saves) == 1
    assert vault.learn_manifests(["r1-f"]) == learnt and len(saves) == 1  # nothing new
    assert Vault.open(tmp_path / "vault", me).files("r1")[0].manifest == learnt["r1-f"]
