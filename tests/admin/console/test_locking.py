"""Unlocking and locking the console: the key lives in this process, behind a session id."""

from __future__ import annotations

import base64

from admin.console.app import create_console
from crypto.keys import read_keyfile
from tests.admin.console.pages import post_with_token, session_of, unlock
from tests.admin.synced_console import PASSPHRASE


def test_locked_pages_redirect_to_unlock(browser, source):
    _, _, report_id = source
    for url in ("/inbox", f"/reports/{report_id}"):
        response = browser.get(url)
        assert response.status_code == 303, url
        assert response.headers["Location"] == "/"
    for url in ("/files/abc/download", "/files/abc/clean", "/files/abc/preview"):
        response = post_with_token(browser, "/", url)
        assert response.status_code == 303, url
        assert response.headers["Location"] == "/"
    assert "passphrase" in browser.get("/").get_data(as_text=True)


def test_wrong_passphrase_shows_a_message_and_no_traceback(browser):
    response = unlock(browser, "not the passphrase")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Неверная парольная фраза" in page
    assert "Traceback" not in page and "WrongPassphraseError" not in page
    assert browser.get("/inbox").status_code == 303


def test_the_cookie_holds_a_session_id_not_the_key(unlocked, console, recipient_key):
    cookie = unlocked.get_cookie("amanat_console")
    assert cookie is not None
    payload = cookie.value.split(".")[0]
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    assert bytes(recipient_key.box) not in decoded
    assert PASSPHRASE.encode() not in decoded
    assert b"sid" in decoded


def test_lock_button_forgets_the_key_at_once(unlocked, console):
    response = post_with_token(unlocked, "/inbox", "/lock")
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert session_of(console) is None
    assert unlocked.get("/inbox").status_code == 303


def test_idle_console_locks_itself(unlocked, console):
    keyring = console.extensions["amanat_console"].keyring
    now = keyring.clock()
    keyring.clock = lambda: now + 14 * 60
    assert unlocked.get("/inbox").status_code == 200
    keyring.clock = lambda: now + 30 * 60
    response = unlocked.get("/inbox")
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert keyring._unlocked is None


def test_zero_idle_minutes_locks_on_the_next_request(keyfile, vault_dir):
    app = create_console(keyfile, vault_dir, None, idle_minutes=0)
    browser = app.test_client()
    assert unlock(browser).status_code == 303
    assert browser.get("/inbox").headers["Location"] == "/"


def test_unlocking_elsewhere_ends_the_first_session(console, unlocked):
    other = console.test_client()
    assert unlock(other).status_code == 303
    assert other.get("/inbox").status_code == 200
    assert unlocked.get("/inbox").status_code == 303


def test_keyfile_opens_with_the_form_passphrase_only(keyfile, monkeypatch):
    # The console never reads AMANAT_PASSPHRASE: the passphrase comes from the form.
    monkeypatch.setenv("AMANAT_PASSPHRASE", PASSPHRASE)
    app = create_console(keyfile, keyfile.parent / "vault2", None)
    assert app.test_client().get("/inbox").status_code == 303
    assert read_keyfile(keyfile, PASSPHRASE)
