"""What the server keeps, and for how long: retention, purging, stranded reports.

The server is a mailbox, not an archive: a report has done its job once every
reviewer it is sealed to holds it in their vault. `purge` deletes, through
the shredder:

- reports every active reviewer they are sealed to has acknowledged, blob by
  blob, `retention_days` after the last of them did. An acknowledgement is
  signed by the reviewer's key once the blob is in their vault and its
  SHA-256 checked (portal.acks); nothing the server sees of a download (a
  HEAD, a range, a GET cut short, a blob the vault refused) counts;
- expired source sessions and API nonces;
- partial uploads and orphan blobs left by a killed worker (portal.sweep).

A report sealed only to revoked keys ("stranded") is never deleted
automatically: no active reviewer can open the server's copy, and the
operator is told (`amanat-server check`, `recipient list`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal.models import (
    ApiNonce,
    Blob,
    BlobAck,
    Recipient,
    Report,
    ReportRecipient,
    SourceSession,
    today,
)
from portal.shred import scrub_database
from portal.store import BlobStore
from portal.sweep import sweep


@dataclass(frozen=True)
class Purged:
    """How many of each thing one purge deleted."""

    reports: int
    sessions: int
    nonces: int
    partial: int
    orphans: int


def remove_report(session: Session, store: BlobStore, report_id: str) -> None:
    """Delete a report's rows and shred its blob files, and commit.

    The report row is locked first, so a follow-up arriving meanwhile waits
    and then fails rather than leave a file behind. Files go after the rows
    are deleted but before the commit: if anything fails, the rows remain
    and deleting again finishes the job.
    """
    session.execute(select(Report.id).where(Report.id == report_id).with_for_update())
    names = session.scalars(
        delete(Blob).where(Blob.report_id == report_id).returning(Blob.storage_name)
    ).all()
    session.execute(delete(ReportRecipient).where(ReportRecipient.report_id == report_id))
    session.execute(delete(Report).where(Report.id == report_id))
    for name in names:
        store.delete(name)
    session.commit()


def _readers(session: Session) -> dict[str, list[int]]:
    """Each report's active reviewers whose keys its envelopes are sealed to."""
    readers: dict[str, list[int]] = defaultdict(list)
    rows = session.execute(
        select(ReportRecipient.report_id, ReportRecipient.recipient_id)
        .join(Recipient, Recipient.id == ReportRecipient.recipient_id)
        .where(ReportRecipient.sealed.is_(True), Recipient.active.is_(True))
    )
    for report_id, recipient_id in rows:
        readers[report_id].append(recipient_id)
    return readers


def stranded_reports(session: Session) -> list[str]:
    """Reports no active key can open: every key they are sealed to is revoked."""
    readers = _readers(session)
    return [r for r in session.scalars(select(Report.id).order_by(Report.id)) if r not in readers]


def synced_day(session: Session, report_id: str, recipient_id: int) -> dt.date | None:
    """The day recipient had acknowledged every blob of report; None if not yet."""
    blob_ids = set(session.scalars(select(Blob.id).where(Blob.report_id == report_id)))
    days = dict(
        session.execute(
            select(BlobAck.blob_id, BlobAck.day)
            .join(Blob, Blob.id == BlobAck.blob_id)
            .where(Blob.report_id == report_id, BlobAck.recipient_id == recipient_id)
        ).all()
    )
    if not blob_ids or blob_ids - days.keys():
        return None
    return max(days.values())


def due_reports(session: Session, retention_days: int, on: dt.date | None = None) -> list[str]:
    """Reports every active reader synced at least retention_days before `on` (today)."""
    cutoff = (on or today()) - dt.timedelta(days=retention_days)
    due = []
    for report_id, recipient_ids in sorted(_readers(session).items()):
        days = [synced_day(session, report_id, r) for r in recipient_ids]
        if all(d is not None and d <= cutoff for d in days):
            due.append(report_id)
    return due


def purge(
    session: Session,
    store: BlobStore,
    retention_days: int | None,
    grace_seconds: float = 3600,
    on: dt.date | None = None,
) -> Purged:
    """Delete, through the shredder, everything the server no longer needs (see above).

    retention_days None keeps reports until a reviewer deletes them.
    """
    due = due_reports(session, retention_days, on) if retention_days is not None else []
    for report_id in due:
        remove_report(session, store, report_id)
    day = today()
    sessions = session.execute(delete(SourceSession).where(SourceSession.expires_day < day))
    nonces = session.execute(delete(ApiNonce).where(ApiNonce.expires_day < day))
    session.commit()
    swept = sweep(session, store, grace_seconds)
    scrub_database(session.get_bind().engine)
    return Purged(
        reports=len(due),
        sessions=_count(sessions),
        nonces=_count(nonces),
        partial=swept.partial,
        orphans=swept.orphans,
    )


def _count(result: object) -> int:
    rowcount = getattr(result, "rowcount", 0)
    return max(int(rowcount or 0), 0)
