"""A report's files: named on request, downloaded exactly, previewed without metadata."""

from __future__ import annotations

import hashlib

import pytest

import admin.console.images
from admin.console.files import ascii_filename, content_disposition, verified_chunks
from crypto.errors import EnvelopeError
from tests.admin.console.pages import (
    GPS_MARKER,
    JPEG,
    file_action,
    file_id,
    post_with_token,
    session_of,
)


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
    vault = session_of(console).vault
    assert GPS_MARKER in b"".join(vault.open_file(blob_id).chunks())


def test_preview_of_an_image_over_the_pixel_limit_is_refused_in_the_reviewers_language(
    unlocked, console, source, monkeypatch
):
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


def test_a_damaged_file_is_never_streamed_whole(unlocked, console, source):
    _, _, report_id = source
    blob_id = file_id(console, report_id)
    vault = session_of(console).vault
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
