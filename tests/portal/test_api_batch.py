"""POST /api/v1/blobs/batch: the caller's blobs as frames, nobody else's."""

from __future__ import annotations

import json

from flask import Flask

from crypto.keys import ReviewerKey

from .api_client import ApiClient
from .api_helpers import error_of, new_report


def _batch(reviewer: ApiClient, ids: list) -> tuple[int, bytes]:
    body = json.dumps({"blobs": ids}).encode()
    response = reviewer.open("POST", "/api/v1/blobs/batch", body, content_type="application/json")
    return response.status_code, response.get_data()


def test_frames_come_in_the_order_asked_with_the_stored_bytes(
    app: Flask, reviewer: ApiClient
) -> None:
    new_report(app)
    new_report(app)
    blobs = [b for r in reviewer.reports() for b in r["blobs"]]
    ids = [b["id"] for b in reversed(blobs)]
    status, body = _batch(reviewer, ids)
    assert status == 200
    seen = []
    for _ in ids:
        line, body = body.split(b"\n", 1)
        header = json.loads(line)
        seen.append(header["id"])
        body = body[header["size"] :]
    assert seen == ids
    assert json.loads(body) == {"end": True, "count": len(ids)}


def test_another_reviewers_blob_is_missing_not_sent(
    app: Flask, recipient_key: ReviewerKey, add_recipient
) -> None:
    new_report(app)
    owner = ApiClient(app.test_client(), recipient_key)
    (blob,) = owner.reports()[0]["blobs"]
    stranger = ApiClient(app.test_client(), add_recipient("Other", ["chui"]))
    status, body = _batch(stranger, [blob["id"], "nosuchblob"])
    assert status == 200
    assert body.split(b"\n")[:2] == [
        json.dumps({"id": blob["id"], "missing": True}, separators=(",", ":")).encode(),
        b'{"id":"nosuchblob","missing":true}',
    ]


def test_a_batch_body_of_another_shape_is_400(app: Flask, reviewer: ApiClient) -> None:
    for ids in ([], ["a", "a"], [1], ["x" * 65], [f"b{n}" for n in range(1001)]):
        body = json.dumps({"blobs": ids}).encode()
        response = reviewer.open(
            "POST", "/api/v1/blobs/batch", body, content_type="application/json"
        )
        assert error_of(response) == (400, "bad_request"), ids
    response = reviewer.open("POST", "/api/v1/blobs/batch", b"{", content_type="application/json")
    assert error_of(response) == (400, "bad_request")
