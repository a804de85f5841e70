"""The source's journey: codename, report, receipt, coming back, follow-ups.

Views parse the request, call a service, and render or redirect. The two
upload endpoints read the body as a stream (portal.intake) and check the
CSRF token inside it, so Flask-WTF's own check, which would parse the body
with Werkzeug's spooling parser, is turned off for them alone.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import (
    abort,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import validate_csrf
from sqlalchemy import select
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response
from wtforms import ValidationError

from crypto.errors import BadCodenameError, CryptoError
from crypto.source import generate_codename, open_reply
from portal import intake
from portal.db import get_session
from portal.forms import LoginForm, LogoutForm, NewCodenameForm
from portal.limits import limiter
from portal.models import Blob, Report
from portal.multipart import boundary_of
from portal.questionnaire import in_danger, load_questionnaire, validate
from portal.roster import roster_knows_author
from portal.routing import NotAcceptingReports, active_recipients, recipients_of_report
from portal.services import blob_store, installation_salt_of, server_key
from portal.sources import COOKIE_NAME, LoggedIn, end_session, load_session, log_in
from portal.store import StoreError
from portal.views import bp, current_settings

View = TypeVar("View", bound=Callable[..., Any])
LOGIN_LIMIT = "30 per minute"
SUBMIT_LIMIT = "120 per hour"


def language() -> str:
    return str(get_locale() or "ru")


def logged_in() -> LoggedIn | None:
    """The source of this request's cookie, loaded once per request."""
    if "source" not in g:
        settings = current_settings()
        g.source = load_session(
            get_session(),
            request.cookies.get(COOKIE_NAME),
            settings.session_minutes,
            secret_of(),
        )
        get_session().commit()  # an expired row's deletion
    found: LoggedIn | None = g.source
    return found


def secret_of() -> bytes:
    """The key of the session cookie's MAC: the app's secret key."""
    return current_settings().secret_key.encode("utf-8")


def renew_source_cookie(response: Response) -> Response:
    """Send the cookie with its idle deadline moved on, unless the view set or ended it."""
    source: LoggedIn | None = g.get("source")
    already = any(
        value.startswith(f"{COOKIE_NAME}=") for value in response.headers.getlist("Set-Cookie")
    )
    if source is not None and source.cookie and not already:
        set_source_cookie(response, source.cookie)
    return response


def login_required(view: View) -> View:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if logged_in() is None:
            return redirect(url_for("portal.login", expired=1), code=303)
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def set_source_cookie(response: Response, value: str) -> None:
    response.set_cookie(
        COOKIE_NAME,
        value,
        httponly=True,
        samesite="Strict",
        secure=current_settings().secure_cookies,
        path="/",
    )


def accepting_reports() -> bool:
    return bool(active_recipients(get_session()))


def login_with(codename: str | None, *, create: bool = False) -> tuple[LoggedIn, str] | None:
    """Log in with a typed codename; None if it is malformed or (without create) unknown.

    The caller commits.
    """
    if not codename:
        return None
    settings = current_settings()
    try:
        return log_in(
            get_session(),
            codename,
            installation_salt_of(),
            settings.kdf_cost,
            settings.session_minutes,
            secret=secret_of(),
            create=create,
        )
    except BadCodenameError:
        return None


@bp.get("/codename")
def new_codename() -> str | tuple[str, int]:
    if not accepting_reports():
        return render_template("portal/closed.html"), 503
    form = NewCodenameForm(codename=generate_codename())
    return render_template("portal/codename.html", form=form)


@bp.post("/codename")
@limiter.limit(LOGIN_LIMIT)
def confirm_codename() -> Response | str | tuple[str, int]:
    form = NewCodenameForm()
    if not form.validate():
        return render_template("portal/codename.html", form=form), 400
    opened = login_with(form.codename.data, create=True)
    if opened is None:  # the form has already checked the codename's digits
        return render_template("portal/codename.html", form=form), 400
    get_session().commit()
    cookie = opened[1]
    response = redirect(url_for("portal.report_form"), code=303)
    set_source_cookie(response, cookie)
    return response


@bp.get("/login")
def login() -> str:
    return render_template("portal/login.html", form=LoginForm(), expired="expired" in request.args)


@bp.post("/login")
@limiter.limit(LOGIN_LIMIT)
def login_submit() -> Response | tuple[str, int]:
    form = LoginForm()
    if not form.validate():
        return render_template("portal/login.html", form=form, expired=False), 400
    opened = login_with(form.codename.data)
    if opened is None:
        form.codename.errors = [_("No report was found for this codename. Check each digit.")]
        return render_template("portal/login.html", form=form, expired=False), 400
    get_session().commit()
    cookie = opened[1]
    response = redirect(url_for("portal.status"), code=303)
    set_source_cookie(response, cookie)
    return response


@bp.post("/logout")
def logout() -> Response:
    LogoutForm().validate_on_submit()  # CSRFProtect has already checked the token
    db = get_session()
    end_session(db, request.cookies.get(COOKIE_NAME))
    db.commit()
    response = redirect(url_for("portal.landing"), code=303)
    response.delete_cookie(COOKIE_NAME, path="/")
    session.clear()
    return response


def render_report_form(
    values: Any = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    *,
    ask_codename: bool = False,
) -> tuple[str, int]:
    """The report form; after a refused submission, filled in as typed.

    Files cannot be put back into a file input, so the page says to attach
    them again.
    """
    page = render_template(
        "portal/report.html",
        q=load_questionnaire(),
        lang=language(),
        values=values,
        errors=errors or {},
        regions=current_settings().regions,
        files_dropped=bool(errors),
        ask_codename=ask_codename,
    )
    return page, status


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


@bp.post("/report")
@limiter.limit(SUBMIT_LIMIT)
def report_submit() -> Response | tuple[str, int]:
    """Receive a report. A session that ended while the source was typing loses
    nothing typed: the form comes back filled in, asking for the codename."""
    db = get_session()
    # The session is checked before the body is read: a large video over Tor
    # takes longer than a session lasts, and must not be refused at the end.
    source, new_cookie = logged_in(), None
    try:
        submission = read_upload(intake.choose_for(db))
    except NotAcceptingReports:
        return render_template("portal/closed.html"), 503
    if source is None:
        relogged = login_with(submission.fields.get("codename"))
        if relogged is None:
            submission.discard(blob_store())
            errors = {"codename": _("Your session has ended. Enter your codename to send.")}
            return render_report_form(submission.fields, errors, 401, ask_codename=True)
        source, new_cookie = relogged
    answers, errors = validate(
        load_questionnaire(), submission.fields, current_settings().regions, language()
    )
    if errors:
        submission.discard(blob_store())
        return render_report_form(
            submission.fields, errors, 400, ask_codename=new_cookie is not None
        )
    stored = intake.store_report(
        db,
        blob_store(),
        server_key(),
        source.source,
        submission,
        answers,
        patience=current_settings().commit_retry_seconds,
    )
    session["in_danger"] = in_danger(answers)
    response = redirect(url_for("portal.received", report_id=stored.report.id), code=303)
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
        in_danger=session.pop("in_danger", False),
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
    """The report's messages for the source: replies opened for this page only."""
    blobs = get_session().scalars(
        select(Blob)
        .where(Blob.report_id == report.id, Blob.kind.in_(("reply", "message", "file")))
        .order_by(Blob.created_day)
    )
    store = blob_store()
    items: list[dict[str, Any]] = []
    for blob in blobs:
        item: dict[str, Any] = {"kind": blob.kind, "day": blob.created_day, "size": blob.size}
        if blob.kind == "reply" and not roster_knows_author(get_session(), blob):
            continue  # the organisation never approved its author (portal.roster)
        if blob.kind == "reply":
            try:
                with store.open(blob.storage_name) as f:
                    item["text"] = open_reply(f.read(), source.key).decode("utf-8")
            except (CryptoError, OSError, StoreError, UnicodeDecodeError):
                item["unreadable"] = True
        items.append(item)
    return items


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
        return redirect(url_for("portal.status", empty=1) + f"#report-{report.id}", code=303)
    intake.store_followup(
        db,
        blob_store(),
        server_key(),
        report,
        submission,
        message,
        patience=current_settings().commit_retry_seconds,
    )
    return redirect(url_for("portal.status", sent=1) + f"#report-{report.id}", code=303)


def init_app(app: Any) -> None:
    """Exempt the two streaming endpoints from CSRFProtect: they check the token themselves."""
    app.after_request(renew_source_cookie)
    csrf = app.extensions["csrf"]
    csrf.exempt("portal.source_views.report_submit")
    csrf.exempt("portal.source_views.followup")
