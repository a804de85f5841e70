"""The reviewers' sync API (docs/API.md), driven as the console drives it."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from nacl.public import PublicKey
from nacl.signing import VerifyKey
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from crypto.envelope import Kind, open_bytes, seal_bytes
from crypto.events import sign_event, verify_event
from crypto.keys import ReviewerKey
from crypto.receipts import Receipt, verify_receipt
from crypto.replies import sign_reply, verify_reply
from crypto.requests_auth import NONCE_HEADER, SIGNATURE_HEADER, VERSION_HEADER
from portal import api, api_auth, db
from portal.models import ApiNonce, Blob, Recipient, Report, ReportRecipient, today
from portal.recipients import revoke_recipient
from portal.services import blob_store
from portal.store import BlobStore

from .api_client import ApiClient
from .journey import get_codename, login, send_followup, submit_report, text_of

NOW = 1_900_000_000.0
REPLY_TEXT = "Юрист свяжется с вами в четверг."


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """Set the server's clock: set(t) makes the API believe it is t."""

    def set_clock(value: float) -> None:
        monkeypatch.setattr(api_auth, "clock", lambda: value)

    set_clock(NOW)
    return set_clock


@pytest.fixture
def reviewer(app: Flask, recipient_key: ReviewerKey) -> ApiClient:
    return ApiClient(app.test_client(), recipient_key)


def new_report(app: Flask, files=(), **answers: str) -> tuple[FlaskClient, str, str]:
    """A source's report sent through the portal pages: (their client, codename, report id)."""
    browser = app.test_client()
    codename = get_codename(browser).codename
    response = submit_report(browser, files=files, **answers)
    assert response.status_code == 303, text_of(response)
    report_id = response.headers["Location"].split("/")[-2]
    return browser, codename, report_id


def rows(app: Flask, model: type, **where: object) -> list:
    with app.app_context():
        query = select(model).filter_by(**where)
        return list(db.get_session().scalars(query))


def set_updated_day(app: Flask, report_id: str, day: dt.date) -> None:
    with app.app_context():
        session = db.get_session()
        report = session.get(Report, report_id)
        assert report is not None
        report.updated_day = day
        session.commit()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text)


def seal_reply(listed: dict, text: str = REPLY_TEXT, kind: Kind = Kind.REPLY) -> bytes:
    keys = [PublicKey(unb64(listed["source_key"]))]
    keys += [PublicKey(unb64(r["box_key"])) for r in listed["recipients"]]
    return seal_bytes(text.encode(), keys, kind)


def reply_signature(key: ReviewerKey, report_id: str, envelope: bytes) -> dict[str, str]:
    signature = sign_reply(key.signing, report_id, hashlib.sha256(envelope).hexdigest())
    return {api.REPLY_SIGNATURE_HEADER: b64(signature)}


def error_of(response) -> tuple[int, str]:
    assert response.mimetype == "application/json", response.get_data(as_text=True)
    body = response.get_json()
    assert set(body["error"]) == {"code", "message"}
    return response.status_code, body["error"]["code"]


# Listing and downloading


def test_server_gives_its_receipt_key_and_regions(app: Flask, reviewer: ApiClient) -> None:
    _, _, report_id = new_report(app)
    server = reviewer.get("/api/v1/server").get_json()
    assert server["version"] == 1
    assert "bishkek" in server["regions"]
    (listed,) = reviewer.reports()
    (answers,) = listed["blobs"]
    receipt = Receipt(
        answers["id"], report_id, "answers", answers["size"], answers["sha256"], str(today())
    )
    verify_receipt(VerifyKey(unb64(server["receipt_key"])), receipt, unb64(answers["receipt"]))


def test_reviewer_lists_only_reports_sealed_to_their_key(
    app: Flask, add_recipient: Callable[..., ReviewerKey]
) -> None:
    osh_key, naryn_key = add_recipient("Osh", ["osh"]), add_recipient("Naryn", ["naryn"])
    _, _, osh_report = new_report(app, region="osh")
    _, _, naryn_report = new_report(app, region="naryn")

    (listed,) = ApiClient(app.test_client(), osh_key).reports()
    assert listed["id"] == osh_report
    assert listed["status"] == "received"
    assert listed["created_day"] == listed["updated_day"] == str(today())
    assert [r["verify_key"] for r in listed["recipients"]] == [
        b64(bytes(osh_key.signing.verify_key))
    ]
    (answers,) = listed["blobs"]
    assert answers["kind"] == "answers"
    assert answers["author"] == "source"
    assert answers["author_key"] is None
    assert answers["signature"] is None
    assert [r["id"] for r in ApiClient(app.test_client(), naryn_key).reports()] == [naryn_report]


def test_listing_after_a_day_leaves_out_reports_unchanged_since(
    app: Flask, reviewer: ApiClient
) -> None:
    _, _, old = new_report(app)
    _, _, new = new_report(app)
    set_updated_day(app, old, today() - dt.timedelta(days=3))

    response = reviewer.get(f"/api/v1/reports?after={today()}")
    assert response.get_json()["cursor"] == str(today())
    assert [r["id"] for r in response.get_json()["reports"]] == [new]
    assert {r["id"] for r in reviewer.reports()} == {old, new}
    assert error_of(reviewer.get("/api/v1/reports?after=20261101")) == (400, "bad_request")
    assert error_of(reviewer.get("/api/v1/reports?after=2026-13-01")) == (400, "bad_request")


def test_every_change_brings_the_report_back_in_the_next_sync(
    app: Flask, reviewer: ApiClient
) -> None:
    browser, _, report_id = new_report(app)
    long_ago = today() - dt.timedelta(days=30)
    after = f"/api/v1/reports?after={today()}"

    set_updated_day(app, report_id, long_ago)
    assert send_followup(browser, report_id, "Ещё одна деталь").status_code == 303
    assert [r["id"] for r in reviewer.get(after).get_json()["reports"]] == [report_id]

    set_updated_day(app, report_id, long_ago)
    response = reviewer.put_json(f"/api/v1/reports/{report_id}/status", {"status": "closed"})
    assert response.status_code == 200
    assert [r["id"] for r in reviewer.get(after).get_json()["reports"]] == [report_id]

    set_updated_day(app, report_id, long_ago)
    (listed,) = reviewer.reports()
    envelope = seal_reply(listed)
    path = f"/api/v1/reports/{report_id}/replies"
    headers = reply_signature(reviewer.key, report_id, envelope)
    assert reviewer.post_bytes(path, envelope, headers=headers).status_code == 201
    assert [r["id"] for r in reviewer.get(after).get_json()["reports"]] == [report_id]


def file_blob(app: Flask, reviewer: ApiClient) -> dict:
    new_report(app, files=[("evidence", "photo.jpg", bytes(range(256)) * 400, "image/jpeg")])
    (listed,) = reviewer.reports()
    (blob,) = [b for b in listed["blobs"] if b["kind"] == "file"]
    return blob


def test_blob_download_resumes_with_range(app: Flask, reviewer: ApiClient) -> None:
    blob = file_blob(app, reviewer)
    path = f"/api/v1/blobs/{blob['id']}"
    whole = reviewer.get(path)
    assert whole.status_code == 200
    assert whole.mimetype == "application/octet-stream"
    assert whole.headers["Accept-Ranges"] == "bytes"
    assert len(whole.data) == blob["size"]

    rest = reviewer.get(path, headers={"Range": "bytes=1000-"})
    assert rest.status_code == 206
    assert rest.data == whole.data[1000:]
    assert rest.headers["Content-Range"] == f"bytes 1000-{blob['size'] - 1}/{blob['size']}"


def test_etag_matches_ciphertext_sha256(app: Flask, reviewer: ApiClient) -> None:
    blob = file_blob(app, reviewer)
    path = f"/api/v1/blobs/{blob['id']}"
    response = reviewer.get(path)
    assert hashlib.sha256(response.data).hexdigest() == blob["sha256"]
    assert response.headers["ETag"] == f'"{blob["sha256"]}"'
    unchanged = reviewer.get(path, headers={"If-None-Match": f'"{blob["sha256"]}"'})
    assert unchanged.status_code == 304
    assert unchanged.data == b""


def test_blob_download_shows_a_day_not_a_moment(app: Flask, reviewer: ApiClient) -> None:
    blob = file_blob(app, reviewer)
    modified = reviewer.get(f"/api/v1/blobs/{blob['id']}").last_modified
    assert modified is not None
    assert (modified.hour, modified.minute, modified.second) == (0, 0, 0)


# Authentication


def test_unsigned_request_is_401(app: Flask, reviewer: ApiClient) -> None:
    assert error_of(app.test_client().get("/api/v1/server")) == (401, "unsigned")
    headers = reviewer.headers("GET", "/api/v1/server")
    headers[NONCE_HEADER] = "not hex"
    assert error_of(app.test_client().get("/api/v1/server", headers=headers)) == (401, "unsigned")


def test_unknown_key_is_401(app: Flask, recipient_key: ReviewerKey) -> None:
    stranger = ApiClient(app.test_client(), ReviewerKey.generate("Stranger"))
    assert error_of(stranger.get("/api/v1/reports")) == (401, "unknown_key")


def test_revoked_key_is_401(app: Flask, reviewer: ApiClient) -> None:
    assert reviewer.get("/api/v1/server").status_code == 200
    with app.app_context():
        session = db.get_session()
        revoke_recipient(session, session.scalars(select(Recipient.id)).one())
        session.commit()
    assert error_of(reviewer.get("/api/v1/server")) == (401, "revoked_key")


def test_stale_timestamp_is_401(
    app: Flask, reviewer: ApiClient, fixed_clock: Callable[[float], None]
) -> None:
    for skew in (-300, 300):
        reviewer.now = NOW + skew
        assert reviewer.get("/api/v1/server").status_code == 200
    for skew in (-301, 301):
        reviewer.now = NOW + skew
        assert error_of(reviewer.get("/api/v1/server")) == (401, "stale_timestamp")


def test_bad_signature_is_401(app: Flask, reviewer: ApiClient) -> None:
    # Signed for another path, another body, another method.
    headers = reviewer.headers("GET", "/api/v1/reports")
    assert error_of(reviewer.client.get("/api/v1/server", headers=headers)) == (
        401,
        "bad_signature",
    )
    headers = reviewer.headers("GET", "/api/v1/reports?after=2026-01-01")
    response = reviewer.client.get("/api/v1/reports?after=2020-01-01", headers=headers)
    assert error_of(response) == (401, "bad_signature")
    headers = reviewer.headers("PUT", "/api/v1/reports/x/status", b'{"status": "closed"}')
    response = reviewer.client.put(
        "/api/v1/reports/x/status", data=b'{"status": "in_review"}', headers=headers
    )
    assert error_of(response) == (401, "bad_signature")
    headers = reviewer.headers("GET", "/api/v1/reports/x")
    assert error_of(reviewer.client.delete("/api/v1/reports/x", headers=headers)) == (
        401,
        "bad_signature",
    )


def test_signature_covers_the_query_string_as_sent(app: Flask, reviewer: ApiClient) -> None:
    assert reviewer.get(f"/api/v1/reports?after={today()}").status_code == 200
    assert reviewer.get("/api/v1/reports").status_code == 200
    # The target is signed as sent: a bare "?" makes another one (docs/API.md).
    headers = reviewer.headers("GET", "/api/v1/reports")
    raw = {"RAW_URI": "/api/v1/reports?", "REQUEST_URI": "/api/v1/reports?"}
    response = reviewer.client.get("/api/v1/reports", headers=headers, environ_overrides=raw)
    assert error_of(response) == (401, "bad_signature")


@pytest.mark.parametrize(
    ("signed_for", "sent"),
    [
        ("/api/v1/server", "/api/v1/%73erver"),
        ("/api/v1/%73erver", "/api/v1/server"),
        ("/api/v1/server", "/api/v1/%73%65rver"),
        ("/api/v1/reports?after=2026-01-01", "/api/v1/reports?after=2026%2D01%2D01"),
        ("/api/v1/reports?after=2026%2D01%2D01", "/api/v1/reports?after=2026-01-01"),
        ("/api/v1/reports", "/api/v1/%72eports"),
    ],
)
def test_a_request_signed_for_one_target_is_refused_on_another_spelling(
    app: Flask, reviewer: ApiClient, signed_for: str, sent: str
) -> None:
    headers = reviewer.headers("GET", signed_for)
    assert error_of(reviewer.client.get(sent, headers=headers)) == (401, "bad_signature")


def test_a_percent_encoded_target_verifies_as_sent(app: Flask, reviewer: ApiClient) -> None:
    headers = reviewer.headers("GET", "/api/v1/%73erver")
    assert reviewer.client.get("/api/v1/%73erver", headers=headers).status_code == 200


def test_a_request_signed_for_another_server_is_refused(app: Flask, reviewer: ApiClient) -> None:
    other = b64(bytes(ReviewerKey.generate("Other server").signing.verify_key))
    headers = reviewer.headers("GET", "/api/v1/server", server=other)
    assert error_of(reviewer.client.get("/api/v1/server", headers=headers)) == (
        401,
        "bad_signature",
    )


def test_a_version_1_request_signature_is_refused_with_its_own_code(
    app: Flask, reviewer: ApiClient
) -> None:
    headers = reviewer.headers("GET", "/api/v1/server")
    del headers[VERSION_HEADER]
    assert error_of(reviewer.client.get("/api/v1/server", headers=headers)) == (
        401,
        "old_signature_version",
    )


def test_identity_is_public_and_names_the_receipt_key(app: Flask, reviewer: ApiClient) -> None:
    response = app.test_client().get("/api/v1/identity")
    assert response.status_code == 200
    assert (
        response.get_json()["receipt_key"]
        == reviewer.get("/api/v1/server").get_json()["receipt_key"]
    )


def test_checks_run_in_the_documented_order(
    app: Flask, reviewer: ApiClient, fixed_clock: Callable[[float], None]
) -> None:
    reviewer.now = NOW - 1000
    headers = reviewer.headers("GET", "/api/v1/reports")
    headers[SIGNATURE_HEADER] = b64(bytes(64))
    # Stale and badly signed: the clock is checked first.
    assert error_of(reviewer.client.get("/api/v1/server", headers=headers)) == (
        401,
        "stale_timestamp",
    )
    with app.app_context():
        session = db.get_session()
        revoke_recipient(session, session.scalars(select(Recipient.id)).one())
        session.commit()
    # Revoked, stale and badly signed: revocation first.
    assert error_of(reviewer.client.get("/api/v1/server", headers=headers)) == (
        401,
        "revoked_key",
    )


def test_replayed_nonce_is_401(app: Flask, reviewer: ApiClient) -> None:
    headers = reviewer.headers("GET", "/api/v1/reports")
    assert reviewer.client.get("/api/v1/reports", headers=headers).status_code == 200
    replay = reviewer.client.get("/api/v1/reports", headers=headers)
    assert error_of(replay) == (401, "replayed_nonce")


def test_forged_request_cannot_burn_a_reviewers_nonce(app: Flask, reviewer: ApiClient) -> None:
    headers = reviewer.headers("GET", "/api/v1/reports")
    forged = {**headers, SIGNATURE_HEADER: b64(bytes(64))}
    assert error_of(reviewer.client.get("/api/v1/reports", headers=forged)) == (
        401,
        "bad_signature",
    )
    assert reviewer.client.get("/api/v1/reports", headers=headers).status_code == 200


def test_nonces_are_kept_to_the_end_of_their_day_then_forgotten(
    app: Flask, reviewer: ApiClient, fixed_clock: Callable[[float], None]
) -> None:
    reviewer.now = NOW
    assert reviewer.get("/api/v1/server").status_code == 200
    assert reviewer.get("/api/v1/server").status_code == 200
    fixed_clock(NOW + 601)
    reviewer.now = NOW + 601
    assert reviewer.get("/api/v1/server").status_code == 200
    # Ten minutes on, the same day: kept (only stricter against replays).
    assert len(rows(app, ApiNonce)) == 3
    later = NOW + 2 * 86400
    fixed_clock(later)
    reviewer.now = later
    assert reviewer.get("/api/v1/server").status_code == 200
    (kept,) = rows(app, ApiNonce)
    assert kept.expires_day == dt.datetime.fromtimestamp(later + 600, dt.UTC).date()


# Reading another reviewer's report


def test_report_of_another_reviewer_is_404_not_403(
    app: Flask, add_recipient: Callable[..., ReviewerKey]
) -> None:
    osh_key, naryn_key = add_recipient("Osh", ["osh"]), add_recipient("Naryn", ["naryn"])
    _, _, report_id = new_report(app, region="osh")
    (listed,) = ApiClient(app.test_client(), osh_key).reports()
    (blob,) = listed["blobs"]
    outsider = ApiClient(app.test_client(), naryn_key)
    envelope = seal_reply(listed)

    for target in (report_id, "no-such-report"):
        attempts = [
            outsider.put_json(f"/api/v1/reports/{target}/status", {"status": "closed"}),
            outsider.delete(f"/api/v1/reports/{target}"),
            outsider.post_bytes(
                f"/api/v1/reports/{target}/replies",
                envelope,
                headers=reply_signature(naryn_key, target, envelope),
            ),
        ]
        assert [error_of(r) for r in attempts] == [(404, "not_found")] * 3
    assert error_of(outsider.get(f"/api/v1/blobs/{blob['id']}")) == (404, "not_found")
    assert error_of(outsider.get("/api/v1/blobs/no-such-blob")) == (404, "not_found")
    assert [r.status for r in rows(app, Report)] == ["received"]
    assert len(rows(app, Blob)) == 1


# Replies


def test_reply_reaches_the_source(app: Flask, reviewer: ApiClient) -> None:
    _, codename, report_id = new_report(app)
    (listed,) = reviewer.reports()
    envelope = seal_reply(listed)
    response = reviewer.post_bytes(
        f"/api/v1/reports/{report_id}/replies",
        envelope,
        headers=reply_signature(reviewer.key, report_id, envelope),
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    reply = response.get_json()
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
    server_key = VerifyKey(unb64(reviewer.get("/api/v1/server").get_json()["receipt_key"]))
    receipt = Receipt(reply["id"], report_id, "reply", len(envelope), reply["sha256"], str(today()))
    verify_receipt(server_key, receipt, unb64(reply["receipt"]))
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


def no_stray_files(app: Flask) -> bool:
    """Every file in the blob store belongs to a row, and nothing is left in incoming/."""
    with app.app_context():
        store = blob_store()
        names = {b.storage_name for b in db.get_session().scalars(select(Blob))}
        return {p.name for p in store.root.iterdir()} == names and not any(store.incoming.iterdir())


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
    response = reviewer.post_bytes(
        f"/api/v1/reports/{report_id}/replies",
        envelope,
        headers=reply_signature(reviewer.key, report_id, envelope),
    )
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
    response = reviewer.post_bytes(
        f"/api/v1/reports/{report_id}/replies",
        envelope,
        headers=reply_signature(reviewer.key, report_id, envelope),
    )
    assert error_of(response) == (500, "internal_error")
    assert rows(app, Blob, kind="reply") == []
    assert no_stray_files(app)


# Status and deletion


def test_status_change_is_seen_by_the_source(app: Flask, reviewer: ApiClient) -> None:
    browser, codename, report_id = new_report(app)
    path = f"/api/v1/reports/{report_id}/status"
    response = reviewer.put_json(path, {"status": "in_review"})
    assert response.status_code == 200
    assert response.get_json() == {"id": report_id, "status": "in_review"}

    browser = app.test_client()
    browser.get("/lang/en")
    assert login(browser, codename).status_code == 303
    assert "A case worker is working on it" in text_of(browser.get("/status"))

    for wrong in ({"status": "deleted"}, {"state": "closed"}, ["closed"], "closed"):
        assert error_of(reviewer.put_json(path, wrong)) == (400, "bad_request")
    assert error_of(reviewer.open("PUT", path, b"{not json")) == (400, "bad_request")
    assert [r.status for r in rows(app, Report)] == ["in_review"]


def test_delete_removes_rows_and_blob_files(app: Flask, reviewer: ApiClient) -> None:
    _, _, kept = new_report(app)
    _, _, report_id = new_report(app, files=[("evidence", "a.txt", b"a", "text/plain")])
    (listed,) = [r for r in reviewer.reports() if r["id"] == report_id]
    envelope = seal_reply(listed)
    reviewer.post_bytes(
        f"/api/v1/reports/{report_id}/replies",
        envelope,
        headers=reply_signature(reviewer.key, report_id, envelope),
    )
    blobs = rows(app, Blob, report_id=report_id)
    assert {b.kind for b in blobs} == {"answers", "file", "reply"}
    with app.app_context():
        paths: list[Path] = [blob_store().path_of(b.storage_name) for b in blobs]
    assert all(p.exists() for p in paths)

    response = reviewer.delete(f"/api/v1/reports/{report_id}")
    assert response.status_code == 204
    assert response.data == b""
    assert not any(p.exists() for p in paths)
    assert rows(app, Report, id=report_id) == []
    assert rows(app, Blob, report_id=report_id) == []
    assert rows(app, ReportRecipient, report_id=report_id) == []
    assert [r["id"] for r in reviewer.reports()] == [kept]
    assert no_stray_files(app)
    assert error_of(reviewer.delete(f"/api/v1/reports/{report_id}")) == (404, "not_found")


# Errors and CSRF


def test_api_errors_are_json(
    app: Flask, reviewer: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert error_of(reviewer.get("/api/v1/no-such-thing")) == (404, "not_found")
    assert error_of(app.test_client().get("/api/v1/no-such-thing")) == (404, "not_found")
    wrong_method = reviewer.open("POST", "/api/v1/server")
    assert error_of(wrong_method) == (405, "method_not_allowed")
    assert wrong_method.headers["Allow"]
    assert error_of(app.test_client().get("/api/v1/server")) == (401, "unsigned")

    def database_down(*args: object) -> None:
        raise OperationalError("SELECT", {}, Exception("connection refused"))

    monkeypatch.setattr(api, "list_reports", database_down)
    down = reviewer.get("/api/v1/reports")
    assert error_of(down) == (503, "unavailable")
    assert down.headers["Retry-After"] == "60"

    def broken(*args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(api, "list_reports", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert error_of(reviewer.get("/api/v1/reports")) == (500, "internal_error")

    # The source pages keep their HTML error pages.
    page = app.test_client().get("/no-such-page")
    assert page.status_code == 404
    assert page.mimetype == "text/html"


def test_oversized_json_is_413(app: Flask, reviewer: ApiClient) -> None:
    _, _, report_id = new_report(app)
    body = json.dumps({"status": "closed", "padding": "x" * 1024**2}).encode()
    response = reviewer.open(
        "PUT", f"/api/v1/reports/{report_id}/status", body, content_type="application/json"
    )
    assert error_of(response) == (413, "too_large")
    assert [r.status for r in rows(app, Report)] == ["received"]
    # Exactly 1 MiB is still accepted.
    fits = json.dumps({"status": "closed", "padding": ""}).encode()
    fits = fits.replace(b'""', b'"' + b"x" * (1024**2 - len(fits)) + b'"')
    assert len(fits) == 1024**2
    response = reviewer.open(
        "PUT", f"/api/v1/reports/{report_id}/status", fits, content_type="application/json"
    )
    assert response.status_code == 200


def test_oversized_body_without_length_is_413(app: Flask, reviewer: ApiClient) -> None:
    body = b"x" * (1024**2 + 1)
    headers = reviewer.headers("PUT", "/api/v1/reports/x/status", body)
    response = reviewer.client.put(
        "/api/v1/reports/x/status",
        input_stream=io.BytesIO(body),
        headers={**headers, "Transfer-Encoding": "chunked"},
        # What a server that reads chunked bodies (gunicorn) tells the app.
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert error_of(response) == (413, "too_large")


def test_api_needs_no_csrf_but_source_forms_still_do(app: Flask, reviewer: ApiClient) -> None:
    _, codename, report_id = new_report(app)
    response = reviewer.put_json(f"/api/v1/reports/{report_id}/status", {"status": "closed"})
    assert response.status_code == 200
    # The same kind of request to a source form, without its token, is refused.
    browser = app.test_client()
    refused = browser.post("/login", data={"codename": codename, "website": ""})
    assert refused.status_code == 400
    assert refused.mimetype == "text/html"
    assert "amanat_source" not in (refused.headers.get("Set-Cookie") or "")


# Case events


def seal_event(listed: dict, content: bytes = b'{"v": 1}') -> bytes:
    keys = [PublicKey(unb64(r["box_key"])) for r in listed["recipients"]]
    return seal_bytes(content, keys, Kind.EVENT)


def event_signature(key: ReviewerKey, report_id: str, envelope: bytes) -> dict[str, str]:
    signature = sign_event(key.signing, report_id, hashlib.sha256(envelope).hexdigest())
    return {api.EVENT_SIGNATURE_HEADER: b64(signature)}


def test_case_event_is_stored_with_receipt_and_listed(app: Flask, reviewer: ApiClient) -> None:
    _, codename, report_id = new_report(app)
    (listed,) = reviewer.reports()
    envelope = seal_event(listed)
    response = reviewer.post_bytes(
        f"/api/v1/reports/{report_id}/events",
        envelope,
        headers=event_signature(reviewer.key, report_id, envelope),
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    stored = response.get_json()
    assert stored["kind"] == "event" and stored["author"] == "reviewer"
    assert stored["sha256"] == hashlib.sha256(envelope).hexdigest()
    verify_event(
        reviewer.key.signing.verify_key, report_id, stored["sha256"], unb64(stored["signature"])
    )
    server_key = VerifyKey(unb64(reviewer.get("/api/v1/server").get_json()["receipt_key"]))
    receipt = Receipt(
        stored["id"], report_id, "event", len(envelope), stored["sha256"], str(today())
    )
    verify_receipt(server_key, receipt, unb64(stored["receipt"]))
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
