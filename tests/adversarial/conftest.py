"""Helpers for hostile-input tests: what the server holds, before and after."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from admin.client import ApiClient
from admin.sync import sync
from admin.vault import Vault
from portal import db
from portal.models import Blob, Report, ReportRecipient, Source, SourceSession
from portal.services import blob_store
from tests.portal.journey import get_codename, only_report_id, submit_report

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


@pytest.fixture
def team(tmp_path, app, add_recipient, live_server):
    """Two reviewers on the roster, a report sealed to both, both vaults synced (pinned)."""
    key_a, key_b = add_recipient("Айгуль"), add_recipient("Бакыт")
    source = get_codename(app.test_client())
    assert submit_report(source.client).status_code == 303
    report_id = only_report_id(app)
    vaults = []
    for name, key in (("a", key_a), ("b", key_b)):
        vault = Vault.open(tmp_path / name, key)
        with ApiClient(live_server.url, key) as api:
            result = sync(vault, api)
        assert not result.refused and "Pinned your organisation's key" in str(result.roster_note)
        vaults.append(vault)
    return report_id, vaults[0], vaults[1], source
