"""Turn a submitted form into the answers a report stores, or say what to fix.

`validate` never raises on what a browser (or an attacker) sends: every
problem becomes a message in the source's language. Text is kept as typed,
HTML included: the validator does not interpret markup, escaping is the
renderer's job.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

from portal.questionnaire.model import PREFER_NOT, Field, Questionnaire

MAX_MULTI_VALUES: Final = 64
EARLIEST_YEAR: Final = 1900
REGION_FIELD: Final = "region"
DANGER_FIELD: Final = "in_danger_now"
# What a checked checkbox may send; the macro sends "yes".
CHECKED_VALUES: Final = frozenset({"yes", "on", "true", "1"})

# C0 and C1 control characters and DEL, except tab and newline.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# Accepted date spellings: ISO (2024-03-15, 2024-03, 2024), and the
# day.month.year form people in Kyrgyzstan usually write (15.03.2024, 03.2024).
_DATE_FORMS: Final = (
    (re.compile(r"(?P<y>[0-9]{4})-(?P<m>[0-9]{1,2})-(?P<d>[0-9]{1,2})\Z"), "day"),
    (re.compile(r"(?P<y>[0-9]{4})-(?P<m>[0-9]{1,2})\Z"), "month"),
    (re.compile(r"(?P<y>[0-9]{4})\Z"), "year"),
    (re.compile(r"(?P<d>[0-9]{1,2})\.(?P<m>[0-9]{1,2})\.(?P<y>[0-9]{4})\Z"), "day"),
    (re.compile(r"(?P<m>[0-9]{1,2})\.(?P<y>[0-9]{4})\Z"), "month"),
)


class _Rejected(Exception):
    """One field's answer is refused; code names the message to show."""

    def __init__(self, code: str, field_code: str | None = None, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.field_code = field_code
        self.params = params


def validate(
    q: Questionnaire,
    form: Mapping[str, Any],
    regions: Sequence[str],
    lang: str,
    *,
    today: date | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Check form against q; return (answers, errors).

    form maps field codes to lists of strings (a werkzeug MultiDict works).
    answers is JSON-able: {field code: value} for valid answers only, plus
    "questionnaire": {"id", "version"}; checkboxes are always present as
    true/false. errors maps field code to a message in lang. regions are the
    region codes this installation offers ("prefer_not" is always allowed).
    today (default: the current UTC date) bounds incident dates.
    """
    today = today or datetime.now(UTC).date()
    answers: dict[str, Any] = {"questionnaire": q.ref}
    errors: dict[str, str] = {}
    for field in q.fields:
        try:
            cleaned = _clean(field, form, regions, today)
            if field.required and not cleaned.get(field.code):
                raise _Rejected("required")
        except _Rejected as rejected:
            message = q.message(rejected.code, lang, **rejected.params)
            errors[rejected.field_code or field.code] = message
        else:
            answers.update(cleaned)
    return answers, errors


def in_danger(answers: Mapping[str, Any]) -> bool:
    """True if the source said they are in danger right now."""
    return answers.get(DANGER_FIELD) is True


def region_of(answers: Mapping[str, Any]) -> str | None:
    """The region code a report should be routed by, or None if not given."""
    region = answers.get(REGION_FIELD)
    return region if isinstance(region, str) and region and region != PREFER_NOT else None


def _values(form: Mapping[str, Any], key: str) -> list[str]:
    getlist = getattr(form, "getlist", None)
    raw = getlist(key) if callable(getlist) else form.get(key)
    if raw is None:
        return []
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list | tuple):
        return [v for v in raw if isinstance(v, str)]
    return []


def _clean(
    field: Field, form: Mapping[str, Any], regions: Sequence[str], today: date
) -> dict[str, Any]:
    values = _values(form, field.code)
    if field.type == "bool":
        return {field.code: _checked(values)}
    if field.type in ("text", "textarea"):
        text = _text(values[0], field) if values else ""
        return {field.code: text} if text else {}
    if field.type == "multi":
        return {field.code: _multi(values, field)} if any(values) else {}
    if field.type == "date_precision":
        return _date(field, values, _values(form, field.precision_code), today)
    allowed = {o.code for o in field.choices(regions)}
    choice = _single(values, allowed)
    return {field.code: choice} if choice else {}


def _checked(values: list[str]) -> bool:
    chosen = {v for v in values if v}
    if not chosen:
        return False
    if chosen <= CHECKED_VALUES:
        return True
    raise _Rejected("invalid_choice")


def _single(values: list[str], allowed: set[str], field_code: str | None = None) -> str | None:
    chosen = {v for v in values if v}
    if not chosen:
        return None
    if len(chosen) > 1 or not chosen <= allowed:
        raise _Rejected("invalid_choice", field_code)
    return chosen.pop()


def _multi(values: list[str], field: Field) -> list[str]:
    if len(values) > MAX_MULTI_VALUES:
        raise _Rejected("invalid_choice")
    chosen = {v for v in values if v}
    if not chosen <= {o.code for o in field.options}:
        raise _Rejected("invalid_choice")
    return sorted(chosen)


def _text(raw: str, field: Field) -> str:
    """raw without control characters or surrounding space. Refuses NUL and over-long text."""
    limit = field.max_length or 0
    if "\x00" in raw or _SURROGATE.search(raw):
        raise _Rejected("invalid_text")
    # Browsers send line breaks as CRLF; count and store them as one character.
    text = _CONTROL.sub("", raw.replace("\r\n", "\n").replace("\r", "\n"))
    if field.type == "text":
        text = " ".join(text.split())
    text = text.strip()
    if len(text) > limit:
        raise _Rejected("too_long", max=limit)
    return text


def _date(field: Field, values: list[str], precisions: list[str], today: date) -> dict[str, Any]:
    """The date as ISO text cut to its precision, and the precision; checked to agree."""
    precision_code = field.precision_code
    precision = _single(precisions, {o.code for o in field.options}, precision_code)
    text = values[0].strip() if values else ""
    if not text:
        if precision in (None, "unknown"):
            return {precision_code: precision} if precision else {}
        raise _Rejected("precision_mismatch")
    iso, stated, start = _parse_date(text)
    if precision is not None and precision != stated:
        raise _Rejected("precision_mismatch")
    # One day of slack: the source's day may already have begun east of UTC.
    if start > today + timedelta(days=1):
        raise _Rejected("future_date")
    return {field.code: iso, precision_code: stated}


def _parse_date(text: str) -> tuple[str, str, date]:
    """(ISO text, precision, first day) of a date written to the day, month or year."""
    for pattern, precision in _DATE_FORMS:
        match = pattern.match(text)
        if match is None:
            continue
        parts = match.groupdict()
        year, month, day = int(parts["y"]), int(parts.get("m") or 1), int(parts.get("d") or 1)
        if year < EARLIEST_YEAR:
            break
        try:
            start = date(year, month, day)
        except ValueError:
            break
        iso = {"day": f"{start:%Y-%m-%d}", "month": f"{start:%Y-%m}", "year": f"{start:%Y}"}
        return iso[precision], precision, start
    raise _Rejected("invalid_date")
