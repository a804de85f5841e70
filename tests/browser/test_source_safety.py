"""What a frightened source on a cheap phone meets, in Chromium with JavaScript off at 360 px.

Help in the first screen, a way out that really leaves, a short form, and a
file that survives a fix of another field. With AMANAT_SCREENSHOTS=DIR the
screenshot test writes every source page in ru and ky into DIR
(`make screenshots` fills docs/screenshots/).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from admin.client import ApiClient
from admin.sync import sync
from admin.vault import Vault
from crypto.keys import ReviewerKey

from .test_source_journey import open_every_section, submit, take_codename

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
EXIT = "https://ru.wikipedia.org/"
NARRATIVE = "Меня задержали у пункта ОЗТ и забрали телефон."
VIDEO = bytes(range(256)) * (5 * 4096)  # 5 MiB


@pytest.fixture
def phone(chromium: Any) -> Iterator[Any]:
    """A 360 x 740 page with JavaScript off; the exit site answers locally."""
    context = chromium.new_context(java_script_enabled=False, viewport=PHONE)
    context.set_default_timeout(20_000)
    context.route(
        EXIT + "**", lambda route: route.fulfill(body="elsewhere", content_type="text/html")
    )
    try:
        yield context.new_page()
    finally:
        context.close()


def choose_language(page: Any, portal_url: str, lang: str) -> None:
    page.goto(f"{portal_url}/lang/{lang}?next=/")


def new_source(page: Any, portal_url: str) -> str:
    page.goto(portal_url + "/codename")
    codename = take_codename(page)
    page.wait_for_url(re.compile(r"/report$"))
    return codename


def in_first_screen(page: Any, selector: str) -> bool:
    box = page.locator(selector).first.bounding_box()
    return box is not None and box["y"] + box["height"] <= PHONE["height"]


@pytest.mark.parametrize("lang", ["ru", "ky", "en"])
def test_crisis_help_is_in_the_first_screen_of_the_landing_page_and_the_form(
    phone: Any, portal_url: str, recipient_key: ReviewerKey, lang: str
) -> None:
    choose_language(phone, portal_url, lang)
    assert in_first_screen(phone, ".help-now a.tel"), "landing"
    assert phone.locator(".help-now a.tel").first.get_attribute("href").startswith("tel:")
    new_source(phone, portal_url)
    assert in_first_screen(phone, ".help-now a.tel"), "form"
    assert in_first_screen(phone, ".help-link"), "the help page is one tap away"


@pytest.mark.parametrize("lang", ["ru", "ky"])
def test_form_is_under_6000_px_tall_at_360_px_with_sections_closed(
    phone: Any, portal_url: str, recipient_key: ReviewerKey, lang: str
) -> None:
    choose_language(phone, portal_url, lang)
    new_source(phone, portal_url)
    height = phone.evaluate("document.documentElement.scrollHeight")
    assert height < 6000, f"{lang} form is {height} px tall"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    open_every_section(phone)  # every section is still reachable
    assert phone.locator("input[name=gender]").first.is_visible()


def test_after_leave_quickly_back_and_reload_show_nothing_of_theirs(
    phone: Any, portal_url: str, recipient_key: ReviewerKey
) -> None:
    codename = new_source(phone, portal_url)
    phone.fill("textarea[name=narrative]", NARRATIVE)
    phone.check("input[name=store_report]")
    submit(phone, "/report")
    phone.wait_for_url(re.compile(r"/received$"))
    phone.goto(portal_url + "/status")
    assert "Ваши обращения" in phone.text_content("main")
    phone.click("a.leave")
    phone.wait_for_url(EXIT)
    assert phone.context.cookies() == []
    for move in (phone.go_back, phone.reload):
        move()
        shown = phone.content()
        assert "/login" in phone.url, phone.url
        assert "Ваши обращения" not in shown
        assert codename.split()[0] + "</span>" not in shown and codename not in shown


def test_report_refused_once_keeps_its_5_mb_file_and_the_reviewer_gets_it_once(
    phone: Any, portal_url: str, recipient_key: ReviewerKey, tmp_path: Path
) -> None:
    new_source(phone, portal_url)
    phone.fill("textarea[name=narrative]", NARRATIVE)
    phone.check("input[name=store_report]")
    open_every_section(phone)
    phone.fill("input[name=incident_date]", "31.02.2024")  # no such day: refused by the server
    phone.set_input_files(
        "#evidence", [{"name": "video.mp4", "mimeType": "video/mp4", "buffer": VIDEO}]
    )
    submit(phone, "/report")
    assert "video.mp4 (5,2 МБ)" in phone.text_content("main")
    assert phone.locator("input[name=keep_file]").is_checked()
    phone.fill("input[name=incident_date]", "02.2024")
    submit(phone, "/report")  # nothing attached again
    phone.wait_for_url(re.compile(r"/received$"))
    assert "Получен 1 файл" in phone.text_content("main")
    report_id = phone.url.rsplit("/", 2)[-2]
    with ApiClient(portal_url, recipient_key) as client:
        vault = Vault.open(tmp_path / "vault", recipient_key)
        assert not sync(vault, client).refused
        files = vault.files(report_id)
    assert len(files) == 1


SCREENS = os.environ.get("AMANAT_SCREENSHOTS")


@pytest.mark.skipif(not SCREENS, reason="AMANAT_SCREENSHOTS=DIR is not set (make screenshots)")
@pytest.mark.parametrize("lang", ["ru", "ky"])
def test_screenshots_of_every_source_page(
    phone: Any, portal_url: str, recipient_key: ReviewerKey, lang: str
) -> None:
    out = Path(str(SCREENS))
    out.mkdir(parents=True, exist_ok=True)

    def shot(name: str) -> None:
        phone.screenshot(path=str(out / f"{lang}-{name}.png"), full_page=True)

    def visit(path: str, name: str) -> None:
        phone.goto(portal_url + path)
        shot(name)

    choose_language(phone, portal_url, lang)
    shot("01-landing")
    visit("/help", "02-help")
    visit("/codename", "03-codename")
    phone.click("a[href$='step=check']")
    shot("04-codename-check")
    phone.goto(portal_url + "/codename")
    take_codename(phone)
    phone.wait_for_url(re.compile(r"/report$"))
    shot("05-report-form")
    phone.fill("textarea[name=narrative]", NARRATIVE)
    phone.check("input[name=store_report]")
    phone.check("input[name=in_danger_now]")
    open_every_section(phone)
    phone.fill("input[name=incident_date]", "31.02.2024")
    phone.set_input_files(
        "#evidence", [{"name": "video.mp4", "mimeType": "video/mp4", "buffer": VIDEO}]
    )
    submit(phone, "/report")
    shot("06-report-to-fix")
    phone.fill("input[name=incident_date]", "02.2024")
    submit(phone, "/report")
    phone.wait_for_url(re.compile(r"/received$"))
    shot("07-received")
    visit("/status", "08-status")
    visit("/no-such-page", "09-not-found")
    phone.click("a.leave")
    visit("/login", "10-login")
