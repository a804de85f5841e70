"""Deleting so that nothing can be read back: overwrite, fsync, unlink; SQLite scrubbing.

Everything the portal deletes is ciphertext, but a deleted report should be
gone, not merely unlinked: a disk image taken later must not hold its bytes
in free blocks of the data directory. Files are overwritten in place with
random bytes and synced before they are unlinked. On SQLite, rows are zeroed
by `PRAGMA secure_delete` (set on every connection by portal.db) and the
write-ahead log, which still holds the old pages, is truncated afterwards.

Limits, stated in docs/DEPLOY.md: an overwrite reaches the same blocks on
ext4/xfs over a plain disk, but not on copy-on-write file systems (btrfs,
ZFS), nor past an SSD's wear levelling, nor inside snapshots. Full-disk
encryption covers what this cannot.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine

from crypto.private_files import fsync_dir

_CHUNK = 1024 * 1024


def shred_file(path: Path) -> bool:
    """Overwrite path with random bytes, fsync it, unlink it and sync its folder.

    Returns False if the file did not exist. Symbolic links are refused
    (OSError): a link inside the store would mean someone put it there.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return False
    try:
        size = os.fstat(fd).st_size
        left = size
        while left > 0:
            written = os.write(fd, os.urandom(min(_CHUNK, left)))
            left -= written
        os.fsync(fd)
    finally:
        os.close(fd)
        # Unlinked even if the overwrite failed (a full disk refuses a write
        # even in place on some file systems): a file left behind would keep
        # the disk full, and it is ciphertext either way.
        Path(path).unlink(missing_ok=True)
    fsync_dir(Path(path).parent)
    return True


def scrub_database(engine: Engine) -> None:
    """After deletions: on SQLite, checkpoint and truncate the write-ahead log.

    With secure_delete on, the deleted rows are zeroed in the database file,
    but earlier versions of their pages stay in the WAL until it is
    checkpointed; TRUNCATE empties it. PostgreSQL keeps dead tuples until
    VACUUM and never zeroes them: see docs/DEPLOY.md. Nothing is done there.
    """
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
