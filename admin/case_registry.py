"""One registry of case event types: what each form asks, and how its history reads.

Each entry drives both the console's form (templates/admin/macros.html,
`case_form`) and the sentence the case history shows for the event
(admin/case_history.py). Adding an event type is one entry here (plus its
data schema in admin/case_vocab.py, which the fold and the server-side
checks share). Labels and sentences are English msgids, translated where
shown.

A form posted without a choice records nothing: `form_data` raises
MissingChoice for every required field left empty, before an event exists.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from admin import case_vocab
from admin.stats import N_


@dataclass(frozen=True)
class Field:
    """One field of an event's form and data.

    kind is "choice" (a select starting at "—"), "text", "day",
    "complaint" (a select of the case's complaints) or "reviewer" (a select
    of the report's case workers, by name). For a choice, `options`
    are the codes offered; `values` maps a code to the data's value when they
    differ (yes/no to true/false); `labels` names the options when the
    console's vocabulary labels (case_label with `vocab`) do not.
    """

    name: str
    label: str
    kind: str = "choice"
    options: tuple[str, ...] = ()
    vocab: str = ""
    values: Mapping[str, Any] | None = None
    labels: Mapping[str, str] | None = None
    required: bool = True
    maxlength: int = case_vocab.MAX_TEXT


@dataclass(frozen=True)
class EventType:
    """A case event type: its form (if reviewers make it by hand) and its history sentence.

    A sentence is a msgid with %(field)s for each data field, %(who)s for
    the author and %(when)s for the day the event was made. `sentences`
    picks one of several by `pick(data)` when the value changes the grammar.
    """

    code: str
    title: str
    fields: tuple[Field, ...]
    sentence: str = ""
    sentences: Mapping[Any, str] | None = None
    pick: Callable[[Mapping[str, object]], object] | None = None
    button: str = N_("Save")
    form: bool = True
    # Consent uses (admin/consent.py) some of these events depend on: shown next to the form.
    consents: tuple[str, ...] = ()

    def sentence_for(self, data: Mapping[str, object]) -> str:
        if self.sentences is not None and self.pick is not None:
            return self.sentences.get(self.pick(data), self.sentence)
        return self.sentence


class MissingChoice(ValueError):
    """A required field of a case form was left empty (or holds a value not offered)."""

    def __init__(self, field: Field) -> None:
        super().__init__(field.name)
        self.field = field


YES_NO = {"yes": True, "no": False}
VIOLATIONS = case_vocab.VIOLATION_TYPES
PERPETRATORS = case_vocab.PERPETRATOR_TYPES
STATE_ROLES = case_vocab.STATE_ROLES

REGISTRY: tuple[EventType, ...] = (
    EventType(
        "set_qualification",
        N_("Qualification"),
        (
            Field(
                "violation",
                N_("Qualification"),
                options=("yes", "no", "undecided"),
                values={"yes": True, "no": False, "undecided": None},
                labels={
                    "yes": N_("Human-rights violation"),
                    "no": N_("Not a violation (legal need)"),
                    "undecided": N_("Not qualified yet"),
                },
            ),
        ),
        sentences={
            True: N_("Qualified as a human-rights violation by %(who)s on %(when)s"),
            False: N_("Qualified as not a violation (a legal need) by %(who)s on %(when)s"),
            None: N_("Qualification withdrawn by %(who)s on %(when)s"),
        },
        pick=lambda data: data.get("violation"),
    ),
    EventType(
        "add_act",
        N_("Episode of violation: what was violated, by whom, and the state's role"),
        (
            Field("violation_type", N_("Violation"), options=VIOLATIONS, vocab="violation_type"),
            Field(
                "perpetrator_type",
                N_("Perpetrator"),
                options=PERPETRATORS,
                vocab="perpetrator_type",
            ),
            Field("state_role", N_("State role"), options=STATE_ROLES, vocab="state_role"),
        ),
        N_(
            "Episode of violation recorded: %(violation_type)s, perpetrator %(perpetrator_type)s,"
            " %(state_role)s; by %(who)s on %(when)s"
        ),
        button=N_("Add"),
    ),
    EventType(
        "set_priority",
        N_("Priority"),
        (Field("priority", N_("Priority"), options=case_vocab.PRIORITIES, vocab="priority"),),
        N_("Priority set to %(priority)s by %(who)s on %(when)s"),
    ),
    EventType(
        "set_client_code",
        N_("Client code (to count repeat clients without names)"),
        (Field("client_code", N_("Client code"), kind="text", maxlength=100),),
        N_("Client code set to %(client_code)s by %(who)s on %(when)s"),
    ),
    EventType(
        "add_response",
        N_("Response"),
        (
            Field("type", N_("Response"), options=case_vocab.RESPONSE_TYPES, vocab="response_type"),
            Field("mode", N_("Given"), options=case_vocab.RESPONSE_MODES, vocab="mode"),
            Field("day", N_("Day"), kind="day"),
        ),
        N_("Response recorded: %(type)s (%(mode)s) on %(day)s; by %(who)s on %(when)s"),
        button=N_("Add"),
        consents=("share_with_lawyer", "contact_authorities"),
    ),
    EventType(
        "add_complaint",
        N_("Complaint filed with (institution)"),
        (
            Field("institution", N_("Institution"), kind="text", maxlength=300),
            Field("day", N_("Day"), kind="day"),
        ),
        N_("Complaint to %(institution)s filed on %(day)s; recorded by %(who)s on %(when)s"),
        button=N_("Add"),
        consents=("contact_authorities",),
    ),
    EventType(
        "set_complaint_reply",
        N_("The institution's reply"),
        (
            Field("complaint", N_("Complaint"), kind="complaint"),
            Field("reply", N_("Reply"), kind="text"),
        ),
        N_("Reply to the complaint to %(complaint)s: %(reply)s; recorded by %(who)s on %(when)s"),
    ),
    EventType(
        "set_outcome",
        N_("Outcome"),
        (
            Field("resolution", N_("Outcome"), options=case_vocab.RESOLUTIONS, vocab="resolution"),
            Field("closed_day", N_("Closed on"), kind="day", required=False),
        ),
        sentences={
            False: N_("Outcome set to %(resolution)s by %(who)s on %(when)s"),
            True: N_(
                "Outcome set to %(resolution)s, closed on %(closed_day)s; by %(who)s on %(when)s"
            ),
        },
        pick=lambda data: bool(data.get("closed_day")),
    ),
    EventType(
        "add_consent",
        N_("Consent"),
        (
            Field("action", N_("Consent to"), options=case_vocab.CONSENT_ACTIONS, vocab="consent"),
            Field(
                "agreed",
                N_("Answer"),
                options=("yes", "no"),
                values=YES_NO,
                labels={"yes": N_("agreed"), "no": N_("refused")},
            ),
            Field("day", N_("Day"), kind="day"),
        ),
        sentences={
            True: N_("Consent recorded: %(action)s, agreed on %(day)s; by %(who)s on %(when)s"),
            False: N_("Consent recorded: %(action)s, refused on %(day)s; by %(who)s on %(when)s"),
        },
        pick=lambda data: data.get("agreed"),
        button=N_("Add"),
    ),
    EventType(
        "set_assignee",
        N_("Assigned to"),
        (Field("assignee", N_("Case worker"), kind="reviewer"),),
        N_("Case assigned to %(assignee)s by %(who)s on %(when)s"),
        button=N_("Assign"),
    ),
    EventType(
        "custody",
        N_("Custody"),
        (
            Field("action", N_("Action"), options=case_vocab.CUSTODY_ACTIONS),
            Field("blob_id", N_("File"), kind="text"),
            Field("sha256", N_("SHA-256"), kind="text"),
        ),
        N_("File %(blob_id)s handled by %(who)s on %(when)s"),
        sentences={
            "decrypt": N_("File %(blob_id)s decrypted by %(who)s on %(when)s"),
            "export": N_("File %(blob_id)s exported by %(who)s on %(when)s"),
            "share": N_("File %(blob_id)s shared by %(who)s on %(when)s"),
        },
        pick=lambda data: data.get("action"),
        form=False,  # written by the console itself when a file is decrypted or exported
    ),
)

BY_CODE: dict[str, EventType] = {spec.code: spec for spec in REGISTRY}
FORMS: tuple[EventType, ...] = tuple(spec for spec in REGISTRY if spec.form)


def form_data(spec: EventType, form: Mapping[str, str]) -> dict[str, object]:
    """The event data a posted form asks for; MissingChoice if a required field is empty.

    A choice must be one of the codes offered; free text is stripped. The
    result is then checked against the type's schema (admin/case_vocab.py)
    when the event is made.
    """
    data: dict[str, object] = {}
    for field in spec.fields:
        raw = str(form.get(field.name, "")).strip()
        if not raw:
            if field.required:
                raise MissingChoice(field)
            data[field.name] = None
        elif field.kind == "choice":
            if raw not in field.options:
                raise MissingChoice(field)
            data[field.name] = field.values[raw] if field.values else raw
        else:
            data[field.name] = raw
    return data


__all__ = ["BY_CODE", "FORMS", "REGISTRY", "EventType", "Field", "MissingChoice", "form_data"]
