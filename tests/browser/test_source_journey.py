"""The whole source journey in Russian, in Chromium with JavaScript off.

Each step is photographed at a phone's width (360 px) and a laptop's (1280 px)
into test-artifacts/browser/, and each page is checked with axe-core for
serious or critical accessibility violations.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from admin.client import ApiClient
from admin.sync import sync
from admin.vault import Vault
from crypto.keys import ReviewerKey

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
WIDTHS = (360, 1280)
NARRATIVE = "Меня задержали у пункта ОЗТ и забрали телефон. Свидетели были рядом."
PHOTO = b"\xff\xd8\xff\xe0 not really a photo " * 200
NOTE = "Протокол задержания: номер 17/3.\n".encode() * 50
REPLY = "Здравствуйте! Юрист свяжется с вами через портал. Что было в протоколе?"
FOLLOWUP = "В протоколе написали, что я был пьян. Это неправда."

Step = Callable[[str], None]


def submit(page: Any, action: str) -> None:
    """Press the submit button of the form that posts to action (a path suffix)."""
    page.click(f"form[action$='{action}'] button[type=submit]")


def open_every_section(page: Any) -> None:
    """Unfold every <details> of the form, as a source tapping each heading would."""
    closed = page.locator("form details:not([open]) > summary")
    while closed.count():
        closed.first.click()


def take_codename(page: Any) -> str:
    """Read the codename shown, go on to the check step and type the group it asks."""
    codename = " ".join(page.locator("#codename .group").all_text_contents())
    page.click("a[href$='step=check']")
    number = int(page.get_attribute("#check-group", "data-group"))
    page.fill("input[name=check]", codename.split()[number - 1])
    submit(page, "/codename")
    return codename


def fill_questionnaire(page: Any) -> None:
    """Answer every question a source can, by hand, as a source would."""
    open_every_section(page)
    for name in ("store_report", "contact_me", "anonymised_statistics", "share_with_lawyer"):
        page.check(f"input[name={name}]")
    choices = {
        "reporter_role": ["self"],
        "violation_types": ["arbitrary_detention", "physical_violence"],
        "perpetrator_types": ["police"],
        "place_type": ["police_station_or_vehicle"],
        "key_population": ["pwid", "ost_client"],
        "gender": ["prefer_not"],
        "age_group": ["19-35"],
        "consequences": ["injury", "other"],
        "needs": ["legal_aid", "medical"],
        "already_reported_to": ["nobody"],
    }
    for name, values in choices.items():
        for value in values:
            page.check(f"input[name={name}][value='{value}']")
    page.select_option("select[name=region]", "osh")
    page.fill("textarea[name=narrative]", NARRATIVE)
    page.fill("input[name=incident_date]", "03.2024")
    page.fill("input[name=consequences_other]", "Отказали в выдаче метадона")
    page.set_input_files(
        "#evidence",
        [
            {"name": "фото.jpg", "mimeType": "image/jpeg", "buffer": PHOTO},
            {"name": "протокол.txt", "mimeType": "text/plain", "buffer": NOTE},
        ],
    )


def reviewer_reads_and_replies(
    portal_url: str, reviewer: ReviewerKey, vault: Path, report_id: str
) -> None:
    """Sync, check the answers and both files arrived, and reply."""
    with ApiClient(portal_url, reviewer) as client:
        opened = Vault.open(vault, reviewer)
        assert not sync(opened, client).refused
        answers = opened.answers(report_id)
        assert answers["narrative"] == NARRATIVE
        assert answers["region"] == "osh"
        assert len(opened.files(report_id)) == 2
        envelope, signature = opened.seal_reply(report_id, REPLY)
        client.post_reply(report_id, envelope, signature)


def send_followup(page: Any, report_id: str) -> None:
    """From the status page: a follow-up message with one more file."""
    page.fill(f"#report-{report_id} textarea[name=message]", FOLLOWUP)
    page.set_input_files(
        f"#report-{report_id} input[name=evidence]",
        [{"name": "ещё.txt", "mimeType": "text/plain", "buffer": "дополнение".encode()}],
    )
    submit(page, f"/report/{report_id}/followup")
    page.wait_for_url(re.compile(r"/status\?sent=1"))
    assert "Отправлено и зашифровано при получении." in page.text_content("body")


def take_journey(page: Any, portal_url: str, reviewer: ReviewerKey, vault: Path, step: Step) -> str:
    """Walk the journey, calling step(name) on each page; return the report id."""
    page.goto(portal_url + "/")
    assert page.locator("html").get_attribute("lang") == "ru"
    step("01-landing")

    page.click("a[href='/codename']")
    step("02-codename")
    codename = take_codename(page)
    assert re.fullmatch(r"[0-9]{4}( [0-9]{4}){6}", codename)

    page.wait_for_url(re.compile(r"/report$"))
    fill_questionnaire(page)
    step("03-questionnaire")
    submit(page, "/report")

    page.wait_for_url(re.compile(r"/report/[^/]+/received$"))
    report_id = page.url.rsplit("/", 2)[-2]
    text = page.text_content("main") or page.text_content("body")
    assert "Ваше обращение получено" in text
    assert "Получено 2 файла" in text
    step("04-receipt")

    # The source leaves; a reviewer syncs, reads and replies.
    page.context.clear_cookies()
    reviewer_reads_and_replies(portal_url, reviewer, vault, report_id)

    page.goto(portal_url + "/")
    page.click("a[href='/login']")
    step("05-login")
    page.fill("input[name=codename]", codename.replace(" ", ""))
    submit(page, "/login")
    page.wait_for_url(re.compile(r"/status$"))
    assert REPLY in page.text_content(f"#report-{report_id}")
    step("06-reply")

    send_followup(page, report_id)
    step("07-followup-sent")

    with ApiClient(portal_url, reviewer) as client:
        opened = Vault.open(vault, reviewer)
        assert not sync(opened, client).refused
        texts = [entry.text for entry in opened.conversation(report_id)]
        assert FOLLOWUP in texts and REPLY in texts
        assert len(opened.files(report_id)) == 3
    return report_id


def test_source_journey_in_russian_without_javascript(
    no_js_page: Any, portal_url: str, recipient_key: ReviewerKey, tmp_path: Path
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shots: list[Path] = []

    def photograph(name: str) -> None:
        for width in WIDTHS:
            no_js_page.set_viewport_size({"width": width, "height": 800})
            path = ARTIFACTS / f"{name}-{width}px.png"
            no_js_page.screenshot(path=str(path), full_page=True)
            shots.append(path)
        # A page wider than a phone makes the source scroll sideways.
        no_js_page.set_viewport_size({"width": 360, "height": 800})
        scroll_width = no_js_page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= 360, f"{name} is {scroll_width} px wide on a 360 px phone"

    take_journey(no_js_page, portal_url, recipient_key, tmp_path / "vault", photograph)
    assert len(shots) == 14
    assert all(path.stat().st_size > 1000 for path in shots)


def serious_violations(axe_page: Any, axe_source: str, url: str, html: str) -> list[str]:
    """axe-core's serious and critical findings for html, as served at url."""
    served: list[str] = []
    url = url.split("#")[0]  # the fragment never reaches a route

    def replay(route: Any) -> None:
        served.append(route.request.url)
        route.fulfill(body=html, content_type="text/html")

    def is_page(candidate: str) -> bool:
        return candidate == url

    axe_page.route(is_page, replay)
    try:
        axe_page.goto(url)
        assert served == [url], f"axe would have checked another page than {url}"
        found = axe_page.evaluate(
            """(source) => {
                (0, eval)(source);
                return axe.run(document, {resultTypes: ["violations"]}).then(
                    (r) => r.violations.map((v) => ({
                        id: v.id, impact: v.impact,
                        targets: v.nodes.map((n) => n.target.join(" ")).slice(0, 3),
                    }))
                );
            }""",
            axe_source,
        )
    finally:
        axe_page.unroute(is_page)
    return [
        f"{v['id']} ({v['impact']}) at {v['targets']}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


def test_every_journey_page_has_no_serious_accessibility_violation(
    no_js_page: Any,
    axe_page: Any,
    axe_source: str,
    portal_url: str,
    recipient_key: ReviewerKey,
    tmp_path: Path,
) -> None:
    problems: dict[str, list[str]] = {}

    def check(name: str) -> None:
        for width in WIDTHS:
            axe_page.set_viewport_size({"width": width, "height": 800})
            found = serious_violations(axe_page, axe_source, no_js_page.url, no_js_page.content())
            if found:
                problems[f"{name} at {width}px"] = found

    take_journey(no_js_page, portal_url, recipient_key, tmp_path / "vault", check)
    assert problems == {}
