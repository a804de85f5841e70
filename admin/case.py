"""Case work as signed, encrypted, append-only events, folded into the current case record.

Every change a reviewer makes to a case (qualification, acts, priority,
client code, responses, complaints, outcome, consent, and the custody of
its files) is one event: JSON sealed (crypto.envelope, kind EVENT) to the
report's reviewers, never to the source, signed by its author
(crypto.events), posted through the sync API and fetched by the others. The
source's own answers are never changed; this is the reviewers' reading of
the case, kept beside them. How an event is made, and how a fetched one is
checked before it counts: admin/case_events.py.

**The fold** is deterministic and does not depend on the order events
arrive in: accepted events are sorted by (clock, id) and applied; `set_*`
fields are last-writer-wins by (clock, id); `add_*` entries accumulate,
one per event. Two `set_*` events for the same field where neither is an
ancestor of the other (by parents) are concurrent: the (clock, id) winner is
kept, and the conflict is reported with both values and both authors. An
event whose signature fails, whose author is not a reviewer of the report,
whose author field is not its signer, whose report id is another report's,
or whose content is malformed is rejected: listed, never applied.

**Contract** (used by admin/stats/; do not change the keys)::

    case_state(vault, report_id) -> {
        "qualification": {"violation": bool | None, "by": str | None},
        "acts": [{"violation_type", "perpetrator_type", "state_role"}],
        "priority": str | None,
        "client_code": str | None,
        "responses": [{"type", "mode" ("direct" | "referred"), "day", "by"}],
        "complaints": [{"institution", "day", "reply"}],
        "outcome": {"resolution": str | None, "closed_day": str | None},
        "consent": [{"action", "agreed", "day"}],
        "assignee": str | None (the case worker the case is assigned to),
        "conflicts": [{"field", "kept": {...}, "concurrent": [{...}]}],
        "rejected": [{"blob_id", "event_id", "author_name", "reason"}],
    }

An empty case (no events) gives the same keys with None and [] values.
Lists are in event order (clock, id). Codes are the vocabularies of docs/DESIGN.md section 7.
The keys are named in admin/case_types.py (CaseState).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from admin.case_events import HistoryItem, load_events
from admin.case_types import (
    Act,
    CaseEvent,
    CaseState,
    Complaint,
    Conflict,
    ConsentEntry,
    EventData,
    Outcome,
    Qualification,
    RejectedEvent,
    Response,
    Write,
)
from admin.case_vocab import SET_FIELDS
from admin.vault import Vault

MISSING_EVENT = "an event is missing from this case: the server has not delivered it"


@dataclass
class Case:
    """The folded case: the contract's state, the history, and what the forms need."""

    state: CaseState
    history: list[HistoryItem]
    complaint_ids: list[str] = field(default_factory=list)
    # Events that an accepted event names as seen by its author but that this
    # vault never received: the server withheld them (or has not sent them yet).
    missing: list[str] = field(default_factory=list)


def empty_state() -> CaseState:
    """The state of a case without events: every key, with None and [] values."""
    return CaseState(
        qualification=Qualification(violation=None, by=None),
        acts=[],
        priority=None,
        client_code=None,
        responses=[],
        complaints=[],
        outcome=Outcome(resolution=None, closed_day=None),
        consent=[],
        assignee=None,
        conflicts=[],
        rejected=[],
    )


# -- folding ---------------------------------------------------------------------


def _dedupe(items: Iterable[HistoryItem]) -> list[HistoryItem]:
    """One item per event id; an id used for two different contents rejects both."""
    by_id: dict[str, list[HistoryItem]] = {}
    out: list[HistoryItem] = []
    for item in items:
        if item.event is None:
            out.append(item)
        else:
            by_id.setdefault(item.event["id"], []).append(item)
    for same in by_id.values():
        contents = {json.dumps(i.event, sort_keys=True) for i in same}
        if len(contents) == 1:
            # The same event twice (posted again after a lost answer): count it once,
            # preferring a posted copy over a queued one.
            out.append(min(same, key=lambda i: (i.status != "verified", i.blob_id or "")))
        else:
            out.extend(
                HistoryItem(i.blob_id, "rejected", i.author_name, i.event, "reused event id")
                for i in same
            )
    return out


def _ancestors(events: dict[str, CaseEvent]) -> dict[str, frozenset[str]]:
    memo: dict[str, frozenset[str]] = {}
    for start in sorted(events, key=lambda i: (events[i]["clock"], i)):
        # Parents have smaller clocks when honest; walking in clock order with an
        # explicit stack stays safe (and finite) when they are not.
        seen: set[str] = set()
        stack = [p for p in events[start]["parents"] if p in events]
        while stack:
            node = stack.pop()
            if node in seen or node == start:
                continue
            seen.add(node)
            if node in memo:
                seen |= memo[node]
            else:
                stack.extend(p for p in events[node]["parents"] if p in events)
        memo[start] = frozenset(seen)
    return memo


def fold(items: Iterable[HistoryItem]) -> Case:
    """Fold checked events into the case record; the same events in any order give the same."""
    history = sorted(_dedupe(items), key=lambda i: (i.order, i.blob_id or "", i.reason or ""))
    accepted = [i for i in history if i.event is not None and i.status != "rejected"]
    state = empty_state()
    complaints: dict[str, Complaint] = {}
    writes: dict[str, list[HistoryItem]] = {}
    for item in accepted:
        event = item.event
        assert event is not None  # noqa: S101 - accepted items carry an event
        _apply(state, complaints, writes, item, event)
    state["complaints"] = list(complaints.values())
    events = {i.event["id"]: i.event for i in accepted if i.event is not None}
    state["conflicts"] = _conflicts(writes, _ancestors(events))
    state["rejected"] = [
        RejectedEvent(
            blob_id=i.blob_id, event_id=i.event_id, author_name=i.author_name, reason=i.reason
        )
        for i in history
        if i.status == "rejected"
    ]
    held = {i.event_id for i in history if i.event_id is not None}
    missing = sorted({p for e in events.values() for p in e["parents"]} - held)
    return Case(state=state, history=history, complaint_ids=list(complaints), missing=missing)


def _apply(
    state: CaseState,
    complaints: dict[str, Complaint],
    writes: dict[str, list[HistoryItem]],
    item: HistoryItem,
    event: CaseEvent,
) -> None:
    kind, data, by = event["type"], event["data"], item.author_name
    if kind in SET_FIELDS:
        target = SET_FIELDS[kind]
        if kind == "set_complaint_reply":
            if data["complaint"] not in complaints:
                return  # a reply to a complaint this vault does not know
            target = f"complaint_reply:{data['complaint']}"
        writes.setdefault(target, []).append(item)
    if kind == "set_qualification":
        state["qualification"] = {"violation": data.get("violation"), "by": by}
    elif kind == "set_priority":
        state["priority"] = data["priority"]
    elif kind == "set_client_code":
        state["client_code"] = data["client_code"]
    elif kind == "set_assignee":
        state["assignee"] = data["assignee"]
    elif kind == "set_outcome":
        state["outcome"] = {"resolution": data["resolution"], "closed_day": data.get("closed_day")}
    elif kind == "set_complaint_reply":
        complaints[data["complaint"]]["reply"] = data["reply"]
    elif kind == "add_act":
        state["acts"].append(
            Act(
                violation_type=data["violation_type"],
                perpetrator_type=data["perpetrator_type"],
                state_role=data["state_role"],
            )
        )
    elif kind == "add_response":
        state["responses"].append(
            Response(type=data["type"], mode=data["mode"], day=data["day"], by=by)
        )
    elif kind == "add_complaint":
        complaints[event["id"]] = Complaint(
            institution=data["institution"], day=data["day"], reply=None
        )
    elif kind == "add_consent":
        state["consent"].append(
            ConsentEntry(action=data["action"], agreed=data["agreed"], day=data["day"])
        )


def _write_summary(item: HistoryItem) -> Write:
    event = item.event
    if event is None:
        return Write(value=None, by=item.author_name, day=None, event=None)
    return Write(value=event["data"], by=item.author_name, day=event["day"], event=event["id"])


def _data(item: HistoryItem) -> EventData | None:
    return item.event["data"] if item.event is not None else None


def _conflicts(
    writes: dict[str, list[HistoryItem]], ancestors: dict[str, frozenset[str]]
) -> list[Conflict]:
    conflicts: list[Conflict] = []
    for target in sorted(writes):
        items = writes[target]  # in (clock, id) order: the last one won
        winner = items[-1]
        seen_by_winner = ancestors.get(winner.event_id or "", frozenset())
        concurrent = [
            i for i in items[:-1] if i.event_id not in seen_by_winner and _data(i) != _data(winner)
        ]
        if concurrent:
            conflicts.append(
                Conflict(
                    field=target.split(":", 1)[0],
                    kept=_write_summary(winner),
                    concurrent=[_write_summary(i) for i in concurrent],
                )
            )
    return conflicts


def load_case(vault: Vault, report_id: str) -> Case:
    """The report's case, folded from every event the vault holds (UnknownReportError if none)."""
    return fold(load_events(vault, report_id))


def case_state(vault: Vault, report_id: str) -> CaseState:
    """The contract above: the report's current case record (UnknownReportError if none)."""
    return load_case(vault, report_id).state


__all__ = ["MISSING_EVENT", "Case", "case_state", "empty_state", "fold", "load_case"]
