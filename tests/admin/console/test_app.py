"""The console app as a whole: CSRF, page hygiene, host names, and listening on loopback only."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from admin.cli import main
from admin.console.app import UnsafeHostError, check_loopback
from tests.admin.console.pages import GPS_MARKER, file_id
from tests.admin.synced_console import PASSPHRASE

# Addresses the console must refuse to bind to (S104 flags the literal "0.0.0.0").
REFUSED_HOSTS = ["0.0.0.0", "::", "192.168.1.10", "10.0.0.2", "example.org"]  # noqa: S104 - refused, not bound


def test_every_post_without_a_csrf_token_is_refused(unlocked, console, source):
    _, _, report_id = source
    blob_id = file_id(console, report_id)
    posts = [
        ("/", {"passphrase": PASSPHRASE}),
        ("/lock", {}),
        ("/sync", {}),
        (f"/reports/{report_id}/reply", {"text": "hello"}),
        (f"/reports/{report_id}/status", {"status": "closed"}),
        (f"/reports/{report_id}/files/{blob_id}/identify", {}),
    ]
    for url, data in posts:
        response = unlocked.post(url, data=data)
        assert response.status_code == 400, url
    # Nothing happened: still unlocked, status unchanged, no reply.
    page = unlocked.get(f"/reports/{report_id}").get_data(as_text=True)
    assert "hello" not in page


def test_pages_have_no_script_no_inline_style_and_strict_headers(unlocked, source, console):
    _, _, report_id = source
    urls = ["/", "/inbox", "/inbox?status=received", f"/reports/{report_id}", "/nowhere"]
    for url in urls:
        response = unlocked.get(url, follow_redirects=True)
        page = response.get_data(as_text=True).lower()
        assert "<script" not in page, url
        assert "style=" not in page and "<style" not in page, url
        assert not re.search(r"<[^>]+\son[a-z]+=", page), url  # no event handler attributes
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        assert "form-action 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Frame-Options"] == "DENY"
    locked = console.test_client().get("/")
    assert "<script" not in locked.get_data(as_text=True)


def test_other_host_names_are_refused(unlocked):
    # A DNS-rebinding page on evil.example resolving to 127.0.0.1 gets nothing.
    assert unlocked.get("/inbox", headers={"Host": "evil.example"}).status_code == 400


def test_no_decrypted_text_is_written_by_the_console(unlocked, tmp_path, source):
    _, _, report_id = source
    unlocked.get(f"/reports/{report_id}")
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.suffix not in (".db", ".key"):
            data = path.read_bytes()
            assert b"alert(1)" not in data, path
            assert GPS_MARKER not in data, path


@pytest.mark.parametrize("host", REFUSED_HOSTS)
def test_console_command_refuses_non_loopback_hosts(keyfile, tmp_path, host):
    result = CliRunner().invoke(
        main,
        ["console", "--keyfile", str(keyfile), "--vault", str(tmp_path / "v"), "--host", host],
    )
    assert result.exit_code == 2
    assert "127.0.0.1" in result.output
    assert not (tmp_path / "v").exists()
    with pytest.raises(UnsafeHostError):
        check_loopback(host)


def test_loopback_hosts_are_accepted():
    assert check_loopback("127.0.0.1") == "127.0.0.1"
    assert check_loopback("localhost") == "127.0.0.1"
