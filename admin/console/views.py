"""The console's pages: unlock and lock, the inbox, a report, replies, status, sync.

Every page but the unlock page and the language link needs the key to be
unlocked in this process; otherwise it redirects to the unlock page.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from admin.actions import (
    NoServerError,
    OnionNeedsProxyError,
    client_for,
    send_reply,
    set_status,
)
from admin.airgap import is_offline, queue_reply
from admin.case import load_case
from admin.client import ApiClient, ClientError
from admin.console import sync as console_sync
from admin.console.answers import answer_sections, narrative_of
from admin.console.case import case_context
from admin.console.consent import missing_for_reply, unconfirmed
from admin.console.consent import refusal as consent_refusal
from admin.console.forms import (
    STATUSES,
    ReplyForm,
    StatusForm,
    UnlockForm,
    status_label,
)
from admin.console.inbox import answers_of, danger_banner, inbox_page, search_reports
from admin.console.state import Keyring, Unlocked
from admin.console.templates import templates_for_page
from admin.roster import unapproved_recipients
from admin.sync import SyncError, SyncResult, sync
from admin.vault import UnknownReportError, Vault, VaultError, VaultReport, WrongVaultKeyError
from crypto.errors import KeyFileError, WrongPassphraseError
from crypto.keys import read_keyfile
from portal.languages import LANGUAGES, safe_next, set_language

bp = Blueprint("console", __name__)

# What a locked browser may still reach.
OPEN_ENDPOINTS = frozenset({"console.unlock", "console.unlock_post", "console.language", "static"})


@dataclass(frozen=True)
class ConsoleConfig:
    keyfile: Path
    vault_dir: Path
    server_url: str | None
    keyring: Keyring


class ConsoleError(Exception):
    """An action could not be done; the message is meant for the reviewer."""


def config() -> ConsoleConfig:
    found: ConsoleConfig = current_app.extensions["amanat_console"]
    return found


def unlocked() -> Unlocked:
    found: Unlocked = g.unlocked
    return found


def lang() -> str:
    return str(get_locale() or "ru")


@bp.before_app_request
def require_unlocked() -> Response | None:
    g.unlocked = config().keyring.get(session.get("sid"))
    if request.routing_exception is not None:
        return None  # a 404, 405 or untrusted host: the error handler answers
    if g.unlocked is None and request.endpoint not in OPEN_ENDPOINTS:
        return redirect(url_for("console.unlock"), 303)
    return None


@bp.app_context_processor
def page_globals() -> dict[str, Any]:
    notices = g.unlocked.take_notices() if g.get("unlocked") else []
    return {
        "is_unlocked": g.get("unlocked") is not None,
        "notices": notices,
        "status_label": status_label,
    }


# -- unlock, lock, language ----------------------------------------------------


@bp.get("/")
def unlock() -> Response | str:
    if g.unlocked is not None:
        return redirect(url_for(".inbox"), 303)
    return render_template("admin/unlock.html", form=UnlockForm(), problem=None)


@bp.post("/")
def unlock_post() -> Response | tuple[str, int]:
    form = UnlockForm()
    if not form.validate_on_submit():
        return _unlock_again(form, _("Enter the passphrase of your key file."))
    settings = config()
    try:
        key = read_keyfile(settings.keyfile, form.passphrase.data or "")
        vault = Vault.open(settings.vault_dir, key)
    except WrongPassphraseError:
        return _unlock_again(form, _("Wrong passphrase. Nothing was unlocked; try again."))
    except KeyFileError as exc:
        return _unlock_again(form, _("The key file cannot be used: %(reason)s", reason=str(exc)))
    except WrongVaultKeyError:
        return _unlock_again(form, _("The vault belongs to another key file."))
    except VaultError as exc:
        return _unlock_again(form, _("The vault cannot be opened: %(reason)s", reason=str(exc)))
    session.clear()  # a fresh session (and CSRF token) for the unlocked console
    session["sid"] = settings.keyring.unlock(key, vault).session_id
    return redirect(url_for(".inbox"), 303)


def _unlock_again(form: UnlockForm, problem: str) -> tuple[str, int]:
    form.passphrase.data = ""
    return render_template("admin/unlock.html", form=form, problem=problem), 400


@bp.post("/lock")
def lock() -> Response:
    config().keyring.lock()
    session.clear()
    return redirect(url_for(".unlock"), 303)


@bp.get("/lang/<code>")
def language(code: str) -> Response:
    if code not in LANGUAGES:
        abort(404)
    response = redirect(safe_next(request.args.get("next"), url_for(".unlock")), 303)
    set_language(response, code, secure=False)
    return response


# -- inbox and sync -------------------------------------------------------------


@bp.get("/inbox")
def inbox() -> str:
    state = unlocked()
    query = request.args.get("q", "").strip()[:200]
    if not query:
        return inbox_page(state)
    return inbox_page(state, search_reports(state, query), query)


def _answers(state: Unlocked, report_id: str) -> dict[str, Any] | None:
    """The report's answers, decrypted once per unlock and kept in memory; None if unreadable."""
    return answers_of(state, report_id)


@bp.post("/sync")
def sync_now() -> Response:
    """Start a sync in the background (admin.console.sync) and show its progress."""
    state = unlocked()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    console_sync.start(state, make_client, _report_sync, app, str(get_locale()))
    return redirect(url_for(".sync_page"), 303)


@bp.get("/sync")
def sync_page() -> str:
    state = unlocked()
    return render_template("admin/sync.html", progress=console_sync.progress_of(state))


def _report_sync(state: Unlocked, result: SyncResult | None, error: Exception | None) -> None:
    if result is None:
        state.notify("error", _("Sync failed: %(reason)s", reason=str(error)))
        return
    state.notify(
        "info",
        _(
            "Sync done: %(fetched)d new item(s) fetched for %(reports)d report(s), "
            "%(skipped)d already in the vault.",
            fetched=len(result.fetched),
            reports=len(set(result.reports)),
            skipped=len(result.skipped),
        ),
    )
    for refusal in result.refused:
        state.notify("error", _("Refused and not kept: %(what)s", what=str(refusal)))


def make_client(state: Unlocked) -> ApiClient:
    """A signed client for the server given at start, or the one the vault remembers."""
    try:
        return client_for(state.vault, config().server_url, None)
    except NoServerError:
        raise ConsoleError(
            _("no server is known yet: start the console with --server URL")
        ) from None
    except OnionNeedsProxyError:
        raise ConsoleError(
            _("an .onion server needs a Tor proxy: sync once with amanat-admin")
        ) from None
    except ClientError as exc:
        raise ConsoleError(str(exc)) from exc


# -- one report ----------------------------------------------------------------


@bp.get("/reports/<report_id>")
def report(report_id: str) -> str:
    return _report_page(report_id, ReplyForm(formdata=None), StatusForm(formdata=None))


def _report_page(report_id: str, reply_form: ReplyForm, status_form: StatusForm) -> str:
    with _locked_report(report_id) as (state, report):
        answers = _answers(state, report_id)
        files = state.vault.files(report_id)
        conversation = state.vault.conversation(report_id)
        unapproved = unapproved_recipients(state.vault, report)
        case = case_context(state, report_id)
        state.vault.mark_read(report_id)
    status_form.status.data = report.status
    with state.lock:
        offered, chosen_text = templates_for_page(state)
    if chosen_text is not None and not reply_form.text.data:
        reply_form.text.data = chosen_text
    return render_template(
        "admin/report.html",
        report=report,
        danger=danger_banner(answers or {}, case["case"].state, lang()),
        answers_missing=answers is None,
        sections=answer_sections(answers or {}, lang()),
        narrative=narrative_of(answers or {}),
        files=files,
        conversation=conversation,
        unapproved=unapproved,
        reply_form=reply_form,
        status_form=status_form,
        status_options=[(code, status_label(code)) for code in STATUSES],
        reply_templates=[(t.id, t.title) for t in offered],
        **case,
    )


@contextmanager
def _locked_report(report_id: str) -> Iterator[tuple[Unlocked, VaultReport]]:
    """The unlocked state, its lock held, and the report (a 404 if the vault has none)."""
    state = unlocked()
    with state.lock:
        try:
            report = state.vault.report(report_id)
        except UnknownReportError:
            abort(404)
        yield state, report


@bp.post("/reports/<report_id>/reply")
def reply(report_id: str) -> Response | tuple[str, int]:
    form = ReplyForm()
    with _locked_report(report_id) as (state, _report):
        if not form.validate_on_submit():
            state.notify("error", _("Write a reply of at most 20000 characters."))
            return _report_page(report_id, form, StatusForm(formdata=None)), 400
        case = load_case(state.vault, report_id).state
        missing = missing_for_reply(_answers(state, report_id) or {}, case)
        if unconfirmed(missing, request.form):
            state.notify("error", consent_refusal(missing))
            return _report_page(report_id, form, StatusForm(formdata=None)), 409
        try:
            _send_reply(state, report_id, (form.text.data or "").strip())
        except (ConsoleError, ClientError, VaultError) as exc:
            state.notify("error", _("The reply was not sent: %(reason)s", reason=str(exc)))
            return _report_page(report_id, form, StatusForm(formdata=None)), 502
    return redirect(url_for(".report", report_id=report_id), 303)


def _send_reply(state: Unlocked, report_id: str, text: str) -> None:
    if is_offline(state.vault):
        queue_reply(state.vault, report_id, text)
        state.notify("info", _("Reply kept: it goes out in your next outgoing bundle."))
        return
    with make_client(state) as client:
        send_reply(state.vault, client, report_id, text)
        state.notify("info", _("Reply sent. The source sees it at their next login."))
        # Bring the report up to date (the reply as the server lists it, anything new).
        try:
            sync(state.vault, client)
        except (SyncError, ClientError) as exc:
            state.notify("error", _("Sync failed: %(reason)s", reason=str(exc)))


@bp.post("/reports/<report_id>/status")
def change_status(report_id: str) -> Response:
    form = StatusForm()
    with _locked_report(report_id) as (state, _report):
        if not form.validate_on_submit():
            state.notify("error", _("Choose one of the statuses offered."))
            return redirect(url_for(".report", report_id=report_id), 303)
        try:
            with make_client(state) as client:
                new = set_status(state.vault, client, report_id, form.status.data)
        except (ConsoleError, ClientError) as exc:
            state.notify("error", _("The status was not changed: %(reason)s", reason=str(exc)))
        else:
            state.notify("info", _("Status set to %(status)s.", status=status_label(new)))
    return redirect(url_for(".report", report_id=report_id), 303)
