"""The small source forms (codename, login, logout). The report form streams.

Every form carries Flask-WTF's CSRF token and a honeypot field: a text input
people never see (hidden by CSS, skipped by keyboard and screen readers) that
form-filling programs tend to fill.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length, ValidationError

from crypto.errors import BadCodenameError
from crypto.source import normalize_codename


def empty(form: Any, field: Any) -> None:
    if field.data:
        raise ValidationError(_l("Leave this field empty."))


def well_formed_codename(form: Any, field: Any) -> None:
    try:
        normalize_codename(field.data or "")
    except BadCodenameError as exc:
        raise ValidationError(
            _l("This is not a codename: it has 28 digits in groups of four. Check each digit.")
        ) from exc


class HoneypotForm(FlaskForm):  # type: ignore[misc]
    website = StringField(_l("Leave this field empty"), validators=[empty])


class NewCodenameForm(HoneypotForm):
    """The check that the source copied the codename: one group typed back.

    The codename itself is never a field: the server knows which one it issued.
    """

    check = StringField(
        _l("Type this group from your note"),
        validators=[
            DataRequired(_l("Type the four digits of this group from your note.")),
            Length(max=40),
        ],
    )


class LoginForm(HoneypotForm):
    codename = StringField(
        _l("Your codename"),
        validators=[
            DataRequired(_l("Enter your codename.")),
            Length(max=200),
            well_formed_codename,
        ],
    )


class LogoutForm(FlaskForm):  # type: ignore[misc]
    pass
