"""The source-facing pages owned by the scaffolding: landing and language choice."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from portal import i18n
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
def crisis_contacts() -> dict[str, str]:
    """Give every template `crisis_contacts`: where to get help right now."""
    text = current_settings().crisis_contacts or str(DEFAULT_CRISIS_CONTACTS)
    return {"crisis_contacts": text}


@bp.get("/")
def landing() -> str:
    return render_template("portal/landing.html")


@bp.get("/lang/<code>")
def set_language(code: str) -> Response:
    if code not in i18n.LANGUAGES:
        abort(404)
    response = redirect(i18n.safe_next(request.args.get("next")), code=303)
    i18n.set_language(response, code, secure=current_settings().secure_cookies)
    return response
