"""Files that arrived with a report the source still has to fix.

When a report comes back for a fix (a field to correct, or the codename to
enter again after the session ended), the files that arrived are not thrown
away: they are sealed already. They stay under the store's incoming/ folder
and this browser's signed session lists them (the blob's name, the file's
name as the browser gave it, its size, and the reviewers it was sealed to),
so the next submission of the same form takes them without a second upload.
Logging out or leaving shreds them; a form that is never sent again leaves
them for `amanat-server sweep`, which deletes partial blobs after a day.

The file's name lives only in the source's own cookie, never on the server.
"""

from __future__ import annotations

import os
from typing import Any

from flask import session
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Recipient
from portal.services import blob_store
from portal.store import KeptBlob, PendingBlob

KEY = "kept_files"
RECIPIENTS_KEY = "kept_recipients"
KEEP_FIELD = "keep_file"
MAX_LABEL = 80


def listed() -> list[dict[str, Any]]:
    """The kept files of this session: [{"name", "label", "size"}]."""
    found = session.get(KEY)
    return [f for f in found if isinstance(f, dict)] if isinstance(found, list) else []


def keep(
    files: list[PendingBlob | KeptBlob],
    labels: list[str],
    sizes: list[int],
    recipients: list[Recipient],
) -> None:
    """Keep a refused submission's finished files for this session's next try."""
    kept = listed()
    store = blob_store()
    for blob, label, size in zip(files, labels, sizes, strict=False):
        if isinstance(blob, PendingBlob):
            if not blob.file.closed:
                continue  # never finished: the caller discards it
            store.keep(blob)
        elif blob.lock_fd >= 0:
            os.close(blob.lock_fd)
            blob.lock_fd = -1
        if not any(item["name"] == blob.name for item in kept):
            kept.append({"name": blob.name, "label": label[:MAX_LABEL], "size": size})
    session[KEY] = kept
    if recipients:
        session[RECIPIENTS_KEY] = [r.id for r in recipients]


def kept_recipients(db: Session) -> list[Recipient]:
    """The still-active reviewers the kept files were sealed to ([] if none)."""
    ids = session.get(RECIPIENTS_KEY)
    if not listed() or not isinstance(ids, list):
        return []
    rows = db.scalars(select(Recipient).where(Recipient.id.in_(ids), Recipient.active))
    return list(rows)


def take(wanted: list[str]) -> list[KeptBlob]:
    """The kept files the form still ticks (wanted: their blob names); the rest
    are shredded, and the session forgets all of them."""
    store = blob_store()
    taken: list[KeptBlob] = []
    for item in listed():
        blob = store.reclaim(item["name"])
        if blob is None:
            continue
        if item["name"] in wanted:
            taken.append(blob)
        else:
            store.discard(blob)
    forget()
    return taken


def forget() -> None:
    session.pop(KEY, None)
    session.pop(RECIPIENTS_KEY, None)


def discard_all() -> None:
    """Shred every kept file of this session (logging out, leaving)."""
    take([])
