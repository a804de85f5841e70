"""Search over decrypted text, with the index only sealed in the vault; assigning a case."""

from __future__ import annotations

import html

import pytest

from admin.case import case_state
from admin.search_index import SIDE_NAME, SearchIndex
from admin.vault import Vault
from admin.vault_sealed import side_path
from tests.admin.synced_console import synced_console
from tests.portal.journey import get_codename, submit_report, token_in

NARRATIVES = {
    "osh": "Меня задержали у пункта ОЗТ, ОТОБРАЛИ телефон",
    "talas": "Врач отказал в лечении и рассказал соседям",
}


@pytest.fixture
def console(tmp_path, app, recipient_key, live_server):
    for region, narrative in NARRATIVES.items():
        client = app.test_client()
        get_codename(client)
        assert submit_report(client, region=region, narrative=narrative).status_code == 303
    return synced_console(tmp_path, recipient_key, live_server.url)


def regions_found(browser, query):
    page = html.unescape(browser.get("/inbox", query_string={"q": query}).get_data(as_text=True))
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in page else ""
    vault = browser.vault
    return {region_of(vault, r.id) for r in vault.reports() if f"/reports/{r.id}" in body}


def region_of(vault, report_id):
    return vault.answers(report_id).get("region")


def test_search_finds_a_word_of_a_narrative(console):
    assert regions_found(console, "отобрали") == {"osh"}
    assert regions_found(console, "ЗАДЕРЖ") == {"osh"}  # the start of a word, any case
    assert regions_found(console, "врач соседям") == {"talas"}  # every word must match
    assert regions_found(console, "врач телефон") == set()
    assert regions_found(console, "") == {"osh", "talas"}


def test_the_index_holds_no_plaintext_on_disk(console, tmp_path):
    assert regions_found(console, "телефон") == {"osh"}
    sealed = side_path(console.vault, SIDE_NAME)
    assert sealed.is_file()
    for word in ("отобрали", "телефон", "соседям", "врач"):
        for lower in (word, word.upper()):
            for path in tmp_path.rglob("*"):
                if path.is_file():
                    assert lower.encode() not in path.read_bytes(), path
    # It opens only with the key, and holds what the search used.
    index = SearchIndex.load(Vault.open(console.vault.path, console.vault.key))
    assert len(index.entries) == 2 and index.search("отобрали")


def test_a_case_is_assigned_to_a_case_worker_as_an_event(console):
    vault = console.vault
    report_id = next(r.id for r in vault.reports() if region_of(vault, r.id) == "talas")
    url = f"/reports/{report_id}"
    token = token_in(console.get(url).get_data(as_text=True))
    form = {"csrf_token": token, "event": "set_assignee", "assignee": vault.key.name}
    assert console.post(f"{url}/case", data=form).status_code == 303
    assert case_state(vault, report_id)["assignee"] == vault.key.name
    console.set_cookie("lang", "en")
    page = html.unescape(console.get(url).get_data(as_text=True))
    assert f"Case assigned to {vault.key.name} by {vault.key.name}" in page
    inbox = html.unescape(console.get("/inbox").get_data(as_text=True))
    row = next(r for r in inbox.split("<tr")[1:] if f"/reports/{report_id}" in r)
    assert f"<td>{vault.key.name}</td>" in row
