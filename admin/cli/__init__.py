"""amanat-admin: the reviewer's command line. Runs on the reviewer's machine only.

Each module here defines a few commands and lists them in COMMANDS; this is
the one place that adds them to `main`. The commands parse and print: what a
reviewer does on the server is in admin/actions.py, shared with the console.
"""

from __future__ import annotations

import click

from admin.cli import airgap, backup, case, console, evidence, keys, reports, roster, stats, sync


@click.group()
def main() -> None:
    """Amanat reviewer tools: keys, sync, reading and answering reports.

    Report and file ids may start with "-": put "--" before them
    (amanat-admin show --keyfile me.key -- -Xy...).
    """


for _module in (keys, sync, reports, case, evidence, console, stats, backup, airgap, roster):
    for _command in _module.COMMANDS:
        main.add_command(_command)
