"""The source's journey: codename, report, receipt, coming back, follow-ups.

Views parse the request, call a service, and render or redirect. The two
upload endpoints read the body as a stream (portal.intake) and check the
CSRF token inside it, so Flask-WTF's own check, which would parse the body
with Werkzeug's spooling parser, is turned off for them alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    abort,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import validate_csrf
from redis.exceptions import RedisError
from sqlalchemy import select
from werkzeug.exceptions import BadRequest, TooManyRequests
from werkzeug.wrappers import Response
from wtforms import ValidationError

from crypto.envelope import Kind
from crypto.errors import CryptoError
from crypto.source import open_own_copy, open_reply
from portal import intake, kept_files
from portal.db import get_session
from portal.forms import LogoutForm
from portal.limits import limiter
from portal.models import Blob, Report
from portal.multipart import boundary_of
from portal.questionnaire import in_danger, load_questionnaire, validate
from portal.questionnaire.validation import DANGER_FIELD
from portal.roster import roster_knows_author
from portal.routing import NotAcceptingReports, recipients_of_report
from portal.services import blob_store, server_key
from portal.source_login import (
    accepting_reports,
    logged_in,
    login_required,
    login_with,
    renew_source_cookie,
    set_source_cookie,
)
from portal.sources import LoggedIn
from portal.store import StoreError
from portal.views import current_settings

# The pages of a source's reports; registered by portal.app.
bp = Blueprint("sources", __name__)
SUBMIT_LIMIT = "120 per hour"


def language() -> str:
    return str(get_locale() or "ru")


def render_report_form(
    values: Any = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    *,
    ask_codename: bool = False,
) -> tuple[str, int]:
    """The report form; after a refused submission, filled in as typed, with
    the files that arrived listed as attached (portal.kept_files)."""
    page = render_template(
        "portal/report.html",
        q=load_questionnaire(),
        lang=language(),
        values=values,
        errors=errors or {},
        regions=current_settings().regions,
        kept=kept_files.listed(),
        keep_field=kept_files.KEEP_FIELD,
        ask_codename=ask_codename,
    )
    return page, status


def refuse_for_now(
    submission: intake.Submission, errors: dict[str, str], status: int, *, ask_codename: bool
) -> tuple[str, int]:
    """Send the form back to be fixed, keeping the files that arrived."""
    kept_files.keep(
        submission.files, submission.file_names, submission.file_sizes, submission.recipients
    )
    submission.files.clear()
    return render_report_form(submission.fields, errors, status, ask_codename=ask_codename)


@bp.get("/report")
@login_required
def report_form() -> tuple[str, int]:
    if not accepting_reports():
        return render_template("portal/closed.html"), 503
    return render_report_form()


def check_token(value: str) -> None:
    try:
        validate_csrf(value)
    except ValidationError as exc:
        raise BadRequest(
            _("This form has expired. Go back, reload the page and send it again.")
        ) from exc


def read_upload(choose: Callable[[str | None], list[Any]]) -> intake.Submission:
    """Stream the request body through the sealer (files never touch disk in plaintext).

    Below the free-space floor nothing is read: ENOSPC becomes the 507 page.
    """
    blob_store().require_room()
    boundary = boundary_of(request.mimetype, request.mimetype_params)
    return intake.receive(
        request.stream,
        boundary,
        store=blob_store(),
        check_token=check_token,
        choose_recipients=choose,
    )


def read_report() -> intake.Submission:
    """Read a report's body, adding the files kept from this form's earlier try.

    Kept files were sealed to the reviewers chosen then, so the whole report
    goes to them; if none of them is active any more, the kept files go.
    """
    db = get_session()
    kept_to = kept_files.kept_recipients(db)
    choose = (lambda _region: kept_to) if kept_to else intake.choose_for(db)
    submission = read_upload(choose)
    listed = {item["name"]: item for item in kept_files.listed()}
    wanted = submission.fields.getlist(kept_files.KEEP_FIELD) if kept_to else []
    kept = kept_files.take(wanted)
    try:
        submission.files[:0] = kept
        submission.file_names[:0] = [listed[blob.name]["label"] for blob in kept]
        submission.file_sizes[:0] = [listed[blob.name]["size"] for blob in kept]
    except KeyError:  # the session changed under us: keep nothing half-known
        submission.discard(blob_store())
        raise
    return submission


@bp.post("/report")
@limiter.limit(SUBMIT_LIMIT)
def report_submit() -> Response | tuple[str, int]:
    """Receive a report. Nothing typed or uploaded is lost to a fix: a session
    that ended while the source was typing, or a field to correct, brings the
    form back filled in, with the files that arrived still attached."""
    # The session is checked before the body is read: a large video over Tor
    # takes longer than a session lasts, and must not be refused at the end.
    source, new_cookie = logged_in(), None
    try:
        submission = read_report()
    except NotAcceptingReports:
        return render_template("portal/closed.html"), 503
    if submission.fields.get(DANGER_FIELD):
        session["in_danger"] = True
    if source is None:
        try:
            relogged = login_with(submission.fields.get("codename"))
        except (TooManyRequests, RedisError):
            errors = {
                "codename": _("Too many attempts right now. Wait a few minutes, then send again.")
            }
            return refuse_for_now(submission, errors, 429, ask_codename=True)
        if relogged is None:
            errors = {"codename": _("Your session has ended. Enter your codename to send.")}
            return refuse_for_now(submission, errors, 401, ask_codename=True)
        source, new_cookie = relogged
    answers, errors = validate(
        load_questionnaire(), submission.fields, current_settings().regions, language()
    )
    if errors:
        return refuse_for_now(submission, errors, 400, ask_codename=new_cookie is not None)
    stored = intake.store_report(
        get_session(),
        blob_store(),
        server_key(),
        source.source,
        submission,
        answers,
        patience=current_settings().commit_retry_seconds,
    )
    if in_danger(answers):
        session["in_danger"] = True
    response = redirect(url_for("sources.received", report_id=stored.report.id), code=303)
    if new_cookie:
        set_source_cookie(response, new_cookie)
    return response


def own_report(report_id: str) -> Report:
    source = logged_in()
    report = get_session().get(Report, report_id)
    if source is None or report is None or report.source_id != source.source.id:
        abort(404)
    return report


@bp.get("/report/<report_id>/received")
@login_required
def received(report_id: str) -> str:
    report = own_report(report_id)
    blobs = list(get_session().scalars(select(Blob).where(Blob.report_id == report.id)))
    files = [b for b in blobs if b.kind == "file"]
    return render_template(
        "portal/received.html",
        report=report,
        files=files,
        total=sum(b.size for b in files),
    )


@bp.get("/status")
@login_required
def status() -> str:
    source = logged_in()
    if source is None:  # login_required has let it through, so this cannot happen
        abort(401)
    db = get_session()
    reports = list(
        db.scalars(
            select(Report).where(Report.source_id == source.source.id).order_by(Report.created_day)
        )
    )
    threads = {report.id: conversation(report, source) for report in reports}
    return render_template(
        "portal/status.html", reports=reports, threads=threads, logout=LogoutForm()
    )


def conversation(report: Report, source: LoggedIn) -> list[dict[str, Any]]:
    """The report's thread for the source, opened for this page only: their
    narrative and follow-ups (sealed to their own key too) and the replies."""
    blobs = get_session().scalars(
        select(Blob)
        .where(
            Blob.report_id == report.id,
            Blob.kind.in_(("answers", "reply", "message", "file")),
        )
        .order_by(Blob.created_day)
    )
    items: list[dict[str, Any]] = []
    for blob in blobs:
        item: dict[str, Any] = {"kind": blob.kind, "day": blob.created_day, "size": blob.size}
        if blob.kind == "reply" and not roster_knows_author(get_session(), blob):
            continue  # the organisation never approved its author (portal.roster)
        if blob.kind != "file":
            item.update(read_for_source(blob, source))
        items.append(item)
    return items


def read_for_source(blob: Blob, source: LoggedIn) -> dict[str, Any]:
    """{"text": ...} for a blob the source's key opens, else {"unreadable": True}."""
    try:
        with blob_store().open(blob.storage_name) as f:
            sealed = f.read()
        if blob.kind == "reply":
            return {"text": open_reply(sealed, source.key).decode("utf-8")}
        kind, content = open_own_copy(sealed, source.key)
        if kind is Kind.REPORT:
            return {"text": str(json.loads(content).get("narrative") or "")}
        return {"text": content.decode("utf-8")}
    except (CryptoError, OSError, StoreError, UnicodeDecodeError, ValueError, AttributeError):
        return {"unreadable": True}


@bp.post("/report/<report_id>/followup")
@limiter.limit(SUBMIT_LIMIT)
@login_required
def followup(report_id: str) -> Response | tuple[str, int]:
    report = own_report(report_id)
    db = get_session()
    try:
        submission = read_upload(lambda _region: recipients_of_report(db, report.id))
    except NotAcceptingReports:
        return render_template("portal/closed.html"), 503
    message = (submission.fields.get("message") or "").strip()
    if len(message) > 20000:
        submission.discard(blob_store())
        raise BadRequest(_("The message is too long: at most 20,000 characters."))
    if not message and not submission.files:
        return redirect(url_for("sources.status", empty=1) + f"#report-{report.id}", code=303)
    intake.store_followup(
        db,
        blob_store(),
        server_key(),
        report,
        submission,
        message,
        patience=current_settings().commit_retry_seconds,
    )
    return redirect(url_for("sources.status", sent=1) + f"#report-{report.id}", code=303)


def init_app(app: Any) -> None:
    """Exempt the two streaming endpoints from CSRFProtect: they check the token themselves."""
    csrf = app.extensions["csrf"]
    csrf.exempt(report_submit)
    csrf.exempt(followup)
    app.after_request(renew_source_cookie)
