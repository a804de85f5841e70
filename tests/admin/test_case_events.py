"""Case events between two reviewers through the real portal: shared, conflicting, forged."""

from __future__ import annotations

import base64
import hashlib

from nacl.public import PublicKey

from admin.case import case_state, load_case
from admin.case_events import submit_event
from admin.sync import sync
from admin.vault import Vault
from crypto.envelope import Kind, seal_bytes
from crypto.events import sign_event
from crypto.keys import ReviewerKey
from tests.admin.two_reviewers import api, label, own_event


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
