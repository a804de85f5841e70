"""The case section of a report page: the folded case record, its history, and its forms.

Each form posts one case event (admin/case.py): sealed to the report's
reviewers, signed with the unlocked key and sent to the server; if the
server cannot be reached the event is kept in the vault and sent at the
next sync.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from admin import case_registry, case_vocab
from admin.case import Case, load_case
from admin.case_events import CaseError, submit_event
from admin.case_history import history_lines, short_fingerprints
from admin.client import ApiClient, ClientError
from admin.consent import Consent
from admin.console.consent import consents_of, missing_for_event, refusal, unconfirmed
from admin.console.inbox import answers_of
from admin.console.state import Unlocked
from admin.stats import N_
from admin.stats.render import LABELS
from admin.vault import UnknownReportError, VaultError
from portal.questionnaire import load_questionnaire

bp = Blueprint("case", __name__)

FORM_CODES = frozenset(spec.code for spec in case_registry.FORMS)

PRIORITY_LABELS = {
    "low": N_("Low"),
    "normal": N_("Normal"),
    "high": N_("High"),
    "urgent": N_("Urgent"),
}
# Where the questionnaire already names a code, its translated label is used.
QUESTIONNAIRE_FIELDS = {
    "violation_type": "violation_types",
    "perpetrator_type": "perpetrator_types",
}
# Consent choices named as the console speaks of them (the form's own labels are
# the source's first-person sentences).
CONSENT_LABELS = {
    "store_report": N_("Keeping the report"),
    "be_contacted": N_("Replies on the portal"),
    "anonymised_statistics": N_("Anonymous statistics"),
    "share_with_lawyer": N_("Passing the report to a partner lawyer"),
    "contact_authorities": N_("Going to the police, prosecutor or ombudsman"),
}


@bp.app_template_global()
def case_label(kind: str, code: str | None) -> str:
    """The label of a case vocabulary code in the console's language (the code if unknown)."""
    if code is None:
        return "—"
    lang = str(get_locale() or "ru")
    questionnaire = load_questionnaire()
    if kind in QUESTIONNAIRE_FIELDS:
        option = questionnaire.field(QUESTIONNAIRE_FIELDS[kind]).option(code)
        return option.label(lang) if option is not None else code
    if kind == "consent" and code in CONSENT_LABELS:
        return str(_(CONSENT_LABELS[code]))
    if kind == "priority" and code in PRIORITY_LABELS:
        return str(_(PRIORITY_LABELS[code]))
    if code in LABELS:
        return str(_(LABELS[code]))
    return code


@bp.app_template_global()
def field_options(
    field: case_registry.Field, case: Case, reviewers: list[str]
) -> list[tuple[str, str]]:
    """A case form select's options, (code, label in the console's language)."""
    if field.kind == "reviewer":
        return [(name, name) for name in reviewers]
    if field.kind == "complaint":
        return [
            (cid, f"{c['institution']} · {c['day']}")
            for cid, c in zip(case.complaint_ids, case.state["complaints"], strict=False)
        ]
    if field.labels is not None:
        return [(code, str(_(field.labels[code]))) for code in field.options]
    return [(code, case_label(field.vocab, code)) for code in field.options]


@bp.app_template_global()
def lacks_consent(actions: list[str], consents: dict[str, Consent]) -> bool:
    """True if any of the actions' consents is not given (the page then offers to act anyway)."""
    return any(not consents[action].agreed for action in actions)


def case_context(state: Unlocked, report_id: str) -> dict[str, Any]:
    """What templates/admin/report.html needs for the case section."""
    case = load_case(state.vault, report_id)
    complaints = {
        cid: str(c["institution"])
        for cid, c in zip(case.complaint_ids, case.state["complaints"], strict=False)
    }
    fingerprints = short_fingerprints(state.vault, report_id)
    return {
        "reviewer_names": _reviewer_names(state, report_id),
        "consents": consents_of(answers_of(state, report_id) or {}, case.state),
        "case": case,
        "vocab": case_vocab,
        "case_forms": case_registry.FORMS,
        "history": history_lines(case.history, fingerprints, complaints),
    }


def _reviewer_names(state: Unlocked, report_id: str) -> list[str]:
    """The names of the report's case workers (this one included), for assigning the case."""
    names = [str(r.get("name") or "") for r in state.vault.report(report_id).recipients]
    return sorted({n for n in [*names, state.vault.key.name] if n.strip()})


def _posted_data(kind: str) -> dict[str, object] | None:
    """The posted form's data, or None (with a message) when a choice is missing."""
    spec = case_registry.BY_CODE[kind]
    try:
        return case_registry.form_data(spec, request.form)
    except case_registry.MissingChoice as exc:
        from admin.console.views import unlocked

        unlocked().notify(
            "error",
            _("Nothing was recorded: choose “%(field)s” first.", field=_(exc.field.label)),
        )
        return None


def _against_consent(state: Unlocked, report_id: str, kind: str, data: dict[str, object]) -> bool:
    """True (with a message) if the event goes against a consent and was not confirmed."""
    case = load_case(state.vault, report_id).state
    missing = missing_for_event(answers_of(state, report_id) or {}, case, kind, data)
    if unconfirmed(missing, request.form):
        state.notify("error", refusal(missing))
        return True
    return False


@bp.post("/reports/<report_id>/case")
def add_event(report_id: str) -> Response:
    from admin.console.views import ConsoleError, make_client, unlocked

    state = unlocked()
    kind = request.form.get("event", "")
    if kind not in FORM_CODES:
        abort(400)
    data = _posted_data(kind)
    if data is None:
        return redirect(url_for("console.report", report_id=report_id) + "#case", 303)
    with state.lock:
        try:
            state.vault.report(report_id)
        except UnknownReportError:
            abort(404)
        client: ApiClient | None
        try:
            client = make_client(state)
        except ConsoleError:
            client = None
        if _against_consent(state, report_id, kind, data):
            if client is not None:
                client.close()
            return redirect(url_for("console.report", report_id=report_id) + "#case", 303)
        try:
            _event, posted = submit_event(state.vault, client, report_id, kind, data)
        except CaseError as exc:
            state.notify("error", _("The case was not changed: %(reason)s", reason=str(exc)))
        except (ClientError, VaultError) as exc:
            state.notify("error", _("The case was not changed: %(reason)s", reason=str(exc)))
        else:
            if posted:
                state.notify("info", _("Saved and shared with the other reviewers."))
            else:
                state.notify("info", _("Saved in your vault; it is shared at the next sync."))
        finally:
            if client is not None:
                client.close()
    return redirect(url_for("console.report", report_id=report_id) + "#case", 303)
