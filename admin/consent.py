"""The source's consent choices, and the reviewer actions that depend on them.

Informed consent is asked separately for each use (docs/DESIGN.md section 7). The source
gives it on the form; a reviewer may later record a change in the case's
consent log (an `add_consent` event, e.g. "agreed by phone on 3 December").
The latest consent log entry for a use wins over the form; without either,
the answer is no. Nothing here needs Flask.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

# Consent log action -> the questionnaire field the source ticked.
FORM_FIELDS = {
    "store_report": "store_report",
    "be_contacted": "contact_me",
    "anonymised_statistics": "anonymised_statistics",
    "share_with_lawyer": "share_with_lawyer",
    "contact_authorities": "contact_authorities",
}
STATISTICS = "anonymised_statistics"
# Responses that pass the case to a lawyer or take it to an authority.
RESPONSE_CONSENTS: dict[str, tuple[str, ...]] = {
    "secondary_legal_aid": ("share_with_lawyer",),
    "strategic_litigation": ("share_with_lawyer", "contact_authorities"),
    "complaint_to_police_or_prosecutor": ("contact_authorities",),
    "complaint_to_ombudsman": ("contact_authorities",),
}
# The source's answers, by questionnaire field code (Vault.answers).
Answers = Mapping[str, object]
# A case state (admin.case_types.CaseState), read defensively with .get: statistics
# tests and old callers pass only the keys they need.
CaseLike = Mapping[str, Any]


@dataclass(frozen=True)
class Consent:
    """One use's consent: agreed or not, where that comes from, and the log entry's day."""

    action: str
    agreed: bool
    origin: Literal["form", "log", "none"]
    day: str | None = None


def consent_of(answers: Answers, case: CaseLike, action: str) -> Consent:
    """The source's current consent to action (one of FORM_FIELDS)."""
    logged = [c for c in case.get("consent", []) if c.get("action") == action]
    if logged:
        last = logged[-1]
        return Consent(action, last.get("agreed") is True, "log", last.get("day"))
    field = FORM_FIELDS.get(action)
    if field is not None and field in answers:
        return Consent(action, answers.get(field) is True, "form")
    return Consent(action, False, "none")


def counts_in_statistics(answers: Answers, case: CaseLike) -> bool:
    """True only if the source agreed that the report be counted in anonymous statistics."""
    return consent_of(answers, case, STATISTICS).agreed


def consents_needed(kind: str, data: Mapping[str, object]) -> tuple[str, ...]:
    """The uses a case event of this kind and data depends on."""
    if kind == "add_response":
        return RESPONSE_CONSENTS.get(str(data.get("type")), ())
    if kind == "add_complaint":
        return ("contact_authorities",)
    return ()


def missing_consents(
    answers: Answers, case: CaseLike, kind: str, data: Mapping[str, object]
) -> list[Consent]:
    """The consents this event needs that the source has not given."""
    found = (consent_of(answers, case, a) for a in consents_needed(kind, data))
    return [c for c in found if not c.agreed]
