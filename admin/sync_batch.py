"""Fetch many blobs in few round trips, checking each against its receipt.

Small blobs are asked for in batches (POST /api/v1/blobs/batch); each frame
is written to partial/, measured as it arrives, and moves into the vault
only if its size and SHA-256 are the ones the server's receipt signed. A
frame that is out of place, of the wrong size or altered is refused by
name and the rest of the batch is kept. When a batch breaks off, the blob
that was cut resumes with Range and those not reached are fetched one by
one, like large files (admin.sync.fetch_blob's path).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from typing import Protocol

import requests
from nacl.signing import VerifyKey
from urllib3.exceptions import HTTPError

from admin.client import ApiClient, ClientError, ConnectionFailed
from admin.listing_types import BlobListing, ServerAnswer
from admin.vault import Vault
from crypto.errors import BadSignatureError
from crypto.receipts import Receipt, verify_receipt

SMALL = 1024 * 1024  # larger blobs go one by one, resumable with Range
BATCH_BYTES = 8 * 1024 * 1024
BATCH_COUNT = 500
_HEADER_LIMIT = 1024
_CHUNK = 64 * 1024

Wanted = tuple[str, BlobListing]  # (report id, the blob's checked listing)


class Progress(Protocol):
    """What a progress display is told: blobs and bytes planned, then done."""

    def plan(self, blobs: int, size: int) -> None: ...

    def advance(self, blobs: int, size: int) -> None: ...


class _BrokeOff(Exception):
    """The batch response ended or broke before its end frame."""


class _Stream:
    """Lines and counted reads over a response's chunks; a broken stream reads as its end."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = bytearray()

    def _more(self) -> bool:
        try:
            chunk = next(self._chunks, b"")
        except (requests.RequestException, HTTPError, OSError):
            chunk = b""
        self._buffer += chunk
        return bool(chunk)

    def readline(self, limit: int) -> bytes:
        while b"\n" not in self._buffer and len(self._buffer) < limit and self._more():
            pass
        end = self._buffer.find(b"\n", 0, limit)
        size = end + 1 if end >= 0 else min(limit, len(self._buffer))
        line = bytes(self._buffer[:size])
        del self._buffer[:size]
        return line

    def read(self, size: int) -> bytes:
        if not self._buffer:
            self._more()
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data


def receipt_problem(receipt_key: VerifyKey, report_id: str, blob: BlobListing) -> str | None:
    """None if the server's receipt for the blob verifies, else why not."""
    receipt = Receipt.from_listing(report_id, blob)
    try:
        verify_receipt(receipt_key, receipt, base64.b64decode(blob["receipt"], validate=True))
    except (BadSignatureError, ValueError, TypeError, binascii.Error):
        return "the server's receipt for it does not verify"
    return None


def fetch_many(
    vault: Vault,
    client: ApiClient,
    wanted: list[Wanted],
    fetch_one: Callable[[str, BlobListing], str | None],
    progress: Progress | None = None,
) -> dict[str, str | None]:
    """Fetch the wanted blobs (receipts already checked); blob id -> None or why refused.

    fetch_one(report_id, blob) fetches a single blob (with Range). Raises
    ConnectionFailed when the server cannot be reached; what arrived is kept.
    """
    outcome: dict[str, str | None] = {}
    if progress:
        progress.plan(len(wanted), sum(b["size"] for _, b in wanted))
    small = [w for w in wanted if w[1]["size"] <= SMALL and not _resumable(vault, w[1])]
    for group in _groups(small):
        outcome.update(_fetch_batch(vault, client, group))
        vault.commit_accepted()
        if progress:
            progress.advance(len(group), sum(b["size"] for _, b in group))
    for report_id, blob in wanted:
        if blob["id"] not in outcome:
            outcome[blob["id"]] = fetch_one(report_id, blob)
            if progress:
                progress.advance(1, blob["size"])
    return outcome


def _resumable(vault: Vault, blob: BlobListing) -> bool:
    return vault.partial_path(blob["id"]).exists()


def _groups(wanted: list[Wanted]) -> list[list[Wanted]]:
    groups: list[list[Wanted]] = []
    size = 0
    for item in wanted:
        if not groups or len(groups[-1]) >= BATCH_COUNT or size + item[1]["size"] > BATCH_BYTES:
            groups.append([])
            size = 0
        groups[-1].append(item)
        size += item[1]["size"]
    return groups


def _fetch_batch(vault: Vault, client: ApiClient, group: list[Wanted]) -> dict[str, str | None]:
    """The outcome of each blob the batch delivered or refused; the rest are left out."""
    outcome: dict[str, str | None] = {}
    try:
        response = client.open_batch([blob["id"] for _, blob in group])
    except ConnectionFailed:
        raise
    except ClientError:
        return {}  # a server without batches: every blob is fetched alone
    with response:
        reader = _Stream(response.iter_content(_CHUNK))
        try:
            for _, blob in group:
                outcome[blob["id"]] = _take_frame(vault, reader, blob)
            if _header(reader).get("end") is not True:
                raise _BrokeOff
        except _BrokeOff:
            pass  # what arrived whole is kept; the cut one resumes from partial/
    return {k: v for k, v in outcome.items() if v != _NOT_SENT}


_NOT_SENT = "\0not sent"


def _take_frame(vault: Vault, reader: _Stream, blob: BlobListing) -> str | None:
    header = _header(reader)
    if header.get("missing") is True and header.get("id") == blob["id"]:
        return _NOT_SENT  # fetched alone, it gets the server's own answer
    size = header.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise _BrokeOff  # no length: the rest of the stream cannot be framed
    if header.get("id") != blob["id"]:
        _skip(reader, size, blob["size"])
        return "the batch sent another blob in its place"
    if size != blob["size"]:
        _skip(reader, size, blob["size"])
        return f"the size does not match what the server signed ({size} bytes, not {blob['size']})"
    return _write_frame(vault, reader, blob)


def _write_frame(vault: Vault, reader: _Stream, blob: BlobListing) -> str | None:
    partial = vault.partial_path(blob["id"])
    digest = hashlib.sha256()
    left = blob["size"]
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        while left:
            chunk = reader.read(min(_CHUNK, left))
            if not chunk:
                out.flush()
                os.fsync(out.fileno())
                raise _BrokeOff
            out.write(chunk)
            digest.update(chunk)
            left -= len(chunk)
        out.flush()
        os.fsync(out.fileno())
    if digest.hexdigest() != blob["sha256"]:
        partial.unlink(missing_ok=True)
        return "the SHA-256 does not match what the server signed"
    vault.accept_blob(blob["id"], sync_dir=False)
    return None


def _header(reader: _Stream) -> ServerAnswer:
    line = reader.readline(_HEADER_LIMIT)
    if not line.endswith(b"\n"):
        raise _BrokeOff
    try:
        header = json.loads(line)
    except ValueError as exc:
        raise _BrokeOff from exc
    if not isinstance(header, dict):
        raise _BrokeOff
    return header


def _skip(reader: _Stream, size: int, listed: int) -> None:
    """Read past a refused frame; one far larger than asked ends the batch instead."""
    if size > max(listed, SMALL):
        raise _BrokeOff
    left = size
    while left:
        chunk = reader.read(min(_CHUNK, left))
        if not chunk:
            raise _BrokeOff
        left -= len(chunk)
