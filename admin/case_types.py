"""The shapes of case work: an event as signed and shared, and the case state folded from them.

These name the keys of JSON that already exists: events inside their
envelopes (admin/case_events.py) and the case state of admin/case.py's
contract (admin/stats.py, the console and `show --json` read it). They
describe that JSON; they do not change it.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

# An event's data: its keys depend on the event type, and admin.case_vocab.check_data
# has checked them against that type's schema (case_vocab.SCHEMAS) before any is read.
EventData = dict[str, Any]


class CaseEvent(TypedDict):
    """One case event, as admin.case_events.make_event writes it and parse_event checks it."""

    v: int
    id: str  # 32 hex digits
    report_id: str
    author: str  # the author's verify key (b64); the key that signed the event
    author_name: NotRequired[str]  # optional in events made elsewhere
    day: str  # YYYY-MM-DD
    clock: int  # Lamport clock
    parents: list[str]  # ids of the latest events the author had seen
    type: str  # one of admin.case_vocab.EVENT_TYPES
    data: EventData


class Qualification(TypedDict):
    violation: bool | None
    by: str | None


class Act(TypedDict):
    violation_type: str
    perpetrator_type: str
    state_role: str


class Response(TypedDict):
    type: str
    mode: str  # "direct" or "referred"
    day: str
    by: str | None


class Complaint(TypedDict):
    institution: str
    day: str
    reply: str | None


class Outcome(TypedDict):
    resolution: str | None
    closed_day: str | None


class ConsentEntry(TypedDict):
    action: str
    agreed: bool
    day: str


class Write(TypedDict):
    """One write to a `set_*` field, as a conflict reports it."""

    value: EventData | None
    by: str | None
    day: str | None
    event: str | None  # the event id


class Conflict(TypedDict):
    """Concurrent writes to one field: the one kept and those it did not see."""

    field: str
    kept: Write
    concurrent: list[Write]


class RejectedEvent(TypedDict):
    blob_id: str | None
    event_id: str | None
    author_name: str | None
    reason: str | None


class CaseState(TypedDict):
    """The case record of admin/case.py's contract (the keys must not change)."""

    qualification: Qualification
    acts: list[Act]
    priority: str | None
    client_code: str | None
    responses: list[Response]
    complaints: list[Complaint]
    outcome: Outcome
    consent: list[ConsentEntry]
    assignee: str | None  # the case worker the case is assigned to
    conflicts: list[Conflict]
    rejected: list[RejectedEvent]


__all__ = [
    "Act",
    "CaseEvent",
    "CaseState",
    "Complaint",
    "Conflict",
    "ConsentEntry",
    "EventData",
    "Outcome",
    "Qualification",
    "RejectedEvent",
    "Response",
    "Write",
]
