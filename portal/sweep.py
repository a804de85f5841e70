"""Clean what a killed worker can leave behind: partial uploads and orphan blobs.

Uploads are written under incoming/ and renamed into blobs/ just before
their rows commit (portal.intake). A worker killed mid-upload leaves a
partial file in incoming/; one killed between the rename and the commit
leaves a blob no row names. Neither is readable by anyone but the reviewers,
and neither is part of a report, so both can go.

A committed blob is never taken for an orphan, whatever the clocks and
whatever runs meanwhile, on this host or another sharing the store: the
candidates are checked against the database again while the store's commit
lock is held exclusively (portal.store), so every blob then in blobs/ either
has its row committed or belongs to a worker that died. Candidates are only
moved aside under the lock; the slow shredding happens after it.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Blob
from portal.store import BlobStore, shred_unless_locked


@dataclass(frozen=True)
class Swept:
    partial: int
    orphans: int


def sweep(session: Session, store: BlobStore, older_than_seconds: float = 3600) -> Swept:
    """Delete partial uploads and unreferenced blobs older than the grace period.

    The grace period is a second line only (the locks are the first): a
    partial upload whose worker died is kept for a day, an orphan blob for
    an hour, to leave time for a look at what happened.
    """
    partial = store.sweep_incoming(max(older_than_seconds, 24 * 3600))
    cutoff = time.time() - older_than_seconds
    known = set(session.scalars(select(Blob.storage_name)))
    session.commit()
    candidates = [n for n in store.names() if n not in known and _older(store, n, cutoff)]
    if not candidates:
        return Swept(partial=partial, orphans=0)
    with store.exclusive():
        query = select(Blob.storage_name).where(Blob.storage_name.in_(candidates))
        committed = set(session.scalars(query))
        session.commit()
        aside = []
        for name in candidates:
            if name not in committed:
                with contextlib.suppress(FileNotFoundError):  # deleted meanwhile
                    aside.append(store.set_aside(name))
    orphans = sum(shred_unless_locked(path) for path in aside)
    return Swept(partial=partial, orphans=orphans)


def _older(store: BlobStore, name: str, cutoff: float) -> bool:
    try:
        return store.path_of(name).stat().st_mtime < cutoff
    except FileNotFoundError:
        return False
