"""The schema: migrations match the models, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import db
from portal.models import (
    PUBLIC_ID_CHARS,
    Base,
    Blob,
    Recipient,
    Report,
    ReportRecipient,
    Source,
    new_public_id,
    today,
)


def _source(session: Session, digest: str = "a" * 64) -> Source:
    source = Source(lookup_digest=digest, box_public_key=b"\x01" * 32)
    session.add(source)
    session.flush()
    return source


def _report(session: Session) -> Report:
    report = Report(source_id=_source(session).id)
    session.add(report)
    session.flush()
    return report


def _blob(report: Report, name: str) -> Blob:
    return Blob(
        report_id=report.id,
        kind="file",
        author="source",
        storage_name=name,
        size=3 * 1024**3,  # over 2**31: sizes are 64-bit
        sha256="0" * 64,
        receipt=b"\x02" * 64,
    )


def test_migrations_create_exactly_the_models_schema(database_url: str) -> None:
    engine = db.make_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection)
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_upgrading_twice_changes_nothing(database_url: str) -> None:
    db.upgrade(database_url)
    engine = db.make_engine(database_url)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {"recipients", "sources", "reports", "report_recipients", "blobs"} <= tables
    assert {"source_sessions", "alembic_version"} <= tables


def test_no_table_stores_network_metadata(database_url: str) -> None:
    engine = db.make_engine(database_url)
    try:
        inspector = inspect(engine)
        columns = {
            column["name"]
            for table in inspector.get_table_names()
            for column in inspector.get_columns(table)
        }
    finally:
        engine.dispose()
    forbidden = {"ip", "addr", "address", "agent", "referer", "referrer", "at", "time"}
    suspicious = [c for c in columns if forbidden & set(c.split("_"))]
    assert suspicious == []


def test_no_column_holds_a_moment_only_days(database_url: str) -> None:
    engine = db.make_engine(database_url)
    try:
        inspector = inspect(engine)
        timed = [
            f"{table}.{column['name']}"
            for table in inspector.get_table_names()
            for column in inspector.get_columns(table)
            if "TIME" in str(column["type"]).upper()
        ]
    finally:
        engine.dispose()
    assert timed == []


def test_timestamps_are_days_not_moments(db_session: Session) -> None:
    report = _report(db_session)
    db_session.commit()
    db_session.expire_all()
    stored = db_session.get(Report, report.id)
    assert stored is not None
    assert type(stored.created_day) is dt.date
    assert stored.created_day == today()
    assert stored.status == "received"


def test_report_ids_are_random_not_sequential(db_session: Session) -> None:
    ids = [_report_with_source(db_session, n).id for n in range(20)]
    assert len(set(ids)) == 20
    assert all(len(i) == PUBLIC_ID_CHARS for i in ids)
    assert ids != sorted(ids)
    assert len(new_public_id()) == PUBLIC_ID_CHARS


def _report_with_source(session: Session, n: int) -> Report:
    report = Report(source_id=_source(session, f"{n:064x}").id)
    session.add(report)
    session.flush()
    return report


def test_foreign_keys_are_enforced(db_session: Session) -> None:
    db_session.add(Report(source_id=12345))
    with pytest.raises(IntegrityError):
        db_session.flush()


def test_deleting_a_report_deletes_its_blobs_and_slots(
    db_session: Session, recipient_key: object
) -> None:
    report = _report(db_session)
    recipient = db_session.scalars(select(Recipient)).one()
    db_session.add_all(
        [_blob(report, "one.bin"), ReportRecipient(report_id=report.id, recipient_id=recipient.id)]
    )
    db_session.commit()
    db_session.execute(text("DELETE FROM reports"))
    db_session.commit()
    assert db_session.scalars(select(Blob)).all() == []
    assert db_session.scalars(select(ReportRecipient)).all() == []


def test_blob_storage_names_are_unique(db_session: Session) -> None:
    report = _report(db_session)
    db_session.add_all([_blob(report, "same.bin"), _blob(report, "same.bin")])
    with pytest.raises(IntegrityError):
        db_session.flush()


def test_large_blob_sizes_round_trip(db_session: Session) -> None:
    blob = _blob(_report(db_session), "big.bin")
    db_session.add(blob)
    db_session.commit()
    db_session.expire_all()
    assert db_session.get(Blob, blob.id).size == 3 * 1024**3  # type: ignore[union-attr]


def test_recipient_regions_list(db_session: Session) -> None:
    assert Recipient(regions="").region_list == []
    assert Recipient(regions="osh,naryn").region_list == ["osh", "naryn"]


def test_sqlite_runs_in_wal_mode_with_foreign_keys(app: Flask, database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite pragmas")
    with db.get_engine(app).connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000


def test_request_session_is_closed_at_teardown(app: Flask) -> None:
    with app.app_context():
        session = db.get_session()
        assert db.get_session() is session
        session.add(Source(lookup_digest="c" * 64, box_public_key=b"\x04" * 32))
    # Uncommitted work is gone once the context ends.
    with app.app_context():
        other = db.get_session()
        assert other is not session
        assert other.scalars(select(Source)).all() == []
