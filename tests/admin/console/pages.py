"""What the console tests share besides fixtures: the report's markers and a reviewer's clicks."""

from __future__ import annotations

from typing import Any

from admin.console.state import Unlocked
from tests.admin.image_parts import jpeg_with, segment
from tests.admin.synced_console import PASSPHRASE
from tests.portal.journey import token_in

NARRATIVE = "<script>alert(1)</script>\nВторая строка"
GPS_MARKER = b"GPS-MARKER 42.8746N 74.5698E"
REPLY = "REPLY-MARKER Мы получили ваше сообщение."


def jpeg_with_exif() -> bytes:
    """A tiny JPEG built by hand: JFIF (with a thumbnail), EXIF with GPS, a comment, a scan."""
    jfif = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x01\x01" + b"THUMB-PIXELS"[:3]
    exif = b"Exif\x00\x00MM\x00\x2a" + GPS_MARKER
    photo = jpeg_with(segment(0xE0, jfif), segment(0xE1, exif), segment(0xFE, b"COMMENT-MARKER"))
    return photo + b"TRAILING-MARKER"


JPEG = jpeg_with_exif()


def unlock(browser: Any, passphrase: str = PASSPHRASE) -> Any:
    page = browser.get("/").get_data(as_text=True)
    return browser.post("/", data={"csrf_token": token_in(page), "passphrase": passphrase})


def session_of(console: Any) -> Unlocked | None:
    """The console's unlocked state (None while locked)."""
    unlocked: Unlocked | None = console.extensions["amanat_console"].keyring._unlocked
    return unlocked


def file_id(console: Any, report_id: str) -> str:
    vault = console.extensions["amanat_console"].keyring._unlocked.vault
    (entry,) = vault.files(report_id)
    return str(entry.blob_id)


def post_with_token(browser: Any, page_url: str, url: str, **data: str) -> Any:
    token = token_in(browser.get(page_url).get_data(as_text=True))
    return browser.post(url, data={"csrf_token": token, **data})


def file_action(browser: Any, report_id: str, blob_id: str, action: str) -> Any:
    """Press a file's button on the report page (download, clean or preview): a POST."""
    return post_with_token(browser, f"/reports/{report_id}", f"/files/{blob_id}/{action}")
