"""Delivery acknowledgements: the only thing retention counts (docs/API.md).

POST /api/v1/acks takes a batch of acknowledgements signed by the calling
reviewer, one per blob their vault holds and has checked. Each must name a
blob of a report sealed to that reviewer, carry the SHA-256 the server's
receipt signed for it, and verify with the reviewer's own key; anything else
is refused by name and not counted.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from flask import request
from nacl.signing import VerifyKey
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crypto.acks import verify_ack
from crypto.errors import BadSignatureError
from portal.api_auth import ApiError
from portal.models import Blob, BlobAck, Recipient, ReportRecipient, today

MAX_ACKS = 5000


def record_acks(session: Session, reviewer: Recipient, acks: list[Any]) -> dict[str, Any]:
    """Check and store reviewer's acknowledgements, and commit.

    Returns {"acknowledged": [blob ids], "refused": [{"blob": id, "reason": text}]}.
    """
    done: list[str] = []
    refused: list[dict[str, str]] = []
    readable = _readable_blobs(session, reviewer, [a.get("blob") for a in acks])
    for ack in acks:
        blob_id = str(ack.get("blob"))[:64]
        reason = _check(reviewer, readable.get(blob_id), ack)
        if reason is not None:
            refused.append({"blob": blob_id, "reason": reason})
            continue
        _store(session, blob_id, reviewer.id, base64.b64decode(ack["signature"]))
        done.append(blob_id)
    try:
        session.commit()
    except IntegrityError:
        # A parallel sync of the same reviewer stored the same acks first.
        session.rollback()
    return {"acknowledged": done, "refused": refused}


def _readable_blobs(session: Session, reviewer: Recipient, ids: list[Any]) -> dict[str, Blob]:
    wanted = [i for i in ids if isinstance(i, str)]
    rows = session.scalars(
        select(Blob)
        .join(ReportRecipient, ReportRecipient.report_id == Blob.report_id)
        .where(Blob.id.in_(wanted), ReportRecipient.recipient_id == reviewer.id)
    )
    return {b.id: b for b in rows}


def _check(reviewer: Recipient, blob: Blob | None, ack: dict[str, Any]) -> str | None:
    if blob is None:
        return "no such blob is sealed to this key"
    if ack.get("sha256") != blob.sha256:
        return "the SHA-256 is not the one the receipt signed"
    try:
        signature = base64.b64decode(str(ack.get("signature")), validate=True)
        verify_ack(VerifyKey(reviewer.verify_key), blob.id, blob.sha256, signature)
    except (binascii.Error, ValueError, BadSignatureError):
        return "the acknowledgement's signature does not verify with this key"
    return None


def _store(session: Session, blob_id: str, recipient_id: int, signature: bytes) -> None:
    row = session.get(BlobAck, (blob_id, recipient_id))
    if row is None:
        session.add(BlobAck(blob_id=blob_id, recipient_id=recipient_id, signature=signature))
    else:
        row.signature, row.day = signature, today()
    session.flush()


def parse_acks() -> list[dict[str, Any]]:
    """The acknowledgements of the current request's JSON body; raise ApiError (400)."""
    try:
        body = json.loads(request.get_data(cache=True))
    except (ValueError, RecursionError) as exc:  # RecursionError: nested too deep
        raise ApiError(400, "bad_request", "the body is not JSON") from exc
    acks = body.get("acks") if isinstance(body, dict) else None
    if not isinstance(acks, list) or not all(isinstance(a, dict) for a in acks):
        raise ApiError(400, "bad_request", 'the body must be {"acks": [{...}, ...]}')
    if len(acks) > MAX_ACKS:
        raise ApiError(400, "bad_request", f"at most {MAX_ACKS} acknowledgements per request")
    return acks
