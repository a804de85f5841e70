"""Receiving reports and follow-ups: every byte is sealed as it arrives.

`receive` reads a multipart body as a stream. Text fields stay in memory;
each file goes straight through a FileSealer into a pending blob, so no
plaintext byte of an upload reaches the disk. The CSRF token must be the
first field, so nothing is written for a forged request. `store_report` and
`store_followup` then seal the answers, sign a receipt for every blob and
commit; `store_reply` keeps a reviewer's reply, sealed on their machine,
with a receipt the same way. Whatever goes wrong before the commit, no blob
and no row remain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

from nacl.public import PublicKey
from nacl.signing import SigningKey
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from crypto import canonical
from crypto.envelope import Kind
from crypto.manifest import FileSealer
from portal.filing import blob_row, commit_blobs
from portal.models import Blob, Recipient, Report, ReportRecipient, Source, new_public_id, today
from portal.multipart import FileChunk, FileEnd, FileStart, Limits, TextField, read_parts
from portal.routing import recipients_for
from portal.store import BlobStore, KeptBlob, PendingBlob

TOKEN_FIELD = "csrf_token"  # noqa: S105 (a field name, not a secret)
HONEYPOT_FIELD = "website"
REGION_FIELD = "region"
MAX_FILES = 20


class HoneypotFilled(BadRequest):
    description = "This form was filled in by a program, not a person."


@dataclass
class Submission:
    """A received form: its text fields and its files, sealed and pending."""

    fields: MultiDict[str, str] = field(default_factory=MultiDict)
    files: list[PendingBlob | KeptBlob] = field(default_factory=list)
    recipients: list[Recipient] = field(default_factory=list)
    file_sizes: list[int] = field(default_factory=list)
    # The names the browser gave, only for the page that asks for a fix
    # (portal.kept_files); never stored on the server.
    file_names: list[str] = field(default_factory=list)

    def discard(self, store: BlobStore) -> None:
        for blob in self.files:
            store.discard(blob)
        self.files.clear()


def receive(
    stream: IO[bytes],
    boundary: bytes,
    *,
    store: BlobStore,
    check_token: Callable[[str], None],
    choose_recipients: Callable[[str | None], list[Recipient]],
    limits: Limits | None = None,
) -> Submission:
    """Read a form from stream, sealing its files as they arrive.

    check_token(value) must raise for a bad CSRF token; it is called on the
    first field, which must be the token. choose_recipients(region) gives the
    reviewers to seal to; it is called once, when the first file starts
    (the form puts the region before the files) or at the end.
    On any error every pending blob is deleted before the error propagates.
    """
    receiver = _Receiver(store, check_token, choose_recipients)
    try:
        for part in read_parts(stream, boundary, limits or Limits()):
            receiver.take(part)
        return receiver.finish()
    except BaseException:
        receiver.submission.discard(store)
        raise


class _Receiver:
    """One form being received: one method per kind of part, the token always first."""

    def __init__(
        self,
        store: BlobStore,
        check_token: Callable[[str], None],
        choose_recipients: Callable[[str | None], list[Recipient]],
    ) -> None:
        self.store = store
        self.check_token = check_token
        self.choose_recipients = choose_recipients
        self.submission = Submission()
        self.current: tuple[PendingBlob, FileSealer] | None = None
        self.token_checked = False

    def take(self, part: object) -> None:
        if isinstance(part, TextField):
            self.text(part)
        elif isinstance(part, FileStart):
            self.file_start(part)
        elif isinstance(part, FileChunk):
            if self.current is not None:
                self.current[1].write(part.data)
        elif isinstance(part, FileEnd):
            self.file_end()

    def text(self, part: TextField) -> None:
        if not self.token_checked:
            if part.name != TOKEN_FIELD:
                raise BadRequest("the form's security token must come first")
            self.check_token(part.value)
            self.token_checked = True
        elif part.name == HONEYPOT_FIELD:
            if part.value.strip():
                raise HoneypotFilled()
        else:
            self.submission.fields.add(part.name, part.value)

    def file_start(self, part: FileStart) -> None:
        if not self.token_checked:
            raise BadRequest("the form's security token must come first")
        if not part.filename:
            return  # an empty file input
        submission = self.submission
        if len(submission.files) >= MAX_FILES:
            raise RequestEntityTooLarge()
        self._choose_recipients()
        blob = self.store.create()
        submission.files.append(blob)
        submission.file_names.append(part.filename)
        keys = [PublicKey(r.box_key) for r in submission.recipients]
        self.current = (blob, FileSealer(blob.writer, keys, part.filename, part.content_type))

    def file_end(self) -> None:
        if self.current is None:
            return
        blob, sealer = self.current
        _, manifest = sealer.close()
        self.store.finish(blob)
        self.submission.file_sizes.append(manifest.size)
        self.current = None

    def finish(self) -> Submission:
        if not self.token_checked:
            raise BadRequest("the form has no security token")
        self._choose_recipients()
        return self.submission

    def _choose_recipients(self) -> None:
        if not self.submission.recipients:
            region = self.submission.fields.get(REGION_FIELD)
            self.submission.recipients = self.choose_recipients(region)


@dataclass(frozen=True)
class Stored:
    """What was committed, for the receipt page."""

    report: Report
    blobs: list[Blob]


def store_report(
    session: Session,
    store: BlobStore,
    server_key: SigningKey,
    source: Source,
    submission: Submission,
    answers: dict[str, Any],
    *,
    patience: float = 0.0,
) -> Stored:
    """Seal the answers, record the report and its blobs with receipts, and commit.

    A database blip at the end is retried for up to patience seconds while
    the sealed blobs wait (portal.retry). On any failure nothing is left: no
    row, no blob file.
    """
    report_id, source_id = new_public_id(), source.id
    recipient_ids = [recipient.id for recipient in submission.recipients]
    made: list[Report] = []

    def add_report() -> None:
        # Fresh rows on every attempt: a rolled-back session forgets its own.
        report = Report(id=report_id, source_id=source_id)
        made.append(report)
        session.add(report)
        session.flush()  # the report row first: blobs and slots refer to it
        session.add_all(ReportRecipient(report_id=report_id, recipient_id=r) for r in recipient_ids)

    content = canonical.encode(answers)
    # The source's own key gets a slot too: after logging in they read what
    # they wrote, opened with the key their codename derives, never stored open.
    own_key = PublicKey(source.box_public_key)
    blobs = commit_blobs(
        session,
        store,
        server_key,
        report_id,
        submission,
        ("answers", Kind.REPORT, content, own_key),
        add_report,
        patience,
    )
    return Stored(report=made[-1], blobs=blobs)


def store_followup(
    session: Session,
    store: BlobStore,
    server_key: SigningKey,
    report: Report,
    submission: Submission,
    message: str,
    *,
    patience: float = 0.0,
) -> Stored:
    """Seal a follow-up message (if any) and files to the report's reviewers, and commit.

    Database blips are retried for up to patience seconds, as in store_report.
    """
    source = session.get(Source, report.source_id)
    own_key = PublicKey(source.box_public_key) if source is not None else None
    sealed_message = (
        ("message", Kind.MESSAGE, message.encode("utf-8"), own_key) if message else None
    )

    def touch_report() -> None:
        report.updated_day = today()

    blobs = commit_blobs(
        session, store, server_key, report.id, submission, sealed_message, touch_report, patience
    )
    return Stored(report=report, blobs=blobs)


def store_reply(
    session: Session,
    store: BlobStore,
    server_key: SigningKey,
    report: Report,
    author: Recipient,
    envelope: bytes,
    signature: bytes,
    kind: str = "reply",
) -> Blob:
    """Store a reviewer's sealed reply (or case event, kind "event") with its
    receipt and signature, and commit.

    The caller has checked the envelope's kind and the signature. On any
    failure nothing is left: no row, no blob file.
    """
    pending = store.create()
    committed = False
    try:
        pending.writer.write(envelope)
        store.finish(pending)
        row = blob_row(
            server_key,
            report.id,
            kind,
            pending,
            author="reviewer",
            recipient_id=author.id,
            signature=signature,
        )
        session.add(row)
        report.updated_day = today()
        session.flush()
        with store.committing():
            store.commit(pending)
            committed = True
            session.commit()
    except BaseException:
        session.rollback()
        store.discard(pending)
        if committed:
            store.delete(pending.name)
        raise
    return row


def choose_for(session: Session) -> Callable[[str | None], list[Recipient]]:
    """A choose_recipients callback routing by region over session's reviewers.

    It ends its read transaction at once, so an upload that streams for
    hours holds no database transaction open meanwhile.
    """

    def choose(region: str | None) -> list[Recipient]:
        recipients = recipients_for(session, region)
        session.commit()
        return recipients

    return choose
