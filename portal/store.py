"""The blob store: ciphertext files on disk, never anything else.

A blob is written under `incoming/` while it streams in, then fsynced and
renamed into `blobs/` when the database row that names it commits. Every
path is built from a name this module made and checked to stay inside the
store, so a name from the database or a request can never reach elsewhere.

`blobs/` defaults to data_dir/blobs; AMANAT_BLOB_DIR puts it anywhere (shared
storage for several portal hosts), with `incoming/` beside it: a rename
between the two must stay on one file system. Either may be a symbolic link
the operator made on purpose: the folders are resolved once, and every file
must then lie directly inside its resolved folder.

Nothing that cleans up (the sweep, retention) may remove a blob that is, or
is about to be, committed, whatever the clocks say and on however many
hosts. Two file locks make that so (flock; on NFS v4 they become the
server's locks, which every client sees):

- a pending blob keeps a shared lock on its own file from `create` until it
  is committed or discarded, so an upload that takes a day keeps its
  finished files, however old their times;
- `committing()` holds a shared lock on commit.lock (beside blobs/, on the
  same storage, so every host sharing the store sees it) while files move
  into blobs/ and their rows commit; `exclusive()` takes it exclusively, so
  a sweep that holds it sees, in the database, the row of every blob then
  in blobs/, unless the worker that moved it died.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

from crypto.private_files import fsync_dir
from portal.shred import shred_file
from portal.writer import BackgroundWriter

_NAME = re.compile(r"^[A-Za-z0-9_-]{32}$")
# Beside the resolved blobs/ folder, wherever that is mounted.
COMMIT_LOCK = "commit.lock"


# How often a blob being written looks at the free space left (os.fstatvfs
# costs a microsecond; a MiB of upload takes milliseconds at best).
ROOM_CHECK_BYTES = 1024 * 1024


class StoreError(Exception):
    """A blob name or path is not one this store made."""


def out_of_room() -> OSError:
    """The error a blob write raises when the free-space floor is reached."""
    return OSError(errno.ENOSPC, "the data directory's free-space floor is reached")


class FloorFile:
    """An unbuffered blob file that stops at the free-space floor.

    Unbuffered, so closing it never flushes: on a full disk a buffered file's
    close() raised ENOSPC again and the partial was never shredded. Every
    ROOM_CHECK_BYTES it checks the file system's free space and raises
    ENOSPC below min_free, so an upload never takes the room the database
    needs to keep working.
    """

    def __init__(self, fd: int, min_free: int) -> None:
        self._file = os.fdopen(fd, "wb", buffering=0)
        self._min_free = min_free
        self._until_check = 0

    def write(self, data: bytes | bytearray | memoryview, /) -> int:
        if self._min_free and self._until_check <= 0:
            if free_bytes(self._file.fileno()) < self._min_free:
                raise out_of_room()
            self._until_check = ROOM_CHECK_BYTES
        view = memoryview(data)
        while view:  # an unbuffered write may be short (a disk filling up)
            written = self._file.write(view) or 0
            view = view[written:]
        self._until_check -= len(data)
        return len(data)

    def flush(self) -> None:
        return None

    def fileno(self) -> int:
        return self._file.fileno()

    def close(self) -> None:
        self._file.close()

    @property
    def closed(self) -> bool:
        return self._file.closed


def free_bytes(where: int | Path) -> int:
    """The bytes an unprivileged process may still write on the file system of where."""
    info = os.fstatvfs(where) if isinstance(where, int) else os.statvfs(where)
    return info.f_bavail * info.f_frsize


@dataclass
class PendingBlob:
    """A blob being written: its final name, its file and the running hash."""

    name: str
    path: Path
    file: BinaryIO
    writer: BackgroundWriter
    # A descriptor holding a shared flock on the file while it is pending.
    lock_fd: int = -1

    @property
    def size(self) -> int:
        return self.writer.size

    def sha256(self) -> str:
        return self.writer.hexdigest()


@dataclass
class KeptBlob:
    """A finished blob kept under incoming/ while its form is fixed (portal.kept_files).

    Reclaimed by a later request, it holds its file's shared lock again until
    it is committed or discarded, as a pending blob does.
    """

    name: str
    path: Path
    size: int
    digest: str
    lock_fd: int = -1

    def sha256(self) -> str:
        return self.digest


class BlobStore:
    """Ciphertext blobs under data_dir/blobs, partial ones under data_dir/incoming.

    min_free is the free-space floor in bytes (0: none): below it, no blob is
    created and one being written stops with ENOSPC, so the database on the
    same disk stays writable.
    """

    def __init__(self, data_dir: Path, blob_dir: Path | None = None, min_free: int = 0) -> None:
        blobs = Path(blob_dir) if blob_dir is not None else Path(data_dir) / "blobs"
        incoming = (
            blobs.parent / "incoming" if blob_dir is not None else Path(data_dir) / "incoming"
        )
        self.min_free = min_free
        for folder in (blobs, incoming):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Resolved after mkdir, so a folder that is a deliberate symbolic
        # link is followed once, here; files inside are checked against it.
        self.root = blobs.resolve()
        self.incoming = incoming.resolve()

    def require_room(self) -> None:
        """Raise ENOSPC (OSError) if free space is below the floor: refuse before reading."""
        if self.min_free and free_bytes(self.incoming) < self.min_free:
            raise out_of_room()

    def path_of(self, name: str) -> Path:
        """The path of a committed blob. Raises StoreError for a name not made here."""
        return self._inside(self.root, name)

    def _inside(self, folder: Path, name: str) -> Path:
        if not _NAME.match(name):
            raise StoreError("not a blob name")
        if (folder / name).is_symlink():
            # Nothing here makes links: one in the store was put there by someone.
            raise StoreError("a blob is a symbolic link")
        path = (folder / name).resolve()
        if path.parent != folder:
            raise StoreError("blob path escapes the store")
        return path

    def create(self) -> PendingBlob:
        """Open a new blob for writing under incoming/ (owner-only, never reused).

        Raises ENOSPC (OSError) below the free-space floor.
        """
        self.require_room()
        name = secrets.token_urlsafe(24)
        path = self._inside(self.incoming, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        lock_fd = os.open(path, os.O_RDONLY)
        fcntl.flock(lock_fd, fcntl.LOCK_SH)
        file = cast(BinaryIO, FloorFile(fd, self.min_free))
        writer = BackgroundWriter(file)
        return PendingBlob(name=name, path=path, file=file, writer=writer, lock_fd=lock_fd)

    def finish(self, blob: PendingBlob) -> None:
        """Flush and fsync a pending blob; it stays under incoming/ until committed.

        Raises the error a write met (a full disk, say).
        """
        blob.writer.close()
        blob.file.flush()
        os.fsync(blob.file.fileno())
        blob.file.close()

    def commit(self, blob: PendingBlob | KeptBlob) -> None:
        """Move a finished blob into the store, inside `committing()`, before its row commits.

        Its time is reset first: a file that finished arriving hours ago
        becomes a blob now, which the sweep's grace period then counts from.
        """
        os.utime(blob.path)
        os.replace(blob.path, self._inside(self.root, blob.name))
        fsync_dir(self.root)
        _release(blob)

    @contextmanager
    def committing(self) -> Iterator[None]:
        """Hold the commit lock shared: move blobs in and commit their rows inside."""
        with self._commit_lock(fcntl.LOCK_SH):
            yield

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the commit lock alone: no blob moves in or commits meanwhile."""
        with self._commit_lock(fcntl.LOCK_EX):
            yield

    @contextmanager
    def _commit_lock(self, mode: int) -> Iterator[None]:
        # A descriptor of its own each time: threads of one worker lock
        # against each other as processes do.
        fd = os.open(self.root.parent / COMMIT_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, mode)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def keep(self, blob: PendingBlob) -> None:
        """Leave a finished blob under incoming/ for a later request (portal.kept_files).

        Its lock is released (this request ends) and its time reset, so the
        sweep's day of grace counts from now.
        """
        with contextlib.suppress(OSError):
            os.utime(blob.path)
        _release(blob)

    def reclaim(self, name: str) -> KeptBlob | None:
        """A kept blob, locked again, with its size and hash read again from disk.

        None if it is gone (swept) or the name is not one this store makes.
        """
        try:
            path = self._inside(self.incoming, name)
            lock_fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except (StoreError, OSError):
            return None
        fcntl.flock(lock_fd, fcntl.LOCK_SH)
        digest = hashlib.sha256()
        try:
            with os.fdopen(os.dup(lock_fd), "rb") as file:
                while chunk := file.read(1024 * 1024):
                    digest.update(chunk)
                size = file.tell()
        except OSError:
            os.close(lock_fd)
            return None
        return KeptBlob(name, path, size, digest.hexdigest(), lock_fd)

    def discard(self, blob: PendingBlob | KeptBlob) -> None:
        """Close and shred a pending blob; safe to call more than once; never raises.

        It runs while another error (often a full disk) propagates: whatever
        closing or overwriting meets, the partial file is unlinked.
        """
        if isinstance(blob, KeptBlob):
            with contextlib.suppress(OSError):
                shred_file(blob.path)
            _release(blob)
            return
        # The blob is being thrown away: a write error no longer matters.
        with contextlib.suppress(Exception):
            blob.writer.close()
        with contextlib.suppress(Exception):
            blob.file.close()
        with contextlib.suppress(OSError):
            shred_file(blob.path)
        _release(blob)

    @contextmanager
    def open(self, name: str) -> Iterator[BinaryIO]:
        with self.path_of(name).open("rb") as file:
            yield file

    def delete(self, name: str) -> None:
        """Shred a committed blob (overwrite, fsync, unlink); nothing if it is gone.

        A symbolic link in its place is unlinked, never followed.
        """
        if _NAME.match(name) and (self.root / name).is_symlink():
            (self.root / name).unlink()
            return
        shred_file(self.path_of(name))

    def names(self) -> list[str]:
        """The names of the files in blobs/ that look like blobs."""
        return [p.name for p in self.root.iterdir() if _NAME.match(p.name)]

    def set_aside(self, name: str) -> Path:
        """Move a blob back under incoming/ (quick, inside `exclusive()`) to shred it later."""
        target = self._inside(self.incoming, name)
        os.replace(self._inside(self.root, name), target)
        return target

    def sweep_incoming(self, older_than_seconds: float = 24 * 3600) -> int:
        """Delete partial blobs left by a killed worker; return how many went.

        A file still locked by its upload stays, however old it looks.
        """
        cutoff = time.time() - older_than_seconds
        removed = 0
        for path in self.incoming.iterdir():
            if _NAME.match(path.name) and path.is_file() and path.stat().st_mtime < cutoff:
                removed += shred_unless_locked(path)
        return removed


def _release(blob: PendingBlob | KeptBlob) -> None:
    if blob.lock_fd >= 0:
        os.close(blob.lock_fd)
        blob.lock_fd = -1


def shred_unless_locked(path: Path) -> int:
    """Shred path unless an upload holds its lock; 1 if it was shredded, else 0."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return 0
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return 0
    try:
        return int(shred_file(path))
    finally:
        os.close(fd)
