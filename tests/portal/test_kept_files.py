"""Nothing uploaded twice: a file that arrived survives a fix of another field."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from portal import db
from portal.models import Blob, Report
from portal.services import blob_store

from .journey import (
    get_codename,
    only_report_id,
    report_fields,
    reviewer_reads_files,
    submit_report,
    text_of,
    token_in,
)
from .multipart_body import content_type, encode

VIDEO = bytes(range(256)) * (5 * 4096)  # 5 MiB
KEPT = re.compile(r'name="keep_file" value="([^"]+)" checked')


def count(app, model) -> int:
    with app.app_context():
        return db.get_session().scalar(select(func.count()).select_from(model))


def incoming(app) -> list:
    with app.app_context():
        return list(blob_store().incoming.iterdir())


def send_again(client, page: str, files=(), **answers):
    fields = report_fields(token_in(page), **answers)
    fields += [("keep_file", name) for name in KEPT.findall(page)]
    body = encode(fields, files)
    return client.post("/report", data=body, content_type=content_type())


def test_file_kept_through_a_fix_reaches_the_reviewer_once(app, client, recipient_key):
    get_codename(client)
    refused = submit_report(
        client, narrative="", files=[("evidence", "video.mp4", VIDEO, "video/mp4")]
    )
    assert refused.status_code == 400
    page = text_of(refused)
    assert "video.mp4 (5,2 МБ)" in page
    assert len(KEPT.findall(page)) == 1
    sent = send_again(client, page, narrative="Теперь с описанием")
    assert sent.status_code == 303
    report_id = only_report_id(app)
    files = reviewer_reads_files(app, recipient_key, report_id)
    assert [(m.filename, content) for m, content in files] == [("video.mp4", VIDEO)]
    assert incoming(app) == []


def test_kept_file_and_a_new_one_both_arrive(app, client, recipient_key):
    get_codename(client)
    page = text_of(
        submit_report(client, narrative="", files=[("evidence", "a.jpg", b"A" * 10, "image/jpeg")])
    )
    sent = send_again(client, page, files=[("evidence", "b.jpg", b"B" * 10, "image/jpeg")])
    assert sent.status_code == 303
    names = sorted(
        m.filename for m, _ in reviewer_reads_files(app, recipient_key, only_report_id(app))
    )
    assert names == ["a.jpg", "b.jpg"]


def test_unticked_kept_file_is_shredded_not_sent(app, client, recipient_key):
    get_codename(client)
    page = text_of(
        submit_report(client, narrative="", files=[("evidence", "a.jpg", b"A", "image/jpeg")])
    )
    fields = report_fields(token_in(page))  # no keep_file: the source unticked it
    assert (
        client.post("/report", data=encode(fields), content_type=content_type()).status_code == 303
    )
    assert count(app, Blob) == 1  # the answers only
    assert incoming(app) == []


def test_another_browser_cannot_claim_a_kept_file(app, client, recipient_key):
    get_codename(client)
    page = text_of(
        submit_report(client, narrative="", files=[("evidence", "a.jpg", b"A", "image/jpeg")])
    )
    (name,) = KEPT.findall(page)
    other = app.test_client()
    get_codename(other)
    form = text_of(other.get("/report"))
    fields = [*report_fields(token_in(form)), ("keep_file", name)]
    assert (
        other.post("/report", data=encode(fields), content_type=content_type()).status_code == 303
    )
    assert count(app, Report) == 1
    assert count(app, Blob) == 1  # the other browser's answers, and no file
    assert len(incoming(app)) == 1  # still waiting for its own browser


def test_file_kept_when_the_session_ended_and_the_codename_is_asked_again(
    app, client, recipient_key
):
    source = get_codename(client)
    form = text_of(client.get("/report"))
    client.delete_cookie("amanat_source")
    body = encode(report_fields(token_in(form)), [("evidence", "a.jpg", b"A" * 99, "image/jpeg")])
    refused = client.post("/report", data=body, content_type=content_type())
    assert refused.status_code == 401
    page = text_of(refused)
    assert "a.jpg" in page and KEPT.findall(page)
    assert send_again(client, page, codename=source.codename).status_code == 303
    files = reviewer_reads_files(app, recipient_key, only_report_id(app))
    assert [m.filename for m, _ in files] == ["a.jpg"]
