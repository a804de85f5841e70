"""The source's questionnaire as typed, immutable data, loaded from a versioned file.

The questionnaire is data, not code (docs/DESIGN.md section 5): field and option
codes are stable and are what reports store; labels are translated. The file
is checked when it is loaded, so a translator's slip (a missing Kyrgyz label, a
duplicated code) fails at start-up rather than in front of a source.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from functools import cached_property, lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Any, Final, Literal, cast, get_args

LANGUAGES: Final = ("en", "ru", "ky")
DEFAULT_LANGUAGE: Final = "en"

FieldType = Literal["single", "multi", "select", "text", "textarea", "date_precision", "bool"]
FIELD_TYPES: Final = frozenset(get_args(FieldType))
# Types whose answers are option codes.
CHOICE_TYPES: Final = frozenset({"single", "multi", "select", "date_precision"})
# Longest answer accepted for each free-text type, in characters.
TEXT_LIMITS: Final = MappingProxyType({"text": 500, "textarea": 20000})
DATE_PRECISIONS: Final = ("day", "month", "year", "unknown")
PREFER_NOT: Final = "prefer_not"
# The answers dict records which questionnaire produced it under this key.
ANSWERS_REF_KEY: Final = "questionnaire"
# Messages the validator and the form macro show.
MESSAGE_CODES: Final = (
    "required",
    "too_long",
    "invalid_choice",
    "invalid_date",
    "future_date",
    "precision_mismatch",
    "invalid_text",
    "choose",
    "required_mark",
    "consent_details",
)

_FIELD_CODE = re.compile(r"[a-z][a-z0-9_]*\Z")
_OPTION_CODE = re.compile(r"[a-z0-9][a-z0-9_+-]*\Z")

Translations = Mapping[str, str]


class QuestionnaireError(ValueError):
    """The questionnaire file is missing or malformed."""


def pick_language(lang: str | None) -> str:
    """Return the questionnaire language for lang ("ru", "ru-KG", "ky_KG"), else English."""
    base = (lang or "").replace("_", "-").split("-", 1)[0].lower()
    return base if base in LANGUAGES else DEFAULT_LANGUAGE


def translate(texts: Translations, lang: str | None) -> str:
    """Return the text of texts in lang, falling back to English."""
    return texts.get(pick_language(lang)) or texts[DEFAULT_LANGUAGE]


@dataclass(frozen=True)
class Option:
    """One answer a choice field offers; code is stored, labels are shown."""

    code: str
    labels: Translations
    helps: Translations | None = None

    def label(self, lang: str | None) -> str:
        return translate(self.labels, lang)

    def help(self, lang: str | None) -> str | None:
        return translate(self.helps, lang) if self.helps else None

    @property
    def slug(self) -> str:
        """The code made safe for an HTML id ("56+" becomes "56plus")."""
        return self.code.replace("+", "plus")


@dataclass(frozen=True)
class Field:
    """One question. A date_precision field answers two codes: code and precision_code."""

    code: str
    type: FieldType
    labels: Translations
    helps: Translations | None = None
    required: bool = False
    options: tuple[Option, ...] = ()
    max_length: int | None = None
    # "regions": the offered codes come from configuration at render and
    # validation time; options then only provide labels.
    options_from: str | None = None
    sublabels: Mapping[str, Translations] = dataclass_field(
        default_factory=lambda: MappingProxyType({})
    )

    def label(self, lang: str | None) -> str:
        return translate(self.labels, lang)

    def help(self, lang: str | None) -> str | None:
        return translate(self.helps, lang) if self.helps else None

    def sublabel(self, name: str, lang: str | None) -> str:
        """The label of one part of a compound field ("date", "precision")."""
        return translate(self.sublabels[name], lang)

    @property
    def precision_code(self) -> str:
        return f"{self.code}_precision"

    def option(self, code: str) -> Option | None:
        return next((o for o in self.options if o.code == code), None)

    def choices(self, regions: Sequence[str] = ()) -> tuple[Option, ...]:
        """The options offered, in order; for a configured field, regions then prefer_not.

        A configured code the file has no label for is shown by its code.
        """
        if self.options_from is None:
            return self.options
        codes = [c for c in dict.fromkeys(regions) if c != PREFER_NOT]
        codes.append(PREFER_NOT)
        return tuple(self.option(c) or Option(c, MappingProxyType({"en": c})) for c in codes)


@dataclass(frozen=True)
class Section:
    """A fieldset of the form."""

    code: str
    labels: Translations
    fields: tuple[Field, ...]
    helps: Translations | None = None

    def label(self, lang: str | None) -> str:
        return translate(self.labels, lang)

    def help(self, lang: str | None) -> str | None:
        return translate(self.helps, lang) if self.helps else None


@dataclass(frozen=True)
class Questionnaire:
    """A versioned questionnaire: sections of fields, and the messages shown with them."""

    id: str
    version: int
    sections: tuple[Section, ...] = dataclass_field(repr=False)
    messages: Mapping[str, Translations] = dataclass_field(repr=False)

    @cached_property
    def fields(self) -> tuple[Field, ...]:
        return tuple(f for s in self.sections for f in s.fields)

    def field(self, code: str) -> Field:
        """Return the field with code. Raises KeyError for an unknown code."""
        for f in self.fields:
            if f.code == code:
                return f
        raise KeyError(code)

    @property
    def ref(self) -> dict[str, Any]:
        """What answers record about the questionnaire that produced them."""
        return {"id": self.id, "version": self.version}

    def message(self, code: str, lang: str | None, **params: object) -> str:
        """The message code in lang, with {name} placeholders filled from params."""
        return translate(self.messages[code], lang).format(**params)


def load_questionnaire(version: int = 1) -> Questionnaire:
    """Return questionnaire version, read once from the package (works when installed).

    Raises QuestionnaireError if there is no such version or the file is malformed.
    """
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise QuestionnaireError(f"questionnaire version must be a positive int: {version!r}")
    return _load(version)


@lru_cache(maxsize=8)
def _load(version: int) -> Questionnaire:
    resource = resources.files(__package__ or "portal.questionnaire").joinpath(f"v{version}.json")
    try:
        data = json.loads(resource.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise QuestionnaireError(f"no questionnaire version {version}") from exc
    except ValueError as exc:
        raise QuestionnaireError(f"questionnaire v{version} is not valid JSON: {exc}") from exc
    questionnaire = parse_questionnaire(data)
    if questionnaire.version != version:
        raise QuestionnaireError(f"v{version}.json says version {questionnaire.version}")
    return questionnaire


def parse_questionnaire(data: Any) -> Questionnaire:
    """Build a Questionnaire from decoded JSON. Raises QuestionnaireError if malformed."""
    top = _mapping(data, "questionnaire")
    qid, version = top.get("id"), top.get("version")
    if not isinstance(qid, str) or not qid:
        raise QuestionnaireError("questionnaire: id must be a non-empty string")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise QuestionnaireError("questionnaire: version must be a positive int")
    raw_messages = _mapping(top.get("messages"), "messages")
    missing = [c for c in MESSAGE_CODES if c not in raw_messages]
    if missing:
        raise QuestionnaireError(f"messages: missing {', '.join(missing)}")
    messages = {c: _translations(t, f"messages.{c}") for c, t in raw_messages.items()}
    sections = tuple(_section(s) for s in _list(top.get("sections"), "sections"))
    _check_unique([s.code for s in sections], "section codes")
    codes = [ANSWERS_REF_KEY]
    for f in (f for s in sections for f in s.fields):
        codes += [f.code, f.precision_code] if f.type == "date_precision" else [f.code]
    _check_unique(codes, "field codes")
    return Questionnaire(qid, version, sections, MappingProxyType(messages))


def _section(data: Any) -> Section:
    raw = _mapping(data, "section")
    code = _code(raw.get("code"), _FIELD_CODE, "section")
    where = f"section {code}"
    return Section(
        code=code,
        labels=_translations(raw.get("label"), f"{where}: label"),
        helps=_optional_translations(raw.get("help"), f"{where}: help"),
        fields=tuple(_field(f) for f in _list(raw.get("fields"), f"{where}: fields")),
    )


def _field(data: Any) -> Field:
    raw = _mapping(data, "field")
    code = _code(raw.get("code"), _FIELD_CODE, "field")
    where = f"field {code}"
    if raw.get("type") not in FIELD_TYPES:
        raise QuestionnaireError(f"{where}: unknown type {raw.get('type')!r}")
    ftype = cast(FieldType, raw["type"])
    required = raw.get("required", False)
    if not isinstance(required, bool):
        raise QuestionnaireError(f"{where}: required must be true or false")
    options = tuple(_option(o, where) for o in _list(raw.get("options", []), f"{where}: options"))
    _check_unique([o.code for o in options], f"{where}: option codes")
    options_from = raw.get("options_from")
    if options_from not in (None, "regions") or (options_from and ftype != "select"):
        raise QuestionnaireError(f"{where}: options_from must be 'regions', on a select")
    if ftype in CHOICE_TYPES and not options and options_from is None:
        raise QuestionnaireError(f"{where}: a {ftype} field needs options")
    if ftype not in CHOICE_TYPES and options:
        raise QuestionnaireError(f"{where}: a {ftype} field takes no options")
    sublabels = {
        name: _translations(t, f"{where}: sublabels.{name}")
        for name, t in _mapping(raw.get("sublabels", {}), f"{where}: sublabels").items()
    }
    if ftype == "date_precision":
        if tuple(o.code for o in options) != DATE_PRECISIONS:
            raise QuestionnaireError(f"{where}: options must be {', '.join(DATE_PRECISIONS)}")
        if not {"date", "precision"} <= sublabels.keys():
            raise QuestionnaireError(f"{where}: needs sublabels date and precision")
    return Field(
        code=code,
        type=ftype,
        labels=_translations(raw.get("label"), f"{where}: label"),
        helps=_optional_translations(raw.get("help"), f"{where}: help"),
        required=required,
        options=options,
        max_length=_max_length(raw.get("max_length"), ftype, where),
        options_from=options_from,
        sublabels=MappingProxyType(sublabels),
    )


def _option(data: Any, where: str) -> Option:
    raw = _mapping(data, f"{where}: option")
    code = _code(raw.get("code"), _OPTION_CODE, f"{where}: option")
    return Option(
        code=code,
        labels=_translations(raw.get("label"), f"{where}: option {code}: label"),
        helps=_optional_translations(raw.get("help"), f"{where}: option {code}: help"),
    )


def _max_length(value: Any, ftype: str, where: str) -> int | None:
    limit = TEXT_LIMITS.get(ftype)
    if limit is None:
        if value is not None:
            raise QuestionnaireError(f"{where}: max_length only applies to text fields")
        return None
    if value is None:
        return limit
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= limit:
        raise QuestionnaireError(f"{where}: max_length must be 1..{limit}")
    return value


def _translations(data: Any, where: str) -> Translations:
    raw = _mapping(data, where)
    for lang in LANGUAGES:
        text = raw.get(lang)
        if not isinstance(text, str) or not text.strip():
            raise QuestionnaireError(f"{where}: missing the {lang!r} text")
    if not all(isinstance(t, str) for t in raw.values()):
        raise QuestionnaireError(f"{where}: texts must be strings")
    return MappingProxyType(dict(raw))


def _optional_translations(data: Any, where: str) -> Translations | None:
    return None if data is None else _translations(data, where)


def _code(value: Any, pattern: re.Pattern[str], where: str) -> str:
    if not isinstance(value, str) or not pattern.match(value):
        raise QuestionnaireError(f"{where}: bad code {value!r}")
    return value


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise QuestionnaireError(f"{where}: expected an object")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise QuestionnaireError(f"{where}: expected a list")
    return value


def _check_unique(codes: Iterable[str], what: str) -> None:
    dupes = sorted(code for code, count in Counter(codes).items() if count > 1)
    if dupes:
        raise QuestionnaireError(f"duplicate {what}: {', '.join(dupes)}")
