"""A reviewer replaces a lost or compromised key: the whole procedure of docs/DEPLOY.md."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from admin.case import case_state
from admin.case_events import load_events, submit_event
from admin.case_numbers import case_numbers
from admin.cli import main as admin_main
from admin.client import ApiClient
from admin.rekey import reseal_vault
from admin.reply_templates import add_template, templates
from admin.sync import sync
from admin.vault import Vault, WrongVaultKeyError
from crypto.envelope import Kind, open_bytes
from crypto.errors import NotARecipientError
from crypto.kdf import MINIMAL
from crypto.keys import ReviewerKey, write_keyfile
from crypto.roster import Member
from portal import db
from portal.cli import main as server_main
from tests.conftest import change_roster
from tests.portal.journey import get_codename, only_report_id, submit_report

FILE_BYTES = b"evidence " * 30_000
PASSPHRASE = "a long passphrase"


@pytest.fixture
def synced(tmp_path, app, client, live_server, recipient_key):
    """A report with a file, synced into the old key's vault, with the reviewer's reply."""
    get_codename(client)
    response = submit_report(client, files=[("evidence", "v.mp4", FILE_BYTES, "video/mp4")])
    assert response.status_code == 303
    report_id = only_report_id(app)
    vault = Vault.open(tmp_path / "vault", recipient_key)
    with ApiClient(live_server.url, recipient_key) as api:
        sync(vault, api)
        envelope, signature = vault.seal_reply(report_id, "Мы получили ваше сообщение.")
        api.post_reply(report_id, envelope, signature)
        sync(vault, api)
    return report_id


def _conversation(vault: Vault, report_id: str) -> list[tuple[str, bool, str | None]]:
    return [(e.kind, e.verified, e.text) for e in vault.conversation(report_id)]


def _operator_replaces(runner: CliRunner, tmp_path: Path, new_key: ReviewerKey, report_id: str):
    """Step 2: the operator replaces recipient 1 with the new key's bundle."""
    bundle = tmp_path / "new.json"
    bundle.write_text(new_key.bundle().to_json())
    result = runner.invoke(server_main, ["recipient", "replace", "1", str(bundle)])
    assert result.exit_code == 0, result.output
    assert "recipient 1 is revoked; added recipient 2" in result.output
    # The report's envelopes are sealed to the revoked key only: flagged.
    assert f"sealed only to revoked keys; no active reviewer can open them: {report_id}" in (
        result.output
    )


def _coordinator_swaps(app, organisation: ReviewerKey, new: ReviewerKey, old: ReviewerKey):
    """Step 2b: the coordinator puts the new key on the roster and revokes the old one."""
    with app.app_context():
        change_roster(
            db.get_session(),
            organisation,
            add=[Member.from_bundle(new.bundle())],
            revoke=[old],
        )
        db.get_session().commit()


def _reviewer_reseals(tmp_path: Path, vault_dir: Path, old: ReviewerKey, new: ReviewerKey):
    """Step 3: the CLI re-seals the vault, both passphrases from the environment."""
    old_file, new_file = tmp_path / "old.key", tmp_path / "new.key"
    write_keyfile(old_file, old, PASSPHRASE, MINIMAL)
    write_keyfile(new_file, new, PASSPHRASE, MINIMAL)
    vault = str(vault_dir)
    result = CliRunner(env={"AMANAT_PASSPHRASE": PASSPHRASE}).invoke(
        admin_main,
        ["reseal", "--old-keyfile", str(old_file), "--keyfile", str(new_file), "--vault", vault],
    )
    assert result.exit_code == 0, result.output
    assert "Re-sealed 3 blob(s)" in result.output


def _only_the_new_key_opens(
    vault_dir: Path, old: ReviewerKey, new: ReviewerKey, report_id: str
) -> Vault:
    """The old key opens nothing in the vault any more; the new key opens all of it."""
    with pytest.raises(WrongVaultKeyError):
        Vault.open(vault_dir, old)
    for path in (vault_dir / "blobs").iterdir():
        kind = Kind(path.read_bytes()[8])
        with pytest.raises(NotARecipientError):
            open_bytes(path.read_bytes(), old.box, kind)
    vault = Vault.open(vault_dir, new)
    assert vault.answers(report_id)["narrative"]
    (file_entry,) = vault.files(report_id)
    assert b"".join(vault.open_file(file_entry.blob_id).chunks()) == FILE_BYTES
    return vault


def _new_key_syncs_and_replies(
    url: str, vault: Vault, report_id: str, old: ReviewerKey, new: ReviewerKey
) -> None:
    """Step 4: the new key syncs and replies; nothing new is sealed to the old key."""
    with ApiClient(url, new) as api:
        result_sync = sync(vault, api)
        assert not result_sync.refused and result_sync.fetched == []
        envelope, signature = vault.seal_reply(report_id, "Новый ключ.")
        api.post_reply(report_id, envelope, signature)
    with pytest.raises(NotARecipientError):
        open_bytes(envelope, old.box, Kind.REPLY)
    assert open_bytes(envelope, new.box, Kind.REPLY).content == "Новый ключ.".encode()


def test_replacing_a_key_end_to_end(
    tmp_path: Path,
    app,
    live_server,
    runner: CliRunner,
    recipient_key: ReviewerKey,
    organisation: ReviewerKey,
    synced: str,
) -> None:
    report_id = synced
    vault_dir = tmp_path / "vault"
    before = _conversation(Vault.open(vault_dir, recipient_key), report_id)

    # 1. The reviewer makes a new key; 2. the operator replaces the old one.
    new_key = ReviewerKey.generate("Test reviewer")
    _operator_replaces(runner, tmp_path, new_key, report_id)
    _coordinator_swaps(app, organisation, new_key, recipient_key)
    _reviewer_reseals(tmp_path, vault_dir, recipient_key, new_key)
    vault = _only_the_new_key_opens(vault_dir, recipient_key, new_key, report_id)
    # The reply signed with the old key still verifies, as the reviewer's own.
    assert _conversation(vault, report_id) == before
    assert before[0][1] is True
    _new_key_syncs_and_replies(live_server.url, vault, report_id, recipient_key, new_key)

    # Running it again changes nothing.
    again = reseal_vault(vault_dir, recipient_key, new_key)
    assert again.resealed == [] and len(again.already) == 3


def test_reseal_refuses_a_vault_of_another_key(tmp_path: Path) -> None:
    owner, other, new = (ReviewerKey.generate(n) for n in ("Owner", "Other", "New"))
    Vault.open(tmp_path / "vault", owner)
    with pytest.raises(WrongVaultKeyError):
        reseal_vault(tmp_path / "vault", other, new)


def test_reseal_leaves_a_damaged_blob_and_says_so(
    tmp_path: Path, recipient_key: ReviewerKey, synced: str
) -> None:
    vault = Vault.open(tmp_path / "vault", recipient_key)
    (file_entry,) = vault.files(synced)
    path = vault.blob_path(file_entry.blob_id)
    damaged = bytearray(path.read_bytes())
    damaged[-100] ^= 1
    path.write_bytes(bytes(damaged))
    done = reseal_vault(tmp_path / "vault", recipient_key, ReviewerKey.generate("New"))
    assert list(done.refused) == [file_entry.blob_id]
    assert len(done.resealed) == 2


def test_reseal_keeps_case_work_and_the_vaults_side_files(
    tmp_path: Path, live_server, recipient_key: ReviewerKey, synced: str
) -> None:
    """After re-sealing, events still verify and the side files open with the new key."""
    report_id, vault_dir = synced, tmp_path / "vault"
    vault = Vault.open(vault_dir, recipient_key)
    with ApiClient(live_server.url, recipient_key) as api:
        submit_event(vault, api, report_id, "set_priority", {"priority": "high"})
        sync(vault, api)
    numbers = case_numbers(vault, [(report_id, "2026-12-04", None)])
    add_template(vault, "ru", "Приём", "Мы получили ваше сообщение.")
    assert case_state(vault, report_id)["priority"] == "high"

    new_key = ReviewerKey.generate("Test reviewer")
    done = reseal_vault(vault_dir, recipient_key, new_key)
    assert {"case_numbers", "reply_templates"} <= set(done.side_files)
    vault = Vault.open(vault_dir, new_key)
    assert [i.reason for i in load_events(vault, report_id) if i.status == "rejected"] == []
    assert case_state(vault, report_id)["priority"] == "high"
    assert case_numbers(vault, [(report_id, "2026-12-04", None)]) == numbers
    assert [t.title for t in templates(vault)] == ["Приём"]
    for side in vault_dir.glob("*.amanat"):
        with pytest.raises(NotARecipientError):
            open_bytes(side.read_bytes(), recipient_key.box, Kind.INDEX)
