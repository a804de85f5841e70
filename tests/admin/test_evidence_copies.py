"""Evidence safe to handle: metadata-free copies of JPEG, MP4 and PDF; originals unchanged;
decrypting routes refuse requests made by other pages."""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
from pathlib import Path

import pikepdf
import pytest

from admin.case_events import load_events
from admin.evidence_copies import CopyUnavailable, clean_image, clean_pdf, clean_video
from tests.admin.image_parts import jpeg_with, segment
from tests.admin.synced_console import console_over_report
from tests.portal.journey import text_of, token_in

GPS = b"42.8746N 74.5698E"
DEVICE = b"DEVICE-MARKER Pixel 7"
AUTHOR = b"AUTHOR-MARKER Aigul"
MARKERS = (GPS, DEVICE, AUTHOR)
FFMPEG = shutil.which("ffmpeg")
needs_ffmpeg = pytest.mark.skipif(FFMPEG is None, reason="ffmpeg is not installed")


def jpeg_with_markers() -> bytes:
    """A tiny JPEG: EXIF naming the device and the GPS position, XMP naming the author."""
    return jpeg_with(
        segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
        segment(0xE1, b"Exif\x00\x00MM\x00\x2a" + DEVICE + b"\x00GPS " + GPS),
        segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00<dc:creator>" + AUTHOR),
        scan=b"\x12\x34\xff\x00\x56",
    )


def mp4_with_markers(where: Path) -> bytes:
    """One second of video and sound, tagged with a device, a place and an author."""
    path = where / "clip.mp4"
    subprocess.run(
        [
            str(FFMPEG), "-nostdin", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", "testsrc=duration=1:size=64x48:rate=5",
            "-f", "lavfi", "-i", "sine=duration=1",
            "-c:v", "mpeg4", "-c:a", "aac", "-movflags", "use_metadata_tags",
            "-metadata", f"com.apple.quicktime.make={DEVICE.decode()}",
            "-metadata", f"com.apple.quicktime.location.ISO6709=+{GPS.decode()}/",
            "-metadata", f"artist={AUTHOR.decode()}",
            str(path),
        ],
        check=True,
    )  # fmt: skip
    return path.read_bytes()


def pdf_with_markers() -> bytes:
    """A one-page PDF with its author and device in the info dictionary, XMP and a note."""
    pdf = pikepdf.Pdf.new()
    pdf.add_blank_page(page_size=(200, 200))
    pdf.docinfo["/Author"] = AUTHOR.decode()
    pdf.docinfo["/Creator"] = DEVICE.decode()
    pdf.Root.Metadata = pdf.make_stream(
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF'
        b' xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description'
        b' xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:tiff="http://ns.adobe.com/tiff/1.0/"'
        b' exif:GPSLatitude="' + GPS + b'" tiff:Make="' + DEVICE + b'"/></rdf:RDF></x:xmpmeta>'
    )
    note = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot,
        Subtype=pikepdf.Name.Text,
        Rect=[0, 0, 10, 10],
        T=pikepdf.String(AUTHOR.decode()),
        Contents=pikepdf.String("a note"),
    )
    pdf.pages[0].Annots = pdf.make_indirect(pikepdf.Array([note]))
    out = io.BytesIO()
    pdf.save(
        out,
        compress_streams=False,
        object_stream_mode=pikepdf.ObjectStreamMode.disable,
        fix_metadata_version=False,
    )
    return out.getvalue()


def every_stream(data: bytes) -> bytes:
    """The PDF's bytes and each of its streams decompressed, to search for markers."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        parts = [bytes(s.read_bytes()) for s in pdf.objects if isinstance(s, pikepdf.Stream)]
        parts += [str(v).encode() for v in pdf.docinfo.values()]
    return data + b"".join(parts)


def packets(data: bytes, where: Path) -> str:
    """A digest of every audio and video packet: the same when nothing was re-encoded."""
    path = where / "probe.mp4"
    path.write_bytes(data)
    done = subprocess.run(
        [str(FFMPEG), "-loglevel", "error", "-i", str(path), "-map", "0:v", "-map", "0:a",
         "-c", "copy", "-f", "framemd5", "-"],
        check=True, capture_output=True,
    )  # fmt: skip
    lines = [line for line in done.stdout.decode().splitlines() if not line.startswith("#")]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


# -- the copies, without the console -------------------------------------------------


def test_a_jpeg_copy_holds_no_gps_device_or_author():
    original = jpeg_with_markers()
    clean = clean_image(original, "image/jpeg")
    assert all(marker in original for marker in MARKERS)
    assert not any(marker in clean for marker in MARKERS)
    assert clean.startswith(b"\xff\xd8") and clean.endswith(b"\xff\xd9")


def test_a_pdf_copy_holds_no_author_device_or_gps_in_any_stream():
    original = pdf_with_markers()
    clean = clean_pdf(original)
    assert all(marker in every_stream(original) for marker in MARKERS)
    assert not any(marker in every_stream(clean) for marker in MARKERS)
    with pikepdf.open(io.BytesIO(clean)) as pdf:
        assert len(pdf.pages) == 1 and "/Metadata" not in pdf.Root
        assert str(pdf.pages[0].Annots[0].Contents) == "a note"  # the content stays


def test_an_unreadable_pdf_is_refused_not_passed_through():
    with pytest.raises(CopyUnavailable) as refused:
        clean_pdf(b"%PDF-1.7 not really")
    assert refused.value.reason == "the PDF cannot be read"


@needs_ffmpeg
def test_an_mp4_copy_keeps_every_packet_and_drops_device_place_and_author(tmp_path):
    original = mp4_with_markers(tmp_path)
    assert all(marker in original for marker in (DEVICE, AUTHOR, GPS[:7]))
    copy = clean_video([original], "video/mp4", len(original))
    try:
        clean = copy.path.read_bytes()
        assert "/dev/shm" in str(copy.path) or "/run/user" in str(copy.path)  # memory, not disk
    finally:
        copy.close()
    assert not copy.path.parent.exists()
    assert not any(marker in clean for marker in (DEVICE, AUTHOR, GPS[:7], b"Lavf"))
    assert packets(clean, tmp_path) == packets(original, tmp_path)  # no re-encoding


def test_without_ffmpeg_the_reason_is_said(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(CopyUnavailable) as refused:
        clean_video([b"x"], "video/mp4", 1)
    assert "apt-get install ffmpeg" in refused.value.reason


# -- through the console ---------------------------------------------------------------


@pytest.fixture
def evidence(tmp_path):
    files = {
        "photo.jpg": (jpeg_with_markers(), "image/jpeg"),
        "scan.pdf": (pdf_with_markers(), "application/pdf"),
        "notes.txt": (b"plain " + AUTHOR, "text/plain"),
    }
    if FFMPEG is not None:
        files["clip.mp4"] = (mp4_with_markers(tmp_path), "video/mp4")
    return files


@pytest.fixture
def reviewer(tmp_path, app, recipient_key, live_server, evidence):
    """An unlocked console over a synced report holding the evidence: (browser, report id)."""
    uploads = [("evidence", name, data, kind) for name, (data, kind) in evidence.items()]
    return console_over_report(
        tmp_path, app, recipient_key, live_server.url, files=uploads, narrative="Фото"
    )


def blobs_by_name(browser, report_id):
    vault = browser.vault
    return {vault.manifest(f.blob_id).filename: f.blob_id for f in vault.files(report_id)}


def press(browser, report_id, blob_id, action, **headers):
    token = token_in(browser.get(f"/reports/{report_id}").get_data(as_text=True))
    return browser.post(f"/files/{blob_id}/{action}", data={"csrf_token": token}, headers=headers)


def test_console_copies_hold_no_markers_and_originals_stay_bit_for_bit(reviewer, evidence):
    browser, report_id = reviewer
    for name, blob_id in blobs_by_name(browser, report_id).items():
        original, _kind = evidence[name]
        if name == "notes.txt":
            continue
        copy = press(browser, report_id, blob_id, "clean")
        assert copy.status_code == 200, name
        assert "-no-metadata." in copy.headers["Content-Disposition"]
        assert not any(marker in copy.data for marker in (DEVICE, AUTHOR, GPS[:7])), name
        whole = press(browser, report_id, blob_id, "download")
        assert whole.data == original, name  # the original, bit for bit
        assert hashlib.sha256(whole.data).hexdigest() == browser.vault.manifest(blob_id).sha256


def test_the_page_offers_the_copy_first_and_warns_about_the_original(reviewer):
    browser, report_id = reviewer
    for blob_id in blobs_by_name(browser, report_id).values():
        browser.post(
            f"/reports/{report_id}/files/{blob_id}/identify",
            data={"csrf_token": token_in(browser.get(f"/reports/{report_id}").get_data(True))},
        )
    browser.set_cookie("lang", "ru")
    page = text_of(browser.get(f"/reports/{report_id}"))
    named = [li for li in page.split("<li>")[1:] if 'class="filename"' in li]
    items = {re.search(r'class="filename">([^<]+)<', li).group(1): li for li in named}
    for name in ("photo.jpg", "scan.pdf", *(("clip.mp4",) if FFMPEG else ())):
        item = items[name]
        assert item.index("Скачать копию без метаданных") < item.index("<details")
        assert "GPS" in item.split("<details", 1)[1] and "Скачать расшифрованный файл" in item
    assert "Скачать копию без метаданных" not in items["notes.txt"]
    assert "копия без метаданных не делается: только оригинал" in items["notes.txt"]
    assert "Dangerzone" in page


def test_a_type_without_a_copy_is_refused_with_the_reason(reviewer):
    browser, report_id = reviewer
    browser.set_cookie("lang", "ru")
    response = press(browser, report_id, blobs_by_name(browser, report_id)["notes.txt"], "clean")
    assert response.status_code == 415
    assert "Можно скачать только оригинал" in text_of(response)
    assert AUTHOR not in response.data


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://127.0.0.1:9999"},
        {"Sec-Fetch-Site": "same-site"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site", "Origin": "null"},
    ],
)
def test_a_download_asked_by_a_page_on_another_port_is_refused(reviewer, headers):
    browser, report_id = reviewer
    blob_id = blobs_by_name(browser, report_id)["photo.jpg"]
    before = len(load_events(browser.vault, report_id))
    for action in ("download", "clean", "preview"):
        response = press(browser, report_id, blob_id, action, **headers)
        assert response.status_code == 403, action
        assert jpeg_with_markers() not in response.data
    assert len(load_events(browser.vault, report_id)) == before  # no decryption logged
    same = press(browser, report_id, blob_id, "download", **{"Sec-Fetch-Site": "same-origin"})
    assert same.status_code == 200 and same.data == jpeg_with_markers()


def test_the_consoles_own_post_with_origin_null_is_accepted(reviewer):
    # Under Referrer-Policy: no-referrer, Chromium sends "Origin: null" with same-origin posts.
    browser, report_id = reviewer
    blob_id = blobs_by_name(browser, report_id)["photo.jpg"]
    headers = {"Sec-Fetch-Site": "same-origin", "Origin": "null"}
    assert press(browser, report_id, blob_id, "download", **headers).status_code == 200
    assert press(browser, report_id, blob_id, "download", Origin="null").status_code == 200


def test_a_download_by_link_is_not_possible(reviewer):
    browser, report_id = reviewer
    blob_id = blobs_by_name(browser, report_id)["photo.jpg"]
    before = len(load_events(browser.vault, report_id))
    assert browser.get(f"/files/{blob_id}/download").status_code == 405
    assert browser.post(f"/files/{blob_id}/download").status_code == 400  # no token
    assert len(load_events(browser.vault, report_id)) == before
