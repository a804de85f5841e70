"""Alembic environment: run migrations against the URL set by portal.db.upgrade."""

from __future__ import annotations

from alembic import context

from portal.db import make_engine
from portal.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    """Emit SQL to stdout instead of running it (`alembic upgrade --sql`)."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations over a connection made like the app's own."""
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("no sqlalchemy.url: call portal.db.upgrade(database_url)")
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            # Batch mode lets later migrations alter tables on SQLite, which
            # has almost no ALTER TABLE.
            context.configure(
                connection=connection, target_metadata=target_metadata, render_as_batch=True
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
