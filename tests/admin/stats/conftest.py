"""Fixtures of the statistics tests: case rows served as a vault's, and a console on them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

import admin.stats.case_rows
from admin.console.app import create_console
from admin.stats.tables import CaseRow
from crypto.keys import ReviewerKey
from portal.i18n import COOKIE_NAME
from tests.admin.stats.cases import StubVault, small_data_set


@pytest.fixture
def serve_rows(monkeypatch) -> Callable[[list[CaseRow]], StubVault]:
    """Make rows the case states a vault reads; return a stub vault listing their reports."""

    def serve(rows: list[CaseRow]) -> StubVault:
        by_id = {r.report_id: r for r in rows}
        monkeypatch.setattr(
            admin.stats.case_rows, "case_state_of", lambda _vault, rid: by_id[rid].case
        )
        return StubVault(rows)

    return serve


@pytest.fixture
def console_for(tmp_path, serve_rows) -> Callable[[list[CaseRow]], FlaskClient]:
    """A console client unlocked on a stub vault of rows (the key never opens anything here)."""

    def unlocked_on(rows: list[CaseRow]) -> FlaskClient:
        app = create_console(tmp_path / "none.key", tmp_path / "vault", None)
        app.config["TESTING"] = True
        unlocked = app.extensions["amanat_console"].keyring.unlock(
            ReviewerKey.generate("Stats tester"), serve_rows(rows)
        )
        client = app.test_client()
        client.set_cookie(COOKIE_NAME, "en")
        with client.session_transaction() as session:
            session["sid"] = unlocked.session_id
        return client

    return unlocked_on


@pytest.fixture
def stub_rows(serve_rows) -> list[CaseRow]:
    """Serve small_data_set() as the vault's reports and case states."""
    rows = small_data_set()
    serve_rows(rows)
    return rows


@pytest.fixture
def stub_console(console_for) -> FlaskClient:
    """A console unlocked on a stub vault of small_data_set()."""
    return console_for(small_data_set())
