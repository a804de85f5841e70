"""The coordinator's roster commands: revoke, sign again, show, and a lost coordinator key."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from admin.cli import main as admin_main
from admin.client import ApiClient
from admin.roster import pinned_roster
from admin.sync import SyncError, sync
from admin.vault import Vault
from crypto.kdf import MINIMAL
from crypto.keys import ReviewerKey, write_keyfile
from portal.cli import main as server_main

PASSPHRASE = "coordinator passphrase"
FINGERPRINT = re.compile(r"Organisation key fingerprint: ([0-9 ]{35})")


@pytest.fixture
def coordinator(tmp_path):
    env = {"AMANAT_PASSPHRASE": PASSPHRASE, "AMANAT_VAULT": str(tmp_path / "unused")}

    def run(*args: str, ok: bool = True):
        result = CliRunner().invoke(admin_main, list(args), env=env)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return run


def _init(coordinator, tmp_path, name: str) -> tuple[list[str], str]:
    args = ["--roster", str(tmp_path / f"{name}.json")]
    args += ["--coordinator-key", str(tmp_path / f"{name}.key")]
    made = coordinator("roster", "init", "--name", name, *args, "--kdf", "minimal")
    match = FINGERPRINT.search(made.output)
    assert match
    return args, match.group(1)


def _bundle(tmp_path, key: ReviewerKey) -> str:
    path = tmp_path / f"{key.name}.bundle.json"
    path.write_text(key.bundle().to_json())
    return str(path)


def _revoke(coordinator, runner, tmp_path, args, bakyt: ReviewerKey) -> None:
    """Revoke by fingerprint and publish; a revoked key cannot be added back."""
    coordinator("roster", "revoke", bakyt.bundle().fingerprint, *args)
    again = coordinator("roster", "add", _bundle(tmp_path, bakyt), *args, ok=False)
    assert again.exit_code == 1 and "never added again" in again.output
    published = runner.invoke(server_main, ["roster", "publish", args[1]])
    assert "revoked" in published.output and "Бакыт" in published.output


def _sign_only_higher(coordinator, tmp_path, args) -> None:
    low = coordinator("roster", "sign", "--serial", "2", *args, ok=False)
    assert low.exit_code == 1 and "only grows" in low.output
    coordinator("roster", "sign", "--serial", "100", *args)
    assert json.loads((tmp_path / "org.json").read_text())["serial"] == 100


def _new_coordinator_key(coordinator, runner, tmp_path, aigul: ReviewerKey) -> str:
    """The coordinator key is lost: a new one, published on purpose by the operator."""
    new_args, new_fingerprint = _init(coordinator, tmp_path, "neworg")
    coordinator("roster", "add", _bundle(tmp_path, aigul), *new_args)
    refused = runner.invoke(server_main, ["roster", "publish", new_args[1]])
    assert refused.exit_code == 1 and "--new-organisation-key" in refused.output
    assert (
        runner.invoke(
            server_main, ["roster", "publish", new_args[1], "--new-organisation-key"]
        ).exit_code
        == 0
    )
    return new_fingerprint


def _repin(coordinator, tmp_path, aigul: ReviewerKey, fingerprint: str) -> None:
    """Only a coordinator's word moves the vault: repin with the new fingerprint."""
    keyfile = tmp_path / "aigul.key"
    write_keyfile(keyfile, aigul, PASSPHRASE, MINIMAL)
    repinned = coordinator(
        "roster",
        "repin",
        "--organisation-key",
        fingerprint,
        "--keyfile",
        str(keyfile),
        "--vault",
        str(tmp_path / "vault"),
    )
    assert "no other" in repinned.output


def test_revoke_sign_and_a_lost_coordinator_key(tmp_path, app, runner, live_server, coordinator):
    aigul, bakyt = ReviewerKey.generate("Айгуль"), ReviewerKey.generate("Бакыт")
    args, first_fingerprint = _init(coordinator, tmp_path, "org")
    for key in (aigul, bakyt):
        coordinator("roster", "add", _bundle(tmp_path, key), *args)
    assert runner.invoke(server_main, ["roster", "publish", args[1]]).exit_code == 0
    vault = Vault.open(tmp_path / "vault", aigul)
    with ApiClient(live_server.url, aigul) as api:
        sync(vault, api)

    _revoke(coordinator, runner, tmp_path, args, bakyt)
    with ApiClient(live_server.url, aigul) as api:
        sync(vault, api)
    roster = pinned_roster(vault)
    assert roster is not None and [m.name for m in roster.members] == ["Айгуль"]
    assert [r.name for r in roster.revoked] == ["Бакыт"]

    _sign_only_higher(coordinator, tmp_path, args)
    new_fingerprint = _new_coordinator_key(coordinator, runner, tmp_path, aigul)
    with ApiClient(live_server.url, aigul) as api, pytest.raises(SyncError, match="not signed"):
        sync(vault, api)  # the vault does not follow the server to a new organisation key

    _repin(coordinator, tmp_path, aigul, new_fingerprint)
    vault = Vault.open(tmp_path / "vault", aigul)
    with ApiClient(live_server.url, aigul) as api:
        note = sync(vault, api).roster_note
    assert new_fingerprint in str(note) and first_fingerprint != new_fingerprint


def test_the_operator_is_shown_the_roster_as_the_coordinator_is(tmp_path, app, runner, coordinator):
    args, fingerprint = _init(coordinator, tmp_path, "org")
    coordinator("roster", "add", _bundle(tmp_path, ReviewerKey.generate("Айгуль")), *args)
    assert runner.invoke(server_main, ["roster", "publish", args[1]]).exit_code == 0
    operator = runner.invoke(server_main, ["roster", "show"])
    assert operator.exit_code == 0, operator.output
    assert operator.output == coordinator("roster", "show", *args[:2]).output
    assert fingerprint in operator.output and "Айгуль" in operator.output
