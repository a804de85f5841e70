"""The console's reply templates page, and the templates offered on a report page."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from admin.console.state import Unlocked
from admin.reply_templates import (
    LANGUAGES,
    ReplyTemplate,
    TemplateError,
    add_template,
    delete_template,
    templates,
)

bp = Blueprint("templates", __name__)


def _state() -> Unlocked:
    from admin.console.views import unlocked

    return unlocked()


@bp.get("/templates")
def page() -> str:
    state = _state()
    with state.lock:
        found = templates(state.vault)
    return render_template("admin/reply_templates.html", templates=found, languages=LANGUAGES)


@bp.post("/templates")
def add() -> Response:
    state = _state()
    form = request.form
    with state.lock:
        try:
            add_template(
                state.vault, form.get("lang", ""), form.get("title", ""), form.get("text", "")
            )
        except TemplateError as exc:
            state.notify("error", _("The template was not saved: %(reason)s", reason=str(exc)))
        else:
            state.notify("info", _("Template saved (sealed in your vault)."))
    return redirect(url_for(".page"), 303)


@bp.post("/templates/<template_id>/delete")
def delete(template_id: str) -> Response:
    state = _state()
    with state.lock:
        if not delete_template(state.vault, template_id):
            abort(404)
    state.notify("info", _("Template deleted."))
    return redirect(url_for(".page"), 303)


def templates_for_page(state: Unlocked) -> tuple[list[ReplyTemplate], str | None]:
    """The templates of the console's language, and the text of the one asked for (?template=)."""
    lang = str(get_locale() or "ru")
    offered = templates(state.vault, lang)
    chosen = request.args.get("template", "")
    text = next((t.text for t in offered if t.id == chosen), None)
    return offered, text
