"""The blob store: ciphertext files on disk, never anything else.

A blob is written under `incoming/` while it streams in, then fsynced and
renamed into `blobs/` when the database row that names it commits. Every
path is built from a name this module made and checked to stay inside the
store, so a name from the database or a request can never reach elsewhere.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from portal.shred import shred_file
from portal.writer import BackgroundWriter

_NAME = re.compile(r"^[A-Za-z0-9_-]{32}$")


class StoreError(Exception):
    """A blob name or path is not one this store made."""


@dataclass
class PendingBlob:
    """A blob being written: its final name, its file and the running hash."""

    name: str
    path: Path
    file: BinaryIO
    writer: BackgroundWriter

    @property
    def size(self) -> int:
        return self.writer.size

    def sha256(self) -> str:
        return self.writer.hexdigest()


@dataclass
class KeptBlob:
    """A finished blob kept under incoming/ while its form is fixed (see portal.kept_files)."""

    name: str
    path: Path
    size: int
    digest: str

    def sha256(self) -> str:
        return self.digest


class BlobStore:
    """Ciphertext blobs under data_dir/blobs, partial ones under data_dir/incoming."""

    def __init__(self, data_dir: Path) -> None:
        self.root = Path(data_dir).resolve() / "blobs"
        self.incoming = Path(data_dir).resolve() / "incoming"
        for folder in (self.root, self.incoming):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)

    def path_of(self, name: str) -> Path:
        """The path of a committed blob. Raises StoreError for a name not made here."""
        return self._inside(self.root, name)

    def _inside(self, folder: Path, name: str) -> Path:
        if not _NAME.match(name):
            raise StoreError("not a blob name")
        path = (folder / name).resolve()
        if path.parent != folder:
            raise StoreError("blob path escapes the store")
        return path

    def create(self) -> PendingBlob:
        """Open a new blob for writing under incoming/ (owner-only, never reused)."""
        name = secrets.token_urlsafe(24)
        path = self._inside(self.incoming, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        file = os.fdopen(fd, "wb")
        return PendingBlob(name=name, path=path, file=file, writer=BackgroundWriter(file))

    def finish(self, blob: PendingBlob) -> None:
        """Flush and fsync a pending blob; it stays under incoming/ until committed.

        Raises the error a write met (a full disk, say).
        """
        blob.writer.close()
        blob.file.flush()
        os.fsync(blob.file.fileno())
        blob.file.close()

    def commit(self, blob: PendingBlob | KeptBlob) -> None:
        """Move a finished blob into the store (after its row is committed)."""
        os.replace(blob.path, self._inside(self.root, blob.name))
        _fsync_dir(self.root)

    def reclaim(self, name: str) -> KeptBlob | None:
        """A finished blob still under incoming/, with its size and hash read
        again from disk; None if it is gone (swept) or the name is not one
        this store makes."""
        try:
            path = self._inside(self.incoming, name)
            digest = hashlib.sha256()
            with path.open("rb") as file:
                while chunk := file.read(1024 * 1024):
                    digest.update(chunk)
                size = file.tell()
        except (StoreError, OSError):
            return None
        return KeptBlob(name=name, path=path, size=size, digest=digest.hexdigest())

    def discard(self, blob: PendingBlob | KeptBlob) -> None:
        """Close and shred a pending blob; safe to call more than once."""
        if isinstance(blob, KeptBlob):
            shred_file(blob.path)
            return
        # The blob is being thrown away: a write error no longer matters.
        with contextlib.suppress(Exception):
            blob.writer.close()
        if not blob.file.closed:
            blob.file.close()
        shred_file(blob.path)

    @contextmanager
    def open(self, name: str) -> Iterator[BinaryIO]:
        with self.path_of(name).open("rb") as file:
            yield file

    def delete(self, name: str) -> None:
        """Shred a committed blob (overwrite, fsync, unlink); nothing if it is gone."""
        shred_file(self.path_of(name))

    def sweep_incoming(self, older_than_seconds: float = 24 * 3600) -> int:
        """Delete partial blobs left by a killed worker; return how many went."""
        cutoff = time.time() - older_than_seconds
        removed = 0
        for path in self.incoming.iterdir():
            if path.is_file() and path.stat().st_mtime < cutoff:
                shred_file(path)
                removed += 1
        return removed


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
