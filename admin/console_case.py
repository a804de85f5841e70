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

from admin import case_vocab
from admin.case import CaseError, load_case, submit_event
from admin.client import ApiClient, ClientError
from admin.console_state import Unlocked
from admin.stats import N_
from admin.stats_render import LABELS
from admin.vault import UnknownReportError, VaultError
from portal.questionnaire import load_questionnaire

bp = Blueprint("case", __name__)

# What each form may set: the event type and how its fields become the data.
FORMS = (
    "set_qualification",
    "add_act",
    "set_priority",
    "set_client_code",
    "add_response",
    "add_complaint",
    "set_complaint_reply",
    "set_outcome",
    "add_consent",
)

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
CONSENT_FIELDS = {
    "store_report": "store_report",
    "be_contacted": "contact_me",
    "anonymised_statistics": "anonymised_statistics",
    "share_with_lawyer": "share_with_lawyer",
    "contact_authorities": "contact_authorities",
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
    if kind == "consent" and code in CONSENT_FIELDS:
        return questionnaire.field(CONSENT_FIELDS[code]).label(lang)
    if kind == "priority" and code in PRIORITY_LABELS:
        return str(_(PRIORITY_LABELS[code]))
    if code in LABELS:
        return str(_(LABELS[code]))
    return code


def case_context(state: Unlocked, report_id: str) -> dict[str, Any]:
    """What templates/admin/report.html needs for the case section."""
    return {"case": load_case(state.vault, report_id), "vocab": case_vocab}


def _form_data(kind: str, form: Any) -> dict[str, Any]:
    if kind == "set_qualification":
        choice = form.get("violation", "")
        return {"violation": {"yes": True, "no": False}.get(choice)}
    if kind == "set_priority":
        return {"priority": form.get("priority", "")}
    if kind == "set_outcome":
        return {
            "resolution": form.get("resolution", ""),
            "closed_day": form.get("closed_day") or None,
        }
    if kind == "add_response":
        keys = ("type", "mode", "day")
        return {k: form.get(k, "") for k in keys}
    if kind == "add_act":
        keys = ("violation_type", "perpetrator_type", "state_role")
        return {k: form.get(k, "") for k in keys}
    if kind == "set_client_code":
        return {"client_code": form.get("client_code", "").strip()}
    if kind == "add_complaint":
        return {"institution": form.get("institution", "").strip(), "day": form.get("day", "")}
    if kind == "set_complaint_reply":
        return {"complaint": form.get("complaint", ""), "reply": form.get("reply", "").strip()}
    return {
        "action": form.get("action", ""),
        "agreed": form.get("agreed") == "yes",
        "day": form.get("day", ""),
    }


@bp.post("/reports/<report_id>/case")
def add_event(report_id: str) -> Response:
    from admin.console_views import ConsoleError, make_client, unlocked

    state = unlocked()
    kind = request.form.get("event", "")
    if kind not in FORMS:
        abort(400)
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
        try:
            _event, posted = submit_event(
                state.vault, client, report_id, kind, _form_data(kind, request.form)
            )
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
