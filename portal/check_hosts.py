"""`amanat-server check`, the parts that matter most with several hosts.

This host's secrets against the database's record of them (a second host
that ran its own `init` is found here), and the blob store: a real folder,
on the same file system as incoming/, with its commit lock writable.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from portal import db
from portal.hostsecrets import JOIN_FIX, drift
from portal.serverkey import SIGNING_KEY_FILE
from portal.settings import SECRET_KEY_FILE
from portal.sources import SALT_FILE
from portal.store import COMMIT_LOCK, BlobStore

if TYPE_CHECKING:
    from portal.check import Deployment, Problem


def check_host_secrets(deployment: Deployment) -> list[Problem]:
    """Every secret is here and is the one the database recorded."""
    from portal.check import Problem

    settings = deployment.settings
    engine = db.make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            drifted = drift(session, settings)
    except SQLAlchemyError:
        return []  # the database check names an unreachable or unmigrated database
    finally:
        engine.dispose()
    return [
        Problem(f"{d.what}: {_HARM[d.name]}", _MISSING_FIX + JOIN_FIX if d.missing else JOIN_FIX)
        for d in drifted
    ]


_HARM = {
    SECRET_KEY_FILE: "form tokens and cookies made on the other hosts fail here",
    SIGNING_KEY_FILE: "receipts signed here are refused by reviewers who pinned the other key",
    SALT_FILE: "codenames made on the other hosts are not found here",
}
_MISSING_FIX = "On the only or first host: run `amanat-server init`. On another host: "


def check_blob_store(deployment: Deployment) -> list[Problem]:
    """blobs/ and incoming/ are real folders on one file system, and the lock is writable."""
    from portal.check import Problem

    settings = deployment.settings
    if not settings.data_dir.exists():
        return []
    try:
        store = BlobStore(settings.data_dir, settings.blob_dir)
    except OSError as exc:
        return [Problem(f"the blob store cannot be made: {exc}", _STORE_FIX)]
    problems = []
    for folder in (store.root, store.incoming):
        if not folder.is_dir():
            problems.append(Problem(f"{folder} is not a folder", _STORE_FIX))
    if problems:
        return problems
    if store.root.stat().st_dev != store.incoming.stat().st_dev:
        problems.append(
            Problem(
                f"{store.root} and {store.incoming} are on different file systems: an upload "
                "cannot be moved into the store in one step",
                _STORE_FIX,
            )
        )
    lock = store.root.parent / COMMIT_LOCK
    if not os.access(store.root.parent, os.W_OK) and not os.access(lock, os.W_OK):
        problems.append(Problem(f"{lock} cannot be written (the commit lock)", _STORE_FIX))
    return problems


_STORE_FIX = (
    "Put blobs/ and incoming/ side by side in one folder of one file system (shared storage "
    "for several hosts), and point AMANAT_BLOB_DIR at blobs/ or link data_dir/blobs and "
    "data_dir/incoming to them (docs/DEPLOY.md, 'Two or more hosts')."
)
