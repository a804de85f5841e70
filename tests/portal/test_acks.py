"""Retention counts signed acknowledgements only: what the server sees of a download never does."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from sqlalchemy import select

from crypto.keys import ReviewerKey
from portal import db
from portal.models import BlobAck, today
from portal.retention import purge
from portal.services import blob_store
from tests.portal.api_client import ApiClient
from tests.portal.api_helpers import post_acks, signed_ack


def _blobs(client, key: ReviewerKey) -> list[dict]:
    return [b for r in ApiClient(client, key).reports() for b in r["blobs"]]


def _due_after(app: Flask, days: int) -> int:
    with app.app_context():
        return purge(db.get_session(), blob_store(), 30, on=today() + dt.timedelta(days)).reports


def test_a_head_request_does_not_make_a_report_due(app, client, recipient_key, report_id):
    for blob in _blobs(client, recipient_key):
        assert (
            ApiClient(client, recipient_key).open("HEAD", f"/api/v1/blobs/{blob['id']}").status_code
            == 200
        )
    assert _due_after(app, 365) == 0


def test_a_last_byte_range_does_not_make_a_report_due(app, client, recipient_key, report_id):
    for blob in _blobs(client, recipient_key):
        last = f"bytes={blob['size'] - 1}-"
        response = ApiClient(client, recipient_key).get(
            f"/api/v1/blobs/{blob['id']}", headers={"Range": last}
        )
        assert response.status_code == 206 and len(response.data) == 1
    assert _due_after(app, 365) == 0


def test_a_dropped_get_does_not_make_a_report_due(app, client, recipient_key, report_id):
    api = ApiClient(client, recipient_key)
    for blob in _blobs(client, recipient_key):
        path = f"/api/v1/blobs/{blob['id']}"
        response = client.get(path, headers=api.headers("GET", path), buffered=False)
        assert response.status_code == 200
        next(response.response)  # the first chunk, then the connection drops
        response.close()
    assert _due_after(app, 365) == 0


def test_a_full_download_without_an_ack_does_not_make_a_report_due(
    app, client, recipient_key, report_id
):
    for blob in _blobs(client, recipient_key):
        assert (
            ApiClient(client, recipient_key).get(f"/api/v1/blobs/{blob['id']}").status_code == 200
        )
    assert _due_after(app, 365) == 0


def test_a_signed_ack_of_every_blob_makes_a_report_due(app, client, recipient_key, report_id):
    blobs = _blobs(client, recipient_key)
    response = post_acks(client, recipient_key, [signed_ack(b, recipient_key) for b in blobs])
    assert response.status_code == 200
    assert sorted(response.get_json()["acknowledged"]) == sorted(b["id"] for b in blobs)
    assert _due_after(app, 29) == 0
    assert _due_after(app, 30) == 1


def test_an_ack_of_some_blobs_does_not_make_a_report_due(app, client, recipient_key, report_id):
    first, *_ = _blobs(client, recipient_key)
    assert post_acks(client, recipient_key, [signed_ack(first, recipient_key)]).status_code == 200
    assert _due_after(app, 365) == 0


def test_an_ack_with_another_sha256_is_refused(app, client, recipient_key, report_id):
    blob = _blobs(client, recipient_key)[0]
    answer = post_acks(
        client, recipient_key, [signed_ack(blob, recipient_key, sha256="0" * 64)]
    ).get_json()
    assert answer["acknowledged"] == []
    assert answer["refused"] == [
        {"blob": blob["id"], "reason": "the SHA-256 is not the one the receipt signed"}
    ]


def test_an_ack_signed_by_another_key_is_refused(
    app, client, recipient_key, add_recipient, report_id
):
    blob = _blobs(client, recipient_key)[0]
    stranger = ReviewerKey.generate("Stranger")
    answer = post_acks(client, recipient_key, [signed_ack(blob, stranger)]).get_json()
    assert answer["acknowledged"] == [] and "signature" in answer["refused"][0]["reason"]
    with app.app_context():
        assert db.get_session().scalars(select(BlobAck)).all() == []


def test_an_ack_for_a_blob_not_sealed_to_the_caller_is_refused(
    app, client, recipient_key, add_recipient, report_id
):
    blob = _blobs(client, recipient_key)[0]
    later = add_recipient("Registered after the report")
    answer = post_acks(client, later, [signed_ack(blob, later)]).get_json()
    assert answer["refused"] == [
        {"blob": blob["id"], "reason": "no such blob is sealed to this key"}
    ]


@pytest.mark.parametrize("body", [b"not json", b'{"acks": 3}', b'{"acks": [1]}', b"[]"])
def test_a_malformed_ack_body_is_a_400(client, recipient_key, body):
    response = ApiClient(client, recipient_key).open(
        "POST", "/api/v1/acks", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"
