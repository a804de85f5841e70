"""Remove metadata from JPEG and PNG images before the console shows them.

Photos carry EXIF (camera serial, time, often GPS position), comments,
colour profiles that name a device and embedded thumbnails that may show
what the visible image was cropped from. The preview keeps only what a
browser needs to draw the pixels; the original evidence in the vault is
never changed. This is a small structural filter written for the console
(Pillow is not a dependency) and it works by allowlist: a JPEG keeps only
the frame, table, restart-interval and scan segments plus a JFIF header
without its thumbnail (and Adobe's fixed colour-transform flags), a PNG
only the chunks that define pixels. Every other segment or chunk (APPn,
COM, JPG0-JPG13, iCCP, tEXt, zTXt, iTXt, eXIf, tIME, private ones...) is
dropped, and a kept one must be exactly as long as its fields say, so no
spare bytes ride along inside it. Anything malformed is refused, not passed
through, and so is an image over MAX_PIXELS (a few KB of PNG can declare
65535 x 65535 pixels and take the reviewer's browser down).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SOI = b"\xff\xd8"
MAX_PIXELS = 50_000_000
# Critical chunks plus the ancillary ones that change how pixels look and
# hold numbers only (no text, no colour profile), each with its exact size.
PNG_KEPT = frozenset({b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"sRGB", b"cHRM"})
_PNG_SIZES = {b"IHDR": 13, b"IEND": 0, b"gAMA": 4, b"sRGB": 1, b"cHRM": 32}
# Samples per pixel for each PNG colour type.
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_APP0 = 0xE0
_APP14 = 0xEE
_SOS = 0xDA
_EOI = 0xD9
# Start-of-frame markers (baseline, extended, progressive, lossless; Huffman
# or arithmetic): C0-CF except DHT (C4), JPG (C8) and DAC (CC).
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_DHT, _DAC, _DQT, _DNL, _DRI = 0xC4, 0xCC, 0xDB, 0xDC, 0xDD
# Adam7 interlacing: (first column, column step, first row, row step) of each pass.
_ADAM7 = (
    (0, 8, 0, 8),
    (4, 8, 0, 8),
    (0, 4, 4, 8),
    (2, 4, 0, 4),
    (0, 2, 2, 4),
    (1, 2, 0, 2),
    (0, 1, 1, 2),
)
_JFIF_HEADER = 14  # "JFIF\0", version, units, densities, thumbnail size
_ADOBE_LENGTH = 12  # "Adobe", version, two flag words, transform: no free text


class ImageError(ValueError):
    """The image is not a JPEG or PNG this filter can read."""


class ImageTooLargeError(ImageError):
    """The image declares more than MAX_PIXELS pixels."""


def image_type(data: bytes) -> str | None:
    """The media type the bytes really are (by their signature), or None."""
    if data.startswith(JPEG_SOI):
        return "image/jpeg"
    if data.startswith(PNG_SIGNATURE):
        return "image/png"
    return None


def strip_metadata(data: bytes) -> tuple[bytes, str]:
    """Return (the image without metadata, its media type).

    Raises ImageTooLargeError for an image over MAX_PIXELS, ImageError for
    anything else it cannot read.
    """
    kind = image_type(data)
    if kind == "image/jpeg":
        return strip_jpeg(data), kind
    if kind == "image/png":
        return strip_png(data), kind
    raise ImageError("not a JPEG or PNG image")


def _check_pixels(width: int, height: int) -> None:
    if width == 0 or height == 0:
        raise ImageError("the image does not state its size")
    if width * height > MAX_PIXELS:
        megapixels = MAX_PIXELS // 1_000_000
        raise ImageTooLargeError(
            f"the image is {width} x {height} pixels, more than {megapixels} megapixels"
        )


# -- JPEG --------------------------------------------------------------------------


def strip_jpeg(data: bytes) -> bytes:
    """Keep the allowlisted segments of a JPEG and the scan data; drop everything else,
    anything after the end-of-image marker included. Raises ImageError (or
    ImageTooLargeError) on a malformed or oversized file."""
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
        if 0xD0 <= marker <= 0xD7:  # a restart marker between scans: no length, no data
            out.append(bytes((0xFF, marker)))
            continue
        if marker == 0x01:  # TEM: no length, means nothing to a browser
            continue
        if marker in (0x00, 0xD8) or pos + 2 > end:
            raise ImageError("a JPEG marker is misplaced or cut off")
        (length,) = struct.unpack(">H", data[pos : pos + 2])
        if length < 2 or pos + length > end:
            raise ImageError("a JPEG segment is cut off")
        kept = _jpeg_segment(marker, data[pos + 2 : pos + length])
        pos += length
        if kept is None:
            continue
        out.append(bytes((0xFF, marker)) + struct.pack(">H", len(kept) + 2) + kept)
        if marker == _SOS:
            scan_end = _end_of_scan(data, pos)
            out.append(data[pos:scan_end])
            pos = scan_end
    raise ImageError("the JPEG image has no end marker")


def _jpeg_segment(marker: int, body: bytes) -> bytes | None:
    """The body to keep for this segment, or None to drop it. Raises ImageError."""
    if marker == _APP0:
        return _clean_app0(body)
    if marker == _APP14:
        return _clean_adobe(body)
    if marker in _SOF:
        _check_frame(body)
    elif marker == _SOS:  # component count, two bytes per component, three more
        _check_size(body, 4 + 2 * (body[0] if body else 0), "scan header")
    elif marker == _DQT:
        _check_tables(body, _quantisation_table_size, "quantisation table")
    elif marker == _DHT:
        _check_tables(body, _huffman_table_size, "Huffman table")
    elif marker == _DAC:
        _check_tables(body, lambda _body, _at: 2, "arithmetic coding table")
    elif marker in (_DRI, _DNL):
        _check_size(body, 2, "restart interval or line count")
    else:  # APP1-APP13, APP15, COM, JPG, JPG0-JPG13, DHP, EXP and reserved markers
        return None
    return body


def _check_size(body: bytes, size: int, what: str) -> None:
    if len(body) != size:
        raise ImageError(f"a JPEG {what} is not the size its fields say")


def _check_frame(body: bytes) -> None:
    """A frame header: precision, height, width, then 3 bytes per component."""
    if len(body) < 6:
        raise ImageError("a JPEG frame header is cut off")
    _check_size(body, 6 + 3 * body[5], "frame header")
    height, width = struct.unpack(">HH", body[1:5])
    _check_pixels(width, height)


def _quantisation_table_size(body: bytes, at: int) -> int:
    precision = body[at] >> 4  # 0: 64 one-byte values, 1: 64 two-byte values
    if precision > 1:
        raise ImageError("a JPEG quantisation table has an unknown precision")
    return 1 + 64 * (precision + 1)


def _huffman_table_size(body: bytes, at: int) -> int:
    if at + 17 > len(body):
        raise ImageError("a JPEG Huffman table is cut off")
    return 17 + sum(body[at + 1 : at + 17])  # class and id, 16 code counts, the values


def _check_tables(body: bytes, table_size: Callable[[bytes, int], int], what: str) -> None:
    """One or more tables back to back, table_size(body, offset) bytes each."""
    at = 0
    while at < len(body):
        at += table_size(body, at)
    if at != len(body) or not body:
        raise ImageError(f"a JPEG {what} is not the size its fields say")


def _clean_app0(body: bytes) -> bytes | None:
    """Keep a JFIF header without its thumbnail; drop JFXX and other APP0 segments."""
    if not body.startswith(b"JFIF\x00") or len(body) < _JFIF_HEADER:
        return None
    return body[: _JFIF_HEADER - 2] + b"\x00\x00"


def _clean_adobe(body: bytes) -> bytes | None:
    """Keep Adobe's colour transform (CMYK photos need it), rebuilt with fixed version
    and flags so that no byte of the original but the transform survives; drop
    other APP14 segments."""
    if not body.startswith(b"Adobe") or len(body) < _ADOBE_LENGTH or body[11] > 2:
        return None
    return b"Adobe\x00\x64\x00\x00\x00\x00" + body[11:12]


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


# -- PNG ---------------------------------------------------------------------------


def strip_png(data: bytes) -> bytes:
    """Keep only the chunks needed to draw the image; drop iCCP, text, eXIf, tIME and
    the rest, and anything after IEND. Raises ImageError (or ImageTooLargeError)
    on a malformed or oversized file, or image data with bytes after its end."""
    if not data.startswith(PNG_SIGNATURE):
        raise ImageError("not a PNG image")
    out = [PNG_SIGNATURE]
    pixels = _PngPixels()
    pos, end = len(PNG_SIGNATURE), len(data)
    while pos + 12 <= end:
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        chunk_type = data[pos + 4 : pos + 8]
        chunk_end = pos + 12 + length
        if chunk_end > end or not chunk_type.isalpha():
            raise ImageError("a PNG chunk is cut off or malformed")
        if len(out) == 1 and chunk_type != b"IHDR":
            raise ImageError("a PNG image must start with its header chunk")
        if chunk_type in PNG_KEPT:
            body = data[pos + 8 : pos + 8 + length]
            _check_png_chunk(chunk_type, body, pixels)
            out.append(data[pos:chunk_end])
        pos = chunk_end
        if chunk_type == b"IEND":
            pixels.finish()
            return b"".join(out)
    raise ImageError("the PNG image has no end chunk")


def _check_png_chunk(chunk_type: bytes, body: bytes, pixels: _PngPixels) -> None:
    size = _PNG_SIZES.get(chunk_type)
    if size is not None and len(body) != size:
        raise ImageError(f"a PNG {chunk_type.decode()} chunk is not {size} bytes")
    if chunk_type == b"IHDR":
        pixels.start(body)
    elif chunk_type == b"PLTE" and (len(body) % 3 or not 3 <= len(body) <= 768):
        raise ImageError("a PNG palette is not a whole number of colours")
    elif chunk_type == b"tRNS" and len(body) > 256:
        raise ImageError("a PNG transparency chunk is too long")
    elif chunk_type == b"IDAT":
        pixels.feed(body)


class _PngPixels:
    """Follows the compressed image data: it must end exactly where its last chunk
    ends (text hidden after the end of the zlib stream would ride along) and
    must not expand beyond what the header's size needs."""

    def __init__(self) -> None:
        self._inflate = zlib.decompressobj()
        self._left = 0

    def start(self, header: bytes) -> None:
        width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
        _check_pixels(width, height)
        if colour not in _PNG_CHANNELS or depth not in (1, 2, 4, 8, 16):
            raise ImageError("a PNG header names an unknown pixel format")
        bits = _PNG_CHANNELS[colour] * depth
        self._left = _raw_size(width, height, bits, interlaced=interlace == 1)

    def feed(self, compressed: bytes) -> None:
        if self._inflate.eof:
            raise ImageError("a PNG image has data after its end")
        try:
            while compressed:
                # Bounded pieces: the pixels are counted, never all held.
                got = self._inflate.decompress(compressed, 1 << 20)
                self._left -= len(got)
                if self._left < 0:
                    raise ImageError("a PNG image holds more data than its size needs")
                compressed = self._inflate.unconsumed_tail
        except zlib.error as exc:
            raise ImageError("a PNG image's data is damaged") from exc
        if self._inflate.unused_data:
            raise ImageError("a PNG image has data after its end")

    def finish(self) -> None:
        if not self._inflate.eof or self._left:
            raise ImageError("a PNG image's data is cut off")


def _raw_size(width: int, height: int, bits: int, *, interlaced: bool) -> int:
    """Bytes of filtered scanlines (a filter byte per row) for the image."""
    if not interlaced:
        return height * (1 + (width * bits + 7) // 8)
    total = 0
    for x0, dx, y0, dy in _ADAM7:
        columns = (width - x0 + dx - 1) // dx if width > x0 else 0
        rows = (height - y0 + dy - 1) // dy if height > y0 else 0
        if columns and rows:
            total += rows * (1 + (columns * bits + 7) // 8)
    return total
