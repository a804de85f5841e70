"""The sync API's listings and blob downloads (portal/listing.py, docs/API.md)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable

from flask import Flask
from nacl.signing import VerifyKey

from crypto.keys import ReviewerKey
from crypto.receipts import Receipt, verify_receipt
from portal import db
from portal.models import Report, today

from .api_client import ApiClient
from .api_helpers import b64, error_of, new_report, reply_signature, seal_reply, unb64
from .journey import send_followup


def set_updated_day(app: Flask, report_id: str, day: dt.date) -> None:
    with app.app_context():
        session = db.get_session()
        report = session.get(Report, report_id)
        assert report is not None
        report.updated_day = day
        session.commit()


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
