"""amanat-admin keygen and key file handling, as a reviewer runs them."""

import json
import stat

from click.testing import CliRunner

from admin.cli import main
from crypto.keys import RecipientBundle, read_keyfile


def keygen(tmp_path, passphrase="a long passphrase", *extra):
    runner = CliRunner()
    return runner.invoke(
        main,
        [
            "keygen",
            "--name",
            "Айгуль",
            "--keyfile",
            str(tmp_path / "me.key"),
            "--kdf",
            "minimal",
            *extra,
        ],
        env={"AMANAT_PASSPHRASE": passphrase},
    )


def test_keygen_writes_a_private_key_file_and_prints_a_valid_bundle(tmp_path):
    result = keygen(tmp_path, "a long passphrase", "--bundle", str(tmp_path / "me.json"))
    assert result.exit_code == 0, result.output
    bundle = RecipientBundle.from_json(result.stdout)
    assert bundle.name == "Айгуль"
    assert bundle.fingerprint in result.stderr
    assert RecipientBundle.from_json((tmp_path / "me.json").read_text()) == bundle
    keyfile = tmp_path / "me.key"
    assert stat.S_IMODE(keyfile.stat().st_mode) == 0o600
    assert read_keyfile(keyfile, "a long passphrase").bundle() == bundle


def test_keygen_never_overwrites_an_existing_key_file(tmp_path):
    keygen(tmp_path)
    before = (tmp_path / "me.key").read_bytes()
    result = keygen(tmp_path, "another passphrase")
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert (tmp_path / "me.key").read_bytes() == before


def test_wrong_passphrase_gives_a_plain_message_and_no_traceback(tmp_path):
    keygen(tmp_path)
    result = CliRunner().invoke(
        main, ["whoami", "--keyfile", str(tmp_path / "me.key")], env={"AMANAT_PASSPHRASE": "wrong"}
    )
    assert result.exit_code == 1
    assert "Wrong passphrase" in result.output
    assert "Traceback" not in result.output


def test_whoami_shows_name_and_fingerprint(tmp_path):
    bundle = json.loads(keygen(tmp_path).stdout)
    result = CliRunner().invoke(
        main,
        ["whoami", "--keyfile", str(tmp_path / "me.key")],
        env={"AMANAT_PASSPHRASE": "a long passphrase"},
    )
    assert result.exit_code == 0
    assert bundle["fingerprint"] in result.output


def test_keygen_asks_twice_when_no_passphrase_is_in_the_environment(tmp_path):
    result = CliRunner().invoke(
        main,
        ["keygen", "--name", "N", "--keyfile", str(tmp_path / "k"), "--kdf", "minimal"],
        input="first passphrase\nother passphrase\nfirst passphrase\nfirst passphrase\n",
        env={"AMANAT_PASSPHRASE": ""},
    )
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    assert read_keyfile(tmp_path / "k", "first passphrase").name == "N"
