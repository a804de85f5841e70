"""Hostile upload bodies and filenames: a clear error, nothing stored, nothing leaked.

Covered elsewhere (docs/SECURITY.md lists them): a truncated body and too
many parts at the intake level (tests/portal/test_intake.py), bodies over
the limit with and without Content-Length (tests/portal/test_pages.py).
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.portal.journey import (
    get_codename,
    only_report_id,
    reviewer_reads_files,
    submit_report,
    text_of,
    token_in,
)
from tests.portal.multipart_body import BOUNDARY, content_type, encode

from .conftest import row_counts, stored_files

LONG_NAME = "а" * 10_000 + ".jpg"
HOSTILE_NAMES = {
    "traversal": "../../../../../../tmp/amanat-escape-marker.txt",
    "absolute": "/etc/amanat-escape-marker",
    "windows": "..\\..\\amanat-escape-marker.txt",
    "nul": "photo\x00.jpg",
    "rtl_override": "invoice\u202egpj.exe",
    "long": LONG_NAME,
}
# A Content-Disposition filename is a quoted string: "\." arrives as ".".
AS_RECEIVED = {"windows": "....amanat-escape-marker.txt"}


@pytest.fixture
def logged_in(app, client, recipient_key):
    get_codename(client)
    return client


def post_report(client, body: bytes, **kwargs):
    return client.post("/report", data=body, content_type=content_type(), **kwargs)


def report_token(client) -> str:
    return token_in(text_of(client.get("/report")))


@pytest.mark.parametrize("case", sorted(HOSTILE_NAMES))
def test_hostile_filename_stays_inside_the_ciphertext(
    app, logged_in, recipient_key, data_dir: Path, case
):
    name = HOSTILE_NAMES[case]
    marker = b"FILE-CONTENT-MARKER"
    response = submit_report(logged_in, files=[("evidence", name, marker, "text/plain")])
    assert response.status_code == 303, text_of(response)
    report_id = only_report_id(app)
    ((manifest, content),) = reviewer_reads_files(app, recipient_key, report_id)
    assert content == marker
    # The manifest keeps the name as received, cut to 255 characters.
    assert manifest.filename == AS_RECEIVED.get(case, name)[:255]
    # On disk: only names the store made, and no byte of the name or content.
    for entry in stored_files(app):
        assert len(Path(entry).name) == 32
    assert not Path("/tmp/amanat-escape-marker.txt").exists()
    assert not Path("/etc/amanat-escape-marker").exists()
    probes = [name.encode("utf-8")[:40], Path(name).name.encode("utf-8")[:20], marker]
    for path in data_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for probe in probes:
                if len(probe) >= 8:
                    assert probe not in data, f"{probe!r} found in {path}"


MALFORMED = {
    "not multipart": (b"narrative=x", "application/x-www-form-urlencoded"),
    "no boundary": (b"--x\r\n", "multipart/form-data"),
    "boundary too long": (b"", "multipart/form-data; boundary=" + "b" * 201),
    "garbage": (b"\x00\xff" * 5000, content_type()),
    "no closing boundary": (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\nx'.encode(),
        content_type(),
    ),
    "part without headers": (f"--{BOUNDARY}\r\n\r\n\r\nvalue\r\n".encode(), content_type()),
    "empty body": (b"", content_type()),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_multipart_is_a_clear_400_storing_nothing(app, logged_in, case):
    before = row_counts(app)
    body, kind = MALFORMED[case]
    response = logged_in.post("/report", data=body, content_type=kind)
    assert response.status_code == 400
    page = text_of(response)
    assert "Traceback" not in page and "werkzeug" not in page.lower()
    assert row_counts(app) == before
    assert stored_files(app) == []


def test_truncated_upload_over_http_leaves_nothing(app, logged_in):
    body = encode(
        [("csrf_token", report_token(logged_in)), ("store_report", "yes"), ("narrative", "x")],
        [("evidence", "a.bin", bytes(400_000), "application/octet-stream")],
    )
    before = row_counts(app)
    # Content-Length says the whole body; the connection gives half of it.
    response = post_report(
        logged_in,
        b"",
        input_stream=io.BytesIO(body[: len(body) // 2]),
        headers={"Content-Length": str(len(body))},
    )
    assert response.status_code == 400
    assert row_counts(app) == before
    assert stored_files(app) == []


def test_thousands_of_form_parts_are_refused_storing_nothing(app, logged_in):
    fields = [("csrf_token", report_token(logged_in)), ("store_report", "yes")]
    fields += [("violation_types", "other")] * 5000
    before = row_counts(app)
    response = post_report(logged_in, encode(fields, [("evidence", "a.txt", b"x", "text/plain")]))
    assert response.status_code == 413
    assert "413" in text_of(response)
    assert row_counts(app) == before
    assert stored_files(app) == []


def test_more_files_than_allowed_are_refused_storing_nothing(app, logged_in):
    fields = [("csrf_token", report_token(logged_in)), ("store_report", "yes")]
    files = [("evidence", f"{i}.txt", b"x", "text/plain") for i in range(25)]
    before = row_counts(app)
    response = post_report(logged_in, encode([*fields, ("narrative", "x")], files))
    assert response.status_code == 413
    assert row_counts(app) == before
    assert stored_files(app) == []


def test_a_field_that_is_not_utf8_is_a_400_storing_nothing(app, logged_in):
    fields = [("csrf_token", report_token(logged_in)), ("store_report", "yes")]
    body = encode([*fields, ("narrative", "NOT-UTF8")]).replace(b"NOT-UTF8", b"\xff\xfe\xfd")
    response = post_report(logged_in, body)
    assert response.status_code == 400
    assert row_counts(app)["Report"] == 0
    assert stored_files(app) == []
