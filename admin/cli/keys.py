"""The reviewer's key file: make one, see whose it is, move the vault to a new one."""

from __future__ import annotations

from pathlib import Path

import click

from admin.cli.options import keyfile_option, plain_errors, vault_option
from admin.cli.passphrases import ask_new_passphrase, check_kdf_allowed, open_keyfile
from admin.reviewer_paths import KEYFILE_ENV, default_keyfile, make_private_parent
from crypto.kdf import MODERATE, NAMED
from crypto.keys import ReviewerKey, write_keyfile


@click.command()
@click.option("--name", required=True, help="Your name as the operator will see it.")
@click.option(
    "--keyfile",
    type=click.Path(path_type=Path),
    envvar=KEYFILE_ENV,
    default=lambda: str(default_keyfile()),
    show_default="~/.local/share/amanat/reviewer.key",
    help=f"Where to write the key file (or {KEYFILE_ENV}).",
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
    help="Passphrase hashing cost (minimal: the test suite only).",
)
def keygen(name: str, keyfile: Path, bundle_path: Path | None, kdf: str) -> None:
    """Make a new key file and print the public bundle and its fingerprint."""
    check_kdf_allowed(kdf)
    if keyfile.exists():
        raise click.ClickException(f"{keyfile} already exists; it was not changed.")
    try:
        key = ReviewerKey.generate(name)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    cost = NAMED.get(kdf, MODERATE)
    make_private_parent(keyfile)
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


@click.command()
@keyfile_option
def whoami(keyfile: Path) -> None:
    """Open the key file and show whose it is and its fingerprint."""
    key = open_keyfile(keyfile)
    click.echo(f"{key.name}\nFingerprint: {key.bundle().fingerprint}")


@click.command("reseal")
@click.option(
    "--old-keyfile", required=True, type=click.Path(path_type=Path, exists=True, dir_okay=False)
)
@keyfile_option
@vault_option
@plain_errors
def reseal_command(old_keyfile: Path, keyfile: Path, vault_dir: Path) -> None:
    """Re-seal everything in your vault from your old key to your new key (--keyfile).

    AMANAT_PASSPHRASE, if set, must open both key files; otherwise each is asked for.
    """
    from admin.rekey import reseal_vault

    click.echo(f"Old key file {old_keyfile}:", err=True)
    old_key = open_keyfile(old_keyfile)
    click.echo(f"New key file {keyfile}:", err=True)
    new_key = open_keyfile(keyfile)
    done = reseal_vault(vault_dir, old_key, new_key)
    click.echo(
        f"Re-sealed {len(done.resealed)} blob(s) to {new_key.name} "
        f"({new_key.bundle().fingerprint}); {len(done.already)} were already."
    )
    if done.side_files:
        click.echo(f"Re-sealed the vault's {', '.join(done.side_files)} too.")
    for blob_id, reason in done.refused.items():
        click.echo(f"Left blob {blob_id} as it was: {reason}.", err=True)
    click.echo("Now sync with the new key file; the old one no longer opens this vault.")


COMMANDS = (keygen, whoami, reseal_command)
