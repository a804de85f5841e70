"""The source's questionnaire file (portal/questionnaire/v1.json, portal.questionnaire.model)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from portal.questionnaire import (
    LANGUAGES,
    Questionnaire,
    QuestionnaireError,
    load_questionnaire,
    parse_questionnaire,
)

ROOT = Path(__file__).resolve().parents[2]

# The vocabularies (docs/DESIGN.md section 7) the intake form must offer, code for code.
DOMAIN_VOCABULARIES = {
    "violation_types": """refusal_of_services stigma_discrimination confidentiality_breach
        physical_violence psychological_violence economic_violence arbitrary_detention
        harassment_near_services domestic_violence denial_of_justice other""",
    "perpetrator_types": """police other_law_enforcement prison_staff health_worker_public
        health_worker_private social_services other_official judiciary employer landlord
        intimate_partner family neighbours_community client_of_sex_worker unknown_persons
        other unknown""",
    "key_population": """plhiv pwid pwud_non_injecting ost_client sex_worker msm
        transgender_woman transgender_man lgbtiq_other tb_affected hepc prisoner
        former_prisoner migrant partner_of_pwid disability homeless other none prefer_not""",
    "gender": "female male transgender_female transgender_male other prefer_not",
    "age_group": "0-15 16-18 19-35 36-55 56+ prefer_not",
    "place_type": """street police_station_or_vehicle detention clinic_or_hospital
        ost_or_harm_reduction_site home workplace school online_or_phone other""",
    "region": "bishkek osh_city batken chuy issyk_kul jalal_abad naryn osh talas prefer_not",
}


def test_file_loads_with_its_id_and_version(q: Questionnaire) -> None:
    assert (q.id, q.version) == ("react-intake", 1)
    assert load_questionnaire(1) is q


def test_unknown_version_is_refused() -> None:
    with pytest.raises(QuestionnaireError):
        load_questionnaire(99)


def test_every_text_has_english_russian_and_kyrgyz(q: Questionnaire) -> None:
    labelled: list[Any] = [*q.sections, *q.fields]
    labelled += [o for f in q.fields for o in f.options]
    for item in labelled:
        for lang in LANGUAGES:
            assert item.label(lang).strip(), (item.code, lang)
            if item.helps:
                assert item.help(lang).strip(), (item.code, lang)
    for code in q.messages:
        assert all(q.messages[code][lang].strip() for lang in LANGUAGES), code
    # Cyrillic, and actually translated rather than copied from English.
    narrative = q.field("narrative")
    assert narrative.label("ru") != narrative.label("en") != narrative.label("ky")


def test_codes_are_unique(q: Questionnaire) -> None:
    codes = [f.code for f in q.fields] + [q.field("incident_date").precision_code]
    assert len(codes) == len(set(codes))
    for f in q.fields:
        option_codes = [o.code for o in f.options]
        assert len(option_codes) == len(set(option_codes)), f.code


@pytest.mark.parametrize("field_code", sorted(DOMAIN_VOCABULARIES))
def test_domain_vocabulary_is_offered(q: Questionnaire, field_code: str) -> None:
    offered = {o.code for o in q.field(field_code).options}
    assert set(DOMAIN_VOCABULARIES[field_code].split()) <= offered


def test_only_the_narrative_and_storage_consent_are_required(q: Questionnaire) -> None:
    assert {f.code for f in q.fields if f.required} == {"narrative", "store_report"}


def test_sensitive_single_choices_offer_prefer_not(q: Questionnaire) -> None:
    for code in ("gender", "age_group", "place_type", "region"):
        assert q.field(code).option("prefer_not") is not None, code


def test_form_never_asks_for_names_phones_or_location(q: Questionnaire) -> None:
    codes = " ".join(f.code for f in q.fields)
    for word in ("name", "phone", "email", "gps", "address", "latitude"):
        assert word not in codes


def test_region_field_comes_before_the_narrative(q: Questionnaire) -> None:
    codes = [f.code for f in q.fields]
    assert codes.index("region") < codes.index("narrative")


def test_labels_fall_back_to_english(q: Questionnaire) -> None:
    field = q.field("narrative")
    assert field.label("kk") == field.label("en")
    assert field.label("ru-KG") == field.label("ru")


def _raw_file() -> dict[str, Any]:
    path = ROOT / "portal" / "questionnaire" / "v1.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_a_missing_kyrgyz_label_is_refused() -> None:
    data = _raw_file()
    del data["sections"][2]["fields"][1]["label"]["ky"]
    with pytest.raises(QuestionnaireError, match="ky"):
        parse_questionnaire(data)


def test_a_duplicated_field_code_is_refused() -> None:
    data = _raw_file()
    data["sections"][0]["fields"].append(copy.deepcopy(data["sections"][0]["fields"][0]))
    with pytest.raises(QuestionnaireError, match="duplicate"):
        parse_questionnaire(data)


def test_an_unknown_field_type_is_refused() -> None:
    data = _raw_file()
    data["sections"][0]["fields"][0]["type"] = "file"
    with pytest.raises(QuestionnaireError, match="type"):
        parse_questionnaire(data)


def _set(path: tuple[Any, ...], value: Any) -> Any:
    """A mutation of the file: set the item at path (None deletes it)."""

    def mutate(data: dict[str, Any]) -> None:
        *parents, last = path
        target: Any = data
        for key in parents:
            target = target[key]
        if value is None:
            del target[last]
        else:
            target[last] = value

    return mutate


@pytest.mark.parametrize(
    "mutate",
    [
        _set(("version",), "1"),
        _set(("messages", "too_long"), None),
        _set(("sections", 0, "code"), "Consent!"),
        _set(("sections", 1, "fields", 0, "options", 0, "code"), "Self Reported"),
        _set(("sections", 1, "fields", 0, "required"), "no"),
        _set(
            ("sections", 2, "fields", 1, "options"),
            [{"code": "a", "label": {"en": "a", "ru": "а", "ky": "а"}}],
        ),
        _set(("sections", 2, "fields", 1, "max_length"), 10**6),
        _set(("sections", 0, "fields", 0, "max_length"), 5),
        _set(("sections", 3, "fields", 0, "options"), []),
        _set(("sections", 3, "fields", 0, "sublabels"), {}),
        _set(("sections", 1, "fields", 0, "options_from"), "regions"),
        _set(("sections", 1, "fields", 0, "options"), []),
        _set(("sections", 1, "fields", 0, "options", 1), {"code": "self", "label": {"en": "x"}}),
    ],
)
def test_a_malformed_file_is_refused_at_load(mutate: Any) -> None:
    data = _raw_file()
    mutate(data)
    with pytest.raises(QuestionnaireError):
        parse_questionnaire(data)
