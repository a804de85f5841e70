"""Consent next to the console's actions: shown beside each action, asked before acting against."""

from __future__ import annotations

import pytest

from admin.case import case_state
from admin.case_events import load_events
from tests.admin.synced_console import console_over_report
from tests.portal.journey import text_of, token_in

ALL_CONSENTS = {"contact_me": "yes", "share_with_lawyer": "yes", "contact_authorities": "yes"}
POLICE = "«Going to the police, prosecutor or ombudsman»"


def console_for(tmp_path, app, recipient_key, live_server, **answers):
    browser, report_id = console_over_report(
        tmp_path, app, recipient_key, live_server.url, narrative="Случай", **answers
    )
    browser.report_id = report_id
    browser.set_cookie("lang", "en")
    return browser


@pytest.fixture
def refused(tmp_path, app, recipient_key, live_server):
    """A console over a report whose source ticked no consent but keeping it."""
    return console_for(tmp_path, app, recipient_key, live_server)


@pytest.fixture
def agreed(tmp_path, app, recipient_key, live_server):
    """A console over a report whose source agreed to replies, a lawyer and authorities."""
    return console_for(tmp_path, app, recipient_key, live_server, **ALL_CONSENTS)


def post_case(browser, **form):
    url = f"/reports/{browser.report_id}"
    token = token_in(browser.get(url).get_data(as_text=True))
    return browser.post(f"{url}/case", data={"csrf_token": token, **form})


def events(browser):
    return [i.event["type"] for i in load_events(browser.vault, browser.report_id)]


def form_of(page, code):
    return page.split(f'name="event" value="{code}"', 1)[1].split("</form>", 1)[0]


COMPLAINT = {"event": "add_complaint", "institution": "Прокуратура Оша", "day": "2026-11-20"}
POLICE_RESPONSE = {
    "event": "add_response",
    "type": "complaint_to_police_or_prosecutor",
    "mode": "direct",
    "day": "2026-11-21",
}


def test_each_action_shows_the_consent_it_depends_on(refused):
    page = text_of(refused.get(f"/reports/{refused.report_id}"))
    for code in ("add_complaint", "add_response"):
        form = form_of(page, code)
        assert "Going to the police, prosecutor or ombudsman:" in form
        assert "the source did not agree</strong> (on the form)" in form
        assert 'name="against_consent"' in form
    assert "Passing the report to a partner lawyer:" in form_of(page, "add_response")
    reply = page.split('/reply">', 1)[1]
    assert "Replies on the portal:" in reply and 'name="against_consent"' in reply


def test_consents_given_show_as_given_and_ask_nothing(agreed):
    page = text_of(agreed.get(f"/reports/{agreed.report_id}"))
    assert "the source agreed</strong> (on the form)" in form_of(page, "add_complaint")
    assert 'name="against_consent"' not in page


def test_a_complaint_against_consent_is_asked_about_before_it_is_recorded(refused):
    response = post_case(refused, **COMPLAINT)
    assert response.status_code == 303
    assert events(refused) == []
    page = text_of(refused.get(f"/reports/{refused.report_id}"))
    assert f"Nothing was done: the source has not agreed to {POLICE}" in page
    assert post_case(refused, **COMPLAINT, against_consent="yes").status_code == 303
    assert events(refused) == ["add_complaint"]


def test_a_police_response_against_consent_is_asked_about_first(refused):
    post_case(refused, **POLICE_RESPONSE)
    assert events(refused) == []
    post_case(refused, **POLICE_RESPONSE, against_consent="yes")
    assert case_state(refused.vault, refused.report_id)["responses"][0]["type"] == (
        "complaint_to_police_or_prosecutor"
    )


def test_a_response_that_needs_no_consent_is_not_asked_about(refused):
    post_case(refused, event="add_response", type="psychosocial", mode="direct", day="2026-11-21")
    assert events(refused) == ["add_response"]


def test_with_consent_on_the_form_nothing_is_asked(agreed):
    post_case(agreed, **COMPLAINT)
    post_case(agreed, **POLICE_RESPONSE)
    assert events(agreed) == ["add_complaint", "add_response"]


def test_a_consent_logged_later_wins_over_the_form(refused):
    logged = {"event": "add_consent", "action": "contact_authorities", "agreed": "yes"}
    post_case(refused, **logged, day="2026-11-22")
    post_case(refused, **COMPLAINT)
    assert events(refused) == ["add_consent", "add_complaint"]
    page = text_of(refused.get(f"/reports/{refused.report_id}"))
    assert "the source agreed</strong> (consent log, 2026-11-22)" in form_of(page, "add_complaint")


def test_a_reply_against_consent_is_asked_about_before_it_is_sent(refused, live_server):
    url = f"/reports/{refused.report_id}"
    token = token_in(refused.get(url).get_data(as_text=True))
    response = refused.post(f"{url}/reply", data={"csrf_token": token, "text": "Здравствуйте"})
    assert response.status_code == 409
    assert "«Replies on the portal»" in text_of(response)
    assert not [r for r in live_server.requests if r["path"].endswith("/replies")]
    assert refused.vault.conversation(refused.report_id) == []
    response = refused.post(
        f"{url}/reply",
        data={"csrf_token": token, "text": "Здравствуйте", "against_consent": "yes"},
    )
    assert response.status_code == 303
    assert [e.text for e in refused.vault.conversation(refused.report_id)] == ["Здравствуйте"]
