"""amanat-admin's commands for reviewing on a machine that never goes online.

    amanat-admin key-split --keyfile full.key --courier-keyfile courier.key
    amanat-admin bundle export --keyfile courier.key --out /media/usb/in.amanat   (courier)
    amanat-admin bundle verify /media/usb/in.amanat --keyfile full.key           (either)
    amanat-admin bundle import /media/usb/in.amanat --keyfile full.key           (offline)
    amanat-admin bundle outgoing --keyfile full.key --out /media/usb/out.amanat  (offline)
    amanat-admin bundle post /media/usb/out.amanat --keyfile courier.key         (courier)

docs/DEPLOY.md, "Reviewing offline", gives the whole procedure.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from admin.airgap import import_bundle, write_outgoing
from admin.cli.options import Reviewer, keyfile_option, plain_errors, with_server, with_vault
from admin.cli.passphrases import ask_new_passphrase, check_kdf_allowed, open_keyfile
from admin.courier import export_bundle, post_bundle, split_key
from admin.media_bundle import BundleError, read_bundle
from crypto.kdf import MODERATE, NAMED
from crypto.keys import write_keyfile

out_option = click.option(
    "--out", required=True, type=click.Path(path_type=Path, dir_okay=False), help="Where to write."
)
bundle_argument = click.argument("path", type=click.Path(path_type=Path, dir_okay=False))


@click.command("key-split")
@keyfile_option
@click.option(
    "--courier-keyfile",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Where to write the courier's key file.",
)
@click.option("--kdf", type=click.Choice(sorted(NAMED)), default="moderate", show_default=True)
def key_split_command(keyfile: Path, courier_keyfile: Path, kdf: str) -> None:
    """Write a courier key file: it talks to the server but opens no report."""
    check_kdf_allowed(kdf)
    if courier_keyfile.exists():
        raise click.ClickException(f"{courier_keyfile} already exists; it was not changed.")
    courier = split_key(open_keyfile(keyfile))
    write_keyfile(courier_keyfile, courier, ask_new_passphrase(), NAMED.get(kdf, MODERATE))
    click.echo(
        f"Courier key file written to {courier_keyfile}. It holds your API signing key and no "
        "key that decrypts: copy it to the online machine; keep the full key file offline."
    )


@click.group("bundle")
def bundle_group() -> None:
    """Carry ciphertext by USB between an online courier and an offline machine."""


@contextmanager
def refusing_bad_bundles() -> Iterator[None]:
    """Turn a BundleError into one line saying the bundle was refused."""
    try:
        yield
    except BundleError as exc:
        raise click.ClickException(f"{exc} The bundle was refused.") from exc


@bundle_group.command("export")
@with_server
@out_option
@click.option("--all", "everything", is_flag=True, help="Include what earlier bundles carried.")
def export_command(reviewer: Reviewer, out: Path, everything: bool) -> None:
    """(Courier) Sync, then write a bundle of new ciphertext for the offline machine."""
    vault = reviewer.open_vault()
    with reviewer.client(vault) as client:
        result = export_bundle(vault, client, out, everything=everything)
    for refusal in result.sync.refused:
        click.echo(f"Refused {refusal}.", err=True)
    click.echo(f"Bundle written to {out}: {result.blobs} blob(s) for {result.reports} report(s).")


@bundle_group.command("verify")
@bundle_argument
@keyfile_option
@click.option("--outgoing", is_flag=True, help="The bundle goes to the server (courier side).")
@plain_errors
def verify_command(path: Path, keyfile: Path, outgoing: bool) -> None:
    """Check a bundle whole (signature, every hash) without taking anything from it."""
    key = open_keyfile(keyfile)
    direction = "to-server" if outgoing else "to-offline"
    with refusing_bad_bundles():
        bundle = read_bundle(path, key.signing.verify_key, direction)
    click.echo(
        f"Bundle number {bundle.seq} of {bundle.made}, {len(bundle.entries)} entr(ies): "
        "signature and every hash verify."
    )


@bundle_group.command("import")
@bundle_argument
@with_vault
def import_command(reviewer: Reviewer, path: Path) -> None:
    """(Offline) Take a courier's bundle into the vault, all of it or nothing."""
    vault = reviewer.open_vault()
    with refusing_bad_bundles():
        result = import_bundle(vault, path)
    if result.already:
        click.echo("This bundle was imported before; nothing changed.")
        return
    click.echo(
        f"Imported {len(result.blobs)} blob(s) for {len(result.reports)} report(s); "
        f"{len(result.posted)} of your replies and events are now on the server."
    )


@bundle_group.command("outgoing")
@with_vault
@out_option
def outgoing_command(reviewer: Reviewer, out: Path) -> None:
    """(Offline) Write your replies, case events and acknowledgements for the courier."""
    result = write_outgoing(reviewer.open_vault(), out)
    click.echo(
        f"Outgoing bundle written to {out}: {result.replies} reply(ies), {result.events} "
        f"event(s), {result.acks} acknowledgement(s). Nothing in it decrypts anything."
    )


@bundle_group.command("post")
@bundle_argument
@with_server
def post_command(reviewer: Reviewer, path: Path) -> None:
    """(Courier) Post an offline machine's outgoing bundle and say what the server accepted."""
    vault = reviewer.open_vault()
    with reviewer.client(vault) as client, refusing_bad_bundles():
        result = post_bundle(vault, client, path)
    if result.already:
        click.echo("This bundle was posted before; nothing was sent again.")
        return
    for line in result.accepted:
        click.echo(f"Accepted: {line}.")
    for line in result.refused:
        click.echo(f"Refused: {line}.", err=True)
    click.echo(f"The server counted {result.acknowledged} acknowledgement(s).")
    if result.refused:
        raise click.ClickException(f"{len(result.refused)} item(s) were refused.")


COMMANDS = (key_split_command, bundle_group)
