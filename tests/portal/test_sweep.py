"""The sweep removes what a killed worker leaves, and nothing a report needs.

A committed blob must survive any sweep, whatever the clocks say (a grace of
0 seconds stands for a sweeping host whose clock runs far ahead) and however
slowly a commit runs beside it.
"""

import os
import threading
import time

from nacl.signing import SigningKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import db
from portal.cli import main
from portal.intake import store_report
from portal.models import Blob
from portal.services import blob_store
from portal.store import BlobStore
from portal.sweep import sweep

from .intake_helpers import receive_body
from .journey import get_codename, submit_report
from .multipart_body import encode

DAY = 24 * 3600


def age(path, seconds):
    old = time.time() - seconds
    os.utime(path, (old, old))


def die(pending):
    """What a killed worker leaves: the pending file with no descriptor holding its lock."""
    os.close(pending.lock_fd)
    pending.lock_fd = -1


def test_sweep_removes_partial_uploads_and_orphans_but_keeps_reports(
    app, client, recipient_key, runner
):
    get_codename(client)
    submit_report(client, files=[("evidence", "a.txt", b"kept", "text/plain")])
    with app.app_context():
        store = blob_store()
        kept = sorted(p.name for p in store.root.iterdir())
        partial = store.create()
        partial.writer.write(b"half an upload")
        store.finish(partial)
        die(partial)
        orphan = store.create()
        orphan.writer.write(b"renamed, never committed")
        store.finish(orphan)
        store.commit(orphan)
        recent = store.create()
        store.finish(recent)
        die(recent)
        for path in [partial.path, store.path_of(orphan.name), *store.root.iterdir()]:
            age(path, 2 * DAY)
        db.get_engine(app).dispose()
    result = runner.invoke(main, ["sweep"])
    assert result.exit_code == 0, result.output
    assert "1 partial uploads and 1 orphan blobs" in result.output
    with app.app_context():
        assert sorted(p.name for p in store.root.iterdir()) == kept
        assert [p.name for p in store.incoming.iterdir()] == [recent.name]


def test_sweep_keeps_an_upload_in_progress_however_old_its_files_look(tmp_path, db_session):
    store = BlobStore(tmp_path / "data")
    first_file = store.create()
    first_file.writer.write(b"finished arriving three days ago")
    store.finish(first_file)
    age(first_file.path, 3 * DAY)
    assert sweep(db_session, store, 0).partial == 0
    assert first_file.path.exists()
    die(first_file)
    assert sweep(db_session, store, 0).partial == 1
    assert not first_file.path.exists()


def test_committed_blob_survives_a_sweep_whose_clock_runs_ahead(
    recipient_key, db_session, source, tmp_path
):
    store = BlobStore(tmp_path / "data")
    body = encode([("csrf_token", "good-token")], [("evidence", "a.bin", b"x", "x/y")])
    stored = store_report(
        db_session, store, SigningKey.generate(), source, receive_body(body, store, db_session), {}
    )
    for blob in stored.blobs:
        age(store.path_of(blob.storage_name), 30 * DAY)
    assert sweep(db_session, store, 0).orphans == 0
    assert all(store.path_of(b.storage_name).exists() for b in stored.blobs)


def test_sweep_during_a_slow_multi_file_commit_loses_nothing(
    app, recipient_key, db_session, source, tmp_path, monkeypatch
):
    """The sweep runs (grace 0) while a three-file report is half moved into blobs/."""
    store = BlobStore(tmp_path / "data")
    files = [("evidence", f"{n}.bin", b"evidence %d" % n, "x/y") for n in range(3)]
    submission = receive_body(encode([("csrf_token", "good-token")], files), store, db_session)
    for pending in submission.files:
        age(pending.path, 2 * DAY)  # finished arriving long before the commit
    first_moved, go_on = threading.Event(), threading.Event()
    move = store.commit

    def slow_commit(pending):
        move(pending)
        first_moved.set()
        assert go_on.wait(10)

    monkeypatch.setattr(store, "commit", slow_commit)
    committing = threading.Thread(
        target=store_report,
        args=(db_session, store, SigningKey.generate(), source, submission, {"narrative": "n"}),
    )
    committing.start()
    assert first_moved.wait(10)
    swept = []
    with Session(db.get_engine(app)) as other:
        sweeping = threading.Thread(target=lambda: swept.append(sweep(other, store, 0)))
        sweeping.start()
        # Without the commit lock the sweep would shred the moved file now.
        sweeping.join(timeout=1.0)
        go_on.set()
        committing.join(10)
        sweeping.join(10)
    assert swept[0].orphans == 0
    names = set(db_session.scalars(select(Blob.storage_name)))
    assert len(names) == 4  # the answers and three files
    assert names == set(store.names())
