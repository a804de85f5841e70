"""Bundles: one file that carries ciphertext between an online courier and an offline machine.

A reviewer who keeps their decryption key on a machine that never goes
online moves data by USB stick. A bundle is one file (docs/PROTOCOL.md,
"Media bundles"):

    magic    14 bytes  b"AMANAT-MEDIA" 0x00 0x01 (format version 1)
    length    4 bytes  big-endian length of the header, at most 16 MiB
    header   length    canonical JSON (crypto/canonical.py), see below
    sig      64 bytes  Ed25519 over the header, purpose "media-bundle"
    entries            each entry's bytes, in the header's order, nothing after

The header names its direction ("to-offline" or "to-server"), a sequence
number that only grows, the signer's key, what travels with the entries
("data") and every entry's name, size and SHA-256. Reading checks the whole
file before anything is used: its structure and exact length, the
signature, each name and size against fixed bounds, and each entry's hash.
Nothing in a bundle is executed or opened as anything but bytes; entry names
are checked identifiers, never paths.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import re
import stat
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from nacl.signing import SigningKey, VerifyKey

from crypto import canonical
from crypto.errors import BadSignatureError
from crypto.private_files import private_file
from crypto.signatures import SIGNATURE_BYTES, Purpose, sign, verify

MAGIC = b"AMANAT-MEDIA\x00\x01"
MAX_HEADER_BYTES = 16 * 1024 * 1024
MAX_ENTRY_BYTES = 16 * 1024**3
MAX_ENTRIES = 200_000
TO_OFFLINE = "to-offline"
TO_SERVER = "to-server"
DIRECTIONS = (TO_OFFLINE, TO_SERVER)
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1024 * 1024


class BundleError(Exception):
    """The bundle is refused; the message says why, for the reviewer."""


@dataclass(frozen=True)
class Entry:
    name: str
    size: int
    sha256: str
    offset: int


@dataclass(frozen=True)
class Bundle:
    """A bundle whose structure, signature and every entry's hash were checked."""

    path: Path
    direction: str
    seq: int
    made: str
    data: Mapping[str, Any]
    entries: Mapping[str, Entry]
    digest: str  # SHA-256 of the signed header: the bundle's identity

    def copy_entry(self, name: str, out: BinaryIO) -> None:
        """Copy one entry's bytes to out, checking its hash again as it goes."""
        entry = self.entries[name]
        digest = hashlib.sha256()
        with _open_regular(self.path) as src:
            src.seek(entry.offset)
            left = entry.size
            while left:
                chunk = src.read(min(_CHUNK, left))
                if not chunk:
                    raise BundleError(f"entry {name} was cut short while it was read")
                digest.update(chunk)
                out.write(chunk)
                left -= len(chunk)
        if digest.hexdigest() != entry.sha256:
            raise BundleError(f"entry {name} changed while it was read")

    def read_entry(self, name: str, limit: int = 64 * 1024 * 1024) -> bytes:
        """One small entry's bytes (replies, events), checked."""
        if self.entries[name].size > limit:
            raise BundleError(f"entry {name} is larger than expected")
        chunks: list[bytes] = []

        class _Sink:
            def write(self, data: bytes) -> int:
                chunks.append(data)
                return len(data)

        self.copy_entry(name, _Sink())  # type: ignore[arg-type]
        return b"".join(chunks)


def write_bundle(
    path: Path,
    signing_key: SigningKey,
    direction: str,
    seq: int,
    data: Mapping[str, Any],
    entries: Sequence[tuple[str, Path | bytes]],
) -> str:
    """Write a signed bundle to path (whole or not at all); return its digest."""
    if direction not in DIRECTIONS:
        raise ValueError(f"unknown direction {direction!r}")
    listed = []
    for name, content in entries:
        if not _NAME.fullmatch(name):
            raise ValueError(f"entry name {name!r} is not an identifier")
        size, digest = _measure(content)
        listed.append({"name": name, "sha256": digest, "size": size})
    header = canonical.encode(
        {
            "v": 1,
            "direction": direction,
            "seq": seq,
            "made": dt.date.today().isoformat(),
            "key": base64.b64encode(bytes(signing_key.verify_key)).decode("ascii"),
            "data": dict(data),
            "entries": listed,
        }
    )
    if len(header) > MAX_HEADER_BYTES:
        raise BundleError("too many reports for one bundle; write several")
    signature = sign(signing_key, Purpose.MEDIA_BUNDLE, header)
    with private_file(path, overwrite=False) as out:
        out.write(MAGIC + struct.pack(">I", len(header)) + header + signature)
        for _name, content in entries:
            if isinstance(content, bytes):
                out.write(content)
            else:
                with open(content, "rb") as src:
                    while chunk := src.read(_CHUNK):
                        out.write(chunk)
    return hashlib.sha256(header).hexdigest()


def read_bundle(path: Path, verify_key: VerifyKey, direction: str) -> Bundle:
    """Check a bundle whole and return it. Raises BundleError naming what is wrong."""
    path = Path(path)
    with _open_regular(path) as src:
        size = os.fstat(src.fileno()).st_size
        head = src.read(len(MAGIC) + 4)
        if len(head) < len(MAGIC) + 4 or head[: len(MAGIC)] != MAGIC:
            raise BundleError(f"{path.name} is not an Amanat bundle (or a newer version)")
        (length,) = struct.unpack(">I", head[len(MAGIC) :])
        if length > MAX_HEADER_BYTES:
            raise BundleError("the bundle's header is larger than any bundle writes")
        header_bytes = src.read(length)
        signature = src.read(SIGNATURE_BYTES)
        if len(header_bytes) != length or len(signature) != SIGNATURE_BYTES:
            raise BundleError("the bundle is cut short")
        try:
            verify(verify_key, Purpose.MEDIA_BUNDLE, header_bytes, signature)
        except BadSignatureError as exc:
            raise BundleError(
                "the bundle's signature does not verify: it was altered, or made with another key"
            ) from exc
        header = _parse_header(header_bytes, verify_key)
        if header["direction"] != direction:
            raise BundleError(f"this bundle goes {header['direction']}, not {direction}")
        entries = _entries(header["entries"], len(MAGIC) + 4 + length + SIGNATURE_BYTES)
        end = max((e.offset + e.size for e in entries.values()), default=0)
        end = max(end, len(MAGIC) + 4 + length + SIGNATURE_BYTES)
        if size < end:
            raise BundleError("the bundle is cut short: an entry is missing")
        if size > end:
            raise BundleError("the bundle has bytes after its last entry")
        for entry in entries.values():
            _check_entry(src, entry)
    return Bundle(
        path=path,
        direction=header["direction"],
        seq=header["seq"],
        made=header["made"],
        data=header["data"],
        entries=entries,
        digest=hashlib.sha256(header_bytes).hexdigest(),
    )


def _parse_header(header_bytes: bytes, verify_key: VerifyKey) -> dict[str, Any]:
    try:
        header = canonical.parse(header_bytes)
    except ValueError as exc:
        raise BundleError("the bundle's header is malformed") from exc
    if not isinstance(header, dict) or header.get("v") != 1:
        raise BundleError("the bundle's header is malformed or of a newer version")
    if header.get("key") != base64.b64encode(bytes(verify_key)).decode("ascii"):
        raise BundleError("the bundle names another signer")
    seq, made = header.get("seq"), header.get("made")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise BundleError("the bundle's sequence number is malformed")
    if not isinstance(made, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", made):
        raise BundleError("the bundle's date is malformed")
    if header.get("direction") not in DIRECTIONS or not isinstance(header.get("data"), dict):
        raise BundleError("the bundle's header is malformed")
    if not isinstance(header.get("entries"), list) or len(header["entries"]) > MAX_ENTRIES:
        raise BundleError("the bundle's list of entries is malformed")
    return header


def _entries(raw: list[Any], offset: int) -> dict[str, Entry]:
    entries: dict[str, Entry] = {}
    for item in raw:
        if not isinstance(item, dict) or set(item) != {"name", "sha256", "size"}:
            raise BundleError("an entry of the bundle is malformed")
        name, size, digest = item["name"], item["size"], item["sha256"]
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise BundleError(f"an entry's name is not an identifier: {str(name)[:80]!r}")
        if name in entries:
            raise BundleError(f"entry {name} appears twice")
        if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_ENTRY_BYTES:
            raise BundleError(f"entry {name} is larger than any bundle carries")
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise BundleError(f"entry {name} has a malformed SHA-256")
        entries[name] = Entry(name, size, digest, offset)
        offset += size
    return entries


def _check_entry(src: BinaryIO, entry: Entry) -> None:
    src.seek(entry.offset)
    digest = hashlib.sha256()
    left = entry.size
    while left:
        chunk = src.read(min(_CHUNK, left))
        if not chunk:
            raise BundleError("the bundle is cut short: an entry is missing")
        digest.update(chunk)
        left -= len(chunk)
    if digest.hexdigest() != entry.sha256:
        raise BundleError(f"entry {entry.name} does not match its SHA-256: it was altered")


def _open_regular(path: Path) -> BinaryIO:
    """Open path for reading only if it is a regular file (never a link or a device)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError as exc:
        raise BundleError(f"there is no bundle at {path}") from exc
    except OSError as exc:
        raise BundleError(f"{path} is a link or cannot be read; nothing was imported") from exc
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise BundleError(f"{path} is not a regular file; nothing was imported")
    return os.fdopen(fd, "rb")


def _measure(content: Path | bytes) -> tuple[int, str]:
    if isinstance(content, bytes):
        return len(content), hashlib.sha256(content).hexdigest()
    digest, size = hashlib.sha256(), 0
    with open(content, "rb") as src:
        while chunk := src.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()
