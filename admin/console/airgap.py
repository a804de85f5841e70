"""The console on a machine that never goes online: import a bundle instead of syncing.

The reviewer names a file on a USB stick (the console runs on their own
machine, so a path is what they have); the bundle is checked whole before
anything enters the vault (admin/airgap.py). Replies and case events made
here are kept and go out in the next outgoing bundle.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import Blueprint, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from admin.airgap import import_bundle, write_outgoing
from admin.console.state import Unlocked
from admin.media_bundle import BundleError
from admin.vault import VaultError

bp = Blueprint("airgap", __name__)


class BundlePathForm(FlaskForm):  # type: ignore[misc]
    path = StringField(_l("Bundle file"), validators=[DataRequired(), Length(max=4096)])


def _path(form: BundlePathForm) -> Path | None:
    if not form.validate_on_submit():
        return None
    return Path(form.path.data.strip()).expanduser()


def _bundle_post(action: Callable[[Unlocked, Path], None]) -> Response:
    """Run action on the form's bundle path under the session's lock, then show the inbox."""
    from admin.console.views import unlocked

    state = unlocked()
    path = _path(BundlePathForm())
    with state.lock:
        if path is None:
            state.notify("error", _("Give the path of the bundle file."))
        else:
            action(state, path)
    return redirect(url_for("console.inbox"), 303)


@bp.post("/bundle/import")
def import_page() -> Response:
    return _bundle_post(_import)


def _import(state: Unlocked, path: Path) -> None:
    try:
        result = import_bundle(state.vault, path)
    except (BundleError, VaultError, OSError) as exc:
        state.notify(
            "error", _("The bundle was refused; nothing changed: %(reason)s", reason=str(exc))
        )
        return
    state.answers.clear()
    if result.already:
        state.notify("info", _("This bundle was imported before; nothing changed."))
        return
    state.notify(
        "info",
        _(
            "Bundle imported: %(blobs)d new item(s) for %(reports)d report(s).",
            blobs=len(result.blobs),
            reports=len(result.reports),
        ),
    )


@bp.post("/bundle/outgoing")
def outgoing_page() -> Response:
    return _bundle_post(_write_outgoing)


def _write_outgoing(state: Unlocked, path: Path) -> None:
    try:
        result = write_outgoing(state.vault, path)
    except (BundleError, VaultError, OSError) as exc:
        state.notify("error", _("No outgoing bundle was written: %(reason)s", reason=str(exc)))
    else:
        written = _(
            "Outgoing bundle written: %(replies)d reply(ies), %(events)d case event(s). "
            "Take it to the courier.",
            replies=result.replies,
            events=result.events,
        )
        state.notify("info", written)
