"""How a source gets in and out: a new codename, logging in, logging out, leaving.

A codename is tried in three places (creating one, logging in, and the
report form's re-login after a session ended); all three go through
`login_with`, which spends one shared rate budget before any slow work.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from crypto.errors import BadCodenameError
from crypto.source import normalize_codename
from portal import codenames, kept_files
from portal.db import get_session
from portal.forms import LoginForm, LogoutForm, NewCodenameForm
from portal.languages import COOKIE_NAME as LANGUAGE_COOKIE
from portal.limits import spend_codename_attempt
from portal.routing import active_recipients
from portal.services import installation_salt_of
from portal.sources import (
    COOKIE_NAME,
    CodenameInUse,
    LoggedIn,
    end_session,
    load_session,
    log_in,
)
from portal.views import current_settings

# The pages that get a source in and out; registered by portal.app.
bp = Blueprint("login", __name__)
View = TypeVar("View", bound=Callable[..., Any])
# Where "Leave quickly" sends a source: an ordinary, busy site.
EXIT_URL = "https://ru.wikipedia.org/"


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
            return redirect(url_for("login.login", expired=1), code=303)
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
    """Log in with a codename; None if it is malformed or (without create) unknown.

    Every call that gets as far as a well-formed codename spends the shared
    codename budget (TooManyRequests once it is spent). With create, raises
    CodenameInUse for a codename that has a source. The caller commits.
    """
    try:
        normalize_codename(codename or "")
    except BadCodenameError:
        return None
    spend_codename_attempt()
    settings = current_settings()
    return log_in(
        get_session(),
        str(codename),
        installation_salt_of(),
        settings.kdf_cost,
        settings.session_minutes,
        create=create,
        secret=secret_of(),
    )


def codename_page(form: NewCodenameForm, step: str, status: int = 200) -> tuple[str, int]:
    codename = codenames.issue()
    page = render_template(
        "portal/codename.html",
        form=form,
        step=step,
        groups=codenames.groups_of(codename),
        check_number=codenames.group_to_check(codename),
    )
    return page, status


@bp.get("/codename")
def new_codename() -> tuple[str, int]:
    if not accepting_reports():
        return render_template("portal/closed.html"), 503
    step = "check" if request.args.get("step") == "check" else "show"
    return codename_page(NewCodenameForm(), step)


@bp.post("/codename")
def confirm_codename() -> Response | tuple[str, int]:
    """Create the account of the codename this session was issued, nothing else."""
    form = NewCodenameForm()
    codename = codenames.issued()
    if codename is None:
        form.check.errors = [_("This page has expired. Here is a new codename.")]
        return codename_page(form, "show", 400)
    if not form.validate():
        return codename_page(form, "check", 400)
    wanted = codenames.group_of(codename, codenames.group_to_check(codename))
    if "".join(ch for ch in form.check.data if ch.isdigit()) != wanted:
        form.check.errors = [_("These digits do not match. Look at your note again.")]
        return codename_page(form, "check", 400)
    try:
        opened = login_with(codename, create=True)
    except CodenameInUse:
        codenames.forget()
        form.check.errors = [_("This codename is already in use. Here is a new one.")]
        return codename_page(form, "show", 400)
    assert opened is not None  # noqa: S101 - the server's own codename is well formed
    get_session().commit()
    codenames.forget()
    response = redirect(url_for("sources.report_form"), code=303)
    set_source_cookie(response, opened[1])
    return response


@bp.get("/login")
def login() -> str:
    return render_template("portal/login.html", form=LoginForm(), expired="expired" in request.args)


@bp.post("/login")
def login_submit() -> Response | tuple[str, int]:
    form = LoginForm()
    if not form.validate():
        return render_template("portal/login.html", form=form, expired=False), 400
    opened = login_with(form.codename.data)
    if opened is None:
        form.codename.errors = [_("No report was found for this codename. Check each digit.")]
        return render_template("portal/login.html", form=form, expired=False), 400
    get_session().commit()
    response = redirect(url_for("sources.status"), code=303)
    set_source_cookie(response, opened[1])
    return response


def forget_everything(response: Response) -> Response:
    """End this browser's session on the server and tell the browser to drop it all."""
    db = get_session()
    end_session(db, request.cookies.get(COOKIE_NAME))
    db.commit()
    kept_files.discard_all()
    session.clear()
    for name in (COOKIE_NAME, current_app.config["SESSION_COOKIE_NAME"], LANGUAGE_COOKIE):
        response.delete_cookie(name, path="/")
    # Browsers that support it also drop this site's cache and storage.
    response.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    return response


@bp.post("/logout")
def logout() -> Response:
    LogoutForm().validate_on_submit()  # CSRFProtect has already checked the token
    return forget_everything(redirect(url_for("portal.landing"), code=303))


@bp.get("/leave")
def leave() -> Response:
    """Leave quickly: end the session, clear the cookies, go to an ordinary site.

    A GET, so that it is a plain link that works with no script. It cannot be
    forged from another site: the cookies are SameSite=Strict, so a link
    followed from elsewhere arrives without them and ends nothing.
    """
    return forget_everything(redirect(EXIT_URL, code=303))
