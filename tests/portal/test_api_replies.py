"""Replies and case events posted through the sync API: signed, sealed, with receipts."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from flask import Flask

from crypto.envelope import Kind, open_bytes
from crypto.events import verify_event
from crypto.keys import ReviewerKey
from crypto.replies import verify_reply
from portal import api
from portal.models import Blob
from portal.store import BlobStore

from .api_client import ApiClient
from .api_helpers import (
    REPLY_TEXT,
    b64,
    check_receipt,
    error_of,
    event_signature,
    new_report,
    no_stray_files,
    post_sealed,
    post_signed,
    reply_signature,
    rows,
    seal_event,
    seal_reply,
    unb64,
)
from .journey import login, text_of

# Replies


def test_reply_reaches_the_source(app: Flask, reviewer: ApiClient) -> None:
    _, codename, report_id = new_report(app)
    (listed,) = reviewer.reports()
    envelope = seal_reply(listed)
    reply = post_signed(reviewer, report_id, "reply", envelope)
    assert reply["kind"] == "reply"
    assert reply["author"] == "reviewer"
    assert reply["author_key"] == b64(bytes(reviewer.key.signing.verify_key))
    assert reply["sha256"] == hashlib.sha256(envelope).hexdigest()
    assert reply["size"] == len(envelope)

    # The source, logging in again later, reads it.
    browser = app.test_client()
    assert login(browser, codename).status_code == 303
    assert REPLY_TEXT in text_of(browser.get("/status"))

    # Other reviewers and the console can check who wrote it and that it arrived.
    (listed,) = reviewer.reports()
    (again,) = [b for b in listed["blobs"] if b["kind"] == "reply"]
    assert again == reply
    verify_reply(
        reviewer.key.signing.verify_key, report_id, reply["sha256"], unb64(reply["signature"])
    )
    check_receipt(reviewer, report_id, "reply", envelope, reply)
    stored = reviewer.get(f"/api/v1/blobs/{reply['id']}").data
    assert open_bytes(stored, reviewer.key.box, Kind.REPLY).content == REPLY_TEXT.encode()


def test_reply_with_forged_signature_is_refused(
    app: Flask, reviewer: ApiClient, add_recipient: Callable[..., ReviewerKey]
) -> None:
    _, _, report_id = new_report(app)
    (listed,) = reviewer.reports()
    envelope = seal_reply(listed)
    other = add_recipient("Other")
    path = f"/api/v1/reports/{report_id}/replies"
    forgeries = [
        reply_signature(other, report_id, envelope),  # another reviewer's key
        reply_signature(reviewer.key, "another-report", envelope),  # another report
        reply_signature(reviewer.key, report_id, envelope + b"x"),  # another envelope
        {api.REPLY_SIGNATURE_HEADER: "not base64!"},
        {},
    ]
    for headers in forgeries:
        assert error_of(reviewer.post_bytes(path, envelope, headers=headers)) == (
            400,
            "bad_request",
        )
    assert rows(app, Blob, kind="reply") == []
    assert no_stray_files(app)


def test_reply_that_is_not_a_reply_envelope_is_refused(app: Flask, reviewer: ApiClient) -> None:
    _, _, report_id = new_report(app)
    (listed,) = reviewer.reports()
    message = seal_reply(listed, kind=Kind.MESSAGE)
    reply = seal_reply(listed)
    bodies = [
        message,  # a source's kind of envelope
        b"PK\x03\x04" + reply,  # not an envelope at all
        reply[:7] + b"\x03" + reply[8:],  # an unknown format version
        b"AMNTENV",  # too short to say its kind
        b"",
    ]
    path = f"/api/v1/reports/{report_id}/replies"
    for body in bodies:
        response = reviewer.post_bytes(
            path, body, headers=reply_signature(reviewer.key, report_id, body)
        )
        assert error_of(response) == (400, "bad_request")
    response = reviewer.open(
        "POST",
        path,
        reply,
        content_type="multipart/form-data; boundary=x",
        headers=reply_signature(reviewer.key, report_id, reply),
    )
    assert error_of(response) == (400, "bad_request")
    assert rows(app, Blob, kind="reply") == []
    assert no_stray_files(app)


def test_reply_over_one_mib_is_413(app: Flask, reviewer: ApiClient) -> None:
    _, _, report_id = new_report(app)
    (listed,) = reviewer.reports()
    envelope = seal_reply(listed, text="x" * (1024**2))
    response = post_sealed(reviewer, report_id, "reply", envelope)
    assert error_of(response) == (413, "too_large")
    assert rows(app, Blob, kind="reply") == []


def test_reply_that_fails_to_store_leaves_no_row_and_no_file(
    app: Flask, reviewer: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, _, report_id = new_report(app)
    (listed,) = reviewer.reports()
    envelope = seal_reply(listed)

    def disk_full(self: object, blob: object) -> None:
        raise OSError("no space left on device")

    monkeypatch.setattr(BlobStore, "commit", disk_full)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = post_sealed(reviewer, report_id, "reply", envelope)
    assert error_of(response) == (500, "internal_error")
    assert rows(app, Blob, kind="reply") == []
    assert no_stray_files(app)


# Case events


def test_case_event_is_stored_with_receipt_and_listed(app: Flask, reviewer: ApiClient) -> None:
    _, codename, report_id = new_report(app)
    (listed,) = reviewer.reports()
    envelope = seal_event(listed)
    stored = post_signed(reviewer, report_id, "event", envelope)
    assert stored["kind"] == "event" and stored["author"] == "reviewer"
    assert stored["sha256"] == hashlib.sha256(envelope).hexdigest()
    verify_event(
        reviewer.key.signing.verify_key, report_id, stored["sha256"], unb64(stored["signature"])
    )
    check_receipt(reviewer, report_id, "event", envelope, stored)
    (again,) = [b for b in reviewer.reports()[0]["blobs"] if b["kind"] == "event"]
    assert again == stored
    other_browser = app.test_client()
    login(other_browser, codename)
    # The source's page lists replies, messages and files only; an event changes nothing there.
    assert other_browser.get("/status").status_code == 200


def test_case_event_needs_an_event_envelope_and_an_event_signature(
    app: Flask, reviewer: ApiClient
) -> None:
    _, _, report_id = new_report(app)
    (listed,) = reviewer.reports()
    envelope = seal_event(listed)
    path = f"/api/v1/reports/{report_id}/events"
    reply = seal_reply(listed)
    attempts = [
        (envelope, reply_signature(reviewer.key, report_id, envelope)),  # a reply's signature
        (reply, event_signature(reviewer.key, report_id, reply)),  # a reply's envelope
        (envelope, event_signature(reviewer.key, "another-report", envelope)),
        (envelope, {}),
    ]
    for body, headers in attempts:
        assert error_of(reviewer.post_bytes(path, body, headers=headers)) == (400, "bad_request")
    assert rows(app, Blob, kind="event") == []
    assert no_stray_files(app)
