"""The reviewer side's tests use tests/conftest.py's live_server: the real portal over HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from admin.client import ApiClient
from admin.sync import sync
from admin.vault import Vault
from crypto.kdf import MINIMAL
from crypto.keys import ReviewerKey, write_keyfile
from tests.admin.synced_console import PASSPHRASE
from tests.admin.two_reviewers import FILE_BYTES
from tests.portal.journey import get_codename, only_report_id, submit_report


@pytest.fixture
def keyfile(tmp_path: Path, recipient_key: ReviewerKey) -> Path:
    """The reviewer's key file, tmp_path/me.key, locked with PASSPHRASE."""
    path = tmp_path / "me.key"
    write_keyfile(path, recipient_key, PASSPHRASE, MINIMAL)
    return path


@pytest.fixture
def two(tmp_path, app, add_recipient, live_server):
    """Two reviewers of one report, each with a synced vault: (report id, vault A, vault B)."""
    key_a, key_b = add_recipient("Айгуль"), add_recipient("Бакыт")
    client = app.test_client()
    get_codename(client)
    response = submit_report(client, files=[("evidence", "photo.jpg", FILE_BYTES, "image/jpeg")])
    assert response.status_code == 303
    report_id = only_report_id(app)
    vaults = []
    for name, key in (("a", key_a), ("b", key_b)):
        vault = Vault.open(tmp_path / name, key)
        with ApiClient(live_server.url, key) as api:
            assert not sync(vault, api).refused
        vaults.append(vault)
    return report_id, vaults[0], vaults[1]


@pytest.fixture
def console_b(tmp_path, two, live_server):
    """Reviewer B's console, unlocked, over B's synced vault."""
    from admin.console.app import create_console
    from tests.portal.journey import token_in

    _, _, b = two
    keyfile = tmp_path / "b.key"
    write_keyfile(keyfile, b.key, "a long passphrase", MINIMAL)
    app = create_console(keyfile, b.path, live_server.url)
    app.config["TESTING"] = True
    browser = app.test_client()
    token = token_in(browser.get("/").get_data(as_text=True))
    assert (
        browser.post("/", data={"csrf_token": token, "passphrase": "a long passphrase"}).status_code
        == 303
    )
    return browser
