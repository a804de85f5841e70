"""Passphrases: asking for them, the rules for a new one, and opening a key file with one."""

from __future__ import annotations

import os
from pathlib import Path

import click

from crypto.errors import KeyFileError, WrongPassphraseError
from crypto.keys import ReviewerKey, read_keyfile

# The test suite sets this to make key files at libsodium's minimum cost
# (`--kdf minimal`); nothing else may: such a key file's passphrase can be
# guessed thousands of times a second.
TEST_KDF_SWITCH = "AMANAT_TEST_ONLY_MINIMAL_KDF"
MIN_PASSPHRASE_CHARACTERS = 8


def check_new_passphrase(passphrase: str, where: str) -> str:
    """Return the passphrase, or stop with a plain message if it breaks the rules."""
    if len(passphrase.strip()) < MIN_PASSPHRASE_CHARACTERS:
        raise click.UsageError(
            f"{where} is too short: use a passphrase of at least "
            f"{MIN_PASSPHRASE_CHARACTERS} characters (spaces at either end not counted). "
            "No key file was written."
        )
    return passphrase


def ask_new_passphrase() -> str:
    """AMANAT_PASSPHRASE for scripts; otherwise ask twice, without echo.

    The same rules hold for both: a short passphrase from the environment is
    refused like a typed one.
    """
    from_env = os.environ.get("AMANAT_PASSPHRASE")
    if from_env:
        return check_new_passphrase(from_env, "AMANAT_PASSPHRASE")
    passphrase: str = click.prompt(
        "Passphrase for the new key file", hide_input=True, confirmation_prompt=True
    )
    return check_new_passphrase(passphrase, "The passphrase")


def check_kdf_allowed(kdf: str) -> None:
    """Refuse the test-only `minimal` cost unless the test suite's switch is set."""
    if kdf == "minimal" and os.environ.get(TEST_KDF_SWITCH) != "1":
        raise click.UsageError(
            "--kdf minimal is for the test suite only: a key file made with it can be "
            "guessed at quickly. Use the default (moderate) or interactive. "
            "No key file was written."
        )


def ask_passphrase() -> str:
    from_env = os.environ.get("AMANAT_PASSPHRASE")
    if from_env:
        return from_env
    passphrase: str = click.prompt("Key file passphrase", hide_input=True)
    return passphrase


def open_keyfile(keyfile: Path) -> ReviewerKey:
    """Open the key file or stop with a plain message (never a traceback)."""
    try:
        return read_keyfile(keyfile, ask_passphrase())
    except WrongPassphraseError as exc:
        raise click.ClickException(
            "Wrong passphrase for this key file (or the file was changed). Nothing was done."
        ) from exc
    except KeyFileError as exc:
        raise click.ClickException(str(exc)) from exc
