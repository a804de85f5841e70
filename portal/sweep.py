"""Clean what a killed worker can leave behind: partial uploads and orphan blobs.

Uploads are written under incoming/ and renamed into blobs/ just before
their rows commit (portal.intake). A worker killed mid-upload leaves a
partial file in incoming/; one killed between the rename and the commit
leaves a blob no row names. Neither is readable by anyone but the reviewers,
and neither is part of a report, so both can go.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Blob
from portal.shred import shred_file
from portal.store import BlobStore


@dataclass(frozen=True)
class Swept:
    partial: int
    orphans: int


def sweep(session: Session, store: BlobStore, older_than_seconds: float = 3600) -> Swept:
    """Delete partial uploads and unreferenced blobs older than the grace period.

    The grace period keeps uploads in progress (and blobs whose rows are
    about to commit) safe: a 2 GiB upload over Tor takes hours, so the
    default for partial files is a day, and an hour for orphans.
    """
    partial = store.sweep_incoming(max(older_than_seconds, 24 * 3600))
    known = set(session.scalars(select(Blob.storage_name)))
    cutoff = time.time() - older_than_seconds
    orphans = 0
    for path in store.root.iterdir():
        if path.name not in known and path.stat().st_mtime < cutoff:
            shred_file(path)
            orphans += 1
    return Swept(partial=partial, orphans=orphans)
