"""Each vocabulary is stated once, in the questionnaire; the case record and statistics use it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from admin import case_vocab
from admin.case_numbers import REGION_PREFIXES
from admin.stats import vocabulary
from portal.questionnaire import PREFER_NOT, load_questionnaire
from portal.settings import DEFAULT_REGIONS

ROOT = Path(__file__).resolve().parents[2]
QUESTIONNAIRE = load_questionnaire()


def codes(field: str) -> tuple[str, ...]:
    return tuple(option.code for option in QUESTIONNAIRE.field(field).options)


@pytest.mark.parametrize(
    ("ours", "field"),
    [
        (case_vocab.VIOLATION_TYPES, "violation_types"),
        (case_vocab.PERPETRATOR_TYPES, "perpetrator_types"),
        (vocabulary.GENDERS, "gender"),
        (vocabulary.AGE_GROUPS, "age_group"),
        (vocabulary.REGIONS, "region"),
    ],
)
def test_case_and_statistics_vocabularies_are_the_questionnaires(ours, field) -> None:
    assert ours == codes(field)


def test_key_population_priority_ranks_every_population_the_form_offers_once() -> None:
    ranked = vocabulary.KEY_POPULATION_PRIORITY
    assert len(ranked) == len(set(ranked))
    assert set(ranked) == set(codes("key_population"))


def test_default_regions_are_the_questionnaires_and_each_has_a_case_number_prefix() -> None:
    assert tuple(c for c in codes("region") if c != PREFER_NOT) == DEFAULT_REGIONS
    assert set(REGION_PREFIXES) == set(DEFAULT_REGIONS)
    assert len(set(REGION_PREFIXES.values())) == len(REGION_PREFIXES)


# Codes one vocabulary owns; a second copy of any of them is a second place to forget.
OWNED = {"transgender_female", "19-35", "refusal_of_services", "health_worker_public", "pwid"}
ALLOWED = {
    "portal/questionnaire/v1.json",  # the one statement
    "admin/stats/vocabulary.py",  # the counting order of key populations (tested above)
}


def test_no_module_restates_a_questionnaire_vocabulary() -> None:
    found = []
    for path in [*(ROOT / "admin").rglob("*.py"), *(ROOT / "portal").rglob("*.py")]:
        name = path.relative_to(ROOT).as_posix()
        if name in ALLOWED:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value in OWNED:
                found.append(f"{name}:{node.lineno} {node.value!r}")
    assert found == []
