"""The triage inbox: danger first, the red mark and the banner, filters, case numbers."""

from __future__ import annotations

import html
import re

import pytest

from admin.client import ApiClient
from admin.console.app import create_console
from admin.sync import sync
from admin.triage import TriageRow, sort_rows
from admin.vault import Vault
from crypto.kdf import MINIMAL
from crypto.keys import write_keyfile
from tests.portal.journey import get_codename, submit_report, token_in

PASSPHRASE = "a long passphrase"
CASE_NUMBER = re.compile(r"<strong>([A-Z]{2,3}-\d{4})</strong>")


def row(report_id: str, created: str, danger: bool = False, responded: bool = False) -> TriageRow:
    return TriageRow(
        report_id=report_id,
        number="",
        status="received",
        read=True,
        created_day=created,
        last_activity=created,
        region=None,
        violation_types=(),
        perpetrator_types=(),
        needs=(),
        danger=danger,
        responded=responded,
        awaiting_reply=False,
        assignee=None,
        priority=None,
    )


@pytest.mark.parametrize("sort", ["activity", "received", "age", "region", "status", "bogus"])
def test_danger_without_a_response_sorts_first_whatever_the_sort(sort):
    rows = [
        row("a", "2026-12-01"),
        row("old-danger", "2026-01-01", danger=True),
        row("b", "2026-11-01"),
        row("answered-danger", "2026-02-01", danger=True, responded=True),
    ]
    ordered = [r.report_id for r in sort_rows(rows, sort)]
    assert ordered[0] == "old-danger"
    # Once a response is recorded the report takes its ordinary place.
    assert ordered.index("answered-danger") > 0 or sort == "age"


def test_sort_by_age_puts_the_oldest_first_after_danger():
    rows = [row("new", "2026-12-01"), row("old", "2026-01-01"), row("mid", "2026-06-01")]
    assert [r.report_id for r in sort_rows(rows, "age")] == ["old", "mid", "new"]
    assert [r.report_id for r in sort_rows(rows, "received")] == ["new", "mid", "old"]


# -- through the real portal and the console -----------------------------------------


@pytest.fixture
def reports(app):
    """Two reports: a calm one from Batken, then one in danger now from Talas asking for shelter."""
    ids = []
    for answers in (
        {"region": "batken", "narrative": "Спокойный случай"},
        {
            "region": "talas",
            "narrative": "Мне угрожают",
            "in_danger_now": "yes",
            "needs": "shelter",
        },
    ):
        client = app.test_client()
        get_codename(client)
        assert submit_report(client, **answers).status_code == 303
    from sqlalchemy import select

    from portal import db
    from portal.models import Report

    with app.app_context():
        for report in db.get_session().scalars(select(Report)):
            ids.append(report.id)
    return ids


@pytest.fixture
def browser(tmp_path, recipient_key, live_server, reports):
    keyfile = tmp_path / "me.key"
    write_keyfile(keyfile, recipient_key, PASSPHRASE, MINIMAL)
    vault = Vault.open(tmp_path / "vault", recipient_key)
    with ApiClient(live_server.url, recipient_key) as client:
        assert not sync(vault, client).refused
    console = create_console(keyfile, tmp_path / "vault", live_server.url)
    console.config["TESTING"] = True
    browser = console.test_client()
    page = browser.get("/").get_data(as_text=True)
    browser.post("/", data={"csrf_token": token_in(page), "passphrase": PASSPHRASE})
    browser.set_cookie("lang", "en")
    browser.console = console
    return browser


def danger_id(browser):
    vault = browser.console.extensions["amanat_console"].keyring._unlocked.vault
    (found,) = [r.id for r in vault.reports() if vault.answers(r.id).get("in_danger_now")]
    return found


def inbox_rows(browser, **args):
    page = browser.get("/inbox", query_string=args).get_data(as_text=True)
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [html.unescape(r) for r in body.split("<tr")[1:]]


@pytest.mark.parametrize("sort", ["activity", "region", "received"])
def test_a_danger_report_sorts_first_with_a_red_mark(browser, sort):
    target = danger_id(browser)
    rows = inbox_rows(browser, sort=sort)
    assert len(rows) == 2
    assert target in rows[0] and "urgent" in rows[0].split(">", 1)[0]
    assert "danger-mark" in rows[0] and "In danger now" in rows[0]
    assert "danger-mark" not in rows[1]


def test_the_danger_filter_shows_only_reports_in_danger(browser):
    target = danger_id(browser)
    rows = inbox_rows(browser, danger="1")
    assert len(rows) == 1 and target in rows[0]


def test_the_report_page_opens_with_a_banner_saying_what_the_source_asked_for(browser):
    page = html.unescape(browser.get(f"/reports/{danger_id(browser)}").get_data(as_text=True))
    banner_at = page.index('class="danger-banner urgent"')
    assert banner_at < page.index("<h1>")
    banner = page[banner_at : page.index("</section>", banner_at)]
    assert "in danger right now" in banner
    assert "They asked for:" in banner and "A safe place to stay" in banner  # "shelter"


def test_a_calm_report_has_no_banner(browser):
    target = danger_id(browser)
    vault = browser.console.extensions["amanat_console"].keyring._unlocked.vault
    (calm,) = [r.id for r in vault.reports() if r.id != target]
    page = browser.get(f"/reports/{calm}").get_data(as_text=True)
    assert "danger-banner" not in page


def test_a_recorded_response_ends_sorting_first_but_keeps_the_mark(browser):
    target = danger_id(browser)
    page = browser.get(f"/reports/{target}").get_data(as_text=True)
    response = browser.post(
        f"/reports/{target}/case",
        data={
            "csrf_token": token_in(page),
            "event": "add_response",
            "type": "shelter",
            "mode": "referred",
            "day": "2026-12-02",
        },
    )
    assert response.status_code == 303
    rows = inbox_rows(browser, sort="region")  # batken before talas
    assert target in rows[1] and "urgent" not in rows[1].split(">", 1)[0]
    assert "was in danger" in rows[1]
    page = html.unescape(browser.get(f"/reports/{target}").get_data(as_text=True))
    assert 'class="danger-banner"' in page and "A response is recorded" in page


def test_inbox_rows_carry_short_case_numbers_that_stay(browser):
    rows = inbox_rows(browser)
    numbers = sorted(m.group(1) for r in rows for m in CASE_NUMBER.finditer(r))
    assert numbers == ["BTK-0001", "TLS-0001"]
    assert sorted(m.group(1) for r in inbox_rows(browser) for m in CASE_NUMBER.finditer(r)) == (
        numbers
    )


def test_a_long_inbox_is_shown_in_pages_danger_first_on_page_one(browser, monkeypatch):
    monkeypatch.setattr("admin.console.inbox.PAGE_ROWS", 1)
    first = browser.get("/inbox").get_data(as_text=True)
    assert "⚠" in first and "/inbox?page=2" in first
    assert "Page 1 of 2 (2 reports)" in first
    second = browser.get("/inbox?page=2").get_data(as_text=True)
    assert "⚠" not in second.split("<table", 1)[1]
    assert "Page 2 of 2" in second and "page=1" in second
    beyond = browser.get("/inbox?page=99").get_data(as_text=True)
    assert "Page 2 of 2" in beyond, "a page past the end shows the last one"
    assert browser.get("/inbox?page=x").status_code == 200
