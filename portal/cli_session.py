"""What an `amanat-server` command runs with: the settings, and a database session.

Both stop with one plain line (exit status 1) when the environment's
settings are unusable, never a traceback.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.orm import Session

from portal import db
from portal.settings import ConfigError, Settings


def command_settings() -> Settings:
    """The settings from the environment, or a ClickException saying what is wrong."""
    try:
        return Settings.from_env(os.environ)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


@contextmanager
def command_session(settings: Settings) -> Iterator[Session]:
    """A session on the settings' database; its engine is disposed of afterwards."""
    engine = db.make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()
