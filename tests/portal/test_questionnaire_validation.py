"""The questionnaire's validator (portal.questionnaire.validation): answers normalised, errors
in the source's language."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from portal.questionnaire import (
    MAX_MULTI_VALUES,
    Questionnaire,
    in_danger,
    load_questionnaire,
    region_of,
    validate,
)

from .questionnaire_helpers import PAYLOAD, REGIONS, TODAY, check


def test_valid_report_is_normalised(q: Questionnaire) -> None:
    answers, errors = check(
        q,
        {
            "narrative": ["  Police stopped me near the OST site.\r\nThey took my card.  "],
            "violation_types": [
                "physical_violence",
                "harassment_near_services",
                "physical_violence",
            ],
            "region": ["osh"],
            "age_group": ["56+"],
            "incident_date": ["2024-03"],
            "contact_me": ["yes"],
            "csrf_token": ["ignored"],
        },
    )
    assert errors == {}
    assert answers["questionnaire"] == {"id": "react-intake", "version": 1}
    assert answers["narrative"] == "Police stopped me near the OST site.\nThey took my card."
    assert answers["violation_types"] == ["harassment_near_services", "physical_violence"]
    assert answers["region"] == "osh"
    assert answers["age_group"] == "56+"
    assert (answers["incident_date"], answers["incident_date_precision"]) == ("2024-03", "month")
    assert answers["contact_me"] is True and answers["contact_authorities"] is False
    assert "csrf_token" not in answers
    json.dumps(answers)


def test_werkzeug_multidict_is_accepted(q: Questionnaire) -> None:
    form = MultiDict(
        [("store_report", "yes"), ("narrative", "x"), ("needs", "medical"), ("needs", "legal_aid")]
    )
    answers, errors = validate(q, form, REGIONS, "en", today=TODAY)
    assert errors == {}
    assert answers["needs"] == ["legal_aid", "medical"]


def test_missing_narrative_is_an_error_in_the_chosen_language(q: Questionnaire) -> None:
    _, errors_en = check(q, {"narrative": ["   "]}, "en")
    _, errors_ru = check(q, {"narrative": []}, "ru")
    _, errors_ky = check(q, {"narrative": [""]}, "ky")
    assert errors_en["narrative"] == q.message("required", "en")
    assert errors_ru["narrative"] == q.message("required", "ru") != errors_en["narrative"]
    assert errors_ky["narrative"] == q.message("required", "ky") != errors_ru["narrative"]


def test_storage_consent_is_required(q: Questionnaire) -> None:
    answers, errors = check(q, {"store_report": []})
    assert "store_report" in errors
    assert "store_report" not in answers


@pytest.mark.parametrize(
    ("code", "values"),
    [
        ("violation_types", ["physical_violence", "alien_abduction"]),
        ("gender", ["robot"]),
        ("gender", ["male", "female"]),
        ("region", ["tashkent"]),
        ("contact_me", ["maybe"]),
        ("incident_date_precision", ["week"]),
    ],
)
def test_unknown_option_is_an_error_not_dropped(
    q: Questionnaire, code: str, values: list[str]
) -> None:
    answers, errors = check(q, {code: values})
    assert errors == {code: q.message("invalid_choice", "en")}
    assert code not in answers


def test_region_must_be_one_configured_here(q: Questionnaire) -> None:
    form = {"store_report": ["yes"], "narrative": ["x"], "region": ["talas"]}
    _, errors = validate(q, form, ["bishkek", "osh"], "en", today=TODAY)
    assert "region" in errors
    answers, errors = validate(q, {**form, "region": ["prefer_not"]}, ["bishkek"], "en")
    assert errors == {}
    assert region_of(answers) is None


def test_region_of_and_in_danger(q: Questionnaire) -> None:
    answers, _ = check(q, {"region": ["chuy"], "in_danger_now": ["yes"]})
    assert region_of(answers) == "chuy"
    assert in_danger(answers) is True
    answers, _ = check(q, {})
    assert region_of(answers) is None
    assert in_danger(answers) is False


def test_html_in_the_narrative_is_kept_as_plain_text(q: Questionnaire) -> None:
    answers, errors = check(q, {"narrative": [PAYLOAD]})
    assert errors == {}
    assert answers["narrative"] == PAYLOAD


def test_nul_byte_is_refused(q: Questionnaire) -> None:
    answers, errors = check(q, {"narrative": ["before\x00after"], "consequences_other": ["a\x00"]})
    assert errors["narrative"] == q.message("invalid_text", "en")
    assert "consequences_other" in errors
    assert "narrative" not in answers


def test_other_control_characters_are_removed(q: Questionnaire) -> None:
    answers, errors = check(
        q,
        {"narrative": ["line\x1b[31m one\x07\n\tline two\x7f"], "consequences_other": ["a\nb\tc"]},
    )
    assert errors == {}
    assert answers["narrative"] == "line[31m one\n\tline two"
    assert answers["consequences_other"] == "a b c"


def test_too_long_text_is_refused(q: Questionnaire) -> None:
    _, errors = check(q, {"narrative": ["x" * 20001], "consequences_other": ["y" * 501]})
    assert errors["narrative"] == q.message("too_long", "en", max=20000)
    assert "20000" in errors["narrative"]
    assert errors["consequences_other"] == q.message("too_long", "en", max=500)
    _, errors = check(q, {"narrative": ["x" * 20000], "consequences_other": ["y" * 500]})
    assert errors == {}


def test_crlf_counts_as_one_character(q: Questionnaire) -> None:
    answers, errors = check(q, {"narrative": ["a\r\n" * 10000]})
    assert errors == {}
    assert len(answers["narrative"]) == 19999


def test_too_many_values_in_a_multi_field_are_refused(q: Questionnaire) -> None:
    _, errors = check(q, {"needs": ["medical"] * (MAX_MULTI_VALUES + 1)})
    assert "needs" in errors
    _, errors = check(q, {"needs": ["medical"] * MAX_MULTI_VALUES})
    assert errors == {}


@pytest.mark.parametrize(
    ("typed", "precision", "stored"),
    [
        ("2024-03-15", "day", ("2024-03-15", "day")),
        ("2024-03-15", "", ("2024-03-15", "day")),
        ("2024-3-5", "day", ("2024-03-05", "day")),
        ("15.03.2024", "", ("2024-03-15", "day")),
        ("2024-03", "month", ("2024-03", "month")),
        ("03.2024", "month", ("2024-03", "month")),
        ("2024", "year", ("2024", "year")),
        (" 2025-06-15 ", "day", ("2025-06-15", "day")),
    ],
)
def test_dates_with_precision(
    q: Questionnaire, typed: str, precision: str, stored: tuple[str, str]
) -> None:
    answers, errors = check(q, {"incident_date": [typed], "incident_date_precision": [precision]})
    assert errors == {}
    assert (answers["incident_date"], answers["incident_date_precision"]) == stored


def test_unknown_date(q: Questionnaire) -> None:
    answers, errors = check(q, {"incident_date": [""], "incident_date_precision": ["unknown"]})
    assert errors == {}
    assert answers["incident_date_precision"] == "unknown"
    assert "incident_date" not in answers


@pytest.mark.parametrize(
    ("typed", "precision"),
    [
        ("2024-03-15", "month"),
        ("2024-03", "day"),
        ("2024", "month"),
        ("2024", "unknown"),
        ("", "day"),
    ],
)
def test_date_and_precision_must_agree(q: Questionnaire, typed: str, precision: str) -> None:
    _, errors = check(q, {"incident_date": [typed], "incident_date_precision": [precision]}, "ky")
    assert errors == {"incident_date": q.message("precision_mismatch", "ky")}


@pytest.mark.parametrize(
    "typed", ["2024-02-30", "2024-13", "yesterday", "24-03-15", "1812", "٢٠٢٤"]
)
def test_invalid_date_is_refused(q: Questionnaire, typed: str) -> None:
    _, errors = check(q, {"incident_date": [typed]})
    assert errors == {"incident_date": q.message("invalid_date", "en")}


@pytest.mark.parametrize("typed", ["2025-06-17", "2025-07", "2026"])
def test_future_date_is_refused(q: Questionnaire, typed: str) -> None:
    _, errors = check(q, {"incident_date": [typed]})
    assert errors == {"incident_date": q.message("future_date", "en")}


def test_today_and_this_month_are_not_future(q: Questionnaire) -> None:
    for typed in ("2025-06-15", "2025-06-16", "2025-06", "2025"):
        _, errors = check(q, {"incident_date": [typed]})
        assert errors == {}, typed


form_keys = st.sampled_from(
    [
        "narrative",
        "store_report",
        "region",
        "gender",
        "violation_types",
        "incident_date",
        "incident_date_precision",
        "consequences_other",
        "in_danger_now",
        "questionnaire",
    ]
) | st.text(max_size=20)
form_values = st.lists(
    st.text(max_size=40) | st.sampled_from(["yes", "2024-03", "osh", "male", "other", "day", ""]),
    max_size=5,
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(form_keys, form_values, max_size=12), st.sampled_from(["en", "ru", "ky", "xx"])
)
def test_validate_never_raises_on_arbitrary_input(form: dict[str, list[str]], lang: str) -> None:
    q = load_questionnaire()
    answers, errors = validate(q, form, REGIONS, lang)
    json.dumps(answers)
    assert answers["questionnaire"] == {"id": "react-intake", "version": 1}
    assert set(errors) <= {f.code for f in q.fields} | {"incident_date_precision"}
    assert all(isinstance(message, str) and message for message in errors.values())
