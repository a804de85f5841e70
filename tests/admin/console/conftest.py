"""A console over a vault that synced one report (with a photo) from the real portal."""

from __future__ import annotations

import pytest

from admin.client import ApiClient
from admin.console.app import create_console
from admin.sync import sync
from admin.vault import Vault
from tests.admin.console.pages import JPEG, NARRATIVE, unlock
from tests.portal.journey import source_with_report


@pytest.fixture
def source(app):
    """A source who sent a report with a photo; returns (client, codename, report id)."""
    return source_with_report(
        app,
        files=[("evidence", "фото место.jpg", JPEG, "image/jpeg")],
        narrative=NARRATIVE,
        region="osh",
        anonymised_statistics="yes",
        contact_me="yes",
    )


@pytest.fixture
def vault_dir(tmp_path, recipient_key, live_server, source):
    """A vault that has synced the source's report from the real portal."""
    path = tmp_path / "vault"
    vault = Vault.open(path, recipient_key)
    with ApiClient(live_server.url, recipient_key) as client:
        assert not sync(vault, client).refused
    return path


@pytest.fixture
def console(keyfile, vault_dir, live_server):
    app = create_console(keyfile, vault_dir, live_server.url)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def browser(console):
    return console.test_client()


@pytest.fixture
def unlocked(browser):
    response = unlock(browser)
    assert response.status_code == 303 and response.headers["Location"].endswith("/inbox")
    return browser
