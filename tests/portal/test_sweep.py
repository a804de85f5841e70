"""The sweep removes what a killed worker leaves, and nothing a report needs."""

import os
import time

from portal import db
from portal.cli import main
from portal.services import blob_store

from .journey import get_codename, submit_report


def age(path, seconds):
    old = time.time() - seconds
    os.utime(path, (old, old))


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
        orphan = store.create()
        orphan.writer.write(b"renamed, never committed")
        store.finish(orphan)
        store.commit(orphan)
        recent = store.create()
        store.finish(recent)
        for path in [partial.path, store.path_of(orphan.name), *store.root.iterdir()]:
            age(path, 2 * 24 * 3600)
        db.get_engine(app).dispose()
    result = runner.invoke(main, ["sweep"])
    assert result.exit_code == 0, result.output
    assert "1 partial uploads and 1 orphan blobs" in result.output
    with app.app_context():
        assert sorted(p.name for p in store.root.iterdir()) == kept
        assert [p.name for p in store.incoming.iterdir()] == [recent.name]
