"""The small source forms (codename, login, logout). The report form streams.

Every form carries Flask-WTF's CSRF token and a honeypot field: a text input
people never see (hidden by CSS, skipped by keyboard and screen readers) that
form-filling programs tend to fill.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField
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
    codename = HiddenField(validators=[DataRequired(), well_formed_codename])
    saved = BooleanField(
        _l("I have written down my codename or saved it somewhere safe."),
        validators=[DataRequired(_l("Please confirm that you saved your codename."))],
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
