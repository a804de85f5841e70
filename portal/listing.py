"""The reviewers' report listing (GET /api/v1/reports), as JSON.

A vault follows the change sequence (portal.sequence): `since=N` lists the
reports sealed to the caller whose latest change is numbered after N, in
that order, `limit` at a time, and says where the next page starts. The
older `after=DAY` form stays for clients made before the sequence.
"""

from __future__ import annotations

import base64
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.api_auth import ApiError
from portal.models import Blob, Recipient, Report, ReportRecipient, Source

DEFAULT_LIMIT = 500
MAX_LIMIT = 2000
_DIGITS = 18  # below 2**63 whatever the digits


def changes_since(session: Session, reviewer: Recipient, args: Mapping[str, str]) -> dict[str, Any]:
    """{"cursor": N, "more": bool, "reports": [...]} for since=N&limit=L (ApiError 400 if bad)."""
    since = _number(args.get("since", ""), "since")
    limit = _number(args.get("limit", str(DEFAULT_LIMIT)), "limit")
    if not 1 <= limit <= MAX_LIMIT:
        raise ApiError(400, "bad_request", f"limit must be between 1 and {MAX_LIMIT}")
    readable = select(ReportRecipient.report_id).where(ReportRecipient.recipient_id == reviewer.id)
    page = session.execute(
        select(Report.id, Report.change_seq)
        .where(Report.id.in_(readable), Report.change_seq > since)
        .order_by(Report.change_seq, Report.id)
        .limit(limit + 1)
    ).all()
    more = len(page) > limit
    page = page[:limit]
    order = {report_id: n for n, (report_id, _) in enumerate(page)}
    reports = sorted(list_reports(session, list(order)), key=lambda r: order[r["id"]])
    cursor = page[-1][1] if page else since
    return {"cursor": cursor, "more": more, "reports": reports}


def _number(text: str, name: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > _DIGITS:
        raise ApiError(400, "bad_request", f"{name} must be a whole number")
    return int(text)


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")


def list_reports(session: Session, chosen: list[str]) -> list[dict[str, Any]]:
    """The reports with these ids as JSON, oldest first (the caller checked they are readable)."""
    rows = session.execute(
        select(Report, Source.box_public_key)
        .join(Source, Source.id == Report.source_id)
        .where(Report.id.in_(chosen))
        .order_by(Report.created_day, Report.id)
    ).all()
    # Reviewers are few: one query for all of them names every reply's author.
    everyone = {r.id: r for r in session.scalars(select(Recipient))}
    sealed_to: dict[str, list[Recipient]] = defaultdict(list)
    for slot in session.scalars(
        select(ReportRecipient)
        .where(ReportRecipient.report_id.in_(chosen))
        .order_by(ReportRecipient.recipient_id)
    ):
        recipient = everyone[slot.recipient_id]
        # Replies are sealed to these keys: a revoked one must not get new ones.
        if recipient.active:
            sealed_to[slot.report_id].append(recipient)
    blobs: dict[str, list[Blob]] = defaultdict(list)
    for blob in session.scalars(
        select(Blob).where(Blob.report_id.in_(chosen)).order_by(Blob.created_day, Blob.id)
    ):
        blobs[blob.report_id].append(blob)
    return [
        {
            "id": report.id,
            "seq": report.change_seq,
            "status": report.status,
            "created_day": report.created_day.isoformat(),
            "updated_day": report.updated_day.isoformat(),
            "source_key": _b64(source_key),
            "recipients": [_recipient_json(r) for r in sealed_to[report.id]],
            "blobs": [blob_json(b, everyone) for b in blobs[report.id]],
        }
        for report, source_key in rows
    ]


def _recipient_json(recipient: Recipient) -> dict[str, Any]:
    return {
        "id": recipient.id,
        "name": recipient.name,
        "box_key": _b64(recipient.box_key),
        "verify_key": _b64(recipient.verify_key),
    }


def blob_json(blob: Blob, reviewers: dict[int, Recipient]) -> dict[str, Any]:
    author = reviewers.get(blob.recipient_id) if blob.recipient_id is not None else None
    return {
        "id": blob.id,
        "kind": blob.kind,
        "author": blob.author,
        "author_key": _b64(author.verify_key) if author is not None else None,
        "size": blob.size,
        "sha256": blob.sha256,
        "receipt": _b64(blob.receipt),
        "signature": _b64(blob.signature),
        "created_day": blob.created_day.isoformat(),
    }
