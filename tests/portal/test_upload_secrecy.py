"""What the server's disk and database may never hold: plaintext of any report."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

import pytest
from nacl.public import PrivateKey
from sqlalchemy import MetaData, select

from crypto.envelope import Kind, open_bytes
from crypto.errors import CryptoError
from portal import db
from portal.models import Blob

from .journey import get_codename, only_report_id, read_blob, send_followup, submit_report


@pytest.fixture
def spy_tempdir(tmp_path, monkeypatch):
    """Route every temporary file of this process into a folder the test scans."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    monkeypatch.setenv("TMPDIR", str(folder))
    return folder


def all_bytes_under(folder: Path) -> list[tuple[Path, bytes]]:
    found = []
    for root, _, names in os.walk(folder):
        for name in names:
            path = Path(root, name)
            found.append((path, path.read_bytes()))
    return found


def database_dump(app) -> bytes:
    """Every value of every row, as bytes, on SQLite and PostgreSQL alike."""
    engine = db.get_engine(app)
    metadata = MetaData()
    metadata.reflect(engine)
    out = bytearray()
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(select(table)):
                for value in row:
                    out += value if isinstance(value, bytes | memoryview) else str(value).encode()
                    out += b"\x00"
    return bytes(out)


def test_upload_plaintext_never_touches_disk(app, client, recipient_key, settings, spy_tempdir):
    marker = secrets.token_hex(16).encode()
    small = b"SMALL" + marker * 10
    large = marker * (2 * 1024 * 1024 // len(marker))  # 2 MiB: past Werkzeug's spooling limit
    followup_file = b"LATER" + marker * 70_000
    secret_name = f"evidence-{marker.decode()}.mp4"
    narrative = f"narrative {marker.decode()}"
    get_codename(client)
    response = submit_report(
        client,
        narrative=narrative,
        files=[
            ("evidence", secret_name, small, "image/jpeg"),
            ("evidence", "big.mp4", large, f"video/{marker.decode()}"),
        ],
    )
    assert response.status_code == 303
    report_id = only_report_id(app)
    assert (
        send_followup(
            client,
            report_id,
            f"followup {marker.decode()}",
            [("evidence", "f.bin", followup_file, "x/y")],
        ).status_code
        == 303
    )

    needles = [marker, marker.hex().encode(), marker[:12]]
    places = all_bytes_under(settings.data_dir) + all_bytes_under(spy_tempdir)
    assert any(path.parent.name == "blobs" for path, _ in places), "the test must see the blobs"
    for path, content in places:
        for needle in needles:
            assert needle not in content, f"plaintext found in {path}"
    dump = database_dump(app)
    for needle in needles:
        assert needle not in dump


def test_no_key_the_server_holds_can_read_a_report(app, client, recipient_key, settings):
    get_codename(client)
    submit_report(client, narrative="secret narrative")
    report_id = only_report_id(app)
    with app.app_context():
        blobs = list(db.get_session().scalars(select(Blob).where(Blob.report_id == report_id)))
    # Every 32-byte value the server keeps on disk or in its database, tried
    # as an X25519 private key: none opens the report.
    candidates = set()
    for _, content in all_bytes_under(settings.data_dir):
        for i in range(0, max(len(content) - 31, 0), 1 if len(content) < 4096 else 32):
            candidates.add(content[i : i + 32])
    dump = database_dump(app)
    for i in range(0, len(dump) - 31):
        candidates.add(dump[i : i + 32])
    for blob in blobs:
        if blob.kind != "answers":
            continue
        data = read_blob(app, blob)
        for candidate in candidates:
            with pytest.raises(CryptoError):
                open_bytes(data, PrivateKey(candidate), Kind.REPORT)
