"""The console's case section: the case, its conflicts and rejected events, forms, custody."""

from __future__ import annotations

from admin.case import case_state, load_case
from admin.case_events import submit_event
from admin.console import sync as console_sync
from admin.vault import Vault
from tests.admin.two_reviewers import FILE_BYTES, api, own_event
from tests.portal.journey import text_of, token_in


def test_console_shows_the_case_conflicts_and_rejected_events(two, live_server, console_b):
    report_id, a, b = two
    with api(live_server, a) as client:
        submit_event(a, client, report_id, "set_priority", {"priority": "high"})
        envelope, signature = a.seal_event(report_id, own_event(a, "another-report"))
        client.post_event(report_id, envelope, signature)
    url = f"/reports/{report_id}"
    token = token_in(console_b.get(url).get_data(as_text=True))
    # B sets the priority without having synced A's edit: a conflict once both are known.
    response = console_b.post(
        f"{url}/case", data={"csrf_token": token, "event": "set_priority", "priority": "urgent"}
    )
    assert response.status_code == 303
    console_b.post(
        f"{url}/case",
        data={
            "csrf_token": token,
            "event": "add_response",
            "type": "shelter",
            "mode": "referred",
            "day": "2026-11-28",
        },
    )
    console_b.post("/sync", data={"csrf_token": token})
    console_sync.wait(console_b.application.extensions["amanat_console"].keyring._unlocked)
    page = text_of(console_b.get(url))
    assert "Concurrent edits of priority" in page or "Одновременные изменения поля priority" in page
    assert "Убежище · Перенаправлено · 2026-11-28 · Бакыт" in page  # labels, not codes
    assert "the event belongs to another report" in page
    state = case_state(Vault.open(b.path, b.key), report_id)  # the folder, read afresh
    assert state["responses"][0]["type"] == "shelter"


def test_console_records_acts_client_code_and_complaints_with_labels(two, console_b):
    report_id, _, b = two
    url = f"/reports/{report_id}"
    token = token_in(console_b.get(url).get_data(as_text=True))
    forms = [
        {
            "event": "add_act",
            "violation_type": "economic_violence",
            "perpetrator_type": "police",
            "state_role": "perpetrator",
        },
        {"event": "set_client_code", "client_code": "KG-0042"},
        # The source did not agree to going to authorities: the reviewer confirms acting anyway.
        {
            "event": "add_complaint",
            "institution": "Прокуратура Оша",
            "day": "2026-11-20",
            "against_consent": "yes",
        },
    ]
    for form in forms:
        assert console_b.post(f"{url}/case", data={"csrf_token": token, **form}).status_code == 303
    page = text_of(console_b.get(url))
    state = case_state(Vault.open(b.path, b.key), report_id)
    assert state["acts"] == [
        {
            "violation_type": "economic_violence",
            "perpetrator_type": "police",
            "state_role": "perpetrator",
        }
    ]
    assert state["client_code"] == "KG-0042"
    assert state["complaints"][0]["institution"] == "Прокуратура Оша"
    assert "KG-0042" in page and "Прокуратура Оша · 2026-11-20" in page
    assert "economic_violence ·" not in page  # shown with its translated label
    (complaint_id,) = load_case(Vault.open(b.path, b.key), report_id).complaint_ids
    reply = {"event": "set_complaint_reply", "complaint": complaint_id, "reply": "Проверка начата"}
    assert console_b.post(f"{url}/case", data={"csrf_token": token, **reply}).status_code == 303
    state = case_state(Vault.open(b.path, b.key), report_id)
    assert state["complaints"][0]["reply"] == "Проверка начата"


def test_console_download_is_written_to_the_custody_log(two, console_b):
    report_id, _, b = two
    (blob,) = [x for x in b.report(report_id).blobs if x["kind"] == "file"]
    token = token_in(console_b.get(f"/reports/{report_id}").get_data(as_text=True))
    response = console_b.post(f"/files/{blob['id']}/download", data={"csrf_token": token})
    assert response.data == FILE_BYTES
    history = load_case(Vault.open(b.path, b.key), report_id).history
    assert [(i.event["type"], i.event["data"]["action"], i.status) for i in history] == [
        ("custody", "decrypt", "verified")
    ]
