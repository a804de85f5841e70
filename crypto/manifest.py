"""File envelopes: evidence content plus a manifest sealed inside with it.

The manifest (original filename, content type, byte length and SHA-256 of
the plaintext) is computed while the file streams through and travels as the
envelope's trailer, so the server never sees any of it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

from nacl.public import PrivateKey, PublicKey

from crypto import canonical
from crypto.envelope import Kind, Opener, Sealed, Sealer, Sink
from crypto.errors import MalformedError, ManifestMismatchError
from crypto.private_files import private_file

MANIFEST_VERSION = 1
MAX_FILENAME_CHARS = 255
MAX_CONTENT_TYPE_CHARS = 127


@dataclass(frozen=True)
class Manifest:
    """What the source's browser said about a file, and what arrived."""

    filename: str
    content_type: str
    size: int
    sha256: str

    def to_bytes(self) -> bytes:
        body = {"v": MANIFEST_VERSION, **asdict(self)}
        return canonical.encode(body)

    @classmethod
    def from_bytes(cls, data: bytes, strict: bool = False) -> Manifest:
        """Parse a manifest; strict (version-2 envelopes) also requires canonical bytes."""
        try:
            body = canonical.parse(data) if strict else json.loads(data.decode("utf-8"))
            if body.pop("v") != MANIFEST_VERSION:
                raise MalformedError("unknown manifest version")
            manifest = cls(**body)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise MalformedError("the file manifest is unreadable") from exc
        if not isinstance(manifest.size, int) or not isinstance(manifest.sha256, str):
            raise MalformedError("the file manifest is unreadable")
        return manifest


class FileSealer:
    """Seal a file as it streams in; close() returns the receipt facts and manifest."""

    def __init__(
        self,
        dst: Sink,
        recipients: Sequence[PublicKey],
        filename: str,
        content_type: str,
    ) -> None:
        self._sealer = Sealer(dst, recipients, Kind.FILE)
        self._hash = hashlib.sha256()
        self._size = 0
        self._filename = filename[:MAX_FILENAME_CHARS]
        self._content_type = content_type[:MAX_CONTENT_TYPE_CHARS]

    def write(self, data: bytes) -> None:
        self._hash.update(data)
        self._size += len(data)
        self._sealer.write(data)

    def close(self) -> tuple[Sealed, Manifest]:
        manifest = Manifest(
            filename=self._filename,
            content_type=self._content_type,
            size=self._size,
            sha256=self._hash.hexdigest(),
        )
        return self._sealer.close(manifest.to_bytes()), manifest


class FileOpener:
    """Open a file envelope as a stream; the manifest is checked when it ends."""

    def __init__(self, src: BinaryIO, private_key: PrivateKey) -> None:
        self._opener = Opener(src, private_key, Kind.FILE)
        self.manifest: Manifest | None = None

    def chunks(self) -> Iterator[bytes]:
        """Yield the file's bytes; raise an EnvelopeError if anything fails to match."""
        digest = hashlib.sha256()
        size = 0
        for chunk in self._opener.chunks():
            digest.update(chunk)
            size += len(chunk)
            yield chunk
        trailer = self._opener.trailer
        if trailer is None:
            raise MalformedError("the file envelope has no manifest")
        manifest = Manifest.from_bytes(trailer, strict=self._opener.version >= 2)
        if manifest.size != size or manifest.sha256 != digest.hexdigest():
            raise ManifestMismatchError("the file does not match its manifest")
        self.manifest = manifest


def seal_file(
    src: BinaryIO,
    dst: Sink,
    recipients: Sequence[PublicKey],
    filename: str,
    content_type: str,
) -> tuple[Sealed, Manifest]:
    """Seal everything readable from src as a file envelope."""
    sealer = FileSealer(dst, recipients, filename, content_type)
    while chunk := src.read(64 * 1024):
        sealer.write(chunk)
    return sealer.close()


def open_file(src: BinaryIO, dst: Sink, private_key: PrivateKey) -> Manifest:
    """Open a file envelope into dst and return its verified manifest.

    On any error dst holds partial output that the caller must discard.
    """
    opener = FileOpener(src, private_key)
    for chunk in opener.chunks():
        dst.write(chunk)
    if opener.manifest is None:
        raise MalformedError("the file envelope has no manifest")
    return opener.manifest


def export_file(src: BinaryIO, path: Path, private_key: PrivateKey) -> Manifest:
    """Decrypt a file envelope to path, which appears only if all of it verifies.

    The plaintext is written to a temporary sibling (owner-only) and renamed
    into place at the end; on any error the temporary file is removed, so a
    damaged envelope never leaves partial plaintext behind as if complete.
    """
    with private_file(path) as out:
        return open_file(src, out, private_key)
