"""The console in a real Chromium at 1280 px, in Russian: the inbox and a report page.

`make screenshots` runs this test with AMANAT_SCREENSHOTS=docs/screenshots
and so regenerates docs/screenshots/console-inbox-ru.png and
console-report-ru.png; without the variable the pictures go to the test's
temporary folder. Either way the pages are checked for what a reviewer
must see at that width: nothing wider than the window, the danger mark and
banner, the case forms with their labels.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from admin.client import ApiClient
from admin.console.app import create_console
from admin.sync import sync
from admin.vault import Vault
from crypto.kdf import MINIMAL
from crypto.keys import write_keyfile
from tests.conftest import served
from tests.portal.journey import get_codename, submit_report

PASSPHRASE = "a long passphrase"
WIDTH = 1280
REPORTS = (
    {"region": "bishkek", "narrative": "Врач отказал в лечении и рассказал соседям о статусе."},
    {
        "region": "osh",
        "narrative": "Меня задержали у пункта ОЗТ, отобрали телефон и требовали деньги.",
        "violation_types": "economic_violence",
        "perpetrator_types": "police",
        "contact_me": "yes",
    },
    {
        "region": "talas",
        "narrative": "Мне угрожают, я боюсь возвращаться домой.",
        "in_danger_now": "yes",
        "needs": "shelter",
        "contact_me": "yes",
    },
)


@pytest.fixture
def console_url(tmp_path, app, recipient_key, portal_url) -> Iterator[str]:
    for answers in REPORTS:
        client = app.test_client()
        get_codename(client)
        assert submit_report(client, **answers).status_code == 303
    vault = Vault.open(tmp_path / "vault", recipient_key)
    with ApiClient(portal_url, recipient_key) as api:
        assert not sync(vault, api).refused
    write_keyfile(tmp_path / "me.key", recipient_key, PASSPHRASE, MINIMAL)
    console = create_console(tmp_path / "me.key", tmp_path / "vault", portal_url)
    with served(console) as url:
        yield url


def shots_dir(tmp_path: Path) -> Path:
    chosen = os.environ.get("AMANAT_SCREENSHOTS")
    where = Path(chosen) if chosen else tmp_path / "screenshots"
    where.mkdir(parents=True, exist_ok=True)
    return where


def test_inbox_and_report_page_at_1280_px_in_russian(chromium, console_url, tmp_path):
    context = chromium.new_context(viewport={"width": WIDTH, "height": 900}, locale="ru-RU")
    context.set_default_timeout(15_000)
    page = context.new_page()
    where = shots_dir(tmp_path)
    try:
        page.goto(console_url + "/")
        page.fill("input[name=passphrase]", PASSPHRASE)
        page.click("form:has(input[name=passphrase]) button[type=submit]")
        page.wait_for_url("**/inbox")
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
        assert page.locator("tbody tr").count() == len(REPORTS)
        page.screenshot(path=str(where / "console-inbox-ru.png"), full_page=True)
        page.locator("tbody tr").first.locator("a").first.click()
        page.wait_for_url("**/reports/*")
        assert "в опасности" in page.inner_text("body")
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
        assert page.locator("form.case-form legend").count() >= 9
        page.screenshot(path=str(where / "console-report-ru.png"), full_page=True)
    finally:
        context.close()
    assert (where / "console-inbox-ru.png").stat().st_size > 10_000
