"""Backups of the vault: one file, still encrypted, and its way back."""

from __future__ import annotations

from pathlib import Path

import click

from admin.cli.options import plain_errors, vault_option


@click.command("vault-backup")
@vault_option
@click.option("--out", required=True, type=click.Path(path_type=Path, dir_okay=False))
@plain_errors
def vault_backup_command(vault_dir: Path, out: Path) -> None:
    """Copy your vault (still encrypted) into one file; keep your key file apart from it."""
    from admin.backup import backup_vault

    done = backup_vault(vault_dir, out)
    click.echo(f"Wrote {out}: the vault index and {done.blobs} blob(s), all still encrypted.")


@click.command("vault-restore")
@click.argument("archive", metavar="FILE", type=click.Path(path_type=Path, exists=True))
@vault_option
@plain_errors
def vault_restore_command(archive: Path, vault_dir: Path) -> None:
    """Unpack a vault backup FILE into an empty vault folder."""
    from admin.backup import restore_vault

    done = restore_vault(archive, vault_dir)
    click.echo(f"Restored the vault index and {done.blobs} blob(s) into {vault_dir}.")


COMMANDS = (vault_backup_command, vault_restore_command)
