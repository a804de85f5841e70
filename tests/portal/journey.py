"""A source's steps through the portal, as a browser without JavaScript takes them."""

from __future__ import annotations

import html
import io
import json
import re
from dataclasses import dataclass

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from crypto.envelope import Kind, open_bytes, seal_bytes
from crypto.keys import ReviewerKey
from crypto.manifest import Manifest, open_file
from portal import db
from portal.models import Blob, Report, ReportRecipient, Source
from portal.services import blob_store

from .multipart_body import content_type, encode

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
CODENAME = re.compile(r'<p class="codename" id="codename">(.+?)</p>', re.S)
GROUP_ASKED = re.compile(r'data-group="(\d)"')


def token_in(page: str) -> str:
    match = TOKEN.search(page)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@dataclass
class Source_:
    client: FlaskClient
    codename: str


def codename_on(page: str) -> str:
    """The codename a page shows, as '1234 5678 ...'."""
    return " ".join(
        re.findall(r'<span class="group">(\d{4})</span>', CODENAME.search(page).group(1))
    )


def issued_codename(client: FlaskClient) -> tuple[str, str, str]:
    """(codename, the group the check step asks for, that step's CSRF token)."""
    codename = codename_on(client.get("/codename").get_data(as_text=True))
    page = client.get("/codename?step=check").get_data(as_text=True)
    number = int(GROUP_ASKED.search(page).group(1))
    return codename, codename.split()[number - 1], token_in(page)


def get_codename(client: FlaskClient) -> Source_:
    """Take a codename and type the asked group back; the source is then logged in."""
    codename, group, token = issued_codename(client)
    response = client.post("/codename", data={"csrf_token": token, "check": group, "website": ""})
    assert response.status_code == 303, response.get_data(as_text=True)
    assert response.headers["Location"].endswith("/report")
    return Source_(client, codename)


def report_fields(token: str, **answers: str) -> list[tuple[str, str]]:
    fields = [("csrf_token", token), ("website", ""), ("store_report", "yes")]
    fields += [("region", answers.pop("region", "osh"))]
    fields += [("narrative", answers.pop("narrative", "Меня задержали у пункта ОЗТ."))]
    fields += list(answers.items())
    return fields


def submit_report(client: FlaskClient, files=(), **answers: str):
    page = client.get("/report").get_data(as_text=True)
    body = encode(report_fields(token_in(page), **answers), files)
    return client.post("/report", data=body, content_type=content_type())


def login(client: FlaskClient, codename: str):
    page = client.get("/login").get_data(as_text=True)
    return client.post(
        "/login", data={"csrf_token": token_in(page), "codename": codename, "website": ""}
    )


def send_followup(client: FlaskClient, report_id: str, message: str, files=()):
    page = client.get("/status").get_data(as_text=True)
    body = encode([("csrf_token", token_in(page)), ("website", ""), ("message", message)], files)
    return client.post(f"/report/{report_id}/followup", data=body, content_type=content_type())


def blobs_of(app: Flask, report_id: str, kind: str) -> list[Blob]:
    with app.app_context():
        session = db.get_session()
        rows = session.scalars(select(Blob).where(Blob.report_id == report_id, Blob.kind == kind))
        return list(rows)


def only_report_id(app: Flask) -> str:
    with app.app_context():
        return db.get_session().scalars(select(Report.id)).one()


def source_with_report(app: Flask, files=(), **answers: str) -> tuple[FlaskClient, str, str]:
    """A new source who sent one report: (their browser, their codename, the report's id)."""
    client = app.test_client()
    codename = get_codename(client).codename
    assert submit_report(client, files=files, **answers).status_code == 303
    return client, codename, only_report_id(app)


def read_blob(app: Flask, blob: Blob) -> bytes:
    with app.app_context(), blob_store().open(blob.storage_name) as f:
        return f.read()


def reviewer_reads_answers(app: Flask, key: ReviewerKey, report_id: str) -> dict:
    (answers,) = blobs_of(app, report_id, "answers")
    return json.loads(open_bytes(read_blob(app, answers), key.box, Kind.REPORT).content)


def reviewer_reads_files(app: Flask, key: ReviewerKey, report_id: str, kind: str = "file"):
    """[(manifest, content)] of a report's files, opened with the reviewer's key."""
    opened: list[tuple[Manifest, bytes]] = []
    for blob in blobs_of(app, report_id, kind):
        out = io.BytesIO()
        manifest = open_file(io.BytesIO(read_blob(app, blob)), out, key.box)
        opened.append((manifest, out.getvalue()))
    return opened


def reviewer_replies(app: Flask, report_id: str, text: str) -> None:
    """Put a reply in place the way the sync API will: sealed to the source's key."""
    with app.app_context():
        session = db.get_session()
        report = session.get(Report, report_id)
        source = session.get(Source, report.source_id)
        from nacl.public import PublicKey

        blob = seal_bytes(text.encode(), [PublicKey(source.box_public_key)], Kind.REPLY)
        pending = blob_store().create()
        pending.writer.write(blob)
        blob_store().finish(pending)
        blob_store().commit(pending)
        session.add(
            Blob(
                report_id=report_id,
                kind="reply",
                author="reviewer",
                # A reviewer the report is sealed to wrote it (the roster names them).
                recipient_id=session.scalars(
                    select(ReportRecipient.recipient_id).where(
                        ReportRecipient.report_id == report_id
                    )
                ).first(),
                storage_name=pending.name,
                size=len(blob),
                sha256=pending.sha256(),
                receipt=b"",
            )
        )
        session.commit()
