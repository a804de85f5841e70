"""Case work as signed, encrypted, append-only events, folded into the current case record.

Every change a reviewer makes to a case (qualification, acts, priority,
client code, responses, complaints, outcome, consent, and the custody of
its files) is one event: JSON sealed (crypto.envelope, kind EVENT) to the
report's reviewers, never to the source, signed by its author
(crypto.events), posted through the sync API and fetched by the others. The
source's own answers are never changed; this is the reviewers' reading of
the case, kept beside them.

An event::

    {"v": 1, "id": "<32 hex>", "report_id": "...", "author": "<b64 verify key>",
     "author_name": "...", "day": "YYYY-MM-DD", "clock": 7, "parents": ["<id>", ...],
     "type": "set_priority", "data": {"priority": "high"}}

`clock` is a Lamport clock (the highest clock seen in the report's events,
plus one); `parents` are the latest events the author had seen. Each of
those names its own parents in turn, so every signed event vouches for the
whole history its author had seen: a vault holding an event whose parent it
never received knows an event is missing from this case (`Case.missing`),
rather than showing a silently different history.

**The fold** is deterministic and does not depend on the order events
arrive in: accepted events are sorted by (clock, id) and applied; `set_*`
fields are last-writer-wins by (clock, id); `add_*` entries accumulate,
one per event. Two `set_*` events for the same field where neither is an
ancestor of the other (by parents) are concurrent: the (clock, id) winner is
kept, and the conflict is reported with both values and both authors. An
event whose signature fails, whose author is not a reviewer of the report,
whose author field is not its signer, whose report id is another report's,
or whose content is malformed is rejected: listed, never applied.

**Contract** (used by admin/stats.py; do not change the keys)::

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
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from nacl.signing import VerifyKey

from admin import roster
from admin.case_vocab import EVENT_TYPES, SET_FIELDS, DataError, check_data
from admin.client import ApiClient, ConnectionFailed
from admin.listing_types import BlobListing
from admin.sync import post_event
from admin.vault import Vault, VaultError
from admin.vault_contents import signed_digest
from crypto import canonical
from crypto.envelope import Kind, open_bytes
from crypto.errors import BadSignatureError, EnvelopeError
from crypto.events import verify_event

EVENT_VERSION = 1
MISSING_EVENT = "an event is missing from this case: the server has not delivered it"
MAX_CLOCK = 2**53
_EVENT_ID = re.compile(r"[0-9a-f]{32}")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class CaseError(ValueError):
    """An event cannot be made as asked; the message is meant for the reviewer."""


@dataclass(frozen=True)
class HistoryItem:
    """One event as the case page lists it: what, by whom, and whether it holds."""

    blob_id: str | None
    status: str  # "verified", "pending" (queued, not yet posted) or "rejected"
    author_name: str | None
    event: dict[str, Any] | None = None
    reason: str | None = None

    @property
    def event_id(self) -> str | None:
        return self.event["id"] if self.event else None

    @property
    def order(self) -> tuple[int, str]:
        if self.event is None:
            return (MAX_CLOCK + 1, self.blob_id or "")
        return (self.event["clock"], self.event["id"])


@dataclass
class Case:
    """The folded case: the contract's state, the history, and what the forms need."""

    state: dict[str, Any]
    history: list[HistoryItem]
    complaint_ids: list[str] = field(default_factory=list)
    # Events that an accepted event names as seen by its author but that this
    # vault never received: the server withheld them (or has not sent them yet).
    missing: list[str] = field(default_factory=list)


def empty_state() -> dict[str, Any]:
    return {
        "qualification": {"violation": None, "by": None},
        "acts": [],
        "priority": None,
        "client_code": None,
        "responses": [],
        "complaints": [],
        "outcome": {"resolution": None, "closed_day": None},
        "consent": [],
        "assignee": None,
        "conflicts": [],
        "rejected": [],
    }


# -- reading events --------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _reviewers(vault: Vault, report_id: str) -> dict[str, str]:
    """The report's reviewers, verify key (b64) to name, this reviewer included."""
    report = vault.report(report_id)
    names = {str(r.get("verify_key")): str(r.get("name") or "") for r in report.recipients}
    names.setdefault(_b64(bytes(vault.key.signing.verify_key)), vault.key.name)
    return names


def parse_event(content: bytes, report_id: str, signer: str) -> dict[str, Any]:
    """Return the event in content if it is well formed, for report_id, by signer.

    Raises CaseError naming what is wrong.
    """
    try:
        event = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise CaseError("the event is not JSON") from exc
    if not isinstance(event, dict) or event.get("v") != EVENT_VERSION:
        raise CaseError("the event has an unknown version")
    if event.get("report_id") != report_id:
        raise CaseError("the event belongs to another report")
    if event.get("author") != signer:
        raise CaseError("the event names another author than the key that signed it")
    if not isinstance(event.get("id"), str) or not _EVENT_ID.fullmatch(event["id"]):
        raise CaseError("the event id is malformed")
    clock = event.get("clock")
    if not isinstance(clock, int) or isinstance(clock, bool) or not 0 < clock <= MAX_CLOCK:
        raise CaseError("the event clock is malformed")
    parents = event.get("parents")
    if not isinstance(parents, list) or not all(
        isinstance(p, str) and _EVENT_ID.fullmatch(p) for p in parents
    ):
        raise CaseError("the event parents are malformed")
    if not isinstance(event.get("day"), str) or not _DAY.fullmatch(event["day"]):
        raise CaseError("the event day is malformed")
    if event.get("type") not in EVENT_TYPES:
        raise CaseError(f"unknown event type {str(event.get('type'))[:40]!r}")
    _check_data(event["type"], event.get("data"))
    if not isinstance(event.get("author_name", ""), str):
        raise CaseError("the author name is malformed")
    return event


def _check_data(kind: str, data: Any) -> None:
    try:
        check_data(kind, data)
    except DataError as exc:
        raise CaseError(str(exc)) from exc


def _check_blob(
    vault: Vault, report_id: str, blob: BlobListing, reviewers: dict[str, str]
) -> HistoryItem:
    author_key = blob.get("author_key")
    blob_id = blob["id"]
    # The pinned roster names authors; without one, the server's listing does.
    author = roster.author_of(vault, author_key, blob_id)
    name = author.label if author.status != "unlisted" else reviewers.get(str(author_key))
    if not vault.has_blob(blob_id):
        return HistoryItem(blob_id, "rejected", name, reason="not in the vault yet (run sync)")
    if author.status == "unlisted" and author_key not in reviewers:
        return HistoryItem(
            blob_id, "rejected", None, reason="signed by a key that is not a reviewer of the report"
        )
    if not author.trusted:
        return HistoryItem(blob_id, "rejected", name, reason=author.problem)
    try:
        verify_event(
            VerifyKey(base64.b64decode(str(author_key), validate=True)),
            report_id,
            signed_digest(vault, blob),
            base64.b64decode(str(blob.get("signature")), validate=True),
        )
    except (BadSignatureError, ValueError, TypeError, binascii.Error):
        return HistoryItem(blob_id, "rejected", name, reason="the signature does not verify")
    return _checked_content(vault, report_id, blob_id, str(author_key), name, "verified")


def _checked_content(
    vault: Vault, report_id: str, blob_id: str | None, signer: str, name: str | None, status: str
) -> HistoryItem:
    try:
        if blob_id is None:
            raise VaultError("no blob")
        content = vault.open_event(blob_id)
        event = parse_event(content, report_id, signer)
    except (VaultError, CaseError) as exc:
        return HistoryItem(blob_id, "rejected", name, reason=str(exc))
    return HistoryItem(blob_id, status, name or event.get("author_name"), event=event)


def load_events(vault: Vault, report_id: str) -> list[HistoryItem]:
    """Every event of the report, checked: verified, pending (own, queued) or rejected."""
    reviewers = _reviewers(vault, report_id)
    items = [_check_blob(vault, report_id, b, reviewers) for b in vault.event_blobs(report_id)]
    own = _b64(bytes(vault.key.signing.verify_key))
    for _, envelope, _signature in vault.pending_events(report_id):
        try:
            content = _open_envelope(vault, envelope)
            event = parse_event(content, report_id, own)
        except (VaultError, CaseError) as exc:
            items.append(HistoryItem(None, "rejected", vault.key.name, reason=str(exc)))
            continue
        items.append(HistoryItem(None, "pending", vault.key.name, event=event))
    return items


def _open_envelope(vault: Vault, envelope: bytes) -> bytes:
    try:
        return open_bytes(envelope, vault.key.box, Kind.EVENT).content
    except EnvelopeError as exc:
        raise VaultError("a queued event does not open") from exc


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


def _ancestors(events: dict[str, dict[str, Any]]) -> dict[str, frozenset[str]]:
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
    complaints: dict[str, dict[str, Any]] = {}
    writes: dict[str, list[HistoryItem]] = {}
    for item in accepted:
        event = item.event
        assert event is not None  # noqa: S101 - accepted items carry an event
        _apply(state, complaints, writes, item, event)
    state["complaints"] = [
        {k: c[k] for k in ("institution", "day", "reply")} for c in complaints.values()
    ]
    events = {i.event["id"]: i.event for i in accepted if i.event is not None}
    state["conflicts"] = _conflicts(writes, _ancestors(events))
    state["rejected"] = [
        {
            "blob_id": i.blob_id,
            "event_id": i.event_id,
            "author_name": i.author_name,
            "reason": i.reason,
        }
        for i in history
        if i.status == "rejected"
    ]
    held = {i.event_id for i in history if i.event_id is not None}
    missing = sorted({p for e in events.values() for p in e["parents"]} - held)
    return Case(state=state, history=history, complaint_ids=list(complaints), missing=missing)


def _apply(
    state: dict[str, Any],
    complaints: dict[str, dict[str, Any]],
    writes: dict[str, list[HistoryItem]],
    item: HistoryItem,
    event: dict[str, Any],
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
            {k: data[k] for k in ("violation_type", "perpetrator_type", "state_role")}
        )
    elif kind == "add_response":
        state["responses"].append({**{k: data[k] for k in ("type", "mode", "day")}, "by": by})
    elif kind == "add_complaint":
        complaints[event["id"]] = {
            "institution": data["institution"],
            "day": data["day"],
            "reply": None,
        }
    elif kind == "add_consent":
        state["consent"].append({k: data[k] for k in ("action", "agreed", "day")})


def _write_summary(item: HistoryItem) -> dict[str, Any]:
    event = item.event or {}
    return {
        "value": event.get("data"),
        "by": item.author_name,
        "day": event.get("day"),
        "event": event.get("id"),
    }


def _conflicts(
    writes: dict[str, list[HistoryItem]], ancestors: dict[str, frozenset[str]]
) -> list[dict[str, Any]]:
    conflicts = []
    for target in sorted(writes):
        items = writes[target]  # in (clock, id) order: the last one won
        winner = items[-1]
        seen_by_winner = ancestors.get(winner.event_id or "", frozenset())
        concurrent = [
            i
            for i in items[:-1]
            if i.event_id not in seen_by_winner
            and (i.event or {}).get("data") != (winner.event or {}).get("data")
        ]
        if concurrent:
            conflicts.append(
                {
                    "field": target.split(":", 1)[0],
                    "kept": _write_summary(winner),
                    "concurrent": [_write_summary(i) for i in concurrent],
                }
            )
    return conflicts


def load_case(vault: Vault, report_id: str) -> Case:
    """The report's case, folded from every event the vault holds (UnknownReportError if none)."""
    return fold(load_events(vault, report_id))


def case_state(vault: Vault, report_id: str) -> dict[str, Any]:
    """The contract above: the report's current case record (UnknownReportError if none)."""
    return load_case(vault, report_id).state


# -- making events ---------------------------------------------------------------


def today() -> str:
    return dt.datetime.now(dt.UTC).date().isoformat()


def make_event(vault: Vault, report_id: str, kind: str, data: Any) -> dict[str, Any]:
    """A new event by this reviewer, after every event the vault holds for the report.

    Raises CaseError if the type or data is not valid, UnknownReportError if no such report.
    """
    if kind not in EVENT_TYPES:
        raise CaseError(f"unknown event type {kind!r}; one of {', '.join(EVENT_TYPES)}")
    _check_data(kind, data)
    accepted = [
        i.event for i in load_events(vault, report_id) if i.event and i.status != "rejected"
    ]
    named = {p for e in accepted for p in e["parents"]}
    return {
        "v": EVENT_VERSION,
        "id": os.urandom(16).hex(),
        "report_id": report_id,
        "author": _b64(bytes(vault.key.signing.verify_key)),
        "author_name": vault.key.name,
        "day": today(),
        "clock": max((e["clock"] for e in accepted), default=0) + 1,
        "parents": sorted(e["id"] for e in accepted if e["id"] not in named),
        "type": kind,
        "data": data,
    }


def submit_event(
    vault: Vault, client: ApiClient | None, report_id: str, kind: str, data: Any
) -> tuple[dict[str, Any], bool]:
    """Make, seal, sign and post an event; queue it if the server cannot be reached.

    Returns (event, posted). Raises CaseError for invalid data and
    ClientError when the server refuses the event.
    """
    event = make_event(vault, report_id, kind, data)
    content = canonical.encode(event)
    envelope, signature = vault.seal_event(report_id, content)
    if client is None:
        vault.queue_event(report_id, envelope, signature)
        return event, False
    try:
        post_event(vault, client, report_id, envelope, signature)
    except ConnectionFailed:
        vault.queue_event(report_id, envelope, signature)
        return event, False
    return event, True


__all__ = [
    "Case",
    "CaseError",
    "HistoryItem",
    "case_state",
    "empty_state",
    "fold",
    "load_case",
    "load_events",
    "make_event",
    "parse_event",
    "submit_event",
]
