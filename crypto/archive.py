"""Encrypted archives: a byte stream sealed to a passphrase or to an X25519 public key.

The server's backups hold the receipt signing key, the codename salt and
the secret key; written in the clear, a copy on a USB stick or a backup
host hands them to whoever finds it. An archive is:

    MAGIC (8) | version (1) | mode (1)
    mode 1, passphrase: salt (16) | opslimit (4) | memlimit (8), Argon2id
    mode 2, public key: SealedBox of the stream key (80) to the operator's key
    secretstream header (24)
    frames: 64 KiB of plaintext each + 17 bytes; the last is shorter or
    empty and carries the final tag

The bytes before the frames are the first frame's additional data, so a
header cannot be swapped; secretstream chains the frames, so a truncated,
reordered or extended archive is an error, never part of a plaintext.
With a public key, a machine that makes backups (a timer) needs no secret:
only the operator's private key, kept elsewhere, opens them.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from typing import BinaryIO

from nacl.exceptions import CryptoError as NaclCryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

from crypto import _sodium
from crypto.errors import CryptoError
from crypto.kdf import KdfCost, derive

MAGIC = b"AMANATAR"
VERSION = 1
PASSPHRASE, PUBLIC_KEY = 1, 2
FRAME = 64 * 1024
_START = struct.Struct(">8sBB")
_COST = struct.Struct(">IQ")
_SEALED_KEY_BYTES = 32 + 48  # SealedBox overhead + the stream key


class ArchiveError(CryptoError):
    """Not an archive, the wrong passphrase or key, or an archive that was altered."""


@dataclass(frozen=True)
class Lock:
    """What an archive is sealed to: a passphrase (with its Argon2id cost) or a public key."""

    passphrase: bytes | None = None
    cost: KdfCost | None = None
    public_key: PublicKey | None = None


class ArchiveWriter:
    """Write plaintext in; an encrypted archive goes to dst. close() ends it."""

    def __init__(self, dst: BinaryIO, lock: Lock) -> None:
        key = os.urandom(_sodium.STREAM_KEYBYTES)
        if lock.public_key is not None:
            prefix = _START.pack(MAGIC, VERSION, PUBLIC_KEY) + SealedBox(lock.public_key).encrypt(
                key
            )
        elif lock.passphrase and lock.cost is not None:
            salt = os.urandom(_sodium.PWHASH_SALTBYTES)
            cost = _COST.pack(lock.cost.opslimit, lock.cost.memlimit)
            prefix = _START.pack(MAGIC, VERSION, PASSPHRASE) + salt + cost
            key = derive(lock.passphrase, salt, lock.cost, _sodium.STREAM_KEYBYTES)
        else:
            raise ValueError("an archive needs a passphrase and its cost, or a public key")
        self._pusher = _sodium.StreamPusher(key)
        self._dst = dst
        self._aad = prefix + self._pusher.header
        dst.write(self._aad)
        self._buffer = bytearray()
        self._closed = False

    def write(self, data: bytes | bytearray | memoryview, /) -> int:
        self._buffer += data
        while len(self._buffer) > FRAME:  # keep one frame back: it may be the last
            self._push(bytes(self._buffer[:FRAME]), final=False)
            del self._buffer[:FRAME]
        return len(data)

    def close(self) -> None:
        """Write the last frame (with the final tag). Safe to call twice."""
        if not self._closed:
            if len(self._buffer) == FRAME:
                self._push(bytes(self._buffer), final=False)
                self._buffer.clear()
            self._push(bytes(self._buffer), final=True)
            self._closed = True

    def _push(self, frame: bytes, *, final: bool) -> None:
        self._dst.write(self._pusher.push(frame, self._aad, final))
        self._aad = b""


def open_archive(
    src: BinaryIO,
    dst: BinaryIO,
    *,
    passphrase: bytes | None = None,
    private_key: PrivateKey | None = None,
) -> None:
    """Decrypt the archive in src into dst, with its passphrase or private key.

    Raises ArchiveError for something that is not an archive, the wrong
    passphrase or key, or any alteration (dst may then hold a verified
    prefix of the plaintext: the caller discards it).
    """
    start = src.read(_START.size)
    if len(start) != _START.size or _START.unpack(start)[0] != MAGIC:
        raise ArchiveError("this is not an encrypted Amanat archive")
    _, version, mode = _START.unpack(start)
    if version != VERSION:
        raise ArchiveError(f"archive version {version} is not supported")
    key, rest = _stream_key(src, mode, passphrase, private_key)
    header = src.read(_sodium.STREAM_HEADERBYTES)
    if len(header) != _sodium.STREAM_HEADERBYTES:
        raise ArchiveError("the archive is truncated")
    puller = _sodium.StreamPuller(key, header)
    aad = start + rest + header
    while True:
        frame = src.read(FRAME + _sodium.STREAM_ABYTES)
        try:
            plain, final = puller.pull(frame, aad)
        except _sodium.AuthenticationFailed as exc:
            raise ArchiveError(
                "the archive does not open with this passphrase or key, or it was altered"
            ) from exc
        aad = b""
        dst.write(plain)
        if final:
            if src.read(1):
                raise ArchiveError("the archive has bytes after its end")
            return
        if len(frame) < FRAME + _sodium.STREAM_ABYTES:
            raise ArchiveError("the archive is truncated")


def _stream_key(
    src: BinaryIO, mode: int, passphrase: bytes | None, private_key: PrivateKey | None
) -> tuple[bytes, bytes]:
    if mode == PASSPHRASE:
        rest = src.read(_sodium.PWHASH_SALTBYTES + _COST.size)
        if passphrase is None:
            raise ArchiveError("this archive is sealed to a passphrase: give it")
        salt, cost_bytes = rest[: _sodium.PWHASH_SALTBYTES], rest[_sodium.PWHASH_SALTBYTES :]
        try:
            opslimit, memlimit = _COST.unpack(cost_bytes)
            cost = KdfCost(opslimit, memlimit)
        except (struct.error, ValueError) as exc:
            raise ArchiveError("the archive's header is damaged") from exc
        if memlimit > 4 * 1024**3:
            raise ArchiveError("the archive asks for more than 4 GiB of memory to open")
        return derive(passphrase, salt, cost, _sodium.STREAM_KEYBYTES), rest
    if mode == PUBLIC_KEY:
        rest = src.read(_SEALED_KEY_BYTES)
        if private_key is None:
            raise ArchiveError("this archive is sealed to a public key: give its private key")
        try:
            return SealedBox(private_key).decrypt(rest), rest
        except NaclCryptoError as exc:
            raise ArchiveError("the archive is not sealed to this key") from exc
    raise ArchiveError(f"unknown archive mode {mode}")
