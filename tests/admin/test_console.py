"""The reviewer console: a report sent through the real portal, synced, then read in the console."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import struct
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from admin.cli import main
from admin.client import ApiClient
from admin.console import sync as console_sync
from admin.console.app import UnsafeHostError, check_loopback, create_console
from admin.console.files import ascii_filename, content_disposition, verified_chunks
from admin.console.images import ImageError, strip_jpeg, strip_png
from admin.sync import sync
from admin.vault import Vault
from crypto.errors import EnvelopeError
from crypto.kdf import MINIMAL
from crypto.keys import read_keyfile, write_keyfile
from tests.portal.journey import (
    get_codename,
    login,
    only_report_id,
    submit_report,
    text_of,
    token_in,
)

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "admin" / "translations"
LANGS = ("ru", "ky", "en")
PASSPHRASE = "a long passphrase"
NARRATIVE = "<script>alert(1)</script>\nВторая строка"
GPS_MARKER = b"GPS-MARKER 42.8746N 74.5698E"
REPLY = "REPLY-MARKER Мы получили ваше сообщение."


def jpeg_with_exif() -> bytes:
    """A tiny JPEG built by hand: JFIF (with a thumbnail), EXIF with GPS, a comment, a scan."""

    def segment(marker: int, body: bytes) -> bytes:
        return bytes((0xFF, marker)) + struct.pack(">H", len(body) + 2) + body

    jfif = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x01\x01" + b"THUMB-PIXELS"[:3]
    return b"".join(
        [
            b"\xff\xd8",
            segment(0xE0, jfif),
            segment(0xE1, b"Exif\x00\x00MM\x00\x2a" + GPS_MARKER),
            segment(0xFE, b"COMMENT-MARKER"),
            segment(0xDB, b"\x00" + bytes(range(64))),
            segment(0xC0, b"\x08\x00\x01\x00\x01\x01\x01\x11\x00"),
            segment(0xC4, b"\x00" + b"\x01" + b"\x00" * 15 + b"\x00"),
            segment(0xDA, b"\x01\x01\x00\x00\x3f\x00"),
            b"\x12\x34\xff\x00\x56\xff\xd0\x78",
            b"\xff\xd9",
            b"TRAILING-MARKER",
        ]
    )


JPEG = jpeg_with_exif()


# -- fixtures --------------------------------------------------------------------


@pytest.fixture
def keyfile(tmp_path, recipient_key):
    path = tmp_path / "me.key"
    write_keyfile(path, recipient_key, PASSPHRASE, MINIMAL)
    return path


@pytest.fixture
def source(app):
    """A source who sent a report with a photo; returns (client, codename, report id)."""
    client = app.test_client()
    codename = get_codename(client).codename
    response = submit_report(
        client,
        files=[("evidence", "фото место.jpg", JPEG, "image/jpeg")],
        narrative=NARRATIVE,
        region="osh",
        anonymised_statistics="yes",
        contact_me="yes",
    )
    assert response.status_code == 303
    return client, codename, only_report_id(app)


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


def unlock(browser, passphrase=PASSPHRASE):
    page = browser.get("/").get_data(as_text=True)
    return browser.post("/", data={"csrf_token": token_in(page), "passphrase": passphrase})


@pytest.fixture
def unlocked(browser):
    response = unlock(browser)
    assert response.status_code == 303 and response.headers["Location"].endswith("/inbox")
    return browser


def file_id(console, report_id):
    key = console.extensions["amanat_console"].keyring._unlocked.vault
    (entry,) = key.files(report_id)
    return entry.blob_id


def post_with_token(browser, page_url, url, **data):
    token = token_in(browser.get(page_url).get_data(as_text=True))
    return browser.post(url, data={"csrf_token": token, **data})


def file_action(browser, report_id, blob_id, action):
    """Press a file's button on the report page (download, clean or preview): a POST."""
    return post_with_token(browser, f"/reports/{report_id}", f"/files/{blob_id}/{action}")


# -- locking ---------------------------------------------------------------------


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
    assert console.extensions["amanat_console"].keyring._unlocked is None
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


# -- CSRF and page hygiene -------------------------------------------------------


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


# -- inbox -----------------------------------------------------------------------


def test_inbox_lists_the_report_with_counts_and_region(unlocked, source):
    _, _, report_id = source
    page = unlocked.get("/inbox").get_data(as_text=True)
    assert report_id[:12] in page
    assert "Ошская область" in page
    assert "Получено: 1" in html.unescape(page)


def test_inbox_filters_by_status_and_region(unlocked, source):
    _, _, report_id = source
    assert report_id[:12] in unlocked.get("/inbox?region=osh").get_data(as_text=True)
    assert report_id[:12] not in unlocked.get("/inbox?region=naryn").get_data(as_text=True)
    assert report_id[:12] in unlocked.get("/inbox?status=received").get_data(as_text=True)
    assert report_id[:12] not in unlocked.get("/inbox?status=closed").get_data(as_text=True)


def _session(console):
    return console.extensions["amanat_console"].keyring._unlocked


def test_sync_now_fetches_a_new_report(unlocked, console, app):
    client = app.test_client()
    get_codename(client)
    submit_report(client, narrative="A second report", region="naryn")
    response = post_with_token(unlocked, "/inbox", "/sync")
    assert response.status_code == 303 and response.headers["Location"].endswith("/sync")
    console_sync.wait(_session(console))
    done = unlocked.get("/sync").get_data(as_text=True)  # the page the reviewer is on
    assert "Синхронизация завершена." in done and "http-equiv" not in done
    assert "Нарынская область" in unlocked.get("/inbox").get_data(as_text=True)


def test_a_sync_failure_is_a_clear_message(keyfile, vault_dir):
    app = create_console(keyfile, vault_dir, "http://127.0.0.1:9")
    browser = app.test_client()
    unlock(browser)
    post_with_token(browser, "/inbox", "/sync")
    console_sync.wait(_session(app))
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
        console_sync.wait(_session(console))
    assert 'http-equiv="refresh"' not in unlocked.get("/sync").get_data(as_text=True)


# -- one report ------------------------------------------------------------------


def test_report_page_shows_the_narrative_as_text(unlocked, source):
    _, _, report_id = source
    page = unlocked.get(f"/reports/{report_id}").get_data(as_text=True)
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;\nВторая строка" in page
    assert 'class="narrative"' in page


def test_report_page_labels_answers_in_the_console_language(unlocked, source):
    _, _, report_id = source
    assert "Ошская область" in unlocked.get(f"/reports/{report_id}").get_data(as_text=True)
    unlocked.get("/lang/en?next=/inbox")
    page = unlocked.get(f"/reports/{report_id}").get_data(as_text=True)
    assert "Osh region" in page and "Conversation with the source" in page
    assert '<html lang="en">' in page


def test_report_page_marks_the_report_read(unlocked, console, source):
    _, _, report_id = source
    vault = console.extensions["amanat_console"].keyring._unlocked.vault
    assert not vault.report(report_id).read
    unlocked.get(f"/reports/{report_id}")
    assert vault.report(report_id).read


def test_unknown_report_is_not_found(unlocked):
    assert unlocked.get("/reports/nope").status_code == 404


def test_reply_reaches_the_source_and_shows_in_the_conversation(unlocked, app, source):
    _, codename, report_id = source
    url = f"/reports/{report_id}"
    response = post_with_token(unlocked, url, f"{url}/reply", text=REPLY)
    assert response.status_code == 303
    page = unlocked.get(url).get_data(as_text=True)
    assert REPLY in page and "UNVERIFIED" not in page and "НЕ ПРОВЕРЕН" not in page
    other_browser = app.test_client()
    login(other_browser, codename)
    assert REPLY in text_of(other_browser.get("/status"))


def test_an_unverified_reply_is_clearly_marked(unlocked, console, source):
    _, _, report_id = source
    vault = console.extensions["amanat_console"].keyring._unlocked.vault
    envelope, _signature = vault.seal_reply(report_id, "FORGED-MARKER")
    own_key = base64.b64encode(bytes(vault.key.signing.verify_key)).decode()
    blob = {
        "id": "forged1",
        "kind": "reply",
        "author": "reviewer",
        "author_key": own_key,
        "size": len(envelope),
        "sha256": hashlib.sha256(envelope).hexdigest(),
        "receipt": "",
        "signature": base64.b64encode(b"\0" * 64).decode(),
        "created_day": "2099-01-01",
    }
    vault.add_blob_listing(report_id, blob)
    vault.store_blob("forged1", envelope)
    page = unlocked.get(f"/reports/{report_id}").get_data(as_text=True)
    assert "FORGED-MARKER" in page
    assert 'class="entry reviewer unverified"' in page
    assert "НЕ ПРОВЕРЕН" in page


def test_status_change_reaches_the_server_and_the_vault(unlocked, console, app, source):
    _, codename, report_id = source
    url = f"/reports/{report_id}"
    response = post_with_token(unlocked, url, f"{url}/status", status="in_review")
    assert response.status_code == 303
    vault = console.extensions["amanat_console"].keyring._unlocked.vault
    assert vault.report(report_id).status == "in_review"
    other_browser = app.test_client()
    login(other_browser, codename)
    assert "Кейс-менеджер уже занимается вашим обращением" in text_of(other_browser.get("/status"))


def test_an_unknown_status_is_refused(unlocked, console, source):
    _, _, report_id = source
    url = f"/reports/{report_id}"
    post_with_token(unlocked, url, f"{url}/status", status="deleted")
    vault = console.extensions["amanat_console"].keyring._unlocked.vault
    assert vault.report(report_id).status == "received"


# -- files -----------------------------------------------------------------------


def test_a_file_name_is_learned_on_request(unlocked, console, source):
    _, _, report_id = source
    url = f"/reports/{report_id}"
    assert "фото место.jpg" not in unlocked.get(url).get_data(as_text=True)
    blob_id = file_id(console, report_id)
    response = post_with_token(unlocked, url, f"{url}/files/{blob_id}/identify")
    assert response.status_code == 303
    page = unlocked.get(url).get_data(as_text=True)
    assert "фото место.jpg" in page
    assert hashlib.sha256(JPEG).hexdigest() in page


def test_download_gives_back_the_exact_bytes(unlocked, console, source):
    _, _, report_id = source
    blob_id = file_id(console, report_id)
    response = file_action(unlocked, report_id, blob_id, "download")
    assert response.status_code == 200
    assert response.data == JPEG
    assert GPS_MARKER in response.data  # the original evidence is untouched
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-Length"] == str(len(JPEG))
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith(f'attachment; filename="file-{blob_id[:16]}.jpg"')
    assert "filename*=UTF-8''%D1%84%D0%BE%D1%82%D0%BE%20" in disposition


def test_image_preview_strips_exif(unlocked, console, source):
    _, _, report_id = source
    blob_id = file_id(console, report_id)
    response = file_action(unlocked, report_id, blob_id, "preview")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/jpeg"
    assert GPS_MARKER not in response.data and b"Exif" not in response.data
    assert b"COMMENT-MARKER" not in response.data
    assert response.data.startswith(b"\xff\xd8") and response.data.endswith(b"\xff\xd9")
    vault = console.extensions["amanat_console"].keyring._unlocked.vault
    assert GPS_MARKER in b"".join(vault.open_file(blob_id).chunks())


def test_a_damaged_file_is_never_streamed_whole(unlocked, console, source):
    _, _, report_id = source
    blob_id = file_id(console, report_id)
    vault = console.extensions["amanat_console"].keyring._unlocked.vault
    vault.manifest(blob_id)
    path = vault.blob_path(blob_id)
    damaged = bytearray(path.read_bytes())
    damaged[-20] ^= 1
    path.write_bytes(bytes(damaged))
    got = b""
    with pytest.raises(EnvelopeError):
        for chunk in verified_chunks(vault.open_file(blob_id)):
            got += chunk
    assert len(got) < len(JPEG)


def test_verified_chunks_hold_back_the_last_chunk_until_the_end():
    class Opener:
        def chunks(self):
            yield b"first"
            yield b"last"
            raise EnvelopeError("bad tag")

    got = []
    with pytest.raises(EnvelopeError):
        for chunk in verified_chunks(Opener()):
            got.append(chunk)
    assert got == [b"first"]


# -- metadata stripping ------------------------------------------------------------


def test_jpeg_stripper_keeps_the_image_and_drops_metadata():
    clean = strip_jpeg(JPEG)
    assert GPS_MARKER not in clean and b"COMMENT-MARKER" not in clean
    assert b"TRAILING-MARKER" not in clean and b"THU" not in clean
    assert b"JFIF\x00" in clean
    assert b"\x12\x34\xff\x00\x56\xff\xd0\x78" in clean  # the scan data, untouched
    assert strip_jpeg(clean) == clean


@pytest.mark.parametrize("cut", [3, 10, 30, len(JPEG) - 20])
def test_jpeg_stripper_refuses_a_cut_file(cut):
    with pytest.raises(ImageError):
        strip_jpeg(JPEG[:cut])


def png_chunk(kind: bytes, data: bytes) -> bytes:
    import zlib

    crc = zlib.crc32(kind + data)
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def test_png_stripper_drops_text_exif_and_time():
    import zlib

    ihdr = png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    idat = png_chunk(b"IDAT", zlib.compress(b"\x00\x00"))
    png = b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            ihdr,
            png_chunk(b"tEXt", b"Comment\x00TEXT-MARKER"),
            png_chunk(b"eXIf", b"MM\x00\x2a" + GPS_MARKER),
            png_chunk(b"tIME", b"\x07\xe8\x01\x01\x00\x00\x00"),
            png_chunk(b"gAMA", struct.pack(">I", 45455)),
            idat,
            png_chunk(b"IEND", b""),
            b"TRAILING-MARKER",
        ]
    )
    clean = strip_png(png)
    for marker in (b"TEXT-MARKER", GPS_MARKER, b"tIME", b"TRAILING-MARKER"):
        assert marker not in clean
    assert ihdr in clean and idat in clean and b"gAMA" in clean
    with pytest.raises(ImageError):
        strip_png(png[:40])


# -- file names --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("photo.jpg", "photo.jpg"),
        ("фото.jpg", "file-abc.jpg"),
        ('../../etc/"passwd"', "passwd"),
        ("C:\\Users\\a\\evil\r\n.png", "evil.png"),
        ("", "file-abc"),
        ("café.png", "cafe.png"),
    ],
)
def test_ascii_filename_fallback_is_safe(name, expected):
    assert ascii_filename(name, "file-abc") == expected


def test_content_disposition_has_no_header_injection():
    value = content_disposition('a"\r\nSet-Cookie: x=1.jpg', "blobid")
    assert "\r" not in value and "\n" not in value
    assert value.count('"') == 2


# -- the command -------------------------------------------------------------------


# Addresses the console must refuse to bind to (S104 flags the literal "0.0.0.0").
REFUSED_HOSTS = ["0.0.0.0", "::", "192.168.1.10", "10.0.0.2", "example.org"]  # noqa: S104 - refused, not bound


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


def test_keyfile_opens_with_the_form_passphrase_only(keyfile, monkeypatch):
    # The console never reads AMANAT_PASSPHRASE: the passphrase comes from the form.
    monkeypatch.setenv("AMANAT_PASSPHRASE", PASSPHRASE)
    app = create_console(keyfile, keyfile.parent / "vault2", None)
    assert app.test_client().get("/inbox").status_code == 303
    assert read_keyfile(keyfile, PASSPHRASE)


# -- translations ------------------------------------------------------------------


def test_no_decrypted_text_is_written_by_the_console(unlocked, tmp_path, source):
    _, _, report_id = source
    unlocked.get(f"/reports/{report_id}")
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.suffix not in (".db", ".key"):
            data = path.read_bytes()
            assert b"alert(1)" not in data, path
            assert GPS_MARKER not in data, path


def test_preview_of_an_image_over_the_pixel_limit_is_refused_in_the_reviewers_language(
    unlocked, console, source, monkeypatch
):
    import admin.console.images

    _, _, report_id = source
    blob_id = file_id(console, report_id)
    monkeypatch.setattr(admin.console.images, "MAX_PIXELS", 0)  # the 1x1 photo is "too large"
    response = file_action(unlocked, report_id, blob_id, "preview")
    assert response.status_code == 415
    assert "Изображение слишком велико для предпросмотра" in response.get_data(as_text=True)
    unlocked.get("/lang/en?next=/inbox")
    response = file_action(unlocked, report_id, blob_id, "preview")
    assert response.status_code == 415
    assert "The image is too large to preview (over 50 megapixels)" in response.get_data(
        as_text=True
    )
    assert b"\xff\xd8" not in response.data
