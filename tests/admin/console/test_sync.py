"""Sync now: a background sync from the console, its page, and a failure said plainly."""

from __future__ import annotations

import threading

from admin.console import sync as console_sync
from admin.console.app import create_console
from tests.admin.console.pages import post_with_token, session_of, unlock
from tests.portal.journey import get_codename, submit_report


def test_sync_now_fetches_a_new_report(unlocked, console, app):
    client = app.test_client()
    get_codename(client)
    submit_report(client, narrative="A second report", region="naryn")
    response = post_with_token(unlocked, "/inbox", "/sync")
    assert response.status_code == 303 and response.headers["Location"].endswith("/sync")
    console_sync.wait(session_of(console))
    done = unlocked.get("/sync").get_data(as_text=True)  # the page the reviewer is on
    assert "Синхронизация завершена." in done and "http-equiv" not in done
    assert "Нарынская область" in unlocked.get("/inbox").get_data(as_text=True)


def test_a_sync_failure_is_a_clear_message(keyfile, vault_dir):
    app = create_console(keyfile, vault_dir, "http://127.0.0.1:9")
    browser = app.test_client()
    unlock(browser)
    post_with_token(browser, "/inbox", "/sync")
    console_sync.wait(session_of(app))
    page = browser.get("/inbox").get_data(as_text=True)
    assert "Синхронизация не удалась" in page and "Traceback" not in page


def test_pages_work_while_a_sync_runs_and_its_page_refreshes_itself(unlocked, console, monkeypatch):
    gate, entered = threading.Event(), threading.Event()
    real_sync = console_sync.sync

    def slow_sync(vault, client, progress=None):
        progress.plan(3, 3000)
        entered.set()
        assert gate.wait(30)
        return real_sync(vault, client, progress=progress)

    monkeypatch.setattr(console_sync, "sync", slow_sync)
    post_with_token(unlocked, "/inbox", "/sync")
    try:
        assert entered.wait(30)
        page = unlocked.get("/sync").get_data(as_text=True)
        assert '<meta http-equiv="refresh" content="2">' in page
        assert "получено 0 из 3" in page
        assert unlocked.get("/inbox").status_code == 200  # not held by the running sync
    finally:
        gate.set()
        console_sync.wait(session_of(console))
    assert 'http-equiv="refresh"' not in unlocked.get("/sync").get_data(as_text=True)
