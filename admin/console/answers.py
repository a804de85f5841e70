"""Decrypted answers shown with the questionnaire's translated labels.

Answers store codes ("osh", "police"); the console shows each field's label
and each option's label in the reviewer's language, in the questionnaire's
order. A code the questionnaire does not know (a newer portal, a tampered
report) is shown as it is, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

from portal.questionnaire import (
    Field,
    Questionnaire,
    QuestionnaireError,
    load_questionnaire,
    region_of,
)

NARRATIVE_FIELD = "narrative"
REF_KEY = "questionnaire"


@dataclass(frozen=True)
class AnswerRow:
    label: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class AnswerSection:
    label: str
    rows: tuple[AnswerRow, ...]


def questionnaire_of(answers: dict[str, Any]) -> Questionnaire:
    """The questionnaire version the answers name, else version 1."""
    ref = answers.get(REF_KEY)
    version = ref.get("version") if isinstance(ref, dict) else None
    try:
        return load_questionnaire(version if isinstance(version, int) else 1)
    except QuestionnaireError:
        return load_questionnaire(1)


def narrative_of(answers: dict[str, Any]) -> str:
    value = answers.get(NARRATIVE_FIELD)
    return value if isinstance(value, str) else ""


def region_label(code: str | None, lang: str) -> str:
    """The translated name of a region code ("" for None)."""
    if not code:
        return ""
    try:
        option = load_questionnaire(1).field("region").option(code)
    except KeyError:
        option = None
    return option.label(lang) if option else code


def report_region(answers: dict[str, Any]) -> str | None:
    return region_of(answers)


def answer_sections(answers: dict[str, Any], lang: str) -> list[AnswerSection]:
    """The answers (but the narrative) grouped by section, labelled in lang."""
    questionnaire = questionnaire_of(answers)
    known = {REF_KEY, NARRATIVE_FIELD}
    sections = []
    for section in questionnaire.sections:
        rows = []
        for field in section.fields:
            known.update((field.code, field.precision_code))
            if field.code == NARRATIVE_FIELD:
                continue
            values = _values(field, answers, lang)
            if values:
                rows.append(AnswerRow(field.label(lang), values))
        if rows:
            sections.append(AnswerSection(section.label(lang), tuple(rows)))
    unknown = [AnswerRow(code, _plain(answers[code])) for code in answers if code not in known]
    if unknown:
        sections.append(AnswerSection(_("Other answers"), tuple(unknown)))
    return sections


def _values(field: Field, answers: dict[str, Any], lang: str) -> tuple[str, ...]:
    if field.type == "date_precision":
        return _date(field, answers, lang)
    if field.code not in answers:
        return ()
    value = answers[field.code]
    if field.type == "bool":
        return (_("Yes") if value is True else _("No"),)
    if field.type in ("text", "textarea"):
        return _plain(value)
    codes = value if isinstance(value, list) else [value]
    return tuple(_option_label(field, code, lang) for code in codes)


def _date(field: Field, answers: dict[str, Any], lang: str) -> tuple[str, ...]:
    day = answers.get(field.code)
    precision = answers.get(field.precision_code)
    parts = [str(day)] if day else []
    if precision:
        parts.append(_option_label(field, precision, lang))
    return (" · ".join(parts),) if parts else ()


def _option_label(field: Field, code: Any, lang: str) -> str:
    option = field.option(code) if isinstance(code, str) else None
    return option.label(lang) if option else str(code)


def _plain(value: Any) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return (str(value),)
