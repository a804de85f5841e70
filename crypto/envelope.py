"""Envelopes: content of any length sealed to one or more X25519 recipients.

A random content key K encrypts the content with libsodium secretstream
(XChaCha20-Poly1305) in fixed-size frames; K is sealed (SealedBox) once per
recipient into a key slot. Every frame is authenticated together with a hash
of the whole prefix (magic, version, kind, slots, stream header), so slots and
headers cannot be moved between envelopes. Memory use does not depend on the
content's size. docs/PROTOCOL.md gives the byte layout and the reasons.
"""

from __future__ import annotations

import enum
import hashlib
import io
import os
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from nacl.exceptions import CryptoError as NaclCryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

from crypto import _sodium
from crypto.errors import (
    MalformedError,
    NotAnEnvelopeError,
    NotARecipientError,
    TamperedError,
    TrailingDataError,
    TruncatedError,
    UnknownVersionError,
    WrongKindError,
)
from crypto.padding import padme, small_bucket

MAGIC = b"AMNTENV"
VERSION = 1
MAX_SLOTS = 255

CHUNK = 64 * 1024  # content bytes per full data frame
FRAME_HEAD = struct.Struct(">BI")  # frame kind, bytes of content used
END_HEAD = struct.Struct(">BII")  # frame kind, tail length, trailer length
FRAME_PLAIN = FRAME_HEAD.size + CHUNK
FRAME_CIPHER = FRAME_PLAIN + _sodium.STREAM_ABYTES
MAX_TRAILER = 16 * 1024

_FIXED = struct.Struct(">7sBBBH")  # magic, version, kind, flags, slot count
KEY_ID_BYTES = 16
SEALED_KEY_BYTES = _sodium.STREAM_KEYBYTES + 48  # SealedBox adds 48 bytes
SLOT_BYTES = KEY_ID_BYTES + SEALED_KEY_BYTES

_FRAME_DATA = 1
_FRAME_PAD = 2
_FRAME_END = 3


class Kind(enum.IntEnum):
    """What an envelope holds. Stored in the clear and bound to the content."""

    REPORT = 1  # a source's questionnaire answers
    FILE = 2  # an evidence file (trailer: manifest)
    MESSAGE = 3  # a source's follow-up message
    REPLY = 4  # a reviewer's reply to the source
    EVENT = 5  # a case event shared among reviewers
    INDEX = 6  # a reviewer's local vault index
    SESSION = 7  # a logged-in source's private key, held between requests


class Sink(Protocol):
    """Anything sealed output can be written to: a file, a socket, a hashing wrapper."""

    def write(self, data: bytes | bytearray | memoryview, /) -> object: ...


@dataclass(frozen=True)
class Sealed:
    """What sealing produced: the ciphertext's size."""

    size: int


@dataclass(frozen=True)
class Opened:
    """What opening produced: the content's size and the trailer."""

    size: int
    trailer: bytes


@dataclass(frozen=True)
class Plain:
    """A small envelope's content and trailer, opened in memory."""

    content: bytes
    trailer: bytes


def key_id(public_key: PublicKey) -> bytes:
    """Return the 16-byte identifier that names a recipient in a key slot."""
    return hashlib.blake2b(
        bytes(public_key), digest_size=KEY_ID_BYTES, person=b"amanat.keyid"
    ).digest()


def _prefix_hash(prefix: bytes) -> bytes:
    return hashlib.blake2b(prefix, digest_size=32, person=b"amanat.env.v1").digest()


class HashingWriter:
    """Pass writes on to dst while counting bytes and hashing them with SHA-256.

    The server wraps a blob file in one to sign a receipt over the ciphertext.
    """

    def __init__(self, dst: Sink) -> None:
        self._dst = dst
        self._sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes | bytearray | memoryview, /) -> int:
        self._dst.write(data)
        self._sha256.update(data)
        self.size += len(data)
        return len(data)

    def hexdigest(self) -> str:
        return self._sha256.hexdigest()


class Sealer:
    """Seal content written piece by piece; call close() once at the end.

    The prefix is written to dst at once; frames follow as content arrives.
    If anything fails before close(), dst holds an unfinished envelope that
    no opener accepts; the caller deletes it.
    """

    def __init__(self, dst: Sink, recipients: Sequence[PublicKey], kind: Kind) -> None:
        if not recipients:
            raise ValueError("an envelope needs at least one recipient")
        if len(recipients) > MAX_SLOTS:
            raise ValueError(f"at most {MAX_SLOTS} recipients")
        content_key = os.urandom(_sodium.STREAM_KEYBYTES)
        self._pusher = _sodium.StreamPusher(content_key)
        slots = b"".join(key_id(r) + SealedBox(r).encrypt(content_key) for r in recipients)
        prefix = (
            _FIXED.pack(MAGIC, VERSION, int(Kind(kind)), 0, len(recipients))
            + slots
            + self._pusher.header
        )
        self._aad = _prefix_hash(prefix)
        self._dst = dst
        self._size = 0
        self._write_out(prefix)
        # One frame is filled in place and encrypted when full and more content
        # arrives, so close() always has a tail to pack with the trailer.
        self._frame = bytearray(FRAME_PLAIN)
        self._fill = 0
        self._frames = 0
        self._closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Add content. Full frames are encrypted and written as they fill."""
        if self._closed:
            raise ValueError("sealer is closed")
        view = memoryview(data).cast("B")
        while view:
            if self._fill == CHUNK:
                self._push_data_frame()
            taken = min(CHUNK - self._fill, len(view))
            start = FRAME_HEAD.size + self._fill
            self._frame[start : start + taken] = view[:taken]
            self._fill += taken
            view = view[taken:]

    def close(self, trailer: bytes = b"") -> Sealed:
        """Write the padding and the final frame; return the ciphertext's size."""
        if self._closed:
            raise ValueError("sealer is closed")
        if len(trailer) > MAX_TRAILER:
            raise ValueError(f"trailer is larger than {MAX_TRAILER} bytes")
        self._closed = True
        if END_HEAD.size + self._fill + len(trailer) > FRAME_PLAIN:
            self._push_data_frame()
        tail = bytes(self._frame[FRAME_HEAD.size : FRAME_HEAD.size + self._fill])
        end = END_HEAD.pack(_FRAME_END, len(tail), len(trailer)) + tail + trailer
        if self._frames == 0:
            end_size = small_bucket(len(end), FRAME_PLAIN)
        else:
            padding = FRAME_HEAD.pack(_FRAME_PAD, 0) + bytes(CHUNK)
            for _ in range(padme(self._frames + 1) - (self._frames + 1)):
                self._push(padding, final=False)
            end_size = FRAME_PLAIN
        self._push(end + bytes(end_size - len(end)), final=True)
        return Sealed(size=self._size)

    def _push_data_frame(self) -> None:
        FRAME_HEAD.pack_into(self._frame, 0, _FRAME_DATA, self._fill)
        # A short data frame (only ever the last) is zero-filled past its content.
        self._frame[FRAME_HEAD.size + self._fill :] = bytes(CHUNK - self._fill)
        self._push(self._frame, final=False)
        self._fill = 0

    def _push(self, frame: bytes | bytearray, final: bool) -> None:
        self._write_out(self._pusher.push_view(frame, self._aad, final))
        if not final:
            self._frames += 1

    def _write_out(self, data: bytes | memoryview) -> None:
        self._dst.write(data)
        self._size += len(data)


class Opener:
    """Open an envelope from a stream, yielding content as it is verified.

    Content from chunks() is authentic frame by frame, but the envelope as a
    whole is proven complete only when chunks() finishes without raising.
    Whoever streams it onward must treat an exception as "discard it all".
    """

    def __init__(self, src: BinaryIO, private_key: PrivateKey, kind: Kind) -> None:
        self._src = src
        fixed = _read_exactly(src, _FIXED.size)
        magic, version, found_kind, flags, count = _FIXED.unpack(fixed)
        if magic != MAGIC:
            raise NotAnEnvelopeError("not an Amanat envelope")
        if version != VERSION:
            raise UnknownVersionError(f"envelope version {version} is not supported")
        if flags != 0 or count == 0:
            raise MalformedError("bad envelope header")
        slots = _read_exactly(src, count * SLOT_BYTES)
        stream_header = _read_exactly(src, _sodium.STREAM_HEADERBYTES)
        if found_kind != int(kind):
            raise WrongKindError(f"expected a {kind.name} envelope")
        self._aad = _prefix_hash(fixed + slots + stream_header)
        content_key = _unseal_key(slots, count, private_key)
        self._puller = _sodium.StreamPuller(content_key, stream_header)
        self.trailer: bytes | None = None

    def chunks(self) -> Iterator[bytes]:
        """Yield the content; raise an EnvelopeError if anything is wrong."""
        padding_started = False
        short_data_seen = False
        while True:
            frame_ct = _read_up_to(self._src, FRAME_CIPHER)
            if not frame_ct:
                raise TruncatedError("the envelope ends before its final frame")
            try:
                frame, final = self._puller.pull_view(frame_ct, self._aad)
            except _sodium.AuthenticationFailed as exc:
                raise TamperedError("the envelope is damaged, truncated or altered") from exc
            if final:
                yield from self._finish(frame, short_data_seen)
                return
            if len(frame) != FRAME_PLAIN:
                raise MalformedError("a frame has the wrong size")
            frame_kind, used = FRAME_HEAD.unpack_from(frame)
            if frame_kind == _FRAME_DATA and not padding_started and not short_data_seen:
                if used > CHUNK:
                    raise MalformedError("a frame claims more content than it holds")
                short_data_seen = used < CHUNK
                if used:
                    yield bytes(frame[FRAME_HEAD.size : FRAME_HEAD.size + used])
            elif frame_kind == _FRAME_PAD:
                padding_started = True
            else:
                raise MalformedError("frames are out of order")

    def _finish(self, frame: memoryview, short_data_seen: bool) -> Iterator[bytes]:
        if len(frame) < END_HEAD.size:
            raise MalformedError("the final frame is too short")
        frame_kind, tail_len, trailer_len = END_HEAD.unpack_from(frame)
        if frame_kind != _FRAME_END or END_HEAD.size + tail_len + trailer_len > len(frame):
            raise MalformedError("the final frame is malformed")
        if short_data_seen and tail_len:
            raise MalformedError("frames are out of order")
        if self._src.read(1):
            raise TrailingDataError("data follows the final frame")
        start = END_HEAD.size
        self.trailer = bytes(frame[start + tail_len : start + tail_len + trailer_len])
        if tail_len:
            yield bytes(frame[start : start + tail_len])


def _unseal_key(slots: bytes, count: int, private_key: PrivateKey) -> bytes:
    wanted = key_id(private_key.public_key)
    box = SealedBox(private_key)
    matched = False
    for i in range(count):
        slot = slots[i * SLOT_BYTES : (i + 1) * SLOT_BYTES]
        if slot[:KEY_ID_BYTES] != wanted:
            continue
        matched = True
        try:
            content_key = box.decrypt(slot[KEY_ID_BYTES:])
        except NaclCryptoError:
            continue
        if len(content_key) == _sodium.STREAM_KEYBYTES:
            return content_key
    if matched:
        raise TamperedError("the key slot for this key is damaged")
    raise NotARecipientError("this envelope is not sealed to this key")


def _read_up_to(src: BinaryIO, n: int) -> bytes:
    # Streams such as sockets may return short reads before their end.
    parts = []
    wanted = n
    while wanted:
        part = src.read(wanted)
        if not part:
            break
        parts.append(part)
        wanted -= len(part)
    return b"".join(parts)


def _read_exactly(src: BinaryIO, n: int) -> bytes:
    data = _read_up_to(src, n)
    if len(data) != n:
        raise TruncatedError("the envelope header is incomplete")
    return data


def seal_stream(
    src: BinaryIO,
    dst: Sink,
    recipients: Sequence[PublicKey],
    kind: Kind,
    trailer: bytes = b"",
) -> Sealed:
    """Seal everything readable from src into dst."""
    sealer = Sealer(dst, recipients, kind)
    while chunk := src.read(CHUNK):
        sealer.write(chunk)
    return sealer.close(trailer)


def open_stream(src: BinaryIO, dst: Sink, private_key: PrivateKey, kind: Kind) -> Opened:
    """Open src into dst. On any EnvelopeError, dst holds partial output to discard."""
    opener = Opener(src, private_key, kind)
    size = 0
    for chunk in opener.chunks():
        dst.write(chunk)
        size += len(chunk)
    if opener.trailer is None:  # chunks() sets it whenever it ends without raising
        raise TruncatedError("the envelope ended without a trailer")
    return Opened(size=size, trailer=opener.trailer)


def seal_bytes(
    content: bytes, recipients: Sequence[PublicKey], kind: Kind, trailer: bytes = b""
) -> bytes:
    """Seal content held in memory (answers, messages, events)."""
    out = io.BytesIO()
    seal_stream(io.BytesIO(content), out, recipients, kind, trailer)
    return out.getvalue()


def open_bytes(blob: bytes, private_key: PrivateKey, kind: Kind) -> Plain:
    """Open an envelope held in memory; nothing is returned unless all of it verifies."""
    out = io.BytesIO()
    opened = open_stream(io.BytesIO(blob), out, private_key, kind)
    return Plain(content=out.getvalue(), trailer=opened.trailer)
