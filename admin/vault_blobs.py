"""The vault's blob files: ciphertext exactly as the server sent it, one file per blob id.

A download lands in partial/ and is moved into blobs/ only once its size,
SHA-256 and receipt were checked (admin.sync); the move is made durable
with a directory fsync, once per blob or once per batch.
"""

from __future__ import annotations

import os
from pathlib import Path

from admin.vault_errors import VaultError, check_id
from crypto.private_files import fsync_dir


class BlobFolder:
    """blobs/ and partial/ of a vault folder; every path is a checked id below them."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.blobs_dir = self.path / "blobs"
        self.partial_dir = self.path / "partial"

    def blob_path(self, blob_id: str) -> Path:
        return self.blobs_dir / check_id(blob_id, "blob id")

    def partial_path(self, blob_id: str) -> Path:
        return self.partial_dir / check_id(blob_id, "blob id")

    def has_blob(self, blob_id: str) -> bool:
        return self.blob_path(blob_id).is_file()

    def accept_blob(self, blob_id: str, *, sync_dir: bool = True) -> None:
        """Move a verified download from partial/ into blobs/.

        With sync_dir=False the caller calls commit_accepted() after a batch:
        one directory fsync for many blobs.
        """
        os.replace(self.partial_path(blob_id), self.blob_path(blob_id))
        if sync_dir:
            fsync_dir(self.blobs_dir)

    def commit_accepted(self) -> None:
        """Make the moves of accept_blob(sync_dir=False) durable."""
        fsync_dir(self.blobs_dir)

    def store_blob(self, blob_id: str, data: bytes) -> None:
        """Write a blob this machine made (a reply), the same way a download lands."""
        partial = self.partial_path(blob_id)
        with open(partial, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        self.accept_blob(blob_id)

    def read_blob(self, blob_id: str) -> bytes:
        """The ciphertext of a blob held in the vault; raise VaultError if it is not there."""
        try:
            return self.blob_path(blob_id).read_bytes()
        except FileNotFoundError as exc:
            raise VaultError(f"blob {blob_id} is not in the vault yet; run sync") from exc
