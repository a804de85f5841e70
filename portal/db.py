"""The database: one engine per app, one session per request, migrations.

Views and services call `get_session()`; the session is closed when the
request's app context ends, whatever happened. The schema is created and
changed only by Alembic migrations (`upgrade`), never by `create_all()`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from portal import sequence

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 10_000
_EXTENSION = "amanat.db"
_ENGINE = "amanat.engine"


def make_engine(database_url: str) -> Engine:
    """Return an engine for database_url, with SQLite set up for concurrent use.

    On SQLite every connection gets WAL (readers don't block the writer),
    foreign key enforcement (off by default in SQLite) and a busy timeout, so
    two workers writing at once wait instead of failing.
    """
    # pool_pre_ping: a pooled connection that died (a PostgreSQL restart)
    # is replaced before use, so the first request after it works.
    # hide_parameters: a statement's values (ids, hashes) stay out of
    # exception texts and so out of error logs.
    engine = create_engine(database_url, pool_pre_ping=True, hide_parameters=True)
    sequence.watch()  # every session numbers the report changes it commits
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        # NORMAL is durable in WAL mode except for the last transactions
        # before a power cut, at about twice FULL's write rate.
        cursor.execute("PRAGMA synchronous = NORMAL")
        # Deleted rows are overwritten with zeros, not left in free pages
        # (portal.shred truncates the WAL after a purge).
        cursor.execute("PRAGMA secure_delete = ON")
    finally:
        cursor.close()


def init_app(app: Flask, database_url: str) -> None:
    """Give app its engine and close each request's session at teardown."""
    engine = make_engine(database_url)
    app.extensions[_ENGINE] = engine
    app.extensions[_EXTENSION] = sessionmaker(bind=engine, expire_on_commit=False)
    app.teardown_appcontext(_close_session)


def get_engine(app: Flask | None = None) -> Engine:
    """The engine of app (default: the current app)."""
    engine: Engine = (app or current_app).extensions[_ENGINE]
    return engine


def get_session() -> Session:
    """The current app context's session, opened on first use.

    The same session is returned until the app context ends; it is then
    closed, rolling back anything not committed.
    """
    if "db_session" not in g:
        factory: sessionmaker[Session] = current_app.extensions[_EXTENSION]
        g.db_session = factory()
    session: Session = g.db_session
    return session


def _close_session(exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def alembic_config(database_url: str) -> Any:
    """An Alembic Config for this package's migrations, without alembic.ini.

    The script location is found from this file, so migrations work from an
    installed package as well as from a checkout.
    """
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser treats % as interpolation; URLs may hold %-escapes.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database at database_url up to revision (default: the latest)."""
    from alembic import command

    command.upgrade(alembic_config(database_url), revision)
