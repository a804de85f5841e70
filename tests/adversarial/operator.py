"""What an operator with the database does to a team that trusts its roster (shared helpers)."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from admin.client import ApiClient
from admin.sync import sync
from admin.vault import Vault
from crypto.events import sign_event
from crypto.keys import ReviewerKey
from crypto.replies import sign_reply
from portal import db, intake
from portal.models import Recipient, Report, ReportRecipient
from portal.services import blob_store, server_key

PASSPHRASE = "a long passphrase"


def insert_operator_recipient(app, report_id: str, name: str = "Бакыт") -> ReviewerKey:
    """What a hostile operator does in the database: a recipient row of their own, on the report."""
    mallory = ReviewerKey.generate(name)
    with app.app_context():
        session = db.get_session()
        row = Recipient(
            name=name,
            box_key=bytes(mallory.box.public_key),
            verify_key=bytes(mallory.signing.verify_key),
            fingerprint=mallory.bundle().fingerprint,
            active=True,
        )
        session.add(row)
        session.flush()
        session.add(ReportRecipient(report_id=report_id, recipient_id=row.id))
        session.commit()
    return mallory


def store_as_operator(app, report_id: str, key: ReviewerKey, envelope: bytes, kind: str) -> None:
    """Store a blob signed by key straight into the server, past every API check."""
    digest = hashlib.sha256(envelope).hexdigest()
    sign = sign_reply if kind == "reply" else sign_event
    with app.app_context():
        session = db.get_session()
        author = session.scalar(
            select(Recipient).where(Recipient.verify_key == bytes(key.signing.verify_key))
        )
        report = session.get(Report, report_id)
        assert author is not None and report is not None
        intake.store_reply(
            session,
            blob_store(),
            server_key(),
            report,
            author,
            envelope,
            sign(key.signing, report_id, digest),
            kind=kind,
        )


def resync(live_server, *vaults: Vault) -> None:
    for vault in vaults:
        with ApiClient(live_server.url, vault.key) as api:
            sync(vault, api)
