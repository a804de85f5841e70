"""One vault, several commands at once: saves merge, nothing queued or marked is lost."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest

from admin import vault_index
from admin.vault import Vault, VaultError
from admin.vault_lock import locked, merge
from crypto.kdf import MINIMAL
from crypto.keys import ReviewerKey, read_keyfile, write_keyfile

PASSPHRASE = "a test passphrase, not secret"
_SHA = "ab" * 32


def _listing(report_id: str, blobs: list[str]) -> dict:
    return {
        "id": report_id,
        "status": "received",
        "created_day": "2026-12-01",
        "updated_day": "2026-12-01",
        "source_key": "A" * 43 + "=",
        "recipients": [],
        "blobs": [
            {
                "id": b,
                "kind": "file",
                "author": "source",
                "author_key": None,
                "size": 1,
                "sha256": _SHA,
                "receipt": "x",
                "signature": None,
                "created_day": "2026-12-01",
            }
            for b in blobs
        ],
    }


def _worker(role: str, keyfile: str, folder: str, opened, go) -> None:
    """Open the vault, say so, wait for the go, then do one command's work and save."""
    vault = Vault.open(Path(folder), read_keyfile(Path(keyfile), PASSPHRASE))
    opened.set()
    go.wait(30)
    if role == "sync":  # what sync does: a new blob in a listing, the cursor moves
        vault.merge_report(_listing("r1", ["b1", "b2"]))
        vault.cursor = 7
        vault.save()
    elif role == "event":  # a case event queued while offline
        vault.queue_event("r1", b"sealed event", b"signature")
    else:  # the console: a status and a read mark
        vault.set_status("r1", "in_review")
        vault.mark_read("r1")


def _shared_vault(tmp_path: Path) -> tuple[ReviewerKey, Path, Path, Vault]:
    """A reviewer key, its key file (for the processes to read), and a new vault."""
    key = ReviewerKey.generate("Reviewer")
    keyfile = tmp_path / "key"
    write_keyfile(keyfile, key, PASSPHRASE, MINIMAL)
    return key, keyfile, tmp_path / "vault", Vault.open(tmp_path / "vault", key)


def test_three_processes_saving_one_vault_lose_nothing(tmp_path: Path) -> None:
    key, keyfile, folder, vault = _shared_vault(tmp_path)
    vault.merge_report(_listing("r1", ["b1"]))
    vault.save()
    context = multiprocessing.get_context("spawn")
    roles = ["sync", "event", "console"]
    signals = {r: (context.Event(), context.Event()) for r in roles}
    workers = [
        context.Process(target=_worker, args=(r, str(keyfile), str(folder), *signals[r]))
        for r in roles
    ]
    for worker in workers:
        worker.start()
    # Every process has loaded the same index before any of them saves.
    assert all(opened.wait(60) for opened, _ in signals.values())
    for role, worker in zip(roles, workers, strict=True):
        signals[role][1].set()
        worker.join(60)
        assert worker.exitcode == 0
    after = Vault.open(folder, key)
    report = after.report("r1")
    assert [b["id"] for b in report.blobs] == ["b1", "b2"]
    assert after.cursor == 7
    assert after.pending_events() == [("r1", b"sealed event", b"signature")]
    assert report.status == "in_review" and report.read


def test_a_dropped_event_stays_dropped_when_another_command_saves(tmp_path: Path) -> None:
    key = ReviewerKey.generate("Reviewer")
    first = Vault.open(tmp_path / "vault", key)
    first.merge_report(_listing("r1", ["b1"]))
    first.queue_event("r1", b"e1", b"s1")
    second = Vault.open(tmp_path / "vault", key)
    first.drop_pending_event(b"e1")  # sync posted it
    first.save()
    second.queue_event("r1", b"e2", b"s2")  # saved from an older load
    assert Vault.open(tmp_path / "vault", key).pending_events() == [("r1", b"e2", b"s2")]


def test_a_save_waits_for_the_lock_then_says_clearly_who_may_hold_it(tmp_path: Path) -> None:
    vault = Vault.open(tmp_path / "vault", ReviewerKey.generate("Reviewer"))
    context = multiprocessing.get_context("spawn")
    held, release = context.Event(), context.Event()
    holder = context.Process(target=_hold_lock, args=(str(vault.path), held, release))
    holder.start()
    try:
        assert held.wait(60)
        with pytest.raises(VaultError, match="another command"):
            vault.save_with_wait(0.2)
    finally:
        release.set()
        holder.join(60)
    vault.save()  # free again


def _hold_lock(folder: str, held, release) -> None:
    with locked(Path(folder)):
        held.set()
        release.wait(30)


def test_merge_keeps_my_changes_and_theirs() -> None:
    base = {"a": 1, "l": [1, 2], "d": {"x": 1, "y": 1}}
    mine = {"a": 2, "l": [2, 3], "d": {"x": 2, "y": 1}}
    theirs = {"a": 1, "l": [1, 2, 4], "d": {"x": 1, "y": 3}, "new": True}
    assert merge(base, mine, theirs) == {
        "a": 2,
        "l": [2, 4, 3],
        "d": {"x": 2, "y": 3},
        "new": True,
    }


def _saver(name: str, keyfile: str, folder: str, compact: bool, opened, go) -> None:
    """Many small saves from one long-lived vault object, while another process saves too."""
    if compact:  # this one folds the log into the base at every save it makes
        vault_index.COMPACT_MIN_BYTES, vault_index.COMPACT_FRACTION = -1, 0.0
    vault = Vault.open(Path(folder), read_keyfile(Path(keyfile), PASSPHRASE))
    opened.set()
    go.wait(30)
    for n in range(12):
        time.sleep(0.02)  # let the other process's saves come in between
        report_id = f"{name}{n % 4}"
        if n % 3 == 0:
            vault.queue_event(report_id, f"{name} event {n}".encode(), b"signature")
        elif n % 3 == 1:
            vault.set_status(report_id, f"{name}-{n}")
            vault.save()
        else:
            vault.mark_acknowledged([f"{name}-blob-{n}"], [])
            vault.save()


def test_two_processes_saving_in_turn_lose_nothing(tmp_path: Path) -> None:
    """One appends to the log, the other compacts at every save; every change of both stays."""
    key, keyfile, folder, vault = _shared_vault(tmp_path)
    for name in ("a", "b"):
        for n in range(4):
            vault.merge_report(_listing(f"{name}{n}", [f"{name}{n}-file"]))
    vault.save()
    context = multiprocessing.get_context("spawn")
    go, opened = context.Event(), {name: context.Event() for name in ("a", "b")}
    workers = [
        context.Process(
            target=_saver, args=(name, str(keyfile), str(folder), name == "b", opened[name], go)
        )
        for name in ("a", "b")
    ]
    for worker in workers:
        worker.start()
    assert all(event.wait(60) for event in opened.values())
    go.set()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    after = Vault.open(folder, key)
    for name in ("a", "b"):
        events = {e.decode() for _, e, _ in after.pending_events() if e.startswith(name.encode())}
        assert events == {f"{name} event {n}" for n in (0, 3, 6, 9)}
        assert {after.report(f"{name}{n % 4}").status for n in (1, 4, 7, 10)} == {
            f"{name}-{n}" for n in (7, 4, 1, 10)
        }
        assert {f"{name}-blob-{n}" for n in (2, 5, 8, 11)} <= after.acknowledged()
