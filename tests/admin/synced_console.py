"""A console test client over a vault synced from the live portal, already unlocked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from admin.client import ApiClient
from admin.console.app import create_console
from admin.sync import sync
from admin.vault import Vault
from crypto.kdf import MINIMAL
from crypto.keys import ReviewerKey, write_keyfile
from tests.portal.journey import get_codename, only_report_id, submit_report, token_in

PASSPHRASE = "a long passphrase"


def synced_console(tmp_path: Path, recipient_key: ReviewerKey, portal_url: str) -> Any:
    """Sync tmp_path/vault from the portal, then unlock a console on it with PASSPHRASE.

    Returns the console's test client; its .vault is the console's unlocked vault.
    """
    vault = Vault.open(tmp_path / "vault", recipient_key)
    with ApiClient(portal_url, recipient_key) as api:
        assert not sync(vault, api).refused
    write_keyfile(tmp_path / "me.key", recipient_key, PASSPHRASE, MINIMAL)
    console = create_console(tmp_path / "me.key", tmp_path / "vault", portal_url)
    console.config["TESTING"] = True
    browser = console.test_client()
    token = token_in(browser.get("/").get_data(as_text=True))
    browser.post("/", data={"csrf_token": token, "passphrase": PASSPHRASE})
    browser.vault = console.extensions["amanat_console"].keyring._unlocked.vault
    return browser


def console_over_report(
    tmp_path: Path, app: Any, recipient_key: ReviewerKey, portal_url: str, **report: Any
) -> tuple[Any, str]:
    """A source submits one report (submit_report's fields), then synced_console().

    Returns (the console's test client, the report's id).
    """
    client = app.test_client()
    get_codename(client)
    assert submit_report(client, **report).status_code == 303
    return synced_console(tmp_path, recipient_key, portal_url), only_report_id(app)
