"""amanat-admin keygen and key file handling, as a reviewer runs them."""

import json
import stat

import pytest
from click.testing import CliRunner

from admin.cli import main
from admin.cli.passphrases import TEST_KDF_SWITCH
from crypto.kdf import INTERACTIVE
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


def keygen_with(tmp_path, env, *args, typed=None):
    """keygen --name N --keyfile tmp_path/k, with typed as the terminal's input."""
    return CliRunner().invoke(
        main,
        ["keygen", "--name", "N", "--keyfile", str(tmp_path / "k"), *args],
        env=env,
        input=typed,
    )


TYPED = {"AMANAT_PASSPHRASE": ""}  # no passphrase in the environment: keygen asks for one


def test_keygen_asks_twice_when_no_passphrase_is_in_the_environment(tmp_path):
    typed = "first passphrase\nother passphrase\nfirst passphrase\nfirst passphrase\n"
    result = keygen_with(tmp_path, TYPED, "--kdf", "minimal", typed=typed)
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    assert read_keyfile(tmp_path / "k", "first passphrase").name == "N"


# -- the test-only KDF cost and the passphrase rules (issue 13 item 13) --------------

OUTSIDE_TESTS = {TEST_KDF_SWITCH: None}  # CliRunner removes a variable given as None


def test_the_reported_command_writes_no_key_file_outside_tests(tmp_path):
    # AMANAT_PASSPHRASE=a amanat-admin keygen --kdf minimal
    result = keygen_with(tmp_path, {**OUTSIDE_TESTS, "AMANAT_PASSPHRASE": "a"}, "--kdf", "minimal")
    assert result.exit_code == 2
    assert "--kdf minimal is for the test suite only" in result.output
    assert not (tmp_path / "k").exists()


@pytest.mark.parametrize("switch", [None, "", "0", "yes", "true"])
def test_minimal_kdf_is_refused_unless_the_test_switch_is_exactly_1(tmp_path, switch):
    env = {TEST_KDF_SWITCH: switch, "AMANAT_PASSPHRASE": "a long passphrase"}
    result = keygen_with(tmp_path, env, "--kdf", "minimal")
    assert result.exit_code == 2
    assert "for the test suite only" in result.output
    assert not (tmp_path / "k").exists()


def test_outside_tests_keygen_still_works_at_a_real_cost(tmp_path):
    env = {**OUTSIDE_TESTS, "AMANAT_PASSPHRASE": "a long passphrase"}
    result = keygen_with(tmp_path, env, "--kdf", "interactive")
    assert result.exit_code == 0, result.output
    kdf = json.loads((tmp_path / "k").read_text())["kdf"]
    assert (kdf["opslimit"], kdf["memlimit"]) == (INTERACTIVE.opslimit, INTERACTIVE.memlimit)


@pytest.mark.parametrize("passphrase", ["a", "seven c", "   a     ", "\t\t\t\t\t\t\t\tab"])
def test_a_short_passphrase_from_the_environment_is_refused(tmp_path, passphrase):
    result = keygen_with(tmp_path, {"AMANAT_PASSPHRASE": passphrase}, "--kdf", "minimal")
    assert result.exit_code == 2
    assert "AMANAT_PASSPHRASE is too short: use a passphrase of at least 8 characters" in (
        result.output
    )
    assert not (tmp_path / "k").exists()


def test_a_short_typed_passphrase_is_refused(tmp_path):
    result = keygen_with(tmp_path, TYPED, "--kdf", "minimal", typed="short\nshort\n")
    assert result.exit_code == 2
    assert "The passphrase is too short" in result.output
    assert not (tmp_path / "k").exists()


def test_an_eight_character_passphrase_from_the_environment_is_accepted(tmp_path):
    result = keygen_with(tmp_path, {"AMANAT_PASSPHRASE": "8 chars!"}, "--kdf", "minimal")
    assert result.exit_code == 0, result.output
    assert read_keyfile(tmp_path / "k", "8 chars!").name == "N"
