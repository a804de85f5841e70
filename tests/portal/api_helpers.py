"""What the sync API tests share: a report sent through the pages, rows, and
replies and case events sealed and signed as the console seals and signs them."""

from __future__ import annotations

import base64
import hashlib
import json

from flask import Flask
from flask.testing import FlaskClient
from nacl.public import PublicKey
from nacl.signing import VerifyKey
from sqlalchemy import select
from werkzeug.test import TestResponse

from crypto.acks import sign_ack
from crypto.envelope import Kind, seal_bytes
from crypto.events import sign_event
from crypto.keys import ReviewerKey
from crypto.receipts import Receipt, verify_receipt
from crypto.replies import sign_reply
from portal import api, db
from portal.models import Blob, today
from portal.services import blob_store

from .api_client import ApiClient
from .journey import get_codename, submit_report, text_of

REPLY_TEXT = "Юрист свяжется с вами в четверг."


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


def seal_event(listed: dict, content: bytes = b'{"v": 1}') -> bytes:
    keys = [PublicKey(unb64(r["box_key"])) for r in listed["recipients"]]
    return seal_bytes(content, keys, Kind.EVENT)


def event_signature(key: ReviewerKey, report_id: str, envelope: bytes) -> dict[str, str]:
    signature = sign_event(key.signing, report_id, hashlib.sha256(envelope).hexdigest())
    return {api.EVENT_SIGNATURE_HEADER: b64(signature)}


def error_of(response) -> tuple[int, str]:
    assert response.mimetype == "application/json", response.get_data(as_text=True)
    body = response.get_json()
    assert set(body["error"]) == {"code", "message"}
    return response.status_code, body["error"]["code"]


def no_stray_files(app: Flask) -> bool:
    """Every file in the blob store belongs to a row, and nothing is left in incoming/."""
    with app.app_context():
        store = blob_store()
        names = {b.storage_name for b in db.get_session().scalars(select(Blob))}
        return {p.name for p in store.root.iterdir()} == names and not any(store.incoming.iterdir())


def post_sealed(reviewer: ApiClient, report_id: str, kind: str, envelope: bytes) -> TestResponse:
    """POST a reply or case event (kind "reply" or "event") signed as the console signs it."""
    path, sign = {"reply": ("replies", reply_signature), "event": ("events", event_signature)}[kind]
    return reviewer.post_bytes(
        f"/api/v1/reports/{report_id}/{path}",
        envelope,
        headers=sign(reviewer.key, report_id, envelope),
    )


def post_signed(reviewer: ApiClient, report_id: str, kind: str, envelope: bytes) -> dict:
    """post_sealed, answered 201: the stored blob's listing."""
    response = post_sealed(reviewer, report_id, kind, envelope)
    assert response.status_code == 201, response.get_data(as_text=True)
    stored: dict = response.get_json()
    return stored


def check_receipt(
    reviewer: ApiClient, report_id: str, kind: str, envelope: bytes, stored: dict
) -> None:
    """The receipt in stored (a blob's listing) is the server's signature over envelope."""
    server_key = VerifyKey(unb64(reviewer.get("/api/v1/server").get_json()["receipt_key"]))
    receipt = Receipt(stored["id"], report_id, kind, len(envelope), stored["sha256"], str(today()))
    verify_receipt(server_key, receipt, unb64(stored["receipt"]))


def signed_ack(blob: dict, key: ReviewerKey, sha256: str | None = None) -> dict[str, str]:
    digest = sha256 or blob["sha256"]
    signature = sign_ack(key.signing, blob["id"], digest)
    return {"blob": blob["id"], "sha256": digest, "signature": b64(signature)}


def post_acks(client, key: ReviewerKey, acks: list[dict]):
    body = json.dumps({"acks": acks}).encode()
    return ApiClient(client, key).open(
        "POST", "/api/v1/acks", body, content_type="application/json"
    )
