"""Many small blobs in one response (POST /api/v1/blobs/batch, docs/API.md).

Over Tor a round trip takes half a second to a second, so one request per
blob made a first sync of 1,000 reports take about 21 minutes. A batch
names up to MAX_BLOBS blobs and gets them back as frames, in the order
asked, each a JSON header line and then exactly the bytes it announces:

    {"id": "<blob id>", "size": N}\n<N bytes>
    {"id": "<blob id>", "missing": true}\n
    {"end": true, "count": K}\n

The response carries no signature of its own: each frame is checked by the
client against the blob's receipt, which the server's receipt key signed at
intake, exactly as a single download is. A frame the caller may not read is
never sent: a blob not sealed to the caller is "missing", like one not found.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from flask import Response, g, request
from sqlalchemy import select

from portal.api_auth import ApiError
from portal.db import get_session
from portal.models import Blob, Recipient, ReportRecipient
from portal.services import blob_store

MAX_BLOBS = 1000
CHUNK = 256 * 1024


def blobs_batch() -> Response:
    """The asked blobs as frames; 400 for a body that is not {"blobs": [ids]}."""
    ids = _asked_ids()
    reviewer: Recipient = g.reviewer
    rows = get_session().scalars(
        select(Blob)
        .join(ReportRecipient, ReportRecipient.report_id == Blob.report_id)
        .where(Blob.id.in_(ids), ReportRecipient.recipient_id == reviewer.id)
    )
    store = blob_store()
    paths = {row.id: store.path_of(row.storage_name) for row in rows}
    return Response(_frames(ids, paths), mimetype="application/octet-stream")


def _asked_ids() -> list[str]:
    try:
        body = json.loads(request.get_data(cache=True))
    except ValueError as exc:
        raise ApiError(400, "bad_request", "the body is not JSON") from exc
    ids = body.get("blobs") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not all(isinstance(i, str) and len(i) <= 64 for i in ids):
        raise ApiError(400, "bad_request", 'the body must be {"blobs": ["<blob id>", ...]}')
    if not 1 <= len(ids) <= MAX_BLOBS or len(set(ids)) != len(ids):
        raise ApiError(400, "bad_request", f"ask for 1 to {MAX_BLOBS} different blobs")
    return ids


def _frames(ids: list[str], paths: dict[str, Path]) -> Iterator[bytes]:
    for blob_id in ids:
        path = paths.get(blob_id)
        try:
            src = open(path, "rb") if path is not None else None  # noqa: SIM115 - closed below
        except FileNotFoundError:
            src = None
        if src is None:
            yield _line({"id": blob_id, "missing": True})
            continue
        with src:
            size = Path(path).stat().st_size if path is not None else 0
            yield _line({"id": blob_id, "size": size})
            left = size
            while left > 0 and (chunk := src.read(min(CHUNK, left))):
                left -= len(chunk)
                yield chunk
            if left:
                return  # the file shrank under us: end without "end", the client resumes
    yield _line({"end": True, "count": len(ids)})


def _line(header: dict[str, object]) -> bytes:
    return json.dumps(header, separators=(",", ":")).encode("ascii") + b"\n"
