"""The source's questionnaire: a versioned data file, its loader and its validator.

The portal renders the questionnaire with templates/portal/_questionnaire.html
and checks submissions with `validate`; the reviewer console reads the same
codes back out of decrypted answers.
"""

from portal.questionnaire.model import (
    LANGUAGES,
    PREFER_NOT,
    Field,
    FieldType,
    Option,
    Questionnaire,
    QuestionnaireError,
    Section,
    load_questionnaire,
    parse_questionnaire,
)
from portal.questionnaire.validation import MAX_MULTI_VALUES, in_danger, region_of, validate

__all__ = [
    "LANGUAGES",
    "MAX_MULTI_VALUES",
    "PREFER_NOT",
    "Field",
    "FieldType",
    "Option",
    "Questionnaire",
    "QuestionnaireError",
    "Section",
    "in_danger",
    "load_questionnaire",
    "parse_questionnaire",
    "region_of",
    "validate",
]
