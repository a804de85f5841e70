"""amanat-admin: the reviewer's command line. Runs on the reviewer's machine only."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from crypto.errors import KeyFileError, WrongPassphraseError
from crypto.kdf import MODERATE, NAMED
from crypto.keys import ReviewerKey, read_keyfile, write_keyfile


def ask_new_passphrase() -> str:
    """AMANAT_PASSPHRASE for scripts; otherwise ask twice, without echo."""
    from_env = os.environ.get("AMANAT_PASSPHRASE")
    if from_env:
        return from_env
    passphrase: str = click.prompt(
        "Passphrase for the new key file", hide_input=True, confirmation_prompt=True
    )
    if len(passphrase) < 8:
        raise click.UsageError("Use a passphrase of at least 8 characters.")
    return passphrase


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


@click.group()
def main() -> None:
    """Amanat reviewer tools: keys, sync, reading and answering reports."""


@main.command()
@click.option("--name", required=True, help="Your name as the operator will see it.")
@click.option(
    "--keyfile", required=True, type=click.Path(path_type=Path), help="Where to write the key file."
)
@click.option(
    "--bundle",
    "bundle_path",
    type=click.Path(path_type=Path),
    help="Also write the public bundle here.",
)
@click.option(
    "--kdf",
    type=click.Choice(sorted(NAMED)),
    default="moderate",
    show_default=True,
    help="Passphrase hashing cost (lower only for tests).",
)
def keygen(name: str, keyfile: Path, bundle_path: Path | None, kdf: str) -> None:
    """Make a new key file and print the public bundle and its fingerprint."""
    if keyfile.exists():
        raise click.ClickException(f"{keyfile} already exists; it was not changed.")
    try:
        key = ReviewerKey.generate(name)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    cost = NAMED.get(kdf, MODERATE)
    write_keyfile(keyfile, key, ask_new_passphrase(), cost)
    bundle = key.bundle()
    if bundle_path:
        bundle_path.write_text(bundle.to_json(), encoding="utf-8")
    click.echo(bundle.to_json(), nl=False)
    click.echo(f"Key file written to {keyfile} (readable by you only).", err=True)
    click.echo(f"Fingerprint: {bundle.fingerprint}", err=True)
    click.echo(
        "Send the bundle to the operator, then read the fingerprint to them by phone.", err=True
    )


@main.command()
@click.option("--keyfile", required=True, type=click.Path(path_type=Path, exists=True))
def whoami(keyfile: Path) -> None:
    """Open the key file and show whose it is and its fingerprint."""
    key = open_keyfile(keyfile)
    click.echo(f"{key.name}\nFingerprint: {key.bundle().fingerprint}")


if __name__ == "__main__":
    sys.exit(main())
