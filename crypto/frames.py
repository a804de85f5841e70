"""The frames inside an envelope's stream: their layout, and every check an opener makes.

A frame's plaintext is fixed by docs/PROTOCOL.md section 2. The opener
refuses anything the sealer never writes: content past `used`, a padding
frame with content, non-zero padding bytes, a frame of the wrong size, the
wrong number of padding frames, a trailer longer than the limit.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

from crypto import _sodium
from crypto.errors import (
    FrameOrderError,
    FrameSizeError,
    MalformedError,
    NonZeroPaddingError,
    TrailerLengthError,
    TruncatedError,
)
from crypto.padding import SMALL_MINIMUM, padme, small_bucket

CHUNK = 64 * 1024  # content bytes per full data frame
FRAME_HEAD = struct.Struct(">BI")  # frame kind, bytes of content used
END_HEAD = struct.Struct(">BII")  # frame kind, tail length, trailer length
FRAME_PLAIN = FRAME_HEAD.size + CHUNK
FRAME_CIPHER = FRAME_PLAIN + _sodium.STREAM_ABYTES
MAX_TRAILER = 16 * 1024

FRAME_DATA = 1
FRAME_PAD = 2
FRAME_END = 3


def single_frame_sizes() -> list[int]:
    """Every plaintext size a one-frame envelope can have, smallest first."""
    sizes = []
    size = SMALL_MINIMUM
    while size < FRAME_PLAIN:
        sizes.append(size)
        size *= 2
    return [*sizes, FRAME_PLAIN]


def _require_zeros(frame: memoryview, start: int) -> None:
    if any(frame[start:]):
        raise NonZeroPaddingError("padding bytes in a frame are not zero")


class FrameChecker:
    """Follow the frames of one envelope in order and refuse any the format forbids."""

    def __init__(self) -> None:
        self.data_frames = 0
        self.padding_frames = 0
        self._short_data_seen = False

    def content_of(self, frame: memoryview) -> memoryview:
        """Return the content of a non-final frame (maybe empty), after checking it."""
        if len(frame) != FRAME_PLAIN:
            raise FrameSizeError("a frame has the wrong size")
        frame_kind, used = FRAME_HEAD.unpack_from(frame)
        if frame_kind == FRAME_DATA and not self.padding_frames and not self._short_data_seen:
            if used > CHUNK:
                raise FrameSizeError("a frame claims more content than it holds")
            _require_zeros(frame, FRAME_HEAD.size + used)
            self._short_data_seen = used < CHUNK
            self.data_frames += 1
            return frame[FRAME_HEAD.size : FRAME_HEAD.size + used]
        if frame_kind == FRAME_PAD and self.data_frames:
            if used != 0:
                raise NonZeroPaddingError("a padding frame claims content")
            _require_zeros(frame, FRAME_HEAD.size)
            self.padding_frames += 1
            return frame[FRAME_HEAD.size : FRAME_HEAD.size]
        raise FrameOrderError("frames are out of order")

    def finish(self, frame: memoryview) -> tuple[memoryview, bytes]:
        """Return (tail content, trailer) of the final frame, after checking it and the count."""
        if len(frame) < END_HEAD.size:
            raise FrameSizeError("the final frame is too short")
        frame_kind, tail_len, trailer_len = END_HEAD.unpack_from(frame)
        if frame_kind != FRAME_END:
            raise FrameOrderError("the final frame is not an end frame")
        if trailer_len > MAX_TRAILER:
            raise TrailerLengthError(f"the trailer is longer than {MAX_TRAILER} bytes")
        used = END_HEAD.size + tail_len + trailer_len
        if used > len(frame):
            raise MalformedError("the final frame claims more than it holds")
        if self._short_data_seen and tail_len:
            raise FrameOrderError("content follows a short data frame")
        _require_zeros(frame, used)
        self._check_size(len(frame), used)
        tail = frame[END_HEAD.size : END_HEAD.size + tail_len]
        return tail, bytes(frame[END_HEAD.size + tail_len : used])

    def _check_size(self, final_size: int, used: int) -> None:
        if self.data_frames == 0:
            if final_size != small_bucket(used, FRAME_PLAIN):
                raise FrameSizeError("a one-frame envelope is not padded to its bucket")
            return
        if final_size != FRAME_PLAIN:
            raise FrameSizeError("the final frame of a longer envelope is not full size")
        total = self.data_frames + self.padding_frames + 1
        if total != padme(self.data_frames + 1):
            raise FrameSizeError("the number of padding frames is not the one the format fixes")


def read_up_to(src: BinaryIO, n: int) -> bytes:
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


def read_exactly(src: BinaryIO, n: int) -> bytes:
    data = read_up_to(src, n)
    if len(data) != n:
        raise TruncatedError("the envelope header is incomplete")
    return data
