"""`amanat-admin sync`: fetch what is new on the server into the vault, still encrypted."""

from __future__ import annotations

import click

from admin.cli.options import Reviewer, sentence, with_server
from admin.progress import ProgressBar
from admin.roster import RosterRefused, pin_organisation
from admin.sync import sync


@click.command("sync")
@with_server
@click.option(
    "--organisation-key",
    "organisation_key",
    help="Your organisation key's fingerprint, as your coordinator read it to you.",
)
def sync_command(reviewer: Reviewer, organisation_key: str | None) -> None:
    """Fetch new reports and replies from the server into your vault (still encrypted)."""
    vault = reviewer.open_vault()
    if organisation_key:
        try:
            pin_organisation(vault, organisation_key)
        except RosterRefused as exc:
            raise click.ClickException(sentence(str(exc))) from exc
    with reviewer.client(vault) as client, ProgressBar() as bar:
        result = sync(vault, client, progress=bar)
    if result.roster_note:
        click.echo(result.roster_note, err=True)
    click.echo(
        f"Fetched {len(result.fetched)} blob(s) for {len(set(result.reports))} report(s); "
        f"{len(result.skipped)} already in the vault."
    )
    for refusal in result.refused:
        click.echo(f"Refused {refusal}.", err=True)
    if result.refused:
        raise click.ClickException(
            f"{len(result.refused)} blob(s) were refused and are not in the vault."
        )


COMMANDS = (sync_command,)
