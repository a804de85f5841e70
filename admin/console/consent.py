"""Consent next to the console's actions, and a question before acting against it.

For each consent the form asks (admin/consent.py), the report page shows
its current state next to every action that depends on it: replying to the
source (being answered on the portal), responses that pass the case to a
lawyer or take it to an authority, complaints to institutions. A form that
would act against a consent the source did not give records and sends
nothing unless the reviewer ticks the box that says they act anyway; the
message says which consent is missing and that a consent given since (by
phone, in person) belongs in the consent log first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _

from admin.consent import FORM_FIELDS, Consent, consent_of, missing_consents

CONFIRM_FIELD = "against_consent"
REPLY_CONSENT = "be_contacted"


def consents_of(answers: Mapping[str, Any], case: Mapping[str, Any]) -> dict[str, Consent]:
    """Every consent use to its current state (the consent log wins over the form)."""
    return {action: consent_of(answers, case, action) for action in FORM_FIELDS}


def unconfirmed(missing: list[Consent], form: Mapping[str, str]) -> bool:
    """True if the action lacks a consent and the reviewer did not confirm acting anyway."""
    return bool(missing) and form.get(CONFIRM_FIELD) != "yes"


def missing_for_event(
    answers: Mapping[str, Any], case: Mapping[str, Any], kind: str, data: Mapping[str, Any]
) -> list[Consent]:
    return missing_consents(answers, case, kind, data)


def missing_for_reply(answers: Mapping[str, Any], case: Mapping[str, Any]) -> list[Consent]:
    found = consent_of(dict(answers), dict(case), REPLY_CONSENT)
    return [] if found.agreed else [found]


def refusal(missing: list[Consent]) -> str:
    """The message when an action would go against consent and was not confirmed."""
    from admin.console.case import case_label

    uses = ", ".join(f"«{case_label('consent', c.action)}»" for c in missing)
    return str(
        _(
            "Nothing was done: the source has not agreed to %(uses)s. If they agreed since"
            " (by phone, in person), record it in the consent log first; to act anyway, tick"
            " the box next to the button.",
            uses=uses,
        )
    )


__all__ = [
    "CONFIRM_FIELD",
    "consents_of",
    "missing_for_event",
    "missing_for_reply",
    "refusal",
    "unconfirmed",
]
