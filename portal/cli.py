"""`amanat-server`: the operator's commands. Settings come from the environment.

Errors an operator can cause (a bad bundle, an unknown region, a duplicate
key, an unsafe configuration) print one clear line and exit with status 1,
never a traceback.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.orm import Session
from werkzeug.serving import WSGIRequestHandler

from crypto.errors import BadBundleError
from crypto.keys import RecipientBundle
from portal import db
from portal.cli_backup import backup_command, backup_keygen_command, restore_command
from portal.cli_hosts import join_command
from portal.cli_session import command_session, command_settings
from portal.hardening import harden_process
from portal.hostsecrets import (
    JOIN_FIX,
    SECRET_FILES,
    create_secrets,
    drift,
    local_secrets,
    record_missing,
    recorded,
)
from portal.models import Recipient
from portal.recipients import (
    RecipientError,
    list_recipients,
    parse_regions,
    register_recipient,
    replace_recipient,
    revoke_recipient,
)
from portal.retention import purge as purge_all
from portal.retention import stranded_reports
from portal.roster import current_roster_data
from portal.roster_cli import roster
from portal.settings import (
    Settings,
    UnsafeConfigError,
    ensure_data_dir,
)
from portal.store import BlobStore
from portal.sweep import sweep as sweep_store

F = TypeVar("F", bound=Callable[..., Any])


@click.group()
def main() -> None:
    """Run and look after an Amanat portal."""
    # Every file a command creates (init, restore, backup, migrate) is owner-only.
    harden_process()


@main.command()
def init() -> None:
    """Create the data directory and every secret, migrate, and record the secrets.

    The secrets are the secret key, the receipt signing key and the codename
    salt; the database keeps their fingerprints. On a database another host
    already set up, nothing new is made: `amanat-server join` that host's
    secrets instead.
    """
    settings = command_settings()
    data_dir = ensure_data_dir(settings.data_dir)
    # mkdir's mode only applies when it creates the directory; an existing
    # one is tightened too.
    data_dir.chmod(0o700)
    db.upgrade(settings.database_url)
    with command_session(settings) as session:
        if recorded(session) and set(local_secrets(settings)) != set(SECRET_FILES):
            raise click.ClickException(
                "this database already belongs to an installation whose secrets this host "
                "lacks; new ones would break its codenames and receipts. " + JOIN_FIX
            )
        signing_key = create_secrets(
            settings, with_secret_key=not os.environ.get("AMANAT_SECRET_KEY")
        )
        settings = command_settings()  # now with the secret key file
        record_missing(session, local_secrets(settings))
        drifted = drift(session, settings)
    click.echo(f"data directory: {data_dir}")
    click.echo(f"receipt verify key (hex): {signing_key.verify_key.encode().hex()}")
    if drifted:
        raise click.ClickException("; ".join(d.what for d in drifted) + ". " + JOIN_FIX)


main.add_command(join_command)
for _command in (backup_command, restore_command, backup_keygen_command):
    main.add_command(_command)


@main.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    db.upgrade(command_settings().database_url)
    click.echo("database is up to date")


main.add_command(roster)


@main.group()
def recipient() -> None:
    """Register, list and revoke reviewers' keys."""


@recipient.command("add")
@click.argument(
    "bundle_file", metavar="BUNDLE.json", type=click.Path(dir_okay=False, path_type=Path)
)
@click.option("--regions", default="", help="Comma list of region codes; empty means all.")
def recipient_add(bundle_file: Path, regions: str) -> None:
    """Register the reviewer whose public bundle is BUNDLE.json."""
    settings = command_settings()
    bundle = _read_bundle(bundle_file)
    region_list = _regions(regions, settings)
    with command_session(settings) as session:
        if current_roster_data(session) is not None:
            raise click.ClickException(
                "this server follows the organisation's signed roster: ask a coordinator "
                "to add the reviewer (amanat-admin roster add) and publish the new roster"
            )
        try:
            added = register_recipient(session, bundle, region_list)
        except RecipientError as exc:
            raise click.ClickException(str(exc)) from None
        session.commit()
        click.echo(f"added recipient {added.id}: {added.name}")
        _echo_new_key(added)


def _read_bundle(bundle_file: Path) -> RecipientBundle:
    try:
        return RecipientBundle.from_json(bundle_file.read_bytes())
    except OSError as exc:
        raise click.ClickException(f"cannot read {bundle_file}: {exc.strerror}") from None
    except BadBundleError as exc:
        raise click.ClickException(str(exc)) from None


def _regions(regions: str, settings: Settings) -> list[str]:
    try:
        return parse_regions(regions, settings.regions)
    except RecipientError as exc:
        raise click.ClickException(str(exc)) from None


def _echo_new_key(added: Recipient) -> None:
    click.echo(f"fingerprint: {added.fingerprint}")
    click.echo(f"regions: {_regions_text(added)}")
    click.echo("Compare the fingerprint with the reviewer over the phone or in person.")


@recipient.command("list")
def recipient_list() -> None:
    """Show every registered recipient."""
    with command_session(command_settings()) as session:
        rows = list_recipients(session)
        if not rows:
            click.echo("no recipients registered")
        for row in rows:
            state = "active" if row.active else f"revoked {row.revoked_day}"
            click.echo(f"{row.id}\t{row.name}\t{row.fingerprint}\t{_regions_text(row)}\t{state}")
        _warn_stranded(session)


def _warn_stranded(session: Session) -> None:

    stranded = stranded_reports(session)
    if stranded:
        click.echo(
            f"WARNING: {len(stranded)} report(s) are sealed only to revoked keys; no active "
            f"reviewer can open them: {' '.join(stranded)}",
            err=True,
        )


@recipient.command("replace")
@click.argument("old_id", type=int)
@click.argument(
    "bundle_file", metavar="NEW_BUNDLE.json", type=click.Path(dir_okay=False, path_type=Path)
)
@click.option("--regions", default=None, help="Comma list of regions (default: the old key's).")
def recipient_replace(old_id: int, bundle_file: Path, regions: str | None) -> None:
    """Replace reviewer OLD_ID's lost or compromised key with NEW_BUNDLE.json.

    The old key is revoked; the new one covers the same regions and may act
    on the old key's reports (docs/DEPLOY.md, "A reviewer replaces a key").
    """
    settings = command_settings()
    bundle = _read_bundle(bundle_file)
    region_list = None if regions is None else _regions(regions, settings)
    with command_session(settings) as session:
        try:
            added = replace_recipient(session, old_id, bundle, region_list)
        except RecipientError as exc:
            raise click.ClickException(str(exc)) from None
        session.commit()
        click.echo(f"recipient {old_id} is revoked; added recipient {added.id}: {added.name}")
        _echo_new_key(added)
        _warn_stranded(session)


@recipient.command("revoke")
@click.argument("recipient_id", type=int)
def recipient_revoke(recipient_id: int) -> None:
    """Stop sealing new reports to recipient RECIPIENT_ID."""
    with command_session(command_settings()) as session:
        try:
            revoked = revoke_recipient(session, recipient_id)
        except RecipientError as exc:
            raise click.ClickException(str(exc)) from None
        session.commit()
        click.echo(f"revoked recipient {revoked.id}: {revoked.name}")
        _warn_stranded(session)


def _grace_option(help: str) -> Callable[[F], F]:
    return click.option("--grace-seconds", default=3600, show_default=True, type=int, help=help)


@main.command()
@_grace_option("Leave anything younger alone (partial uploads: at least a day).")
def sweep(grace_seconds: int) -> None:
    """Delete partial uploads and blobs no report refers to (left by a killed worker)."""

    settings = command_settings()
    with command_session(settings) as session:
        swept = sweep_store(session, BlobStore(settings.data_dir, settings.blob_dir), grace_seconds)
    click.echo(f"Removed {swept.partial} partial uploads and {swept.orphans} orphan blobs.")


@main.command()
@_grace_option("Leave orphan blobs younger than this alone (partial uploads: at least a day).")
def purge(grace_seconds: int) -> None:
    """Shred what the server no longer needs (run daily: deploy/amanat-retention.timer).

    Reports every reviewer synced AMANAT_RETENTION_DAYS ago (default 30;
    "never" keeps them), expired sessions and nonces, partial uploads and
    orphan blobs. Files are overwritten before they are unlinked.
    """

    settings = command_settings()
    with command_session(settings) as session:
        store = BlobStore(settings.data_dir, settings.blob_dir)
        done = purge_all(session, store, settings.retention_days, grace_seconds)
    click.echo(
        f"Shredded {done.reports} report(s) synced by every reviewer, {done.partial} partial "
        f"upload(s) and {done.orphans} orphan blob(s); removed {done.sessions} expired "
        f"session(s) and {done.nonces} nonce(s)."
    )


def _file_option(name: str, help: str) -> Callable[[F], F]:
    return click.option(name, type=click.Path(dir_okay=False, path_type=Path), help=help)


@main.command()
@_file_option("--nginx-conf", "The nginx configuration in front of the portal, if any.")
@_file_option("--gunicorn-conf", "The gunicorn configuration file (deploy/gunicorn.conf.py).")
@_file_option(
    "--torrc", "The torrc of the onion service (/etc/tor/torrc): its address and port are checked."
)
@click.option(
    "--deep",
    is_flag=True,
    help="Also read every blob and check it against its receipt (slow: reads the whole store).",
)
def check(
    nginx_conf: Path | None, gunicorn_conf: Path | None, torrc: Path | None, deep: bool
) -> None:
    """Inspect this deployment; print every problem with its fix; exit 1 if any."""
    # Imported here: the check loads the whole app (0.15 s), which no other command needs.
    from portal.check import Deployment, check_deployment

    found = check_deployment(Deployment(command_settings(), nginx_conf, gunicorn_conf, torrc, deep))
    count = 0
    for name, problems in found.items():
        if not problems:
            click.echo(f"ok       {name}")
        for problem in problems:
            count += 1
            click.echo(f"PROBLEM  {name}: {problem.what}\n         fix: {problem.fix}")
    if count:
        raise click.ClickException(f"{count} problem(s) found")
    click.echo("No problems found.")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Run the development server (use gunicorn in production)."""
    # Imported here: the app (Flask, limiter, views) costs 0.15 s that other commands skip.
    from portal.app import create_app

    try:
        app = create_app(command_settings())
    except UnsafeConfigError as exc:
        raise click.ClickException(str(exc)) from None
    app.run(host=host, port=port, request_handler=AddresslessRequestHandler)


class AddresslessRequestHandler(WSGIRequestHandler):
    """Werkzeug's handler without the access log and without client addresses.

    Werkzeug logs every request with the client's address. A server log is
    exactly what an adversary seizes, so the development server keeps none;
    errors are still logged, without the address. (gunicorn writes no access
    log unless --access-logfile is given; keep it that way.)
    """

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None

    def log(self, type: str, message: str, *args: Any) -> None:
        getattr(logging.getLogger("werkzeug"), type)(message, *args)


def _regions_text(row: Recipient) -> str:
    return row.regions or "all regions"
