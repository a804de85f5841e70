"""The source's questionnaire: the data file, its validator and the form macro."""

from __future__ import annotations

import copy
import json
import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import Environment, FileSystemLoader
from werkzeug.datastructures import MultiDict

from portal.questionnaire import (
    LANGUAGES,
    MAX_MULTI_VALUES,
    Questionnaire,
    QuestionnaireError,
    in_danger,
    load_questionnaire,
    parse_questionnaire,
    region_of,
    validate,
)
from portal.settings import DEFAULT_REGIONS

ROOT = Path(__file__).resolve().parents[2]
REGIONS = list(DEFAULT_REGIONS)
TODAY = date(2025, 6, 15)
PAYLOAD = '<script>alert("x")</script><img src=x onerror=alert(1)>'

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


@pytest.fixture(scope="module")
def q() -> Questionnaire:
    return load_questionnaire()


def check(q: Questionnaire, form: dict[str, Any], lang: str = "en") -> tuple[dict, dict]:
    """Validate form with the two required answers filled in unless form sets them."""
    full = {"store_report": ["yes"], "narrative": ["They took my methadone card."], **form}
    return validate(q, full, REGIONS, lang, today=TODAY)


# The file


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


# Validation


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


# The form macro


@pytest.fixture(scope="module")
def macros() -> Any:
    env = Environment(autoescape=True, loader=FileSystemLoader(str(ROOT / "templates")))
    return env.get_template("portal/_questionnaire.html").module


class _FormParser(HTMLParser):
    """Collects control ids, label targets, and the text inside each field's wrapper."""

    def __init__(self) -> None:
        super().__init__()
        self.control_ids: list[str] = []
        self.label_fors: set[str] = set()
        self.ids: list[str] = []
        self.described_by: list[str] = []
        self.starts: list[tuple[str, dict[str, str | None]]] = []
        self.open_labels = 0
        self.wrapped_controls = 0

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.open_labels -= 1

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.starts.append((tag, attributes))
        if attributes.get("id"):
            self.ids.append(str(attributes["id"]))
        if tag in ("input", "select", "textarea"):
            if self.open_labels:  # labelled by the <label> around it
                self.wrapped_controls += 1
            else:
                self.control_ids.append(str(attributes.get("id")))
        if tag == "label":
            self.open_labels += 1
        if tag == "label" and attributes.get("for"):
            self.label_fors.add(str(attributes["for"]))
        if attributes.get("aria-describedby"):
            self.described_by += str(attributes["aria-describedby"]).split()


def render(
    macros: Any, q: Questionnaire, lang: str = "en", values: Any = None, errors: Any = None
) -> str:
    return str(macros.render_questionnaire(q, lang, values, errors, REGIONS))


def parse(html: str) -> _FormParser:
    parser = _FormParser()
    parser.feed(html)
    return parser


def field_html(html: str, code: str) -> str:
    """The markup of one field's wrapper, up to the next field."""
    start = html.index(f'id="field-{code}"')
    end = html.find('class="field', start + 1)
    return html[start : end if end != -1 else len(html)]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_form_has_no_script_and_no_inline_style(macros: Any, q: Questionnaire, lang: str) -> None:
    html = render(macros, q, lang).lower()
    assert "<script" not in html
    assert " style=" not in html
    assert "javascript:" not in html
    assert not [name for _, attrs in parse(html).starts for name in attrs if name.startswith("on")]


def test_every_control_has_a_label(macros: Any, q: Questionnaire) -> None:
    parser = parse(render(macros, q, "ru"))
    assert parser.control_ids
    assert parser.wrapped_controls > 50
    assert "None" not in parser.control_ids
    assert set(parser.control_ids) <= parser.label_fors
    assert len(parser.ids) == len(set(parser.ids)), "duplicate ids"


def test_help_texts_are_linked_by_aria_describedby(macros: Any, q: Questionnaire) -> None:
    parser = parse(render(macros, q, "ky", errors={"gender": "wrong"}))
    assert "q-narrative-help" in parser.described_by
    assert "q-gender-error" in parser.described_by
    assert set(parser.described_by) <= set(parser.ids)


def test_narrative_comes_first_and_the_region_before_the_folded_sections(
    macros: Any, q: Questionnaire
) -> None:
    html = render(macros, q)
    assert html.index('name="narrative"') < html.index('name="region"') < html.index("<details")
    assert html.index('name="in_danger_now"') < html.index("<details")


def test_consent_is_one_sentence_with_the_other_choices_one_tap_away(
    macros: Any, q: Questionnaire
) -> None:
    html = render(macros, q)
    consent = html[
        html.index('id="section-consent"') : html.index(
            "</section>", html.index('id="section-consent"')
        )
    ]
    assert consent.count('type="checkbox"') == 4
    before_details = consent[: consent.index("<details")]
    assert before_details.count('type="checkbox"') == 1 and 'name="store_report"' in before_details


def test_optional_sections_are_folded_and_open_when_answered_or_wrong(
    macros: Any, q: Questionnaire
) -> None:
    closed = render(macros, q)
    assert "<details" in closed and " open>" not in closed
    depth = deepest = 0
    for tag in re.findall(r"<(/?)fieldset", closed):
        depth += -1 if tag else 1
        deepest = max(deepest, depth)
    assert deepest == 1, "a fieldset inside a fieldset squeezes the text on a phone"
    answered = render(macros, q, "en", MultiDict([("gender", "male")]))
    person = answered[answered.rindex("<details", 0, answered.index('name="gender"')) :]
    assert person.startswith('<details class="section" id="section-person" open>')
    wrong = render(macros, q, "en", None, {"incident_date": "bad"})
    assert '<details class="section" id="section-when_where" open>' in wrong


def test_one_contact_question(macros: Any, q: Questionnaire) -> None:
    html = render(macros, q)
    assert 'name="contact_me"' in html
    assert 'name="follow_up"' not in html


def test_region_select_offers_configured_regions(macros: Any, q: Questionnaire) -> None:
    html = str(macros.render_questionnaire(q, "ru", None, None, ["osh", "new_region"]))
    region = field_html(html, "region")
    assert "Ошская область" in region
    assert 'value="new_region"' in region
    assert 'value="prefer_not"' in region
    assert 'value="bishkek"' not in region


def test_error_appears_next_to_its_field(macros: Any, q: Questionnaire) -> None:
    _, errors = check(q, {"narrative": [""], "gender": ["robot"], "incident_date": ["2099"]}, "ru")
    html = render(macros, q, "ru", errors=errors)
    narrative = field_html(html, "narrative")
    assert 'class="field field-error"' in html
    assert f'class="error" id="q-narrative-error">{q.message("required", "ru")}<' in narrative
    assert q.message("invalid_choice", "ru") in field_html(html, "gender")
    assert q.message("future_date", "ru") in field_html(html, "incident_date")
    assert q.message("invalid_choice", "ru") not in narrative


def test_typed_values_are_kept(macros: Any, q: Questionnaire) -> None:
    form = MultiDict(
        [
            ("narrative", "They came at night."),
            ("store_report", "yes"),
            ("region", "naryn"),
            ("gender", "prefer_not"),
            ("needs", "shelter"),
            ("needs", "medical"),
            ("age_group", "56+"),
            ("incident_date", "2024-03"),
            ("incident_date_precision", "month"),
            ("consequences_other", "lost my phone"),
        ]
    )
    html = render(macros, q, "en", form)
    assert ">\nThey came at night.</textarea>" in html
    assert 'name="store_report" value="yes" checked' in html
    assert '<option value="naryn" selected>' in html
    assert 'value="prefer_not" checked' in field_html(html, "gender")
    assert 'value="shelter" checked' in html and 'value="medical" checked' in html
    assert 'value="legal_aid" checked' not in html
    assert 'value="56+" checked' in html
    assert 'value="2024-03"' in html
    assert 'value="lost my phone"' in html


def test_validated_answers_render_the_same_choices(macros: Any, q: Questionnaire) -> None:
    answers, _ = check(
        q, {"contact_me": ["yes"], "needs": ["shelter"], "follow_up": ["via_portal"]}
    )
    html = render(macros, q, "en", answers)
    assert 'name="contact_me" value="yes" checked' in html
    assert 'name="contact_authorities" value="yes" checked' not in html
    assert 'value="shelter" checked' in html


def test_html_typed_into_the_narrative_comes_back_escaped(macros: Any, q: Questionnaire) -> None:
    html = render(macros, q, "en", {"narrative": [PAYLOAD], "consequences_other": ['"><b>x']})
    assert PAYLOAD not in html
    assert (
        "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    )
    assert 'value="&#34;&gt;&lt;b&gt;x"' in html
    assert "<script" not in html and "<img" not in html
