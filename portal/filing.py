"""Putting sealed blobs on file: a row with a signed receipt for each, and one commit.

`commit_blobs` moves a submission's pending blobs into the store and commits
their rows (portal.intake's store_report and store_followup), retrying a
database blip (portal.retry). Whatever goes wrong, no row points at a
missing file and no file stays that no row may name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from nacl.public import PublicKey
from nacl.signing import SigningKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.envelope import Kind, Sealer
from crypto.receipts import Receipt, sign_receipt
from portal.models import Blob, Recipient, new_public_id, today
from portal.retry import write_patiently
from portal.store import BlobStore, KeptBlob, PendingBlob

if TYPE_CHECKING:
    from portal.intake import Submission

# A text to seal beside the files: its blob kind, its envelope kind, the
# content, and the source's own key when they may read it back.
Text = tuple[str, Kind, bytes, PublicKey | None]


def commit_blobs(
    session: Session,
    store: BlobStore,
    server_key: SigningKey,
    report_id: str,
    submission: Submission,
    text: Text | None,
    add_parent: Callable[[], None],
    patience: float,
) -> list[Blob]:
    """Commit submission's files (and text, sealed first) as blobs of report_id.

    add_parent() adds or touches the parent row on every attempt. On any
    failure nothing is left; submission.files is emptied either way.
    """
    pending: list[tuple[str, PendingBlob | KeptBlob]] = [("file", b) for b in submission.files]
    moved: list[PendingBlob | KeptBlob] = []
    sent_commit = False
    written: list[Blob] = []
    try:
        if text is not None:
            pending.insert(0, (text[0], seal_text(store, submission.recipients, *text[1:])))
        rows = [blob_row(server_key, report_id, kind_name, blob) for kind_name, blob in pending]

        def attempt() -> None:
            nonlocal sent_commit, written
            add_parent()
            written = [_copy(row) for row in rows]
            session.add_all(written)
            session.flush()
            # Files move into the store before the rows commit: a crash between
            # the two leaves an unreferenced blob for the sweep, never a row
            # that points at nothing.
            for _, blob in pending:
                if blob not in moved:
                    store.commit(blob)
                    moved.append(blob)
            sent_commit = True
            session.commit()

        # Under the store's commit lock, retries included, so a sweep never
        # sees the files without their committed rows (portal.store).
        with store.committing():
            write_patiently(session, attempt, lambda: _exists(session, rows[0].id), patience)
    except BaseException:
        _undo(session, store, [blob for _, blob in pending], moved, sent_commit=sent_commit)
        raise
    finally:
        submission.files.clear()
    return written


def _undo(
    session: Session,
    store: BlobStore,
    pending: list[PendingBlob | KeptBlob],
    moved: list[PendingBlob | KeptBlob],
    *,
    sent_commit: bool,
) -> None:
    """After a failed commit: roll back, and remove the blobs no row will name."""
    session.rollback()
    for blob in pending:
        store.discard(blob)
    # A COMMIT whose answer was lost may have landed: then the files are
    # the report's. Unless the database says it did not, they stay for
    # the sweep, which takes them only if no row names them.
    if moved and not (sent_commit and _may_exist(session, moved[0])):
        for blob in moved:
            store.delete(blob.name)


def _copy(row: Blob) -> Blob:
    return Blob(**{column.key: getattr(row, column.key) for column in Blob.__table__.columns})


def _exists(session: Session, blob_id: str) -> bool:
    return session.scalar(select(Blob.id).where(Blob.id == blob_id)) is not None


def _may_exist(session: Session, blob: PendingBlob | KeptBlob) -> bool:
    """Whether blob's row may have been committed: True if it was, or if nobody can tell."""
    try:
        found = session.scalar(select(Blob.id).where(Blob.storage_name == blob.name))
    except Exception:
        session.rollback()
        return True
    return found is not None


def seal_text(
    store: BlobStore,
    recipients: Sequence[Recipient],
    kind: Kind,
    content: bytes,
    own_key: PublicKey | None = None,
) -> PendingBlob:
    """Seal content to the reviewers, and to the source's own key if given."""
    blob = store.create()
    keys = [PublicKey(r.box_key) for r in recipients]
    if own_key is not None:
        keys.append(own_key)
    try:
        sealer = Sealer(blob.writer, keys, kind)
        sealer.write(content)
        sealer.close()
        store.finish(blob)
    except BaseException:
        store.discard(blob)
        raise
    return blob


def blob_row(
    server_key: SigningKey,
    report_id: str,
    kind: str,
    blob: PendingBlob | KeptBlob,
    *,
    author: str = "source",
    recipient_id: int | None = None,
    signature: bytes | None = None,
) -> Blob:
    """The row for a finished pending blob, with the server's signed receipt.

    author is "source", or "reviewer" for a reply, which also names the
    reviewer (recipient_id) and carries their signature. The caller adds and
    commits the row.
    """
    blob_id = new_public_id()
    day = today()
    receipt = Receipt(
        blob_id=blob_id,
        report_id=report_id,
        kind=kind,
        size=blob.size,
        sha256=blob.sha256(),
        day=day.isoformat(),
    )
    return Blob(
        id=blob_id,
        report_id=report_id,
        kind=kind,
        author=author,
        recipient_id=recipient_id,
        storage_name=blob.name,
        size=blob.size,
        sha256=blob.sha256(),
        receipt=sign_receipt(server_key, receipt),
        signature=signature,
        created_day=day,
    )
