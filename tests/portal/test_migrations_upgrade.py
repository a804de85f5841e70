"""Upgrades: a database made by the first migration, with data, upgraded to the latest."""

from __future__ import annotations

import datetime as dt

from click.testing import CliRunner
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from portal import db
from portal.cli import main
from portal.models import Blob, BlobAck, Recipient, Report, ReportRecipient, Source


def _fill_at_0001(database_url: str) -> None:
    """Rows as version 0001's schema had them, written in plain SQL."""
    engine = db.make_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO recipients (id, name, box_key, verify_key, fingerprint, regions,"
                    " active, created_day) VALUES (1, 'Айгуль', :box, :verify, 'ab12', 'osh',"
                    " :yes, :day)"
                ),
                {
                    "box": b"\x01" * 32,
                    "verify": b"\x02" * 32,
                    "yes": True,
                    "day": dt.date(2026, 1, 2),
                },
            )
            connection.execute(
                text(
                    "INSERT INTO sources (id, lookup_digest, box_public_key, created_day)"
                    " VALUES (1, :digest, :key, :day)"
                ),
                {"digest": "d" * 64, "key": b"\x03" * 32, "day": dt.date(2026, 1, 2)},
            )
            connection.execute(
                text(
                    "INSERT INTO reports (id, source_id, status, created_day, updated_day)"
                    " VALUES ('r' , 1, 'in_review', :day, :day)"
                ),
                {"day": dt.date(2026, 1, 2)},
            )
            connection.execute(
                text("INSERT INTO report_recipients (report_id, recipient_id) VALUES ('r', 1)")
            )
            connection.execute(
                text(
                    "INSERT INTO blobs (id, report_id, kind, author, storage_name, size, sha256,"
                    " receipt, created_day) VALUES ('b', 'r', 'file', 'source', 'n', :size, :sha,"
                    " :receipt, :day)"
                ),
                {
                    "size": 3 * 1024**3,
                    "sha": "0" * 64,
                    "receipt": b"\x04" * 64,
                    "day": dt.date(2026, 1, 2),
                },
            )
    finally:
        engine.dispose()


def test_a_database_from_0001_keeps_its_data_through_every_migration(
    empty_database_url: str,
) -> None:
    db.upgrade(empty_database_url, "0001")
    _fill_at_0001(empty_database_url)
    result = CliRunner(env={"AMANAT_DATABASE_URL": empty_database_url}).invoke(main, ["migrate"])
    assert result.exit_code == 0, result.output
    engine = db.make_engine(empty_database_url)
    try:
        with Session(engine) as session:
            recipient = session.get(Recipient, 1)
            assert recipient is not None and recipient.name == "Айгуль"
            assert recipient.region_list == ["osh"] and recipient.active
            assert session.get(Source, 1).lookup_digest == "d" * 64  # type: ignore[union-attr]
            report = session.get(Report, "r")
            assert report is not None and report.status == "in_review"
            assert report.created_day == dt.date(2026, 1, 2)
            blob = session.get(Blob, "b")
            assert blob is not None and blob.size == 3 * 1024**3 and blob.signature is None
            (slot,) = session.scalars(select(ReportRecipient)).all()
            assert slot.sealed is True  # every slot before 0003 was sealed
            # The new schema takes new rows next to the old ones.
            session.add(BlobAck(blob_id="b", recipient_id=1, signature=b"\x05" * 64))
            session.commit()
            assert session.scalars(select(BlobAck.day)).one() is not None
    finally:
        engine.dispose()
