"""Case work: a report's case record and the signed events that make it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypedDict

import click

from admin.actions import add_event
from admin.case import MISSING_EVENT, Case, load_case
from admin.case_events import CaseError
from admin.case_types import CaseEvent, CaseState
from admin.cli.options import Reviewer, one_report, sentence, with_server

# How the history marks an event's check; anything else was rejected.
_MARKS = {"verified": "ok", "pending": "queued"}


@click.command("case")
@one_report(json_help="Print the state and history as JSON.")
def case_command(reviewer: Reviewer, report_id: str, as_json: bool) -> None:
    """Show a report's case record (folded from its signed events) and its history."""
    vault = reviewer.open_vault()
    case = load_case(vault, report_id)
    if case.missing:
        click.echo(f"WARNING: {MISSING_EVENT} ({len(case.missing)} event(s)).", err=True)
    if as_json:
        out = {"state": case.state, "history": _history_json(case), "missing_events": case.missing}
        click.echo(json.dumps(out, indent=2, ensure_ascii=False, sort_keys=True))
        return
    click.echo(f"Case of report {report_id}")
    _print_state(case.state)
    click.echo("History:")
    for item in case.history:
        event: Mapping[str, Any] = item.event or {}
        mark = _MARKS.get(item.status, "REJECTED")
        what = f"{event.get('type')} {_json(event.get('data'))}"
        click.echo(f"  [{mark}] {event.get('day', '')} {item.author_name or '?'}: {what}")
        if item.reason:
            click.echo(f"      {item.reason}")


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


class HistoryJson(TypedDict):
    """One event of the history as `show --json` prints it."""

    status: str
    author: str | None
    blob_id: str | None
    reason: str | None
    event: CaseEvent | None


def _history_json(case: Case) -> list[HistoryJson]:
    return [
        HistoryJson(
            status=i.status,
            author=i.author_name,
            blob_id=i.blob_id,
            reason=i.reason,
            event=i.event,
        )
        for i in case.history
    ]


def _print_state(state: CaseState) -> None:
    for key, value in state.items():
        if key not in ("conflicts", "rejected"):
            click.echo(f"  {key}: {_json(value)}")
    for conflict in state["conflicts"]:
        others = "; ".join(f"{_json(c['value'])} by {c['by']}" for c in conflict["concurrent"])
        kept = conflict["kept"]
        click.echo(
            f"  CONFLICT on {conflict['field']}: kept {_json(kept['value'])} by {kept['by']}; "
            f"concurrent: {others}"
        )


# What `event` says of each delivery.
_WHERE = {
    "bundle": "kept; it goes out in your next outgoing bundle",
    "sent": "sent",
    "next sync": "kept in the vault; it is sent at the next sync",
}


@click.command("event")
@click.argument("report_id")
@click.argument("event_type")
@click.option(
    "--json",
    "data_file",
    required=True,
    type=click.File("r", encoding="utf-8"),
    help="The event's data as JSON (- for standard input).",
)
@with_server
def event_command(reviewer: Reviewer, report_id: str, event_type: str, data_file: Any) -> None:
    """Add a case event, e.g. event ID set_priority --json - <<< '{"priority": "high"}'."""
    try:
        data = json.load(data_file)
    except ValueError as exc:
        raise click.ClickException("The event data is not JSON; nothing was sent.") from exc
    vault = reviewer.open_vault()
    vault.report(report_id)
    try:
        event, delivery = add_event(
            vault, lambda: reviewer.client(vault), report_id, event_type, data
        )
    except CaseError as exc:
        raise click.ClickException(f"{sentence(str(exc))} Nothing was sent.") from exc
    click.echo(f"Event {event['id']} ({event_type}) {_WHERE[delivery]}.")


COMMANDS = (case_command, event_command)
