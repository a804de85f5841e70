"""The portal's Request class: uploads are never spooled to disk in plaintext.

Werkzeug's form parser writes any uploaded file over 500 KB to a temporary
file before the view runs. Here that would put a source's plaintext evidence
on the server's disk. Uploads are instead read from `request.stream` by a
streaming sealer that encrypts as it reads; anything that asks Werkzeug to
parse a file part (`request.form` or `request.files` on a multipart body
with a file) gets a 400 instead of a temp file.
"""

from __future__ import annotations

from typing import IO

from flask import Request
from werkzeug.exceptions import BadRequest


class UploadNotStreamedError(BadRequest):
    """A file part reached Werkzeug's form parser instead of the streaming sealer."""

    description = "File uploads are only accepted by the streaming upload endpoint."


class PortalRequest(Request):
    """A Request that refuses to buffer file parts anywhere."""

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        raise UploadNotStreamedError()
