"""The vault index's log: each save appends one sealed record of what it changed.

Beside the sealed index (the base, index.amanat) lies index.log, a run of
records, each

    length (4 bytes, big-endian) | base (16) | check (4) | sealed record (length bytes)

where base is the fingerprint of the base file the record extends (a hash
of its head, which holds the envelope's random sealed key, so every sealing
differs) and check is the start of a SHA-256 of length and base. The sealed
record is JSON sealed (kind INDEX) to the reviewer's own key: {"v", "base",
"seq", "ops"}, with the same base, its place in the log from 0, and the
operations of admin.vault_changes. Only what changed is written, so a read
mark costs the same in a vault of ten reports and of ten thousand.

A record cut short (the command was killed while appending) is ignored; a
whole record that does not open, or a header whose check fails, is damage.
Records of another base are left over from a compaction cut short between
writing the new base and removing the log: the base already holds them.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from admin.vault_errors import DamagedVaultError
from crypto.private_files import fsync_dir

LOG_NAME = "index.log"
LOG_VERSION = 1
FINGERPRINT_BYTES = 16
_HEAD = struct.Struct(">I16s4s")
HEAD_BYTES = _HEAD.size
_FINGERPRINTED = 4096  # the base's head: magic, slots with their random sealed key, header
_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)


def fingerprint(sealed: bytes) -> bytes:
    """The fingerprint of a sealed base index, from its head."""
    return hashlib.sha256(b"amanat.vault.base\0" + sealed[:_FINGERPRINTED]).digest()[:16]


def base_fingerprint(path: Path) -> bytes:
    """The fingerprint of the base index file at path (reads only its head)."""
    with open(path, "rb") as src:
        return fingerprint(src.read(_FINGERPRINTED))


def _check(length: int, base: bytes) -> bytes:
    return hashlib.sha256(b"amanat.vault.log\0" + struct.pack(">I", length) + base).digest()[:4]


def frame(base: bytes, sealed: bytes) -> bytes:
    """One record as it is appended to the log."""
    return _HEAD.pack(len(sealed), base, _check(len(sealed), base)) + sealed


@dataclass
class LogRead:
    """What a read of the log found after a given offset."""

    records: list[bytes] = field(default_factory=list)  # sealed records of this base, in order
    end: int = 0  # the offset after the last whole record of this base
    stale: bool = False  # the log's records extend another base
    torn: bool = False  # bytes after end that are not a whole record


def read_log(path: Path, start: int, base: bytes) -> LogRead:
    """The whole records after offset start that extend base (see parse_log)."""
    return parse_log(read_tail(path, start), start, base, path)


def read_tail(path: Path, start: int) -> bytes:
    """The log's bytes from offset start (none if there is no log)."""
    try:
        with open(path, "rb") as src:
            src.seek(start)
            return src.read()
    except FileNotFoundError:
        return b""


def parse_log(data: bytes, start: int, base: bytes, path: Path) -> LogRead:
    """The whole records in data (the log from offset start) that extend base.

    Raises DamagedVaultError for a header that fails its check, and for a
    record of another base after records of this one.
    """
    found = LogRead(end=start)
    pos = 0
    while pos < len(data):
        if len(data) - pos < _HEAD.size:
            found.torn = True
            break
        length, record_base, check = _HEAD.unpack_from(data, pos)
        if check != _check(length, record_base):
            raise DamagedVaultError(f"the vault index log {path} is damaged at byte {start + pos}")
        if len(data) - pos - _HEAD.size < length:
            found.torn = True
            break
        if record_base != base:
            if start + pos == 0:
                return LogRead(stale=True)
            raise DamagedVaultError(f"the vault index log {path} mixes two bases")
        found.records.append(data[pos + _HEAD.size : pos + _HEAD.size + length])
        pos += _HEAD.size + length
        found.end = start + pos
    return found


def record_content(base: bytes, seq: int, ops: list[Any]) -> bytes:
    """The JSON of a record, before it is sealed."""
    record = {"v": LOG_VERSION, "base": base.hex(), "seq": seq, "ops": ops}
    return json.dumps(record, ensure_ascii=False, sort_keys=True).encode("utf-8")


def record_ops(content: Any, base: bytes, seq: int, path: Path) -> list[Any]:
    """The operations of an opened record; DamagedVaultError if it is not record seq of base."""
    if (
        not isinstance(content, dict)
        or content.get("v") != LOG_VERSION
        or content.get("base") != base.hex()
        or content.get("seq") != seq
        or not isinstance(content.get("ops"), list)
    ):
        raise DamagedVaultError(f"the vault index log {path} is damaged (record {seq})")
    ops: list[Any] = content["ops"]
    return ops


def append(path: Path, data: bytes) -> None:
    """Append data to the log and sync it to disk (creating the log, mode 0600)."""
    created = not path.exists()
    fd = os.open(path, _FLAGS, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:
        fsync_dir(path.parent)


def discard(path: Path) -> None:
    """Remove the log (its records are in the base now)."""
    try:
        path.unlink()
    except FileNotFoundError:
        return
    fsync_dir(path.parent)
