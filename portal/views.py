"""The source-facing pages owned by the scaffolding: landing and language choice."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, redirect, render_template, request, session
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from portal import i18n
from portal.crisis import contacts_for
from portal.questionnaire import load_questionnaire
from portal.settings import Settings

bp = Blueprint("portal", __name__)

# Shown when the operator has not set AMANAT_CRISIS_CONTACTS.
DEFAULT_CRISIS_CONTACTS = _l(
    "If you are in danger right now, call 112. Ask the REAct programme in your "
    "region for local hotlines for legal, medical and psychological help."
)


def current_settings() -> Settings:
    """The Settings the current app was created with."""
    settings: Settings = current_app.extensions["amanat"]
    return settings


@bp.app_context_processor
def crisis_contacts() -> dict[str, Any]:
    """Give every template where to get help right now, in the page's language.

    `crisis` is the contact list, `crisis_contacts` the operator's note (or
    the default text), and `in_danger` whether this browser's source said
    they are in danger now: then every page shows the help first.
    """
    lang = str(get_locale() or "ru")
    return {
        "crisis": contacts_for(current_app.extensions["amanat.crisis"], lang),
        "crisis_contacts": current_settings().crisis_contacts or str(DEFAULT_CRISIS_CONTACTS),
        "crisis_note": current_settings().crisis_contacts,
        "in_danger": bool(session.get("in_danger")),
    }


@bp.get("/")
def landing() -> str:
    return render_template("portal/landing.html")


@bp.get("/help")
def help_now() -> str:
    """Crisis contacts and short safety advice, one tap from every page."""
    q = load_questionnaire()
    region_field = next(f for s in q.sections for f in s.fields if f.code == "region")
    lang = str(get_locale() or "ru")
    names = {o.code: o.label(lang) for o in region_field.choices(current_settings().regions)}
    return render_template("portal/help.html", region_names=names)


@bp.get("/lang/<code>")
def set_language(code: str) -> Response:
    if code not in i18n.LANGUAGES:
        abort(404)
    response = redirect(i18n.safe_next(request.args.get("next")), code=303)
    i18n.set_language(response, code, secure=current_settings().secure_cookies)
    return response
