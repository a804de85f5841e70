"""The intake service: sealing as it reads, and leaving nothing behind on failure."""

import io
import json

import pytest
from nacl.signing import SigningKey
from sqlalchemy import func, select
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from crypto.envelope import Kind, open_bytes
from crypto.errors import NotARecipientError
from crypto.manifest import open_file
from crypto.receipts import Receipt, verify_receipt
from portal.intake import HoneypotFilled, store_report
from portal.models import Blob, Report
from portal.multipart import Limits
from portal.routing import NotAcceptingReports
from portal.store import BlobStore

from .intake_helpers import receive_body
from .multipart_body import encode

SERVER_KEY = SigningKey.generate()


@pytest.fixture
def store(tmp_path):
    return BlobStore(tmp_path / "data")


def files_in(store):
    return sorted(p.name for p in store.root.iterdir()) + sorted(
        p.name for p in store.incoming.iterdir()
    )


def test_report_with_files_opens_for_the_reviewer_with_receipts(
    recipient_key, db_session, store, source
):
    video = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 5000
    body = encode(
        [("csrf_token", "good-token"), ("region", "osh"), ("narrative", "Меня задержали")],
        [
            ("evidence", "видео.mp4", video, "video/mp4"),
            ("evidence", "a.txt", b"note", "text/plain"),
        ],
    )
    submission = receive_body(body, store, db_session)
    assert submission.file_sizes == [len(video), 4]
    stored = store_report(
        db_session, store, SERVER_KEY, source, submission, {"narrative": "Меня задержали"}
    )
    blobs = {b.kind: b for b in stored.blobs}
    with store.open(blobs["answers"].storage_name) as f:
        answers = json.loads(open_bytes(f.read(), recipient_key.box, Kind.REPORT).content)
    assert answers == {"narrative": "Меня задержали"}
    files = [b for b in stored.blobs if b.kind == "file"]
    out = io.BytesIO()
    with store.open(files[0].storage_name) as f:
        manifest = open_file(f, out, recipient_key.box)
    assert out.getvalue() == video
    assert manifest.filename == "видео.mp4"
    for blob in stored.blobs:
        receipt = Receipt(
            blob.id,
            stored.report.id,
            blob.kind,
            blob.size,
            blob.sha256,
            blob.created_day.isoformat(),
        )
        verify_receipt(SERVER_KEY.verify_key, receipt, blob.receipt)
    assert not list(store.incoming.iterdir())


def test_files_are_sealed_only_to_the_regions_reviewers(add_recipient, db_session, store, source):
    osh = add_recipient("osh", ["osh"])
    bishkek = add_recipient("bishkek", ["bishkek"])
    body = encode(
        [("csrf_token", "good-token"), ("region", "osh")],
        [("evidence", "p.jpg", b"photo", "image/jpeg")],
    )
    submission = receive_body(body, store, db_session)
    stored = store_report(db_session, store, SERVER_KEY, source, submission, {"region": "osh"})
    file_blob = next(b for b in stored.blobs if b.kind == "file")
    with store.open(file_blob.storage_name) as f:
        data = f.read()
    open_file(io.BytesIO(data), io.BytesIO(), osh.box)
    with pytest.raises(NotARecipientError):
        open_file(io.BytesIO(data), io.BytesIO(), bishkek.box)


def test_missing_or_late_token_writes_nothing(recipient_key, db_session, store):
    for fields in ([("narrative", "x"), ("csrf_token", "good-token")], []):
        body = encode(fields, [("evidence", "a.bin", b"data", "application/octet-stream")])
        with pytest.raises(BadRequest):
            receive_body(body, store, db_session)
    assert files_in(store) == []


def test_bad_token_writes_nothing(recipient_key, db_session, store):
    body = encode([("csrf_token", "forged")], [("evidence", "a.bin", b"data", "x/y")])
    with pytest.raises(BadRequest):
        receive_body(body, store, db_session)
    assert files_in(store) == []


def test_filled_honeypot_is_refused_and_leaves_nothing(recipient_key, db_session, store):
    body = encode(
        [("csrf_token", "good-token"), ("website", "http://spam")],
        [("evidence", "a.bin", b"data", "x/y")],
    )
    with pytest.raises(HoneypotFilled):
        receive_body(body, store, db_session)
    assert files_in(store) == []


def test_truncated_body_deletes_the_partly_sealed_file(recipient_key, db_session, store):
    body = encode([("csrf_token", "good-token")], [("evidence", "a.bin", bytes(300_000), "x/y")])
    with pytest.raises(BadRequest):
        receive_body(body[: len(body) // 2], store, db_session)
    assert files_in(store) == []


def test_too_many_parts_is_too_large_and_leaves_nothing(recipient_key, db_session, store):
    fields = [("csrf_token", "good-token")] + [(f"f{i}", "x") for i in range(300)]
    body = encode(fields, [("evidence", "a.bin", b"data", "x/y")])
    with pytest.raises(RequestEntityTooLarge):
        receive_body(body, store, db_session, Limits(max_parts=50))
    assert files_in(store) == []


def test_oversized_text_field_is_too_large(recipient_key, db_session, store):
    body = encode([("csrf_token", "good-token"), ("narrative", "я" * 200_000)])
    with pytest.raises(RequestEntityTooLarge):
        receive_body(body, store, db_session)


def test_empty_file_inputs_are_skipped(recipient_key, db_session, store):
    body = encode(
        [("csrf_token", "good-token")], [("evidence", "", b"", "application/octet-stream")]
    )
    assert receive_body(body, store, db_session).files == []


def test_no_reviewer_means_nothing_is_written(db_session, store):
    body = encode([("csrf_token", "good-token")], [("evidence", "a.bin", b"data", "x/y")])
    with pytest.raises(NotAcceptingReports):
        receive_body(body, store, db_session)
    assert files_in(store) == []


def test_failed_commit_leaves_no_row_and_no_blob(
    recipient_key, db_session, store, source, monkeypatch
):
    body = encode([("csrf_token", "good-token")], [("evidence", "a.bin", b"data", "x/y")])
    submission = receive_body(body, store, db_session)

    def fail():
        raise RuntimeError("database went away")

    monkeypatch.setattr(db_session, "commit", fail)
    with pytest.raises(RuntimeError):
        store_report(db_session, store, SERVER_KEY, source, submission, {})
    monkeypatch.undo()
    assert files_in(store) == []
    assert db_session.scalar(select(func.count()).select_from(Report)) == 0
    assert db_session.scalar(select(func.count()).select_from(Blob)) == 0
