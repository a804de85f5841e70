"""Evidence files: a metadata-free copy by default, the original on request, a preview.

Every route that decrypts is a POST with the page's CSRF token (and
admin/console/origin.py refuses requests from other pages): decrypting
writes a custody event, so a link or an image on another page must not be
able to do it. Images, video and PDF are offered first as a copy without
metadata (admin/evidence_copies.py); the original is a second, deliberate
choice.

A download of the original streams the plaintext straight from the vault's ciphertext; it
is never written to disk by the console. The last chunk is held back until
the whole file has verified, and Content-Length is the verified size: if
decryption fails part-way the stream stops short and the connection closes,
so the browser reports a failed download instead of saving a partial file
as if it were complete.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from flask import Blueprint, abort, g, redirect, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from admin.client import ClientError
from admin.console.errors import error_page
from admin.console.images import ImageError, ImageTooLargeError, image_type, strip_metadata
from admin.custody import record_custody
from admin.evidence_copies import (
    CopyUnavailable,
    clean_image,
    clean_kind,
    clean_name,
    clean_pdf,
    clean_video,
    evidence_type,
)
from admin.stats import N_
from admin.vault import UnknownReportError, VaultError, check_id
from crypto.errors import EnvelopeError
from crypto.manifest import FileOpener, Manifest

log = logging.getLogger(__name__)

bp = Blueprint("files", __name__)


@bp.app_template_global()
def copy_kind(content_type: str, filename: str) -> str | None:
    """Which metadata-free copy the report page offers for a file (None: only the original)."""
    return clean_kind(evidence_type(content_type, filename))


PREVIEW_TYPES = frozenset({"image/jpeg", "image/png"})
MAX_PREVIEW_BYTES = 20 * 1024 * 1024
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._ -]+")


def _open(blob_id: str) -> tuple[Manifest, FileOpener]:
    """The verified manifest and a fresh opener for a file; 404 or an error page otherwise.

    The decryption is written to the case's custody log first (admin/custody.py).
    """
    try:
        check_id(blob_id, "blob id")
    except VaultError:
        abort(404)
    state = g.unlocked
    with state.lock:
        try:
            manifest = state.vault.manifest(blob_id)
            _log_decrypt(state, blob_id)
            opener = state.vault.open_file(blob_id)
        except UnknownReportError:
            abort(404)
        except VaultError as exc:
            abort(error_page(409, _("This file cannot be opened"), str(exc)))
    return manifest, opener


def _log_decrypt(state: Any, blob_id: str) -> None:
    """Record a custody event; posted now if the server answers, else kept for the next sync."""
    from admin.console.views import ConsoleError, make_client

    report_id = state.vault.blob_report(blob_id)
    try:
        with make_client(state) as client:
            record_custody(state.vault, client, report_id, blob_id, "decrypt")
    except (ConsoleError, ClientError):
        record_custody(state.vault, None, report_id, blob_id, "decrypt")


def verified_chunks(opener: FileOpener) -> Iterator[bytes]:
    """Yield the plaintext, the last chunk only once the whole file has verified."""
    held: bytes | None = None
    try:
        for chunk in opener.chunks():
            if held:
                yield held
            held = chunk
    except EnvelopeError:
        log.error("a file failed to verify while it was being downloaded; the download was cut")
        raise
    if held:
        yield held


def ascii_filename(filename: str, fallback: str) -> str:
    """A plain ASCII file name for old browsers: no path, no quotes, no control characters.

    The extension is kept when it survives; a name with nothing ASCII left
    becomes fallback (plus the extension).
    """
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    stem = _ascii_part(stem)[:100] or fallback
    extension = _ascii_part(extension)[:16]
    return f"{stem}.{extension}" if extension else stem


def _ascii_part(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _UNSAFE_FILENAME.sub("_", text).strip(" ._-")


def content_disposition(filename: str, blob_id: str) -> str:
    """attachment, with an ASCII fallback and the UTF-8 name for browsers that take it."""
    fallback = ascii_filename(filename, f"file-{blob_id[:16]}")
    utf8_name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    utf8_name = "".join(ch for ch in utf8_name if unicodedata.category(ch)[0] != "C")
    value = f'attachment; filename="{fallback}"'
    if utf8_name and utf8_name != fallback:
        value += f"; filename*=UTF-8''{quote(utf8_name, safe='')}"
    return value


@bp.post("/files/<blob_id>/download")
def download(blob_id: str) -> Response:
    manifest, opener = _open(blob_id)
    response = Response(
        verified_chunks(opener),
        mimetype="application/octet-stream",
        direct_passthrough=True,
    )
    response.headers["Content-Disposition"] = content_disposition(manifest.filename, blob_id)
    response.headers["Content-Length"] = str(manifest.size)
    response.call_on_close(lambda: _close(opener))
    return response


@bp.post("/files/<blob_id>/clean")
def clean_copy(blob_id: str) -> Response:
    """The file without its metadata (GPS, device, author, times), as an attachment."""
    manifest, opener = _open(blob_id)
    content_type = evidence_type(manifest.content_type, manifest.filename)
    kind = clean_kind(content_type)
    try:
        if kind is None:
            raise CopyUnavailable(N_("no copy without metadata is made for this type of file"))
        if kind == "video":
            copy = clean_video(opener.chunks(), content_type, manifest.size)
            response = Response(copy.chunks(), mimetype="application/octet-stream")
            response.call_on_close(copy.close)
            response.headers["Content-Length"] = str(copy.size)
        else:
            data = b"".join(opener.chunks())  # verified whole before anything is sent
            clean = clean_image(data, content_type) if kind == "image" else clean_pdf(data)
            response = Response(clean, mimetype="application/octet-stream")
    except CopyUnavailable as exc:
        return error_page(415, _("No copy without metadata"), _copy_problem(exc))
    except EnvelopeError as exc:
        return error_page(409, _("This file cannot be opened"), str(exc))
    finally:
        _close(opener)
    name = clean_name(manifest.filename)
    response.headers["Content-Disposition"] = content_disposition(name, blob_id)
    return response


def _copy_problem(exc: CopyUnavailable) -> str:
    reason = str(_(exc.reason)) + (f" ({exc.detail})" if exc.detail else "")
    return str(
        _(
            "It cannot be made here: %(reason)s. Only the original can be downloaded, and it keeps"
            " everything the device wrote into it.",
            reason=reason,
        )
    )


@bp.post("/files/<blob_id>/preview")
def preview(blob_id: str) -> Response:
    manifest, opener = _open(blob_id)
    if manifest.content_type not in PREVIEW_TYPES or manifest.size > MAX_PREVIEW_BYTES:
        _close(opener)
        return error_page(415, _("No preview for this file"), _("Download it instead."))
    try:
        data = b"".join(opener.chunks())
        if image_type(data) != manifest.content_type:
            raise ImageError("the content is not what the manifest says")
        clean, mimetype = strip_metadata(data)
    except ImageTooLargeError:
        return error_page(
            415,
            _("No preview for this file"),
            _("The image is too large to preview (over 50 megapixels). Download it instead."),
        )
    except (EnvelopeError, ImageError) as exc:
        return error_page(415, _("No preview for this file"), str(exc))
    response = Response(clean, mimetype=mimetype)
    response.headers["Content-Disposition"] = "inline"
    return response


@bp.post("/reports/<report_id>/files/<blob_id>/identify")
def identify(report_id: str, blob_id: str) -> Response:
    """Decrypt a file once, discarding the output, to learn its name, type and hash."""
    state = g.unlocked
    with state.lock:
        try:
            known = {f.blob_id for f in state.vault.files(report_id)}
        except UnknownReportError:
            abort(404)
        if blob_id not in known:
            abort(404)
        try:
            state.vault.manifest(blob_id)
        except VaultError as exc:
            state.notify("error", _("This file cannot be opened: %(reason)s", reason=str(exc)))
    return redirect(url_for("console.report", report_id=report_id), 303)


def _close(opener: FileOpener) -> None:
    close = getattr(opener, "close", None)
    if callable(close):
        close()
