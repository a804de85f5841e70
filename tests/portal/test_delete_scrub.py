"""A report deleted through the API is gone from the raw database files at once.

With secure_delete the rows are zeroed in the pages that change, but the
write-ahead log still held earlier copies of those pages until the next
purge checkpointed it: a disk image taken after the DELETE held the report's
ids, hashes and receipts. The portal is left running while the files are
read (closing its connections would checkpoint and hide the fault).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from portal import db
from portal.models import Blob
from portal.services import blob_store
from tests.portal.api_client import ApiClient
from tests.portal.journey import get_codename, only_report_id, submit_report


def test_a_report_deleted_through_the_api_is_not_in_the_raw_database_files(
    app, client, recipient_key, settings, database_url
):
    get_codename(client)
    files = [("evidence", "photo.jpg", b"\xff\xd8" + b"evidence" * 40_000, "image/jpeg")]
    assert submit_report(client, files=files).status_code == 303
    report_id = only_report_id(app)
    with app.app_context():
        blobs = list(db.get_session().scalars(select(Blob)))
        paths = [blob_store().path_of(b.storage_name) for b in blobs]
    needles = [report_id.encode()]
    for blob in blobs:
        needles += [blob.id.encode(), blob.sha256.encode(), blob.receipt[-32:]]
    for path in paths:
        data = path.read_bytes()
        needles.append(data[len(data) // 2 : len(data) // 2 + 32])
    reviewer = ApiClient(app.test_client(), recipient_key)
    assert reviewer.get("/api/v1/reports").status_code == 200  # reads: more pages in the WAL
    assert reviewer.delete(f"/api/v1/reports/{report_id}").status_code == 204
    searched = [p for p in settings.data_dir.rglob("*") if p.is_file()]
    if database_url.startswith("sqlite:///"):
        database = Path(database_url.removeprefix("sqlite:///"))
        searched += [p for p in database.parent.glob(database.name + "*") if p.is_file()]
        assert database in searched
    for path in searched:
        data = path.read_bytes()
        assert [n for n in needles if n in data] == [], path
