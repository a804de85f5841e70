"""`amanat-admin roster ...`: a coordinator keeps the organisation's signed roster.

The organisation key lives in a coordinator key file (the same passphrase-
protected format as a reviewer's key file), on the coordinator's machine
only. Each change writes the roster file again with a serial one higher,
signed; the operator publishes it (`amanat-server roster publish FILE`) and
every vault checks it at its next sync.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import click

from admin.cli.options import open_vault, sentence
from admin.cli.passphrases import ask_new_passphrase, check_kdf_allowed, open_keyfile
from admin.reviewer_paths import default_vault
from admin.roster import forget_organisation, pinned_roster
from admin.vault import Vault, VaultError
from crypto.errors import BadBundleError
from crypto.kdf import MODERATE, NAMED
from crypto.keys import RecipientBundle, ReviewerKey, write_keyfile
from crypto.roster import (
    ROLES,
    Member,
    Roster,
    RosterError,
    describe,
    from_signed,
    organisation_key_fingerprint,
    parse_unsigned,
)

roster_option = click.option(
    "--roster",
    "roster_file",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The roster file (JSON, signed).",
)
coordinator_option = click.option(
    "--coordinator-key",
    "coordinator_key",
    required=True,
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="The coordinator key file holding the organisation key.",
)


@click.group()
def roster() -> None:
    """The organisation's roster: who may read reports, signed by a coordinator."""


def _read(roster_file: Path) -> Roster:
    try:
        return from_signed(json.loads(roster_file.read_bytes()))
    except OSError as exc:
        raise click.ClickException(f"Cannot read {roster_file}: {exc.strerror}.") from exc
    except (ValueError, RosterError) as exc:
        raise click.ClickException(f"{roster_file} is not a valid signed roster: {exc}") from exc


def _write_signed(roster_file: Path, draft: Roster, coordinator_key: Path) -> Roster:
    key = open_keyfile(coordinator_key)
    try:
        signed = draft.sign(key.signing)
    except RosterError as exc:
        raise click.ClickException(str(exc)) from exc
    tmp = roster_file.with_name(f".{roster_file.name}.tmp")
    tmp.write_text(json.dumps(signed.to_dict(), indent=2, ensure_ascii=False) + "\n", "utf-8")
    tmp.replace(roster_file)
    click.echo(f"Wrote {roster_file}: serial {signed.serial}, {len(signed.members)} member(s).")
    click.echo(f"Give it to the operator: amanat-server roster publish {roster_file.name}")
    return signed


def _vault(vault_dir: Path | None, keyfile: Path) -> Vault:
    try:
        return open_vault(vault_dir or default_vault(), keyfile)
    except VaultError as exc:
        raise click.ClickException(str(exc)) from exc


@roster.command("init")
@click.option("--name", required=True, help="The organisation's name.")
@click.option(
    "--coordinator-key",
    "coordinator_key",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Where to write the new coordinator key file.",
)
@roster_option
@click.option("--kdf", type=click.Choice(sorted(NAMED)), default="moderate", show_default=True)
def roster_init(name: str, coordinator_key: Path, roster_file: Path, kdf: str) -> None:
    """Make the organisation key (in a new coordinator key file) and an empty roster."""
    check_kdf_allowed(kdf)
    for path in (coordinator_key, roster_file):
        if path.exists():
            raise click.ClickException(f"{path} already exists; nothing was changed.")
    key = ReviewerKey.generate(name)
    write_keyfile(coordinator_key, key, ask_new_passphrase(), NAMED.get(kdf, MODERATE))
    organisation_key = base64.b64encode(bytes(key.signing.verify_key)).decode("ascii")
    _write_signed(roster_file, Roster(organisation_key, 1), coordinator_key)
    click.echo(f"Organisation key fingerprint: {organisation_key_fingerprint(organisation_key)}")
    click.echo(
        "Every reviewer pins it: amanat-admin sync --organisation-key '<fingerprint>'. "
        "Read it to them in person or by phone; keep the coordinator key file offline.",
    )


@roster.command("add")
@click.argument("bundle_file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--regions", default="", help="Comma-separated region codes (none: all).")
@click.option("--role", type=click.Choice(ROLES), default="reviewer", show_default=True)
@roster_option
@coordinator_option
def roster_add(
    bundle_file: Path, regions: str, role: str, roster_file: Path, coordinator_key: Path
) -> None:
    """Add (or update) the reviewer whose bundle is BUNDLE_FILE, and sign again."""
    current = _read(roster_file)
    try:
        bundle = RecipientBundle.from_json(bundle_file.read_bytes())
    except BadBundleError as exc:
        raise click.ClickException(f"{bundle_file}: {exc}") from exc
    region_list = tuple(r.strip() for r in regions.split(",") if r.strip())
    member = Member.from_bundle(bundle, region_list, role)
    try:
        draft = current.with_member(member)
    except RosterError as exc:
        raise click.ClickException(sentence(str(exc))) from exc
    _write_signed(roster_file, draft, coordinator_key)
    click.echo(f"{member.name}: fingerprint {member.fingerprint}; compare it with them.")


@roster.command("revoke")
@click.argument("who")
@roster_option
@coordinator_option
def roster_revoke(who: str, roster_file: Path, coordinator_key: Path) -> None:
    """Revoke the member WHO (their fingerprint, or their name if it is unique), and sign again."""
    current = _read(roster_file)
    try:
        draft = current.without(current.find(who))
    except RosterError as exc:
        raise click.ClickException(sentence(str(exc))) from exc
    _write_signed(roster_file, draft, coordinator_key)


@roster.command("sign")
@click.option("--serial", type=int, default=None, help="The new serial (default: one higher).")
@roster_option
@coordinator_option
def roster_sign(serial: int | None, roster_file: Path, coordinator_key: Path) -> None:
    """Sign the roster file again, as it now reads, with a higher serial.

    For a roster edited by hand, or restored from a copy older than the one
    published: give --serial above the published one.
    """
    try:
        current = parse_unsigned(json.loads(roster_file.read_bytes()))
    except OSError as exc:
        raise click.ClickException(f"Cannot read {roster_file}: {exc.strerror}.") from exc
    except (ValueError, RosterError) as exc:
        raise click.ClickException(f"{roster_file} is not a roster: {exc}") from exc
    try:
        draft = current.renumbered(serial)
    except RosterError as exc:
        raise click.ClickException(sentence(str(exc))) from exc
    _write_signed(roster_file, draft, coordinator_key)


@roster.command("show")
@click.option(
    "--roster", "roster_file", type=click.Path(path_type=Path, dir_okay=False), default=None
)
@click.option("--keyfile", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option(
    "--vault", "vault_dir", type=click.Path(path_type=Path, file_okay=False), envvar="AMANAT_VAULT"
)
def roster_show(roster_file: Path | None, keyfile: Path | None, vault_dir: Path | None) -> None:
    """Show a roster file, or (with --keyfile) the roster your vault has pinned."""
    if roster_file is not None:
        shown = _read(roster_file)
    elif keyfile is not None:
        pinned = pinned_roster(_vault(vault_dir, keyfile))
        if pinned is None:
            raise click.ClickException("This vault has pinned no organisation roster yet.")
        shown = pinned
    else:
        raise click.UsageError("Give --roster FILE, or --keyfile for your vault's roster.")
    for line in describe(shown):
        click.echo(line)


@roster.command("repin")
@click.option("--organisation-key", "organisation_key", required=True, help="The new fingerprint.")
@click.option("--keyfile", required=True, type=click.Path(path_type=Path, exists=True))
@click.option(
    "--vault", "vault_dir", type=click.Path(path_type=Path, file_okay=False), envvar="AMANAT_VAULT"
)
def roster_repin(organisation_key: str, keyfile: Path, vault_dir: Path | None) -> None:
    """Trust a new organisation key (after a lost coordinator key), given by a coordinator.

    Only ever on a coordinator's word in person or by phone: the server
    cannot prove a new organisation key.
    """
    vault = _vault(vault_dir, keyfile)
    forget_organisation(vault, organisation_key)
    vault.save()
    click.echo("The next sync pins the organisation key with this fingerprint, and no other.")


COMMANDS = (roster,)
