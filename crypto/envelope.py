"""Envelopes: content of any length sealed to one or more X25519 recipients.

A random content key K encrypts the content with libsodium secretstream
(XChaCha20-Poly1305) in fixed-size frames; K is sealed (SealedBox) once per
recipient into a key slot. Every frame is authenticated together with a hash
of the whole prefix (magic, version, kind, slots, stream header and, from
version 2, a commitment to K), so slots and headers cannot be moved between
envelopes and no two recipients can be given two different keys. Memory use does not depend on the
content's size. docs/PROTOCOL.md gives the byte layout and the reasons.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
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
    KeyCommitmentError,
    MalformedError,
    NotAnEnvelopeError,
    NotARecipientError,
    SlotCountError,
    TamperedError,
    TrailingDataError,
    TruncatedError,
    UnknownVersionError,
    WrongKindError,
)
from crypto.frames import (
    CHUNK,
    END_HEAD,
    FRAME_CIPHER,
    FRAME_DATA,
    FRAME_END,
    FRAME_HEAD,
    FRAME_PAD,
    FRAME_PLAIN,
    MAX_TRAILER,
    FrameChecker,
    read_exactly,
    read_up_to,
    single_frame_sizes,
)
from crypto.padding import padme, small_bucket

MAGIC = b"AMNTENV"
VERSION = 2  # what the sealer writes
READABLE_VERSIONS = (1, 2)
MAX_SLOTS = 255

_FIXED = struct.Struct(">7sBBBH")  # magic, version, kind, flags, slot count
KEY_ID_BYTES = 16
SEALED_KEY_BYTES = _sodium.STREAM_KEYBYTES + 48  # SealedBox adds 48 bytes
SLOT_BYTES = KEY_ID_BYTES + SEALED_KEY_BYTES
COMMITMENT_BYTES = 32  # version 2 only, after the stream header
_PREFIX_PERSON = {1: b"amanat.env.v1", 2: b"amanat.env.v2"}
_COMMIT_PERSON = b"amanat.commit.v2"
_COMMIT_MESSAGE = b"amanat envelope key commitment"


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


def _prefix_hash(prefix: bytes, version: int = VERSION) -> bytes:
    person = _PREFIX_PERSON[version]
    return hashlib.blake2b(prefix, digest_size=32, person=person).digest()


def key_commitment(content_key: bytes) -> bytes:
    """Return the 32 bytes that commit a version-2 envelope to its one content key.

    A keyed BLAKE2b: finding two keys with the same commitment is finding a
    BLAKE2b collision, so every recipient whose slot passes this check holds
    the same key, and reads the same plaintext from the same bytes.
    """
    return hashlib.blake2b(
        _COMMIT_MESSAGE, digest_size=COMMITMENT_BYTES, key=content_key, person=_COMMIT_PERSON
    ).digest()


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
            + key_commitment(content_key)
        )
        self._aad = _prefix_hash(prefix, VERSION)
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
        end = END_HEAD.pack(FRAME_END, len(tail), len(trailer)) + tail + trailer
        if self._frames == 0:
            end_size = small_bucket(len(end), FRAME_PLAIN)
        else:
            padding = FRAME_HEAD.pack(FRAME_PAD, 0) + bytes(CHUNK)
            for _ in range(padme(self._frames + 1) - (self._frames + 1)):
                self._push(padding, final=False)
            end_size = FRAME_PLAIN
        self._push(end + bytes(end_size - len(end)), final=True)
        return Sealed(size=self._size)

    def _push_data_frame(self) -> None:
        FRAME_HEAD.pack_into(self._frame, 0, FRAME_DATA, self._fill)
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
    The checks and their order are docs/PROTOCOL.md section 2.6.
    """

    def __init__(self, src: BinaryIO, private_key: PrivateKey, kind: Kind) -> None:
        self._src = src
        fixed = read_exactly(src, _FIXED.size)
        magic, version, found_kind, flags, count = _FIXED.unpack(fixed)
        if magic != MAGIC:
            raise NotAnEnvelopeError("not an Amanat envelope")
        if version not in READABLE_VERSIONS:
            raise UnknownVersionError(f"envelope version {version} is not supported")
        if flags != 0:
            raise MalformedError("the envelope's flags are not zero")
        if not 1 <= count <= MAX_SLOTS:
            raise SlotCountError(f"an envelope has 1 to {MAX_SLOTS} key slots, not {count}")
        if found_kind != int(kind):
            raise WrongKindError(f"expected a {kind.name} envelope")
        slots = read_exactly(src, count * SLOT_BYTES)
        stream_header = read_exactly(src, _sodium.STREAM_HEADERBYTES)
        commitment = read_exactly(src, COMMITMENT_BYTES) if version >= 2 else b""
        self.version = version
        self._aad = _prefix_hash(fixed + slots + stream_header + commitment, version)
        content_key = _unseal_key(slots, count, private_key)
        if version >= 2 and not hmac.compare_digest(key_commitment(content_key), commitment):
            raise KeyCommitmentError("this key slot holds another key than the envelope's")
        self._puller = _sodium.StreamPuller(content_key, stream_header)
        self.trailer: bytes | None = None

    def chunks(self) -> Iterator[bytes]:
        """Yield the content; raise an EnvelopeError if anything is wrong."""
        checker = FrameChecker()
        while True:
            frame_ct = read_up_to(self._src, FRAME_CIPHER)
            if not frame_ct:
                raise TruncatedError("the envelope ends before its final frame")
            if checker.data_frames == 0:
                frame, final = self._pull_first(frame_ct)
            else:
                frame, final = self._pull(frame_ct)
            if final:
                tail, self.trailer = checker.finish(frame)
                if self._src.read(1):
                    raise TrailingDataError("data follows the final frame")
                if tail:
                    yield bytes(tail)
                return
            content = checker.content_of(frame)
            if content:
                yield bytes(content)

    def _pull(self, frame_ct: bytes) -> tuple[memoryview, bool]:
        try:
            return self._puller.pull_view(frame_ct, self._aad)
        except _sodium.AuthenticationFailed as exc:
            raise TamperedError("the envelope is damaged, truncated or altered") from exc

    def _pull_first(self, frame_ct: bytes) -> tuple[memoryview, bool]:
        """Pull the first frame, telling bytes after a short final frame from damage.

        A one-frame envelope is shorter than a full frame, so what was read may
        hold bytes after it. A failed pull leaves the stream state as it was,
        so each size a final frame can have is tried in turn.
        """
        try:
            return self._puller.pull_view(frame_ct, self._aad)
        except _sodium.AuthenticationFailed as exc:
            damaged = exc
        for plain_size in single_frame_sizes():
            size = plain_size + _sodium.STREAM_ABYTES
            if size >= len(frame_ct):
                break
            try:
                self._puller.pull_view(frame_ct[:size], self._aad)
            except _sodium.AuthenticationFailed:
                continue
            raise TrailingDataError("data follows the final frame")
        raise TamperedError("the envelope is damaged, truncated or altered") from damaged


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
