"""`amanat-server roster ...`: publish and show the organisation's signed roster."""

from __future__ import annotations

import json
from pathlib import Path

import click

from crypto.roster import describe, organisation_key_fingerprint
from portal.cli_session import command_session, command_settings
from portal.roster import RosterRefused, current_roster, publish_roster


@click.group()
def roster() -> None:
    """The organisation's roster, signed by a coordinator (`amanat-admin roster sign`)."""


@roster.command("publish")
@click.argument("roster_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--new-organisation-key",
    is_flag=True,
    help="Accept a roster signed by another organisation key (after a lost coordinator key).",
)
def roster_publish(roster_file: Path, new_organisation_key: bool) -> None:
    """Publish ROSTER_FILE: reviewers on it become the only ones reports are sealed to."""
    settings = command_settings()
    try:
        data = json.loads(roster_file.read_bytes())
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"cannot read the roster {roster_file}: {exc}") from None
    with command_session(settings) as session:
        try:
            published, changes = publish_roster(
                session, data, settings.regions, new_organisation=new_organisation_key
            )
        except RosterRefused as exc:
            raise click.ClickException(str(exc)) from None
        session.commit()
    click.echo(f"published roster serial {published.serial}: {len(published.members)} member(s)")
    for line in changes:
        click.echo(f"  {line}")
    click.echo(
        f"organisation key fingerprint: {organisation_key_fingerprint(published.organisation_key)}"
    )


@roster.command("show")
def roster_show() -> None:
    """Show the published roster: its serial, members and revoked keys."""
    with command_session(command_settings()) as session:
        current = current_roster(session)
    if current is None:
        click.echo("No roster published: reports go to every active recipient (tests only).")
        return
    for line in describe(current):
        click.echo(line)
