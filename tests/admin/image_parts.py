"""Byte builders for the tiny JPEG and PNG files that the image and evidence tests craft."""

from __future__ import annotations

import struct
import zlib

SOI, EOI = b"\xff\xd8", b"\xff\xd9"


def segment(marker: int, body: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(body) + 2) + body


def frame(width: int = 1, height: int = 1) -> bytes:
    return segment(0xC0, b"\x08" + struct.pack(">HH", height, width) + b"\x01\x01\x11\x00")


DQT = segment(0xDB, b"\x00" + bytes(range(64)))
DHT = segment(0xC4, b"\x00" + b"\x01" + b"\x00" * 15 + b"\x00")
SOS = segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
SCAN = b"\x12\x34\xff\x00\x56\xff\xd0\x78"


def jpeg_with(*segments: bytes, scan: bytes = SCAN) -> bytes:
    """A 1x1 JPEG: `segments` after the start marker, then tables, frame, scan and end marker."""
    return b"".join([SOI, *segments, DQT, frame(), DHT, SOS, scan, EOI])


def chunk(kind: bytes, data: bytes) -> bytes:
    """A PNG chunk with its length and CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
