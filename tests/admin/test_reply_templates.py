"""Reply templates per language, kept sealed in the vault."""

from __future__ import annotations

import html

import pytest

from admin.reply_templates import SIDE_NAME, templates
from admin.vault import Vault
from admin.vault_sealed import side_path
from tests.admin.synced_console import console_over_report
from tests.portal.journey import token_in

RU_TEXT = "Здравствуйте! Мы получили ваше сообщение ШАБЛОН-МЕТКА."


@pytest.fixture
def console(tmp_path, app, recipient_key, live_server):
    browser, report_id = console_over_report(
        tmp_path, app, recipient_key, live_server.url, contact_me="yes"
    )
    browser.report_id = report_id
    return browser


def add(browser, **form):
    token = token_in(browser.get("/templates").get_data(as_text=True))
    return browser.post("/templates", data={"csrf_token": token, **form})


def test_a_template_is_kept_sealed_and_offered_in_its_language(console, tmp_path):
    assert add(console, lang="ru", title="Первый ответ", text=RU_TEXT).status_code == 303
    assert add(console, lang="en", title="First answer", text="We received it.").status_code == 303
    assert [
        t.title for t in templates(Vault.open(console.vault.path, console.vault.key), "ru")
    ] == ["Первый ответ"]
    assert side_path(console.vault, SIDE_NAME).is_file()
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert "ШАБЛОН-МЕТКА".encode() not in path.read_bytes(), path
    url = f"/reports/{console.report_id}"
    console.set_cookie("lang", "ru")
    page = html.unescape(console.get(url).get_data(as_text=True))
    assert "Первый ответ" in page and "First answer" not in page
    (ru,) = templates(console.vault, "ru")
    filled = html.unescape(console.get(url, query_string={"template": ru.id}).get_data(True))
    assert f">{RU_TEXT}</textarea>" in filled
    console.set_cookie("lang", "en")
    page = html.unescape(console.get(url).get_data(as_text=True))
    assert "First answer" in page and "Первый ответ" not in page


def test_a_template_without_a_language_or_text_is_refused(console):
    console.set_cookie("lang", "en")
    add(console, lang="", title="x", text="y")
    add(console, lang="ru", title="x", text="  ")
    assert templates(console.vault) == []
    assert "The template was not saved" in console.get("/templates").get_data(as_text=True)


def test_a_template_can_be_deleted(console):
    add(console, lang="ky", title="Салам", text="Билдирүүңүздү алдык.")
    (template,) = templates(console.vault)
    token = token_in(console.get("/templates").get_data(as_text=True))
    response = console.post(f"/templates/{template.id}/delete", data={"csrf_token": token})
    assert response.status_code == 303 and templates(console.vault) == []
