"""One report's page: the answers as text, replies both ways, and its status."""

from __future__ import annotations

import base64
import hashlib

from tests.admin.console.pages import REPLY, post_with_token, session_of
from tests.portal.journey import login, text_of


def test_report_page_shows_the_narrative_as_text(unlocked, source):
    _, _, report_id = source
    page = unlocked.get(f"/reports/{report_id}").get_data(as_text=True)
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;\nВторая строка" in page
    assert 'class="narrative"' in page


def test_report_page_labels_answers_in_the_console_language(unlocked, source):
    _, _, report_id = source
    assert "Ошская область" in unlocked.get(f"/reports/{report_id}").get_data(as_text=True)
    unlocked.get("/lang/en?next=/inbox")
    page = unlocked.get(f"/reports/{report_id}").get_data(as_text=True)
    assert "Osh region" in page and "Conversation with the source" in page
    assert '<html lang="en">' in page


def test_report_page_marks_the_report_read(unlocked, console, source):
    _, _, report_id = source
    vault = session_of(console).vault
    assert not vault.report(report_id).read
    unlocked.get(f"/reports/{report_id}")
    assert vault.report(report_id).read


def test_unknown_report_is_not_found(unlocked):
    assert unlocked.get("/reports/nope").status_code == 404


def test_reply_reaches_the_source_and_shows_in_the_conversation(unlocked, app, source):
    _, codename, report_id = source
    url = f"/reports/{report_id}"
    response = post_with_token(unlocked, url, f"{url}/reply", text=REPLY)
    assert response.status_code == 303
    page = unlocked.get(url).get_data(as_text=True)
    assert REPLY in page and "UNVERIFIED" not in page and "НЕ ПРОВЕРЕН" not in page
    other_browser = app.test_client()
    login(other_browser, codename)
    assert REPLY in text_of(other_browser.get("/status"))


def test_an_unverified_reply_is_clearly_marked(unlocked, console, source):
    _, _, report_id = source
    vault = session_of(console).vault
    envelope, _signature = vault.seal_reply(report_id, "FORGED-MARKER")
    own_key = base64.b64encode(bytes(vault.key.signing.verify_key)).decode()
    blob = {
        "id": "forged1",
        "kind": "reply",
        "author": "reviewer",
        "author_key": own_key,
        "size": len(envelope),
        "sha256": hashlib.sha256(envelope).hexdigest(),
        "receipt": "",
        "signature": base64.b64encode(b"\0" * 64).decode(),
        "created_day": "2099-01-01",
    }
    vault.add_blob_listing(report_id, blob)
    vault.store_blob("forged1", envelope)
    page = unlocked.get(f"/reports/{report_id}").get_data(as_text=True)
    assert "FORGED-MARKER" in page
    assert 'class="entry reviewer unverified"' in page
    assert "НЕ ПРОВЕРЕН" in page


def test_status_change_reaches_the_server_and_the_vault(unlocked, console, app, source):
    _, codename, report_id = source
    url = f"/reports/{report_id}"
    response = post_with_token(unlocked, url, f"{url}/status", status="in_review")
    assert response.status_code == 303
    assert session_of(console).vault.report(report_id).status == "in_review"
    other_browser = app.test_client()
    login(other_browser, codename)
    assert "Кейс-менеджер уже занимается вашим обращением" in text_of(other_browser.get("/status"))


def test_an_unknown_status_is_refused(unlocked, console, source):
    _, _, report_id = source
    url = f"/reports/{report_id}"
    post_with_token(unlocked, url, f"{url}/status", status="deleted")
    assert session_of(console).vault.report(report_id).status == "received"
