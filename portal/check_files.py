"""`amanat-server check`: files other users could read.

Everything under the data directory and the blob store, and the SQLite
database with its -wal and -shm files wherever they are, must be
owner-only. SQLite creates its files 0644 less the umask, so a database
created outside the service (by hand, by an old version, by a restore run
with a loose umask) is readable by every user of the machine; so are its
write-ahead log and shared memory, which hold recent pages.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from portal.check import Deployment, Problem

SHOWN = 5


def check_file_modes(deployment: Deployment) -> list[Problem]:
    """Every file and folder the server keeps is owner-only (no group or other bits)."""
    from portal.check import Problem

    loose = sorted({str(path) for path in _loose(_places(deployment))})
    if not loose:
        return []
    more = f" and {len(loose) - SHOWN} more" if len(loose) > SHOWN else ""
    shown = ", ".join(loose[:SHOWN]) + more
    roots = " ".join(sorted({str(p) for p in _places(deployment) if p.is_dir()}))
    return [
        Problem(
            f"{len(loose)} file(s) or folder(s) are open to group or others: {shown}",
            f"chmod -R go-rwx {roots} (and the database files named); the service's "
            "UMask=0077 keeps new ones private.",
        )
    ]


def _places(deployment: Deployment) -> list[Path]:
    settings = deployment.settings
    places = [settings.data_dir]
    if settings.blob_dir is not None:
        places += [settings.blob_dir, settings.blob_dir.parent / "incoming"]
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database:
        database = Path(url.database)
        places += [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
    return [place for place in places if place.exists()]


def _loose(places: list[Path]) -> Iterator[Path]:
    for place in places:
        if _is_loose(place):
            yield place
        if place.is_dir() and not place.is_symlink():
            for folder, folders, files in os.walk(place):
                for name in folders + files:
                    path = Path(folder) / name
                    if _is_loose(path):
                        yield path


def _is_loose(path: Path) -> bool:
    try:
        info = path.lstat()
    except FileNotFoundError:
        return False
    if stat.S_ISLNK(info.st_mode):
        return False  # a link's own mode means nothing; its target is checked where it lies
    return bool(info.st_mode & (stat.S_IRWXG | stat.S_IRWXO))


def check_blobs_deep(deployment: Deployment) -> list[Problem]:
    """With --deep: every blob's file hashes to its row, and its receipt verifies."""
    from nacl.signing import SigningKey
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.orm import Session

    from portal import db
    from portal.check import Problem
    from portal.integrity import blob_problems
    from portal.models import Blob
    from portal.serverkey import SIGNING_KEY_FILE
    from portal.store import BlobStore

    if not deployment.deep:
        return []
    settings = deployment.settings
    try:
        verify_key = SigningKey((settings.data_dir / SIGNING_KEY_FILE).read_bytes()).verify_key
    except (OSError, ValueError, TypeError):
        return []  # the data directory's check names a missing or damaged key
    engine = db.make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            rows = session.scalars(select(Blob).order_by(Blob.id))
            store = BlobStore(settings.data_dir, settings.blob_dir)
            found = [
                Problem(
                    f"blob {row.id} of report {row.report_id}: {why}",
                    "Restore that file from a backup made before the damage, or ask the "
                    "reviewers, whose vaults hold a checked copy.",
                )
                for row, why in blob_problems(rows, store, verify_key)
            ]
    except SQLAlchemyError:
        return []  # the database's check names the reason
    finally:
        engine.dispose()
    return found
