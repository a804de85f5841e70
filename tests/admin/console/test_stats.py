"""The statistics page over a vault that synced a real report, beside amanat-admin stats."""

from __future__ import annotations

import html

from click.testing import CliRunner

from admin.cli import main
from portal.i18n import COOKIE_NAME
from tests.admin.console.pages import unlock
from tests.admin.synced_console import PASSPHRASE


def test_stats_from_a_real_vault_in_console_and_cli(browser, keyfile, vault_dir, monkeypatch):
    browser.set_cookie(COOKIE_NAME, "en")
    assert unlock(browser).status_code == 303
    page = html.unescape(browser.get("/stats").get_data(as_text=True))
    assert "<dt>Cases</dt><dd><5</dd>" in page  # one report: shown only as "<5"
    assert "<script" not in page.lower()
    monkeypatch.setenv("AMANAT_PASSPHRASE", PASSPHRASE)
    args = ["stats", "--keyfile", str(keyfile), "--vault", str(vault_dir), "--region", "osh"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "Cases: <5" in result.stdout and "Cases: 1" not in result.stdout
