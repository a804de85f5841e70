"""`amanat-admin console`: the reviewer console, served on this machine only."""

from __future__ import annotations

from pathlib import Path

import click

from admin.cli.options import keyfile_option, sentence, server_option, vault_option


@click.command("console")
@keyfile_option
@server_option
@vault_option
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Only 127.0.0.1 (this machine)."
)
@click.option("--port", default=8081, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--idle-minutes",
    default=15,
    show_default=True,
    type=click.IntRange(1, 24 * 60),
    help="Forget the key after this long without use.",
)
def console_command(
    keyfile: Path, server: str | None, vault_dir: Path, host: str, port: int, idle_minutes: int
) -> None:
    """Start the reviewer console in your browser at http://127.0.0.1:PORT/ (unlock it there)."""
    # Imported here: the console is a Flask app, and the other commands load no Flask.
    from admin.console.app import UnsafeHostError, check_loopback, create_console, serve

    try:
        host = check_loopback(host)
    except UnsafeHostError as exc:
        raise click.UsageError(sentence(str(exc))) from exc
    app = create_console(keyfile, vault_dir, server, idle_minutes)
    click.echo(f"Reviewer console on http://{host}:{port}/ (Ctrl-C stops it).")
    serve(app, host, port)


COMMANDS = (console_command,)
