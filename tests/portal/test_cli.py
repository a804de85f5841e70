"""The operator's `amanat-server` commands."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask

from crypto.keys import ReviewerKey
from portal.cli import AddresslessRequestHandler, main
from portal.serverkey import ServerKeyError, load_or_create_signing_key
from portal.settings import Settings


def _bundle_file(tmp_path: Path, name: str = "Айгуль") -> tuple[Path, ReviewerKey]:
    key = ReviewerKey.generate(name)
    path = tmp_path / f"{key.signing.verify_key.encode().hex()[:8]}.json"
    path.write_text(key.bundle().to_json(), encoding="utf-8")
    return path, key


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_creates_private_data_dir_and_keys(runner: CliRunner, settings: Settings) -> None:
    settings.data_dir.chmod(0o755)
    result = runner.invoke(main, ["init"])
    assert result.exit_code == 0, result.output
    assert _mode(settings.data_dir) == 0o700
    assert _mode(settings.data_dir / "secret_key") == 0o600
    assert _mode(settings.data_dir / "server_signing.key") == 0o600
    verify_hex = load_or_create_signing_key(settings.data_dir).verify_key.encode().hex()
    assert verify_hex in result.output


def test_init_twice_keeps_the_keys(runner: CliRunner, settings: Settings) -> None:
    assert runner.invoke(main, ["init"]).exit_code == 0
    secret = (settings.data_dir / "secret_key").read_bytes()
    signing = (settings.data_dir / "server_signing.key").read_bytes()
    assert runner.invoke(main, ["init"]).exit_code == 0
    assert (settings.data_dir / "secret_key").read_bytes() == secret
    assert (settings.data_dir / "server_signing.key").read_bytes() == signing


def test_init_in_a_fresh_directory(tmp_path: Path, empty_database_url: str) -> None:
    data_dir = tmp_path / "new" / "data"
    env = {"AMANAT_DATA_DIR": str(data_dir), "AMANAT_DATABASE_URL": empty_database_url}
    result = CliRunner(env=env).invoke(main, ["init"])
    assert result.exit_code == 0, result.output
    assert _mode(data_dir) == 0o700


def test_damaged_signing_key_is_refused(tmp_path: Path) -> None:
    (tmp_path / "server_signing.key").write_bytes(b"short")
    with pytest.raises(ServerKeyError):
        load_or_create_signing_key(tmp_path)


def test_migrate(runner: CliRunner) -> None:
    result = runner.invoke(main, ["migrate"])
    assert result.exit_code == 0
    assert "up to date" in result.output


def test_recipient_add_prints_name_and_fingerprint(runner: CliRunner, tmp_path: Path) -> None:
    path, key = _bundle_file(tmp_path)
    result = runner.invoke(main, ["recipient", "add", str(path), "--regions", "osh,bishkek"])
    assert result.exit_code == 0, result.output
    assert "Айгуль" in result.output
    assert key.bundle().fingerprint in result.output
    listing = runner.invoke(main, ["recipient", "list"])
    assert "osh,bishkek" in listing.output
    assert "active" in listing.output


def test_recipient_add_without_regions_covers_all(runner: CliRunner, tmp_path: Path) -> None:
    path, _key = _bundle_file(tmp_path)
    assert runner.invoke(main, ["recipient", "add", str(path)]).exit_code == 0
    assert "all regions" in runner.invoke(main, ["recipient", "list"]).output


def test_recipient_add_rejects_tampered_bundle(runner: CliRunner, tmp_path: Path) -> None:
    path, _key = _bundle_file(tmp_path)
    other, _ = _bundle_file(tmp_path, "Mallory")
    data = json.loads(path.read_text())
    data["box_key"] = json.loads(other.read_text())["box_key"]
    data.pop("fingerprint")
    path.write_text(json.dumps(data))
    result = runner.invoke(main, ["recipient", "add", str(path)])
    assert result.exit_code == 1
    assert "self-signature does not verify" in result.output
    assert "Traceback" not in result.output
    assert "no recipients" in runner.invoke(main, ["recipient", "list"]).output


@pytest.mark.parametrize(
    "content, message",
    [("{not json", "not valid JSON"), ('{"format": "x"}', "not an Amanat recipient bundle")],
)
def test_recipient_add_rejects_malformed_bundle(
    runner: CliRunner, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    result = runner.invoke(main, ["recipient", "add", str(path)])
    assert result.exit_code == 1
    assert message in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_recipient_add_rejects_missing_file(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["recipient", "add", str(tmp_path / "nope.json")])
    assert result.exit_code == 1
    assert "cannot read" in result.output


def test_recipient_add_rejects_unknown_region(runner: CliRunner, tmp_path: Path) -> None:
    path, _key = _bundle_file(tmp_path)
    result = runner.invoke(main, ["recipient", "add", str(path), "--regions", "osh,atlantis"])
    assert result.exit_code == 1
    assert "unknown region atlantis" in result.output


def test_recipient_add_rejects_duplicate_key(runner: CliRunner, tmp_path: Path) -> None:
    path, _key = _bundle_file(tmp_path)
    assert runner.invoke(main, ["recipient", "add", str(path)]).exit_code == 0
    result = runner.invoke(main, ["recipient", "add", str(path)])
    assert result.exit_code == 1
    assert "already registered" in result.output


def test_recipient_revoke(runner: CliRunner, tmp_path: Path) -> None:
    path, _key = _bundle_file(tmp_path)
    assert runner.invoke(main, ["recipient", "add", str(path)]).exit_code == 0
    result = runner.invoke(main, ["recipient", "revoke", "1"])
    assert result.exit_code == 0, result.output
    assert "revoked recipient 1" in result.output
    assert "revoked 20" in runner.invoke(main, ["recipient", "list"]).output
    again = runner.invoke(main, ["recipient", "revoke", "1"])
    assert again.exit_code == 1
    assert "already revoked" in again.output


def test_revoked_key_cannot_be_registered_again(runner: CliRunner, tmp_path: Path) -> None:
    path, _key = _bundle_file(tmp_path)
    runner.invoke(main, ["recipient", "add", str(path)])
    runner.invoke(main, ["recipient", "revoke", "1"])
    assert runner.invoke(main, ["recipient", "add", str(path)]).exit_code == 1


def test_recipient_revoke_unknown_id(runner: CliRunner) -> None:
    result = runner.invoke(main, ["recipient", "revoke", "99"])
    assert result.exit_code == 1
    assert "no recipient 99" in result.output


def test_bad_environment_is_a_clear_error(runner: CliRunner) -> None:
    result = runner.invoke(main, ["migrate"], env={"AMANAT_KDF_COST": "fast"})
    assert result.exit_code == 1
    assert "AMANAT_KDF_COST" in result.output


def test_serve_runs_without_address_logging(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(Flask, "run", lambda self, **kwargs: calls.append(kwargs))
    result = runner.invoke(main, ["serve", "--port", "8099"])
    assert result.exit_code == 0, result.output
    assert calls == [
        {"host": "127.0.0.1", "port": 8099, "request_handler": AddresslessRequestHandler}
    ]


def test_serve_refuses_unsafe_production_config(runner: CliRunner) -> None:
    result = runner.invoke(
        main, ["serve"], env={"AMANAT_ENV": "production", "AMANAT_SECRET_KEY": "short"}
    )
    assert result.exit_code == 1
    assert "refusing to start in production" in result.output
