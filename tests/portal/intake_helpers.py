"""Reading a form through portal.intake in tests, with a token that only
"good-token" passes."""

from __future__ import annotations

import io

from werkzeug.exceptions import BadRequest

from portal.intake import Submission, choose_for, receive
from portal.multipart import Limits
from portal.store import BlobStore

from .multipart_body import BOUNDARY


def accept_token(value: str) -> None:
    """The check_token of these tests: "good-token" passes, anything else is a 400."""
    if value != "good-token":
        raise BadRequest("bad token")


def receive_body(
    body: bytes, store: BlobStore, db_session, limits: Limits | None = None
) -> Submission:
    """Receive body (built with multipart_body.encode) as the report form's upload."""
    return receive(
        io.BytesIO(body),
        BOUNDARY.encode(),
        store=store,
        check_token=accept_token,
        choose_recipients=choose_for(db_session),
        limits=limits,
    )
