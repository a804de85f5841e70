"""Remove metadata from JPEG and PNG images before the console shows them.

Photos carry EXIF (camera serial, time, often GPS position), comments and
embedded thumbnails that may show what the visible image was cropped from.
The preview keeps only what a browser needs to draw the pixels; the
original evidence in the vault is never changed. This is a small
structural filter written for the console (Pillow is not a dependency):
anything it does not understand is refused, not passed through.
"""

from __future__ import annotations

import struct

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SOI = b"\xff\xd8"
# Critical chunks plus the ancillary ones that change how pixels look.
PNG_KEPT = frozenset({b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"sRGB", b"iCCP"})
_APP0 = 0xE0
_SOS = 0xDA
_EOI = 0xD9
_COM = 0xFE
_JFIF_HEADER = 14  # "JFIF\0", version, units, densities, thumbnail size


class ImageError(ValueError):
    """The image is not a JPEG or PNG this filter can read."""


def image_type(data: bytes) -> str | None:
    """The media type the bytes really are (by their signature), or None."""
    if data.startswith(JPEG_SOI):
        return "image/jpeg"
    if data.startswith(PNG_SIGNATURE):
        return "image/png"
    return None


def strip_metadata(data: bytes) -> tuple[bytes, str]:
    """Return (the image without metadata, its media type). Raises ImageError."""
    kind = image_type(data)
    if kind == "image/jpeg":
        return strip_jpeg(data), kind
    if kind == "image/png":
        return strip_png(data), kind
    raise ImageError("not a JPEG or PNG image")


def strip_jpeg(data: bytes) -> bytes:
    """Drop APP1..APP15 (EXIF, XMP, ICC, ...) and COM segments, the JFIF thumbnail, and
    anything after the end-of-image marker. Raises ImageError on a malformed file."""
    if not data.startswith(JPEG_SOI):
        raise ImageError("not a JPEG image")
    out = [JPEG_SOI]
    pos, end = 2, len(data)
    while pos < end:
        if data[pos] != 0xFF:
            raise ImageError("a JPEG segment does not start with a marker")
        while pos < end and data[pos] == 0xFF:  # fill bytes before a marker
            pos += 1
        if pos >= end:
            break
        marker = data[pos]
        pos += 1
        if marker == _EOI:
            out.append(b"\xff\xd9")
            return b"".join(out)
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            out.append(bytes((0xFF, marker)))
            continue
        if marker in (0x00, 0xD8) or pos + 2 > end:
            raise ImageError("a JPEG marker is misplaced or cut off")
        (length,) = struct.unpack(">H", data[pos : pos + 2])
        if length < 2 or pos + length > end:
            raise ImageError("a JPEG segment is cut off")
        kept: bytes | None = data[pos + 2 : pos + length]
        pos += length
        if marker == _APP0:
            kept = _clean_app0(kept or b"")
        elif 0xE1 <= marker <= 0xEF or marker == _COM:
            kept = None
        if kept is None:
            continue
        out.append(bytes((0xFF, marker)) + struct.pack(">H", len(kept) + 2) + kept)
        if marker == _SOS:
            scan_end = _end_of_scan(data, pos)
            out.append(data[pos:scan_end])
            pos = scan_end
    raise ImageError("the JPEG image has no end marker")


def _clean_app0(body: bytes) -> bytes | None:
    """Keep a JFIF header without its thumbnail; drop JFXX and other APP0 segments."""
    if not body.startswith(b"JFIF\x00") or len(body) < _JFIF_HEADER:
        return None
    return body[: _JFIF_HEADER - 2] + b"\x00\x00"


def _end_of_scan(data: bytes, pos: int) -> int:
    """The offset of the marker that ends the entropy-coded data starting at pos."""
    while True:
        found = data.find(b"\xff", pos)
        if found < 0 or found + 1 >= len(data):
            raise ImageError("the JPEG scan data is cut off")
        following = data[found + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7:  # stuffed byte or restart marker
            pos = found + 2
            continue
        return found


def strip_png(data: bytes) -> bytes:
    """Keep only the chunks needed to draw the image; drop text, eXIf, tIME and the rest,
    and anything after IEND. Raises ImageError on a malformed file."""
    if not data.startswith(PNG_SIGNATURE):
        raise ImageError("not a PNG image")
    out = [PNG_SIGNATURE]
    pos, end = len(PNG_SIGNATURE), len(data)
    while pos + 12 <= end:
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        chunk_type = data[pos + 4 : pos + 8]
        chunk_end = pos + 12 + length
        if chunk_end > end or not chunk_type.isalpha():
            raise ImageError("a PNG chunk is cut off or malformed")
        if chunk_type in PNG_KEPT:
            out.append(data[pos:chunk_end])
        pos = chunk_end
        if chunk_type == b"IEND":
            return b"".join(out)
    raise ImageError("the PNG image has no end chunk")
