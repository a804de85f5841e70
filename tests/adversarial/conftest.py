"""Helpers for hostile-input tests: what the server holds, before and after."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal import db
from portal.models import Blob, Report, ReportRecipient, Source, SourceSession
from portal.services import blob_store

# Re-exported so the tests here can serve the real portal over HTTP.
from tests.admin.conftest import live_server  # noqa: F401 - a fixture, used by name

MODELS = (Source, SourceSession, Report, ReportRecipient, Blob)


def row_counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        session = db.get_session()
        return {
            model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in MODELS
        }


def stored_files(app: Flask) -> list[str]:
    """Every file under the data dir's blob store (committed and partial)."""
    with app.app_context():
        store = blob_store()
        return sorted(
            [f"blobs/{p.name}" for p in store.root.iterdir()]
            + [f"incoming/{p.name}" for p in store.incoming.iterdir()]
        )


@pytest.fixture
def data_dir(app: Flask) -> Path:
    return Path(app.extensions["amanat"].data_dir)
