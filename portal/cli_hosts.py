"""`amanat-server join`: bring a second portal host up with the first host's secrets.

Kept apart from portal.cli, which registers it, so each module stays short.
"""

from __future__ import annotations

import os
from pathlib import Path

import click
from sqlalchemy.orm import Session

from portal import db
from portal.hostsecrets import JoinError, join
from portal.serverkey import load_or_create_signing_key
from portal.settings import ConfigError, Settings, ensure_data_dir


@click.command("join")
@click.argument(
    "folder", type=click.Path(file_okay=False, exists=True, path_type=Path), metavar="FOLDER"
)
def join_command(folder: Path) -> None:
    """Install the installation's secrets from FOLDER on this host.

    FOLDER holds secret_key, server_signing.key and codename_salt copied from
    the first host's data directory. Each is checked against the fingerprint
    the shared database keeps before anything is written.
    """
    try:
        settings = Settings.from_env(os.environ)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    ensure_data_dir(settings.data_dir).chmod(0o700)
    engine = db.make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            written = join(session, settings, folder)
    except JoinError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        engine.dispose()
    key = load_or_create_signing_key(settings.data_dir)
    click.echo(f"installed {', '.join(written)} in {settings.data_dir}")
    click.echo(f"receipt verify key (hex): {key.verify_key.encode().hex()}")
    click.echo(f"Shred the copies now: shred -u {folder}/*; then run `amanat-server check`.")
