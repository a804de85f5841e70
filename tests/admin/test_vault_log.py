"""The vault index's log: a save writes what changed; a cut record is dropped, damage is not."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest

from admin import vault_index
from admin.vault import DamagedVaultError, Vault
from admin.vault_log import LOG_NAME
from crypto.envelope import Kind, open_bytes, seal_bytes
from crypto.keys import ReviewerKey
from crypto.manifest import Manifest
from crypto.private_files import write_private
from tests.admin.test_vault_shared import _listing


@pytest.fixture(scope="module")
def key() -> ReviewerKey:
    return ReviewerKey.generate("Reviewer")


def _vault(folder: Path, key: ReviewerKey, reports: int) -> Vault:
    vault = Vault.open(folder, key)
    for n in range(reports):
        vault.merge_report(_listing(f"r{n}", [f"b{n}", f"c{n}"]))
    vault.save()
    return vault


def _log(vault: Vault) -> bytes:
    path = vault.path / LOG_NAME
    return path.read_bytes() if path.exists() else b""


@pytest.mark.parametrize("reports", [20, 2000])
def test_a_save_with_one_change_writes_that_change_not_the_vault(tmp_path, key, reports):
    vault = _vault(tmp_path / "vault", key, reports)
    base = vault.index_path.read_bytes()
    before = len(_log(vault))
    vault.mark_read("r7")
    appended = len(_log(vault)) - before
    # One report's entry, sealed: the same in a vault of 20 reports and of 2,000.
    assert 0 < appended < 3 * 1024
    assert vault.index_path.read_bytes() == base  # the base is not rewritten
    vault.set_status("r7", "in_review")
    vault.save()
    assert len(_log(vault)) - before - appended < 3 * 1024
    again = Vault.open(vault.path, key)
    assert again.report("r7").read and again.report("r7").status == "in_review"


def test_a_save_with_nothing_changed_writes_nothing(tmp_path, key):
    vault = _vault(tmp_path / "vault", key, 3)
    vault.mark_read("r1")
    log = _log(vault)
    vault.save()
    Vault.open(vault.path, key).save()
    assert _log(vault) == log


def _two_records(folder: Path, key: ReviewerKey) -> tuple[bytes, int, int]:
    """A vault whose log ends with two records (r0 read, then r1 in review): the log and
    where each of the two starts."""
    vault = _vault(folder, key, 2)
    first = len(_log(vault))
    vault.mark_read("r0")
    start = len(_log(vault))
    vault.set_status("r1", "in_review")
    vault.save()
    return _log(vault), first, start


def test_a_record_cut_at_any_byte_loses_only_that_record(tmp_path, key):
    log, _, start = _two_records(tmp_path / "vault", key)
    for cut in range(start, len(log)):
        (tmp_path / "vault" / LOG_NAME).write_bytes(log[:cut])
        vault = Vault.open(tmp_path / "vault", key)
        assert vault.report("r0").read, cut
        assert vault.report("r1").status == "received", cut


def test_after_a_cut_record_the_next_save_drops_it_and_says_so(tmp_path, key, caplog):
    log, _, start = _two_records(tmp_path / "vault", key)
    (tmp_path / "vault" / LOG_NAME).write_bytes(log[: start + 40])
    vault = Vault.open(tmp_path / "vault", key)
    with caplog.at_level(logging.WARNING, logger="admin.vault_index"):
        vault.mark_read("r1")
    assert "cut short" in caplog.text
    again = Vault.open(tmp_path / "vault", key)
    assert again.report("r0").read and again.report("r1").read
    assert again.report("r1").status == "received"


def test_a_flipped_byte_in_a_record_is_refused(tmp_path, key):
    log, first, start = _two_records(tmp_path / "vault", key)
    for record in (range(first, start), range(start, len(log))):
        for offset in record:
            damaged = bytearray(log)
            damaged[offset] ^= 0x01
            (tmp_path / "vault" / LOG_NAME).write_bytes(bytes(damaged))
            with pytest.raises(DamagedVaultError, match="damaged"):
                Vault.open(tmp_path / "vault", key)


def test_the_log_is_folded_into_the_base_when_it_outgrows_it(tmp_path, key, monkeypatch):
    monkeypatch.setattr(vault_index, "COMPACT_MIN_BYTES", 0)
    vault = _vault(tmp_path / "vault", key, 5)
    base = vault.index_path.read_bytes()
    for n in range(5):
        vault.mark_read(f"r{n}")  # five entries: more than the base of five reports holds
    assert vault.index_path.read_bytes() != base
    assert len(_log(vault)) < len(vault.index_path.read_bytes())
    assert all(r.read for r in Vault.open(vault.path, key).reports())


def test_records_left_by_a_compaction_cut_short_are_ignored(tmp_path, key):
    vault = _vault(tmp_path / "vault", key, 3)
    vault.mark_read("r0")
    old_log = _log(vault)
    vault.set_status("r0", "in_review")
    vault._store._compact()  # the new base holds the records of the old log
    (vault.path / LOG_NAME).write_bytes(old_log)  # as if the command died before removing it
    again = Vault.open(vault.path, key)
    assert again.report("r0").read and again.report("r0").status == "in_review"
    again.mark_read("r1")
    assert not _log(again).startswith(old_log)  # the stale log was dropped, not extended
    final = Vault.open(vault.path, key)
    assert [r.read for r in sorted(final.reports(), key=lambda r: r.id)] == [True, True, False]


def _old_style_index(folder: Path, key: ReviewerKey) -> dict:
    """Write an index as the vault wrote it before the log: the whole index, one sealed file."""
    index = {
        "v": 1,
        "server_url": "http://portal.example",
        "proxy": None,
        "receipt_key": "K" * 43 + "=",
        "cursor": 41,
        "reports": {"r1": {"listing": _listing("r1", ["b1"]), "read": False}},
        "manifests": {
            "b1": {
                "filename": "p.jpg",
                "content_type": "image/jpeg",
                "size": 1,
                "sha256": "ab" * 32,
            }
        },
        "pending_events": [{"report_id": "r1", "envelope": "ZQ==", "signature": "cw=="}],
        "acked": ["b1"],
        "roster": {"serial": 3},
    }
    content = json.dumps(index, ensure_ascii=False, sort_keys=True).encode("utf-8")
    folder.mkdir(mode=0o700)
    for sub in ("blobs", "partial"):
        (folder / sub).mkdir(mode=0o700)
    write_private(folder / "index.amanat", seal_bytes(content, [key.box.public_key], Kind.INDEX))
    return index


def test_a_vault_saved_before_the_log_opens_and_keeps_working(tmp_path, key):
    _old_style_index(tmp_path / "vault", key)
    base = (tmp_path / "vault" / "index.amanat").read_bytes()
    vault = Vault.open(tmp_path / "vault", key)
    assert vault.server_url == "http://portal.example" and vault.cursor == 41
    assert vault.pending_events() == [("r1", b"e", b"s")]
    assert vault.manifest_if_known("b1") is not None and vault.acknowledged() == {"b1"}
    vault.mark_read("r1")
    vault.cursor = 42
    vault.save()
    # The first save makes it a version-2 base; later saves append to the log.
    upgraded = (tmp_path / "vault" / "index.amanat").read_bytes()
    assert upgraded != base
    assert json.loads(open_bytes(upgraded, key.box, Kind.INDEX).content)["v"] == 2
    vault.set_status("r1", "closed")
    vault.save()
    assert (tmp_path / "vault" / "index.amanat").read_bytes() == upgraded  # into the log
    again = Vault.open(tmp_path / "vault", key)
    assert again.report("r1").read and again.cursor == 42 and again.report("r1").status == "closed"
    assert again.section("roster") == {"serial": 3}


def test_a_build_from_before_the_log_refuses_a_vault_that_has_one(tmp_path, key):
    """Going back to an older build must not open the base alone and lose the log's saves."""
    _old_style_index(tmp_path / "vault", key)
    vault = Vault.open(tmp_path / "vault", key)
    vault.mark_read("r1")
    vault.save()
    vault.set_status("r1", "closed")
    vault.save()
    assert (tmp_path / "vault" / "index.log").exists()
    # What the code before the log checked on opening (a555c9a's Vault._read_index).
    sealed = (tmp_path / "vault" / "index.amanat").read_bytes()
    index = json.loads(open_bytes(sealed, key.box, Kind.INDEX).content)
    assert index.get("v") != 1


def test_two_vault_objects_saving_in_turn_merge_entry_by_entry(tmp_path, key):
    first = _vault(tmp_path / "vault", key, 2)
    second = Vault.open(tmp_path / "vault", key)
    first.set_status("r0", "in_review")
    first.queue_event("r0", b"e1", b"s1")  # saves
    second.mark_read("r0")  # the same report, another field: both are kept
    second.set_status("r1", "closed")
    second.save()
    first.mark_acknowledged(["b0"], [])
    first.save()
    final = Vault.open(tmp_path / "vault", key)
    assert final.report("r0").status == "in_review" and final.report("r0").read
    assert final.report("r1").status == "closed"
    assert final.pending_events() == [("r0", b"e1", b"s1")]
    assert final.acknowledged() == {"b0"}


def test_a_restored_copy_of_base_and_log_opens_the_same(tmp_path, key):
    vault = _vault(tmp_path / "vault", key, 3)
    vault.mark_read("r2")
    shutil.copytree(vault.path, tmp_path / "copy")
    assert Vault.open(tmp_path / "copy", key).report("r2").read


def test_every_change_made_through_the_vault_reaches_the_next_open(tmp_path, key):
    vault = _vault(tmp_path / "vault", key, 4)
    vault.set_status("r0", "in_review")
    vault.mark_read("r1")
    vault.merge_report(_listing("r2", ["b2", "c2", "d2"]))
    blob = vault.report("r3").blobs[0]
    vault.add_blob_listing("r3", {**blob, "id": "e3"})
    vault._remember_manifest("c1", Manifest("a.txt", "text/plain", 1, "ab" * 32))
    vault.queue_event("r0", b"e1", b"s1")
    vault.queue_event("r0", b"e2", b"s2")
    vault.drop_pending_event(b"e1")
    vault.mark_acknowledged(["b0", "c0"], ["d2"])
    vault.mark_resealed("b1", "cd" * 32)
    vault.section("roster")["serial"] = 5
    vault.cursor, vault.server_url = 12, "http://portal.example"
    vault.save()
    assert Vault.open(vault.path, key)._index == vault._index
    vault.rekey(ReviewerKey.generate("New"))
    assert not (vault.path / LOG_NAME).exists()  # re-sealed whole to the new key
    assert Vault.open(vault.path, vault.key)._index == vault._index
