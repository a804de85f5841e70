"""The reviewers' sync API (docs/API.md), driven as the console drives it: another
reviewer's report, status and deletion, errors and CSRF."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.exc import OperationalError

from crypto.keys import ReviewerKey
from portal import api
from portal.models import Blob, Report, ReportRecipient
from portal.services import blob_store

from .api_client import ApiClient
from .api_helpers import (
    error_of,
    new_report,
    no_stray_files,
    post_signed,
    reply_signature,
    rows,
    seal_reply,
)
from .journey import login, text_of

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
    post_signed(reviewer, report_id, "reply", envelope)
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
