"""Is each blob on disk what arrived? Its SHA-256 against its row and its signed receipt.

A blob corrupted on disk (a failing sector, a bad copy, someone's edit)
went into backups and restores without a word. `backup` and
`amanat-server check --deep` now read every blob, hash it, and compare the
hash with the row and the row with the receipt the server signed at intake.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import BinaryIO

from nacl.signing import VerifyKey

from crypto.errors import BadSignatureError
from crypto.receipts import Receipt, verify_receipt
from portal.models import Blob
from portal.store import BlobStore, StoreError

_CHUNK = 1024 * 1024


class HashingReader:
    """A file's reader that hashes what is read through it (for tar to copy from)."""

    def __init__(self, file: BinaryIO) -> None:
        self._file = file
        self._sha256 = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self._file.read(size)
        self._sha256.update(data)
        self.size += len(data)
        return data

    def hexdigest(self) -> str:
        return self._sha256.hexdigest()


def receipt_problem(row: Blob, verify_key: VerifyKey) -> str | None:
    """Why row's receipt does not cover row's facts, or None if it does."""
    receipt = Receipt(
        blob_id=row.id,
        report_id=row.report_id,
        kind=row.kind,
        size=row.size,
        sha256=row.sha256,
        day=row.created_day.isoformat(),
    )
    try:
        verify_receipt(verify_key, receipt, row.receipt)
    except BadSignatureError:
        return "its receipt does not verify with the server's key"
    return None


def content_problem(row: Blob, sha256: str, size: int) -> str | None:
    """Why the bytes read (their hash and size) are not the blob's, or None."""
    if size != row.size:
        return f"it holds {size} bytes, its receipt says {row.size}"
    if sha256 != row.sha256:
        return "its SHA-256 differs from its receipt"
    return None


def blob_problems(
    rows: Iterator[Blob] | list[Blob], store: BlobStore, verify_key: VerifyKey
) -> Iterator[tuple[Blob, str]]:
    """(row, what is wrong) for every blob whose file, hash or receipt does not hold."""
    for row in rows:
        why = receipt_problem(row, verify_key)
        if why is None:
            try:
                with store.open(row.storage_name) as file:
                    reader = HashingReader(file)
                    while reader.read(_CHUNK):
                        pass
                why = content_problem(row, reader.hexdigest(), reader.size)
            except FileNotFoundError:
                why = "its file is missing"
            except StoreError as exc:
                why = str(exc)
        if why is not None:
            yield row, why
