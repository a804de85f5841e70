"""Deeply nested JSON and a blob file that is a symbolic link get clear 4xx answers.

Both gave a 500 with a traceback (RecursionError, StoreError). JSON nested
a hundred thousand deep fits easily in the API's 1 MiB body limit; a link
in the blob store is what someone with write access to the disk leaves to
make the portal serve another file.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from flask import Flask

from crypto.keys import ReviewerKey
from portal.models import Blob
from portal.services import blob_store
from tests.portal.api_client import ApiClient
from tests.portal.api_helpers import error_of, new_report, rows
from tests.portal.journey import reviewer_replies

DEEP = b"[" * 100_000 + b"]" * 100_000
DEEP_OBJECT = b'{"status":' * 50_000 + b"1" + b"}" * 50_000


@pytest.fixture
def reviewer(app: Flask, recipient_key: ReviewerKey) -> ApiClient:
    return ApiClient(app.test_client(), recipient_key)


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT], ids=["lists", "objects"])
def test_deeply_nested_json_to_put_status_is_a_400(app, reviewer, body, caplog):
    _, _, report_id = new_report(app)
    path = f"/api/v1/reports/{report_id}/status"
    with caplog.at_level(logging.ERROR):
        response = reviewer.open("PUT", path, body, content_type="application/json")
    assert error_of(response) == (400, "bad_request")
    assert "Traceback" not in response.get_data(as_text=True)
    assert "RecursionError" not in caplog.text


def test_deeply_nested_json_to_post_acks_is_a_400(app, reviewer):
    response = reviewer.open("POST", "/api/v1/acks", DEEP, content_type="application/json")
    assert error_of(response) == (400, "bad_request")


def link_blob(app: Flask, blob: Blob, target: Path) -> Path:
    with app.app_context():
        path = blob_store().root / blob.storage_name
    path.unlink()
    path.symlink_to(target)
    return path


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    target = tmp_path / "outside-the-store"
    target.write_bytes(b"not a blob: a file elsewhere on the server")
    return target


def test_a_blob_that_is_a_symlink_is_a_404_for_the_api(app, reviewer, outside):
    _, _, report_id = new_report(app)
    [blob] = rows(app, Blob, report_id=report_id)
    link_blob(app, blob, outside)
    response = reviewer.get(f"/api/v1/blobs/{blob.id}")
    assert error_of(response) == (404, "not_found")
    assert b"not a blob" not in response.data


def test_a_blob_linking_to_another_blob_in_the_store_is_refused_too(app, reviewer):
    _, _, first = new_report(app)
    _, _, second = new_report(app)
    [one] = rows(app, Blob, report_id=first)
    [other] = rows(app, Blob, report_id=second)
    with app.app_context():
        target = blob_store().root / other.storage_name
    link_blob(app, one, target)
    assert error_of(reviewer.get(f"/api/v1/blobs/{one.id}")) == (404, "not_found")


def test_a_reply_that_is_a_symlink_leaves_the_status_page_working(app, recipient_key, outside):
    browser, _, report_id = new_report(app)
    reviewer_replies(app, report_id, "Ответ")
    [reply] = rows(app, Blob, report_id=report_id, kind="reply")
    link_blob(app, reply, outside)
    response = browser.get("/status")
    assert response.status_code == 200
    assert "not a blob" not in response.get_data(as_text=True)


def test_deleting_a_report_whose_blob_is_a_symlink_unlinks_only_the_link(app, reviewer, outside):
    _, _, report_id = new_report(app)
    [blob] = rows(app, Blob, report_id=report_id)
    link = link_blob(app, blob, outside)
    assert reviewer.delete(f"/api/v1/reports/{report_id}").status_code == 204
    assert not link.is_symlink() and not link.exists()
    assert outside.read_bytes() == b"not a blob: a file elsewhere on the server"
