"""The reviewers' sync API (docs/API.md): signed JSON under /api/v1.

Every request is authenticated by portal.api_auth before its view runs, and
every error, routing errors included, is answered in JSON, never with the
sources' HTML pages. The views move ciphertext, public keys, sizes, hashes
and statuses; nothing here can open a blob.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import logging
import re
import struct
from typing import Any

from flask import Blueprint, Flask, Response, g, jsonify, request, send_file
from nacl.signing import VerifyKey
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, default_exceptions

from crypto.envelope import MAGIC, VERSION, Kind
from crypto.errors import BadSignatureError
from crypto.events import verify_event
from crypto.replies import verify_reply
from portal import acks, api_auth, api_batch, intake, listing, retention, roster
from portal.api_auth import ApiError
from portal.db import get_engine, get_session
from portal.listing import blob_json, list_reports
from portal.models import REPORT_STATUSES, Blob, Recipient, Report, ReportRecipient, today
from portal.services import blob_store, server_key
from portal.shred import scrub_database
from portal.store import StoreError
from portal.views import current_settings

log = logging.getLogger(__name__)
API_VERSION = 1
PREFIX = "/api/v1"
MAX_BODY_BYTES = 1024**2
REPLY_SIGNATURE_HEADER = "Amanat-Reply-Signature"
EVENT_SIGNATURE_HEADER = "Amanat-Event-Signature"
# The start of every envelope: magic, format version, kind (crypto.envelope).
_ENVELOPE_START = struct.Struct(">7sBB")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# The JSON error code for each HTTP status (401 codes come from api_auth).
ERROR_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    416: "range_not_satisfiable",
    500: "internal_error",
    503: "unavailable",
}
_KEPT_HEADERS = ("Allow", "Retry-After")

bp = Blueprint("api", __name__, url_prefix=PREFIX)


def json_error(status: int, code: str, message: str) -> Response:
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    return response


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Response:
    return json_error(exc.status, exc.code, exc.message)


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    code = ERROR_CODES.get(status) or (exc.name or "error").lower().replace(" ", "_")
    response = json_error(status, code, exc.description or exc.name)
    for name, value in exc.get_headers():
        if name in _KEPT_HEADERS:
            response.headers[name] = value
    return response


# Flask looks for a handler by status code in the app before it looks by
# class in the blueprint, so the HTML error pages' per-code handlers would
# win over a class handler here: register per code too.
for _code in default_exceptions:
    bp.register_error_handler(_code, _http_error)
bp.register_error_handler(HTTPException, _http_error)


@bp.errorhandler(StoreError)
def _store_error(exc: StoreError) -> Response:
    # A blob file that is a link or lies outside the store: someone tampered
    # with the disk. Logged without the blob's name.
    log.warning("a blob file is not where the store keeps its files (%s)", exc)
    return json_error(404, "not_found", "this blob's file is damaged or missing on the server")


@bp.errorhandler(OperationalError)
def _database_unavailable(exc: OperationalError) -> Response:
    response = json_error(503, "unavailable", "the database is unavailable; try again later")
    response.headers["Retry-After"] = "60"
    return response


def _routing_error() -> Response | None:
    # An unknown path or method fails before any blueprint is chosen, so the
    # blueprint's handlers never see it: answer it here for API paths.
    exc = request.routing_exception
    in_api = request.path == PREFIX or request.path.startswith(PREFIX + "/")
    if in_api and isinstance(exc, NotFound | MethodNotAllowed):
        return _http_error(exc)
    return None


@bp.before_request
def _authenticate() -> None:
    too_large = ApiError(413, "too_large", "request bodies are at most 1 MiB")
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise too_large
    # A body without a length (chunked) is cut at the limit without a word:
    # one byte more than allowed tells a cut body from one that fits.
    request.max_content_length = MAX_BODY_BYTES + 1
    if len(request.get_data(cache=True)) > MAX_BODY_BYTES:
        raise too_large
    if request.endpoint == "api.identity":
        return  # public: what a client must know before it can sign
    g.reviewer = api_auth.authenticate(get_session(), request, _server_identity())


def _server_identity() -> str:
    return base64.b64encode(bytes(server_key().verify_key)).decode("ascii")


def _reviewer() -> Recipient:
    reviewer: Recipient = g.reviewer
    return reviewer


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")


def not_found() -> ApiError:
    return ApiError(404, "not_found", "no such thing is sealed to this key")


def bad_request(message: str) -> ApiError:
    return ApiError(400, "bad_request", message)


@bp.get("/identity")
def identity() -> dict[str, Any]:
    """Unsigned: the receipt key every request signature must name (docs/API.md)."""
    return {"version": API_VERSION, "receipt_key": _server_identity()}


@bp.get("/server")
def server() -> dict[str, Any]:
    info: dict[str, Any] = {
        "version": API_VERSION,
        "receipt_key": _b64(bytes(server_key().verify_key)),
        "regions": list(current_settings().regions),
        # The organisation's signed roster (portal.roster): each vault checks it itself.
        "roster": roster.current_roster_data(get_session()),
    }
    if not _reviewer().region_list:
        # Coordinators (all regions) hear of reports no active key can open.
        info["stranded_reports"] = retention.stranded_reports(get_session())
    return info


@bp.get("/reports")
def reports() -> dict[str, Any]:
    if "since" in request.args:
        return listing.changes_since(get_session(), _reviewer(), request.args)
    cursor = today()  # taken first: a change made during the listing comes again next time
    after = request.args.get("after")
    if after is not None and not _DAY.match(after):
        raise bad_request("after must be a day, YYYY-MM-DD")
    try:
        after_day = dt.date.fromisoformat(after) if after else None
    except ValueError as exc:
        raise bad_request("after must be a day, YYYY-MM-DD") from exc
    # The day cursor, kept for vaults and clients made before the change sequence.
    ids = select(ReportRecipient.report_id).where(ReportRecipient.recipient_id == _reviewer().id)
    chosen = select(Report.id).where(Report.id.in_(ids))
    if after_day is not None:
        chosen = chosen.where(Report.updated_day >= after_day)
    found = list(get_session().scalars(chosen))
    return {"cursor": cursor.isoformat(), "reports": list_reports(get_session(), found)}


def readable_report(report_id: str) -> Report:
    """The report if it is sealed to the caller; 404 otherwise (never 403)."""
    report = get_session().scalar(
        select(Report)
        .join(ReportRecipient, ReportRecipient.report_id == Report.id)
        .where(Report.id == report_id, ReportRecipient.recipient_id == _reviewer().id)
    )
    if report is None:
        raise not_found()
    return report


@bp.get("/blobs/<blob_id>")
def blob(blob_id: str) -> Response:
    row = get_session().scalar(
        select(Blob)
        .join(ReportRecipient, ReportRecipient.report_id == Blob.report_id)
        .where(Blob.id == blob_id, ReportRecipient.recipient_id == _reviewer().id)
    )
    if row is None:
        raise not_found()
    try:
        # A path (not an open file) lets Werkzeug answer Range and
        # If-None-Match; the day replaces the file's precise mtime.
        return send_file(
            blob_store().path_of(row.storage_name),
            mimetype="application/octet-stream",
            download_name=row.id,
            conditional=True,
            etag=row.sha256,
            last_modified=dt.datetime.combine(row.created_day, dt.time(), dt.UTC),
        )
    except FileNotFoundError as exc:
        raise not_found() from exc


@bp.post("/reports/<report_id>/replies")
def post_reply(report_id: str) -> tuple[dict[str, Any], int]:
    return _post_signed_envelope(report_id, "reply")


@bp.post("/reports/<report_id>/events")
def post_event(report_id: str) -> tuple[dict[str, Any], int]:
    return _post_signed_envelope(report_id, "event")


# What a reviewer may post: the envelope kind, the signature header and check.
_POSTED = {
    "reply": (Kind.REPLY, REPLY_SIGNATURE_HEADER, verify_reply),
    "event": (Kind.EVENT, EVENT_SIGNATURE_HEADER, verify_event),
}


def _post_signed_envelope(report_id: str, kind: str) -> tuple[dict[str, Any], int]:
    """Store a reviewer's sealed, signed reply or case event; 201 with the blob's listing."""
    report = readable_report(report_id)
    reviewer = _reviewer()
    envelope_kind, header, verify_signature = _POSTED[kind]
    if request.mimetype != "application/octet-stream":
        raise bad_request(f"a {kind} is sent as application/octet-stream")
    envelope = request.get_data(cache=True)
    check_envelope(envelope, envelope_kind)
    on_roster = roster.member_verify_keys(get_session())
    if on_roster is not None and reviewer.verify_key not in on_roster:
        raise ApiError(403, "not_on_roster", "this key is not on the organisation's roster")
    try:
        signature = base64.b64decode(request.headers.get(header, ""), validate=True)
        digest = hashlib.sha256(envelope).hexdigest()
        verify_signature(VerifyKey(reviewer.verify_key), report.id, digest, signature)
    except (binascii.Error, ValueError, BadSignatureError) as exc:
        raise bad_request(f"the {kind} signature does not verify with this key") from exc
    db = get_session()
    row = intake.store_reply(
        db, blob_store(), server_key(), report, reviewer, envelope, signature, kind=kind
    )
    return blob_json(row, {reviewer.id: reviewer}), 201


def check_envelope(envelope: bytes, kind: Kind) -> None:
    """Raise ApiError (400) unless envelope starts like a current-version envelope of kind.

    Version 1 is refused: it has no key commitment, so a reviewer could seal
    different keys to different readers of one signed event.
    """
    if len(envelope) < _ENVELOPE_START.size:
        raise bad_request("the body is not an envelope")
    magic, version, found = _ENVELOPE_START.unpack_from(envelope)
    if magic != MAGIC or version != VERSION:
        raise bad_request(f"the body is not a version {VERSION} envelope")
    if found != kind:
        noun = "a reply" if kind == Kind.REPLY else "a case event"
        raise bad_request(f"the envelope is not {noun}")


@bp.post("/acks")
def post_acks() -> dict[str, Any]:
    """Count the caller's signed delivery acknowledgements (portal.acks)."""
    return acks.record_acks(get_session(), _reviewer(), acks.parse_acks())


@bp.put("/reports/<report_id>/status")
def put_status(report_id: str) -> dict[str, Any]:
    report = readable_report(report_id)
    try:
        body = json.loads(request.get_data(cache=True))
    except (ValueError, RecursionError) as exc:  # RecursionError: nested too deep
        raise bad_request("the body is not JSON") from exc
    status = body.get("status") if isinstance(body, dict) else None
    if status not in REPORT_STATUSES:
        raise bad_request(f"status must be one of {', '.join(REPORT_STATUSES)}")
    if report.status != status:
        report.status = status
        report.updated_day = today()
        get_session().commit()
    return {"id": report.id, "status": report.status}


@bp.delete("/reports/<report_id>")
def delete_report(report_id: str) -> tuple[str, int]:
    report = readable_report(report_id)
    remove_report(get_session(), report.id)
    # The write-ahead log still holds the deleted rows' pages: empty it now,
    # not at the next purge (portal.shred).
    scrub_database(get_engine())
    return "", 204


def remove_report(session: Session, report_id: str) -> None:
    """Delete a report's rows and shred its blob files, and commit (portal.retention)."""
    retention.remove_report(session, blob_store(), report_id)


# Many small blobs in one response (portal.api_batch), behind the same authentication.
bp.add_url_rule("/blobs/batch", view_func=api_batch.blobs_batch, methods=["POST"])


def init_app(app: Flask) -> None:
    """Register the API on app, exempt from CSRFProtect (there is no cookie to ride on)."""
    app.register_blueprint(bp)
    app.extensions["csrf"].exempt(bp)
    app.before_request(_routing_error)
