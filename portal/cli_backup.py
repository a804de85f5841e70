"""`amanat-server backup`, `restore` and `backup-keygen`: encrypted backups.

Kept apart from portal.cli, which registers them, so each module stays short.
A backup is sealed to the operator's public key (`--to`, from
`backup-keygen`: the server then holds no secret that opens its backups) or
to a passphrase (AMANAT_BACKUP_PASSPHRASE, or asked for).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import click
from click.decorators import FC
from nacl.public import PrivateKey, PublicKey

from crypto.archive import Lock
from crypto.kdf import MINIMAL, MODERATE
from crypto.private_files import private_file
from portal.backup import BackupError, create_backup, restore_backup
from portal.cli_session import command_settings

PASSPHRASE_ENV = "AMANAT_BACKUP_PASSPHRASE"  # noqa: S105 - a variable's name
MIN_PASSPHRASE_CHARS = 12
# A key file or backup that must already exist.
EXISTING_FILE = click.Path(dir_okay=False, exists=True, path_type=Path)


def _passphrase(confirm: bool) -> bytes:
    text = os.environ.get(PASSPHRASE_ENV) or click.prompt(
        "Backup passphrase", hide_input=True, confirmation_prompt=confirm
    )
    if len(text) < MIN_PASSPHRASE_CHARS:
        raise click.ClickException(
            f"the backup passphrase must have at least {MIN_PASSPHRASE_CHARS} characters"
        )
    return str(text).encode("utf-8")


def _read_key(path: Path, what: str) -> bytes:
    try:
        raw = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"cannot read the {what} in {path}: {exc}") from None
    if len(raw) != 32:
        raise click.ClickException(f"{path} does not hold a {what} (64 hex digits)")
    return raw


def key_file_option(flag: str, name: str, what: str, otherwise: str) -> Callable[[FC], FC]:
    """The option flag (the parameter name) for a key file made by backup-keygen."""
    return click.option(
        flag, name, type=EXISTING_FILE, help=f"{what} (from backup-keygen); else {otherwise}."
    )


@click.command("backup")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@key_file_option("--to", "public_key_file", "The operator's backup public key", "a passphrase")
def backup_command(out: Path, public_key_file: Path | None) -> None:
    """Write the database, blob store and server keys to one encrypted file (mode 0600).

    Every blob is checked against its signed receipt; a damaged one is
    named and no backup is written.
    """
    settings = command_settings()
    if public_key_file is not None:
        lock = Lock(public_key=PublicKey(_read_key(public_key_file, "public key")))
    else:
        # The configured KDF cost's test setting also makes backups cheap in tests.
        cost = MINIMAL if settings.kdf_cost_name == "minimal" else MODERATE
        lock = Lock(passphrase=_passphrase(confirm=True), cost=cost)
    try:
        done = create_backup(settings, out, lock)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Backed up {done.reports} report(s) and {done.blobs} blob(s) to {out}.")
    for name in done.missing:
        click.echo(f"warning: blob {name} was deleted during the backup", err=True)


@click.command("restore")
@click.argument("archive", metavar="FILE", type=EXISTING_FILE)
@key_file_option(
    "--key", "private_key_file", "The backup private key", "the passphrase is asked for"
)
def restore_command(archive: Path, private_key_file: Path | None) -> None:
    """Restore a backup FILE into an empty database and data directory."""
    settings = command_settings()
    try:
        if private_key_file is not None:
            key = PrivateKey(_read_key(private_key_file, "private key"))
            done = restore_backup(settings, archive, private_key=key)
        else:
            done = restore_backup(settings, archive, passphrase=_passphrase(confirm=False))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Restored {done.reports} report(s) and {done.blobs} blob(s) from {archive}.")
    if done.missing:
        raise click.ClickException(f"{len(done.missing)} blob(s) named by the database are missing")


@click.command("backup-keygen")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def backup_keygen_command(out: Path) -> None:
    """Make a backup key pair: the private key to OUT (0600), the public key to OUT.pub.

    Run it on the operator's own machine, not the server; copy only OUT.pub
    to the server and keep OUT offline: it is what opens every backup.
    """
    public = Path(f"{out}.pub")
    if out.exists() or public.exists():
        raise click.ClickException(f"{out} or {public} already exists; nothing was changed")
    key = PrivateKey.generate()
    with private_file(out, overwrite=False) as file:
        file.write(bytes(key).hex().encode("ascii") + b"\n")
    public.write_text(bytes(key.public_key).hex() + "\n", encoding="ascii")
    click.echo(f"private key: {out} (keep it offline)\npublic key:  {public}")
