"""Case events: the fold, forged events, and two reviewers sharing one case through the server."""

from __future__ import annotations

import base64
import hashlib
import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.public import PublicKey

from admin.case import HistoryItem, case_state, empty_state, fold, load_case, submit_event
from admin.client import ApiClient
from admin.console import sync as console_sync
from admin.sync import sync
from admin.vault import Vault
from crypto.envelope import Kind, seal_bytes
from crypto.events import sign_event
from crypto.keys import ReviewerKey
from crypto.roster import Member
from tests.portal.journey import get_codename, only_report_id, submit_report

# -- the fold, without a server ---------------------------------------------------


def event(eid, clock, kind, data, parents=(), author="A"):
    return {
        "v": 1,
        "id": eid,
        "report_id": "r",
        "author": author,
        "author_name": author,
        "day": "2026-11-28",
        "clock": clock,
        "parents": list(parents),
        "type": kind,
        "data": data,
    }


def item(ev, status="verified"):
    return HistoryItem(
        blob_id=f"b{ev['id'][:8]}", status=status, author_name=ev["author"], event=ev
    )


def hexid(n):
    return f"{n:032x}"


SAMPLE = [
    event(hexid(1), 1, "set_priority", {"priority": "normal"}),
    event(hexid(2), 2, "set_qualification", {"violation": True}, [hexid(1)]),
    event(hexid(3), 2, "set_priority", {"priority": "high"}, [hexid(1)], author="B"),
    event(
        hexid(4),
        3,
        "add_act",
        {
            "violation_type": "physical_violence",
            "perpetrator_type": "police",
            "state_role": "perpetrator",
        },
        [hexid(2), hexid(3)],
    ),
    event(
        hexid(5),
        3,
        "add_response",
        {"type": "primary_legal_aid", "mode": "direct", "day": "2026-11-28"},
        [hexid(2)],
        author="B",
    ),
    event(
        hexid(6),
        4,
        "add_complaint",
        {"institution": "Ombudsman", "day": "2026-11-28"},
        [hexid(4), hexid(5)],
    ),
    event(
        hexid(7),
        5,
        "set_complaint_reply",
        {"complaint": hexid(6), "reply": "refused"},
        [hexid(6)],
        author="B",
    ),
    event(hexid(8), 5, "set_outcome", {"resolution": "ongoing", "closed_day": None}, [hexid(6)]),
    event(
        hexid(9),
        6,
        "add_consent",
        {"action": "share_with_lawyer", "agreed": True, "day": "2026-11-28"},
        [hexid(7), hexid(8)],
    ),
    event(hexid(10), 6, "set_priority", {"priority": "urgent"}, [hexid(7), hexid(8)], author="B"),
    event(hexid(11), 6, "set_priority", {"priority": "low"}, [hexid(7), hexid(8)]),
    event(
        hexid(12),
        7,
        "custody",
        {"action": "export", "blob_id": "abc", "sha256": "0" * 64},
        [hexid(9), hexid(10), hexid(11)],
    ),
]


@settings(max_examples=200, deadline=None)
@given(st.permutations(SAMPLE + SAMPLE[:3]), st.data())
def test_fold_gives_the_same_state_for_any_order(events, data):
    expected = fold([item(e) for e in SAMPLE]).state
    rejected = item(event(hexid(99), 9, "set_priority", {"priority": "low"}), status="rejected")
    items = [item(e) for e in events]
    items.insert(data.draw(st.integers(0, len(items))), rejected)
    state = fold(items).state
    assert {k: v for k, v in state.items() if k != "rejected"} == {
        k: v for k, v in expected.items() if k != "rejected"
    }
    assert len(state["rejected"]) == 1


def test_fold_applies_each_kind():
    state = fold([item(e) for e in SAMPLE]).state
    assert state["qualification"] == {"violation": True, "by": "A"}
    assert state["acts"] == [
        {
            "violation_type": "physical_violence",
            "perpetrator_type": "police",
            "state_role": "perpetrator",
        }
    ]
    assert state["responses"] == [
        {"type": "primary_legal_aid", "mode": "direct", "day": "2026-11-28", "by": "B"}
    ]
    assert state["complaints"] == [
        {"institution": "Ombudsman", "day": "2026-11-28", "reply": "refused"}
    ]
    assert state["outcome"] == {"resolution": "ongoing", "closed_day": None}
    assert state["consent"] == [
        {"action": "share_with_lawyer", "agreed": True, "day": "2026-11-28"}
    ]
    # (6, hexid(11)) wins over (6, hexid(10)); neither saw the other: a conflict.
    assert state["priority"] == "low"
    (conflict,) = state["conflicts"]
    assert conflict["field"] == "priority"
    assert conflict["kept"]["value"] == {"priority": "low"} and conflict["kept"]["by"] == "A"
    assert [c["value"] for c in conflict["concurrent"]] == [{"priority": "urgent"}]


def test_an_edit_that_saw_both_values_resolves_the_conflict():
    later = event(hexid(13), 8, "set_priority", {"priority": "high"}, [hexid(12)])
    state = fold([item(e) for e in [*SAMPLE, later]]).state
    assert state["priority"] == "high"
    assert state["conflicts"] == []


def test_empty_case_has_every_key():
    assert (
        fold([]).state
        == empty_state()
        == {
            "qualification": {"violation": None, "by": None},
            "acts": [],
            "priority": None,
            "client_code": None,
            "responses": [],
            "complaints": [],
            "outcome": {"resolution": None, "closed_day": None},
            "consent": [],
            "assignee": None,
            "conflicts": [],
            "rejected": [],
        }
    )


def test_an_event_id_reused_for_other_content_is_rejected():
    twin = event(hexid(1), 1, "set_priority", {"priority": "urgent"}, author="B")
    state = fold([item(SAMPLE[0]), item(twin)]).state
    assert state["priority"] is None
    assert [r["reason"] for r in state["rejected"]] == ["reused event id", "reused event id"]


# -- two reviewers through the real portal -------------------------------------------

FILE_BYTES = b"EVIDENCE " * 1000


def label(vault: Vault) -> str:
    """How the roster names the vault's owner: name and short fingerprint."""
    return Member.from_bundle(vault.key.bundle()).label


@pytest.fixture
def two(tmp_path, app, add_recipient, live_server):
    """Two reviewers of one report, each with a synced vault: (report id, vault A, vault B)."""
    key_a, key_b = add_recipient("Айгуль"), add_recipient("Бакыт")
    client = app.test_client()
    get_codename(client)
    response = submit_report(client, files=[("evidence", "photo.jpg", FILE_BYTES, "image/jpeg")])
    assert response.status_code == 303
    report_id = only_report_id(app)
    vaults = []
    for name, key in (("a", key_a), ("b", key_b)):
        vault = Vault.open(tmp_path / name, key)
        with ApiClient(live_server.url, key) as api:
            assert not sync(vault, api).refused
        vaults.append(vault)
    return report_id, vaults[0], vaults[1]


def api(live_server, vault):
    return ApiClient(live_server.url, vault.key)


def test_two_reviewers_see_each_others_events_after_sync(two, live_server):
    report_id, a, b = two
    with api(live_server, a) as client:
        submit_event(a, client, report_id, "set_qualification", {"violation": True})
    with api(live_server, b) as client:
        submit_event(
            b,
            client,
            report_id,
            "add_response",
            {"type": "psychosocial", "mode": "referred", "day": "2026-11-28"},
        )
    for vault in (a, b):
        with api(live_server, vault) as client:
            assert not sync(vault, client).refused
    state_a, state_b = case_state(a, report_id), case_state(b, report_id)
    assert state_a == state_b
    # Authors are named by the organisation's roster: name and short fingerprint.
    assert state_a["qualification"] == {"violation": True, "by": label(a)}
    assert label(a).startswith("Айгуль (") and state_a["responses"][0]["by"] == label(b)
    assert all(i.status == "verified" for i in load_case(a, report_id).history)


def test_concurrent_priority_edits_show_as_a_conflict(two, live_server):
    report_id, a, b = two
    # Neither has seen the other's edit: both are made before syncing.
    with api(live_server, a) as client:
        submit_event(a, client, report_id, "set_priority", {"priority": "high"})
    with api(live_server, b) as client:
        submit_event(b, client, report_id, "set_priority", {"priority": "urgent"})
    for vault in (a, b):
        with api(live_server, vault) as client:
            sync(vault, client)
    state = case_state(a, report_id)
    assert state == case_state(b, report_id)
    (conflict,) = state["conflicts"]
    values = {conflict["kept"]["value"]["priority"], conflict["concurrent"][0]["value"]["priority"]}
    assert values == {"high", "urgent"}
    assert {conflict["kept"]["by"], conflict["concurrent"][0]["by"]} == {label(a), label(b)}
    # A that now sees both picks one: the conflict is resolved for everyone.
    with api(live_server, a) as client:
        submit_event(a, client, report_id, "set_priority", {"priority": "high"})
    with api(live_server, b) as client:
        sync(b, client)
    assert case_state(b, report_id)["conflicts"] == []
    assert case_state(b, report_id)["priority"] == "high"


def own_event(vault, report_id, **changes):
    body = {
        "v": 1,
        "id": os.urandom(16).hex(),
        "report_id": report_id,
        "author": base64.b64encode(bytes(vault.key.signing.verify_key)).decode(),
        "author_name": vault.key.name,
        "day": "2026-11-28",
        "clock": 1,
        "parents": [],
        "type": "set_priority",
        "data": {"priority": "urgent"},
    }
    body.update(changes)
    return json.dumps(body).encode()


def test_event_for_another_report_is_rejected_and_shown(two, live_server):
    report_id, a, b = two
    envelope, signature = a.seal_event(report_id, own_event(a, "another-report"))
    with api(live_server, a) as client:
        client.post_event(report_id, envelope, signature)  # the server cannot tell
    with api(live_server, b) as client:
        sync(b, client)
    state = case_state(b, report_id)
    assert state["priority"] is None
    (rejected,) = state["rejected"]
    assert rejected["reason"] == "the event belongs to another report"


def test_event_naming_another_author_is_rejected(two, live_server):
    report_id, a, b = two
    b_key = base64.b64encode(bytes(b.key.signing.verify_key)).decode()
    envelope, signature = a.seal_event(report_id, own_event(a, report_id, author=b_key))
    with api(live_server, a) as client:
        client.post_event(report_id, envelope, signature)
    with api(live_server, b) as client:
        sync(b, client)
    state = case_state(b, report_id)
    assert state["priority"] is None
    assert "another author" in state["rejected"][0]["reason"]


def test_altered_signature_is_rejected_and_shown(two, live_server):
    report_id, a, b = two
    with api(live_server, a) as client:
        submit_event(a, client, report_id, "set_priority", {"priority": "urgent"})
    with api(live_server, b) as client:
        sync(b, client)
    (blob,) = b.event_blobs(report_id)
    # As a server (or anyone with the disk) swapping the signature would.
    blob["signature"] = base64.b64encode(
        sign_event(b.key.signing, report_id, hashlib.sha256(b"x").hexdigest())
    ).decode()
    b.add_blob_listing(report_id, blob)
    case = load_case(b, report_id)
    assert case.state["priority"] is None
    (item_,) = case.history
    assert item_.status == "rejected" and item_.reason == "the signature does not verify"


def test_event_by_someone_not_a_reviewer_is_rejected(two):
    report_id, a, b = two
    outsider = Vault.open(a.path.parent / "outsider", ReviewerKey.generate("Чужой"))
    content = own_event(outsider, report_id)
    envelope = seal_bytes(content, [PublicKey(bytes(b.key.box.public_key))], Kind.EVENT)
    digest = hashlib.sha256(envelope).hexdigest()
    blob = {
        "id": "forged0000000000",
        "kind": "event",
        "author": "reviewer",
        "author_key": base64.b64encode(bytes(outsider.key.signing.verify_key)).decode(),
        "size": len(envelope),
        "sha256": digest,
        "receipt": "",
        "signature": base64.b64encode(sign_event(outsider.key.signing, report_id, digest)).decode(),
        "created_day": "2026-11-28",
    }
    b.add_blob_listing(report_id, blob)
    b.store_blob(blob["id"], envelope)
    state = case_state(b, report_id)
    assert state["priority"] is None
    assert (
        state["rejected"][0]["reason"]
        == "signed by a key that is not on your organisation's roster"
    )


def test_events_are_not_sealed_to_the_source(two):
    report_id, a, _ = two
    envelope, _ = a.seal_event(report_id, own_event(a, report_id))
    report = a.report(report_id)
    # One key slot per reviewer (two), none for the source.
    assert envelope[10:12] == (2).to_bytes(2, "big")
    assert report.source_key


def test_event_queued_offline_is_posted_at_the_next_sync(two, live_server):
    report_id, a, b = two
    _, posted = submit_event(a, None, report_id, "set_client_code", {"client_code": "KG-0042"})
    assert not posted
    assert case_state(a, report_id)["client_code"] == "KG-0042"  # shown as queued
    with api(live_server, a) as client:
        assert len(sync(a, client).posted) == 1
    assert a.pending_events() == []
    with api(live_server, b) as client:
        sync(b, client)
    assert case_state(b, report_id)["client_code"] == "KG-0042"


# -- the console's case section ------------------------------------------------------


@pytest.fixture
def console_b(tmp_path, two, live_server):
    """Reviewer B's console, unlocked, over B's synced vault."""
    from admin.console.app import create_console
    from crypto.kdf import MINIMAL
    from crypto.keys import write_keyfile
    from tests.portal.journey import token_in

    _, _, b = two
    keyfile = tmp_path / "b.key"
    write_keyfile(keyfile, b.key, "a long passphrase", MINIMAL)
    app = create_console(keyfile, b.path, live_server.url)
    app.config["TESTING"] = True
    browser = app.test_client()
    token = token_in(browser.get("/").get_data(as_text=True))
    assert (
        browser.post("/", data={"csrf_token": token, "passphrase": "a long passphrase"}).status_code
        == 303
    )
    return browser


def test_console_shows_the_case_conflicts_and_rejected_events(two, live_server, console_b):
    from tests.portal.journey import text_of, token_in

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
    from tests.portal.journey import text_of, token_in

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
    from admin.case import load_case

    (complaint_id,) = load_case(Vault.open(b.path, b.key), report_id).complaint_ids
    reply = {"event": "set_complaint_reply", "complaint": complaint_id, "reply": "Проверка начата"}
    assert console_b.post(f"{url}/case", data={"csrf_token": token, **reply}).status_code == 303
    state = case_state(Vault.open(b.path, b.key), report_id)
    assert state["complaints"][0]["reply"] == "Проверка начата"


def test_console_download_is_written_to_the_custody_log(two, console_b):
    report_id, _, b = two
    (blob,) = [x for x in b.report(report_id).blobs if x["kind"] == "file"]
    from tests.portal.journey import token_in

    token = token_in(console_b.get(f"/reports/{report_id}").get_data(as_text=True))
    response = console_b.post(f"/files/{blob['id']}/download", data={"csrf_token": token})
    assert response.data == FILE_BYTES
    history = load_case(Vault.open(b.path, b.key), report_id).history
    assert [(i.event["type"], i.event["data"]["action"], i.status) for i in history] == [
        ("custody", "decrypt", "verified")
    ]
