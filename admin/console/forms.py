"""The console's forms. Flask-WTF adds and checks the CSRF token of each."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length

STATUSES = ("received", "in_review", "closed")
MAX_REPLY_CHARS = 20_000


def status_label(code: str) -> str:
    labels = {
        "received": _l("Received"),
        "in_review": _l("In review"),
        "closed": _l("Closed"),
    }
    return str(labels.get(code, code))


class UnlockForm(FlaskForm):  # type: ignore[misc]
    passphrase = PasswordField(_l("Key file passphrase"), validators=[DataRequired()])


class ReplyForm(FlaskForm):  # type: ignore[misc]
    text = TextAreaField(
        _l("Reply to the source"), validators=[DataRequired(), Length(max=MAX_REPLY_CHARS)]
    )


class StatusForm(FlaskForm):  # type: ignore[misc]
    # The page offers STATUSES in a <select>; anything else is refused here.
    status = StringField(_l("Status"), validators=[AnyOf(STATUSES)])
