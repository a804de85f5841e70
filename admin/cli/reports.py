"""Reading and answering reports: list, show, reply, status."""

from __future__ import annotations

import json
import sys
import textwrap
from collections import Counter
from dataclasses import asdict
from typing import Any

import click

from admin.actions import reply, set_status
from admin.case import MISSING_EVENT, load_case
from admin.cli.options import Reviewer, one_report, with_server, with_vault
from admin.roster import NO_ROSTER, UNAPPROVED, roster_summary, unapproved_recipients
from admin.vault import Entry, FileEntry, Vault, VaultError, VaultReport
from crypto.manifest import Manifest

STATUSES = ("received", "in_review", "closed")
MAX_REPLY_BYTES = 512 * 1024

# A file of a report, with its manifest or the reason it cannot be read.
FileShown = tuple[FileEntry, Manifest | str]


@click.command("list")
@with_vault
def list_command(reviewer: Reviewer) -> None:
    """List the reports in your vault, unread first."""
    vault = reviewer.open_vault()
    reports = vault.reports()
    if not reports:
        click.echo("The vault holds no reports yet. Run `amanat-admin sync`.")
    for report in reports:
        counts = Counter(b["kind"] for b in report.blobs)
        mark = " " if report.read else "*"
        if unapproved_recipients(vault, report):
            mark = "!"
        click.echo(
            f"{mark} {report.id}  {report.status:<9}  created {report.created_day}  "
            f"updated {report.updated_day}  files {counts['file']}  "
            f"messages {counts['message']}  replies {counts['reply']}"
        )


@click.command("show")
@one_report(json_help="Print JSON instead of text.")
def show_command(reviewer: Reviewer, report_id: str, as_json: bool) -> None:
    """Decrypt a report in memory and show it: answers, narrative, files, conversation."""
    vault = reviewer.open_vault()
    report = vault.report(report_id)
    answers = vault.answers(report_id)
    files = [(f, _manifest_or_problem(vault, f)) for f in vault.files(report_id)]
    conversation = vault.conversation(report_id)
    vault.mark_read(report_id)
    if as_json:
        shown = _report_json(vault, report, answers, files, conversation)
        click.echo(json.dumps(shown, indent=2, ensure_ascii=False))
        return
    click.echo(f"Report {report.id}")
    for warning in _warnings(vault, report):
        click.echo(f"WARNING: {warning}", err=True)
    click.echo(
        f"Status: {report.status}  created {report.created_day}  updated {report.updated_day}"
    )
    _print_answers(answers)
    _print_files(files)
    _print_conversation(conversation)


def _print_answers(answers: dict[str, Any]) -> None:
    narrative = answers.pop("narrative", "")
    click.echo("\nAnswers:")
    for code, value in sorted(answers.items()):
        shown = ", ".join(map(str, value)) if isinstance(value, list) else value
        click.echo(f"  {code}: {shown}")
    click.echo("\nNarrative:")
    click.echo(textwrap.indent(str(narrative), "  "))


def _print_files(files: list[FileShown]) -> None:
    click.echo("\nFiles:")
    if not files:
        click.echo("  (none)")
    for entry, found in files:
        click.echo(f"  {entry.blob_id}  {entry.size} bytes encrypted  sha256 {entry.sha256}")
        if isinstance(found, Manifest):
            click.echo(
                f"    {found.filename} ({found.content_type}), {found.size} bytes, "
                f"sha256 {found.sha256}"
            )
        else:
            click.echo(f"    {found}")


def _print_conversation(conversation: list[Entry]) -> None:
    click.echo("\nConversation:")
    if not conversation:
        click.echo("  (none)")
    for item in conversation:
        click.echo(f"  {item.day}  {_who(item)}:")
        if item.problem:
            click.echo(f"    [{item.problem}]")
        if item.text is not None:
            click.echo(textwrap.indent(item.text, "    "))


def _manifest_or_problem(vault: Vault, entry: FileEntry) -> Manifest | str:
    if entry.manifest is not None:
        return entry.manifest
    if not entry.present:
        return "not in the vault yet (run sync)"
    try:
        return vault.manifest(entry.blob_id)
    except VaultError as exc:
        return f"DAMAGED: {exc}"


def _warnings(vault: Vault, report: VaultReport) -> list[str]:
    """What a reviewer must see before trusting this report's listing (admin.roster)."""
    unapproved = unapproved_recipients(vault, report)
    warnings = []
    if unapproved:
        names = ", ".join(repr(r["name"]) for r in unapproved)
        warnings.append(f"{UNAPPROVED} (listed as {names}); nothing new is sealed to it.")
    if roster_summary(vault)["pinned"] is False:
        warnings.append(NO_ROSTER)
    if load_case(vault, report.id).missing:
        warnings.append(f"{MISSING_EVENT} (see amanat-admin case).")
    return warnings


def _who(item: Entry) -> str:
    if item.author == "source":
        return "source"
    name = item.author_name or "reviewer"
    if item.author_check in ("revoked", "not_on_roster"):
        return f"REJECTED reply ({item.problem}){f': claims {name}' if item.author_name else ''}"
    return name if item.verified else f"UNVERIFIED reply claiming to be from {name}"


def _report_json(
    vault: Vault,
    report: VaultReport,
    answers: dict[str, Any],
    files: list[FileShown],
    conversation: list[Entry],
) -> dict[str, Any]:
    return {
        "id": report.id,
        "status": report.status,
        "created_day": report.created_day,
        "updated_day": report.updated_day,
        "answers": answers,
        "files": [
            {
                "blob_id": f.blob_id,
                "size": f.size,
                "sha256": f.sha256,
                "day": f.day,
                "manifest": asdict(m) if isinstance(m, Manifest) else None,
                "problem": m if isinstance(m, str) else None,
            }
            for f, m in files
        ],
        "conversation": [asdict(e) for e in conversation],
        "roster": roster_summary(vault),
        # A key the server lists for this report that the pinned roster does
        # not approve: non-empty means "also sealed to an unapproved key".
        "unapproved_recipients": unapproved_recipients(vault, report),
        # Events a signed event names as seen but that never reached this vault.
        "missing_events": load_case(vault, report.id).missing,
    }


@click.command("reply")
@click.argument("report_id")
@with_server
def reply_command(reviewer: Reviewer, report_id: str) -> None:
    """Send the source a reply (from standard input, or written in $EDITOR)."""
    vault = reviewer.open_vault()
    vault.report(report_id)
    # Scripts pipe the text in; a person at a terminal gets their editor.
    text = sys.stdin.read() if not sys.stdin.isatty() else click.edit("\n") or ""
    text = text.strip()
    if not text:
        raise click.ClickException("The reply is empty; nothing was sent.")
    if len(text.encode("utf-8")) > MAX_REPLY_BYTES:
        raise click.ClickException("The reply is too long; nothing was sent.")
    delivery = reply(vault, lambda: reviewer.client(vault), report_id, text)
    if delivery == "bundle":
        click.echo(f"Reply to report {report_id} kept; it goes out in your next outgoing bundle.")
        return
    if delivery == "unconfirmed":
        click.echo("Warning: the server's answer does not describe this reply.", err=True)
    click.echo(f"Reply sent to report {report_id}. The source sees it at their next login.")


@click.command("status")
@click.argument("report_id")
@click.argument("value", type=click.Choice(STATUSES))
@with_server
def status_command(reviewer: Reviewer, report_id: str, value: str) -> None:
    """Set a report's status; the source sees it at their next login."""
    vault = reviewer.open_vault()
    vault.report(report_id)
    with reviewer.client(vault) as client:
        set_status(vault, client, report_id, value)
    click.echo(f"Report {report_id} is now {value}.")


COMMANDS = (list_command, show_command, reply_command, status_command)
