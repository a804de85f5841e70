"""The questionnaire's form macro (templates/portal/_questionnaire.html)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from jinja2 import Environment, FileSystemLoader
from werkzeug.datastructures import MultiDict

from portal.questionnaire import LANGUAGES, Questionnaire

from .questionnaire_helpers import PAYLOAD, REGIONS, check

ROOT = Path(__file__).resolve().parents[2]


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
