"""The registry of case event types: history sentences in ru, ky and en, and forms that
record nothing without a choice."""

from __future__ import annotations

import html
import re

import pytest

from admin.case_events import HistoryItem, load_events
from admin.case_history import describe
from admin.case_registry import BY_CODE, FORMS, REGISTRY, MissingChoice, form_data
from admin.case_vocab import EVENT_TYPES, SCHEMAS, check_data
from admin.console.app import create_console
from admin.console.case import case_label
from tests.admin.synced_console import console_over_report
from tests.portal.journey import text_of, token_in

COMPLAINT = "c" * 32
SAMPLES = {
    "set_qualification": {"violation": True},
    "add_act": {
        "violation_type": "economic_violence",
        "perpetrator_type": "police",
        "state_role": "perpetrator",
    },
    "set_priority": {"priority": "high"},
    "set_client_code": {"client_code": "KG-0042"},
    "add_response": {"type": "shelter", "mode": "referred", "day": "2026-11-28"},
    "add_complaint": {"institution": "Прокуратура Оша", "day": "2026-11-20"},
    "set_complaint_reply": {"complaint": COMPLAINT, "reply": "Проверка начата"},
    "set_outcome": {"resolution": "resolved_fully", "closed_day": "2026-12-01"},
    "add_consent": {"action": "share_with_lawyer", "agreed": True, "day": "2026-11-29"},
    "set_assignee": {"assignee": "Бакыт"},
    "custody": {"action": "decrypt", "blob_id": "1234567890123456", "sha256": "ab" * 32},
}
LONG_DAY = {"ru": "2 декабря 2026\u202fг.", "ky": "2026-ж., 2-декабрь", "en": "December 2, 2026"}
WHO = "Айгуль (40721…)"


def history_item(kind):
    event = {"id": "e" * 32, "day": "2026-12-02", "type": kind, "data": SAMPLES[kind]}
    return HistoryItem("b1", "verified", "Айгуль", event=event)


@pytest.fixture(scope="module")
def console_app(tmp_path_factory):
    where = tmp_path_factory.mktemp("console")
    return create_console(where / "none.key", where / "vault", None)


def render(console_app, lang, kind):
    with console_app.test_request_context("/", headers={"Cookie": f"lang={lang}"}):
        sentence = describe(history_item(kind), WHO, {COMPLAINT: "Прокуратура Оша"})
        labels = {
            f.name: case_label(f.vocab, SAMPLES[kind][f.name])
            for f in BY_CODE[kind].fields
            if f.kind == "choice" and f.vocab
        }
    return sentence, labels


def test_the_registry_covers_every_event_type_and_its_data():
    assert [spec.code for spec in REGISTRY] == list(EVENT_TYPES)
    for spec in REGISTRY:
        assert [f.name for f in spec.fields] == list(SCHEMAS[spec.code]), spec.code
        check_data(spec.code, SAMPLES[spec.code])


@pytest.mark.parametrize("lang", ["ru", "ky", "en"])
@pytest.mark.parametrize("kind", EVENT_TYPES)
def test_each_event_types_history_reads_as_a_sentence(console_app, lang, kind):
    sentence, labels = render(console_app, lang, kind)
    assert WHO in sentence and LONG_DAY[lang] in sentence
    assert kind not in sentence and "{" not in sentence and "%(" not in sentence
    for field, code in SAMPLES[kind].items():
        if BY_CODE[kind].fields and isinstance(code, str) and "_" in code:
            assert code not in sentence, (field, sentence)  # a label, never the code
    for label in labels.values():
        assert label in sentence
    if lang != "en":
        # Nothing left in English: the only Latin letters are the client code's.
        assert not re.findall(r"[A-Za-z]{3,}", sentence), sentence


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "Priority set to High by Айгуль (40721…) on December 2, 2026"),
        (
            "ru",
            "Приоритет «Высокий» установлен кейс-менеджером Айгуль (40721…) 2 декабря 2026\u202fг.",
        ),
        ("ky", "Артыкчылык «Жогорку» деп коюлду (киргизген: Айгуль (40721…), 2026-ж., 2-декабрь)"),
    ],
)
def test_a_priority_change_reads_as_people_say_it(console_app, lang, expected):
    assert render(console_app, lang, "set_priority")[0] == expected


def test_the_sentence_follows_the_value(console_app):
    item = history_item("add_consent")
    item.event["data"] = {**SAMPLES["add_consent"], "agreed": False}
    with console_app.test_request_context("/", headers={"Cookie": "lang=en"}):
        assert "refused on November 29, 2026" in describe(item, WHO, {})


@pytest.mark.parametrize("spec", FORMS, ids=lambda s: s.code)
def test_form_data_refuses_an_empty_or_unoffered_choice(spec):
    full = {f.name: next(iter(f.options), "x") if f.kind == "choice" else "x" for f in spec.fields}
    for field in (f for f in spec.fields if f.required):
        for value in ("", "not-offered") if field.kind == "choice" else ("", "  "):
            with pytest.raises(MissingChoice) as raised:
                form_data(spec, {**full, field.name: value})
            assert raised.value.field is field


# -- through the console ----------------------------------------------------------


@pytest.fixture
def reviewer(tmp_path, app, recipient_key, live_server):
    """A console unlocked (in Russian) over a vault that synced one report: (browser, id)."""
    browser, report_id = console_over_report(
        tmp_path, app, recipient_key, live_server.url, narrative="Случай"
    )
    browser.set_cookie("lang", "ru")
    return browser, report_id


def events_of(browser, report_id):
    return [i.event for i in load_events(browser.vault, report_id)]


@pytest.mark.parametrize("spec", FORMS, ids=lambda s: s.code)
def test_a_form_posted_without_a_choice_records_nothing(reviewer, spec):
    unlocked, report_id = reviewer
    url = f"/reports/{report_id}"
    token = token_in(unlocked.get(url).get_data(as_text=True))
    before = events_of(unlocked, report_id)
    # Every field sent as the page sends an untouched form: the "—" option, empty inputs.
    response = unlocked.post(
        f"{url}/case",
        data={"csrf_token": token, "event": spec.code, **{f.name: "" for f in spec.fields}},
    )
    assert response.status_code == 303
    assert events_of(unlocked, report_id) == before
    assert "Ничего не записано: сначала выберите" in text_of(unlocked.get(url))


def test_every_case_select_starts_at_a_dash_under_a_visible_label(reviewer):
    unlocked, report_id = reviewer
    page = unlocked.get(f"/reports/{report_id}").get_data(as_text=True)
    forms = re.findall(r'<form class="case-form".*?</form>', page, re.S)
    assert len(forms) == len(FORMS) - 1  # no complaint yet, so no form for its reply
    select = r'<select id="([^"]+)"[^>]*>\s*<option value="([^"]*)"[^>]*>([^<]*)<'
    selects = re.findall(select, page)
    assert len(selects) >= 10
    for select_id, first_value, first_label in selects:
        assert (first_value, first_label) == ("", "—"), select_id
        label = re.search(rf'<label for="{select_id}">([^<]+)</label>', page)
        assert label and html.unescape(label.group(1)).strip(), select_id
    assert " selected>" not in page.split('id="case"', 1)[1].replace('value="" selected>', "")


def test_a_form_with_a_choice_records_it_and_the_history_says_so(reviewer):
    unlocked, report_id = reviewer
    url = f"/reports/{report_id}"
    token = token_in(unlocked.get(url).get_data(as_text=True))
    data = {"csrf_token": token, "event": "set_priority", "priority": "urgent"}
    assert unlocked.post(f"{url}/case", data=data).status_code == 303
    assert [e["data"] for e in events_of(unlocked, report_id)] == [{"priority": "urgent"}]
    page = text_of(unlocked.get(url))
    said = r"Приоритет «Срочный» установлен кейс-менеджером Test reviewer \(\d{5}[\d …]*\) \d"
    assert re.search(said, page)
    history = page.split('class="thread case-history"', 1)[1].split("</ol>", 1)[0]
    assert "set_priority" not in history and "urgent" not in history
