"""The console's image preview filter: an allowlist, as an adversary would probe it.

Every crafted file carries a text marker where metadata could hide; the
filter must either drop the part that holds it or refuse the file.
"""

from __future__ import annotations

import struct
import zlib

import pytest

from admin.console.images import (
    MAX_PIXELS,
    ImageError,
    ImageTooLargeError,
    strip_jpeg,
    strip_metadata,
    strip_png,
)
from tests.admin.console.pages import GPS_MARKER, JPEG
from tests.admin.image_parts import DHT, DQT, SCAN, SOS, chunk, frame, segment

MARKER = b"DEVICE-MARKER Canon EOS serial 0123456789"

# -- JPEG builders -----------------------------------------------------------------


def jpeg(*extra: bytes, sof: bytes | None = None) -> bytes:
    """A tiny JPEG with `extra` segments between the tables and the frame."""
    head = [b"\xff\xd8", DQT, *extra, frame() if sof is None else sof, DHT, SOS]
    return b"".join([*head, SCAN, b"\xff\xd9"])


PLAIN_JPEG = jpeg()

DROPPED_JPEG_MARKERS = [
    *range(0xF0, 0xFE),  # JPG0-JPG13: the red team's find
    *range(0xE1, 0xEE),  # APP1-APP13 (EXIF, XMP, ICC profile, Photoshop IRB...)
    0xEF,  # APP15
    0xFE,  # COM
    0xC8,  # JPG
    0xDE,  # DHP
    0xDF,  # EXP
    0x02,  # reserved
    0xBF,  # reserved
]


@pytest.mark.parametrize("marker", DROPPED_JPEG_MARKERS, ids=hex)
def test_jpeg_segments_outside_the_allowlist_are_dropped_with_their_text(marker):
    clean = strip_jpeg(jpeg(segment(marker, MARKER)))
    assert MARKER not in clean
    assert clean == PLAIN_JPEG


def test_jpeg_keeps_exactly_the_pixels_segments_in_order():
    assert strip_jpeg(PLAIN_JPEG) == PLAIN_JPEG
    assert SCAN in strip_jpeg(PLAIN_JPEG)


def test_adobe_segment_keeps_only_its_colour_transform():
    adobe = b"Adobe" + b"\x00\x65" + b"\xab\xcd\xef\x01" + b"\x01"
    clean = strip_jpeg(jpeg(segment(0xEE, adobe + MARKER)))
    assert MARKER not in clean and b"\xab\xcd" not in clean
    assert segment(0xEE, b"Adobe\x00\x64\x00\x00\x00\x00\x01") in clean


def test_app14_that_is_not_adobe_is_dropped():
    assert strip_jpeg(jpeg(segment(0xEE, b"Other" + MARKER))) == PLAIN_JPEG


def test_jfif_thumbnail_and_text_are_dropped():
    jfif = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01" + b"\x01\x01" + MARKER
    clean = strip_jpeg(jpeg(segment(0xE0, jfif)))
    assert MARKER not in clean
    assert segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00") in clean


@pytest.mark.parametrize(
    "hiding",
    [
        pytest.param(segment(0xDB, b"\x00" + bytes(64) + MARKER), id="quantisation table"),
        pytest.param(segment(0xC4, b"\x00\x01" + bytes(15) + b"\x00" + MARKER), id="Huffman"),
        pytest.param(segment(0xDD, b"\x00\x10" + MARKER), id="restart interval"),
        pytest.param(segment(0xCC, b"\x00\x10" + MARKER[:3]), id="arithmetic coding"),
        pytest.param(segment(0xDB, b"\x20" + bytes(64)), id="unknown precision"),
        pytest.param(segment(0xC4, b"\x00\x05"), id="Huffman cut off"),
        pytest.param(segment(0xDB, b""), id="empty table"),
    ],
)
def test_text_hidden_in_a_kept_jpeg_segment_is_refused(hiding):
    with pytest.raises(ImageError, match="JPEG"):
        strip_jpeg(jpeg(hiding))


def test_text_after_a_jpeg_frame_header_is_refused():
    sof = segment(0xC0, b"\x08\x00\x01\x00\x01\x01\x01\x11\x00" + MARKER)
    with pytest.raises(ImageError, match="frame header"):
        strip_jpeg(jpeg(sof=sof))


def test_text_after_a_jpeg_scan_header_is_refused():
    data = PLAIN_JPEG.replace(SOS, segment(0xDA, b"\x01\x01\x00\x00\x3f\x00" + MARKER))
    with pytest.raises(ImageError, match="scan header"):
        strip_jpeg(data)


def test_jpeg_at_the_pixel_limit_is_kept_and_one_row_more_is_refused():
    width = 10_000
    height = MAX_PIXELS // width
    strip_jpeg(jpeg(sof=frame(width, height)))
    with pytest.raises(ImageTooLargeError, match="more than 50 megapixels"):
        strip_jpeg(jpeg(sof=frame(width, height + 1)))


def test_jpeg_that_hides_its_height_is_refused():
    with pytest.raises(ImageError, match="does not state its size"):
        strip_jpeg(jpeg(sof=frame(100, 0)))


# -- PNG builders ------------------------------------------------------------------


def header(width: int = 2, height: int = 2, depth: int = 8, colour: int = 2, interlace: int = 0):
    return chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, interlace))


RGB_2X2 = zlib.compress((b"\x00" + bytes(6)) * 2)  # two rows: filter byte + 2 RGB pixels


def png(*extra: bytes, ihdr: bytes | None = None, idat: tuple[bytes, ...] = (RGB_2X2,)) -> bytes:
    """A 2x2 RGB PNG with `extra` chunks between the header and the image data."""
    parts = [b"\x89PNG\r\n\x1a\n", ihdr or header(), *extra]
    parts += [chunk(b"IDAT", data) for data in idat]
    return b"".join([*parts, chunk(b"IEND", b"")])


PLAIN_PNG = png()

DROPPED_PNG_CHUNKS = [
    (b"iCCP", b"Canon profile\x00\x00" + zlib.compress(MARKER)),
    (b"iCCP", MARKER + b"\x00\x00" + zlib.compress(b"profile")),
    (b"tEXt", b"Author\x00" + MARKER),
    (b"zTXt", b"Comment\x00\x00" + zlib.compress(MARKER)),
    (b"iTXt", b"Comment\x00\x00\x00en\x00\x00" + MARKER),
    (b"eXIf", b"MM\x00\x2a" + MARKER),
    (b"tIME", b"\x07\xe8\x01\x01\x00\x00\x00" + MARKER),
    (b"pHYs", MARKER),
    (b"sPLT", b"palette\x00\x08" + MARKER),
    (b"bKGD", MARKER),
    (b"sBIT", MARKER),
    (b"hIST", MARKER),
    (b"acTL", MARKER),
    (b"caBX", MARKER),  # C2PA provenance
    (b"prVt", MARKER),  # a private chunk
]


@pytest.mark.parametrize(("kind", "data"), DROPPED_PNG_CHUNKS, ids=lambda v: repr(v[:4]))
def test_png_chunks_outside_the_allowlist_are_dropped_with_their_text(kind, data):
    clean = strip_png(png(chunk(kind, data)))
    assert MARKER not in clean and kind not in clean
    assert clean == PLAIN_PNG


def test_png_keeps_the_pixels_and_the_colour_chunks_that_hold_only_numbers():
    colour = [
        chunk(b"gAMA", struct.pack(">I", 45455)),
        chunk(b"sRGB", b"\x00"),
        chunk(b"cHRM", bytes(32)),
    ]
    data = png(*colour)
    assert strip_png(data) == data


@pytest.mark.parametrize(
    "hiding",
    [
        pytest.param(chunk(b"gAMA", struct.pack(">I", 45455) + MARKER), id="gAMA"),
        pytest.param(chunk(b"sRGB", b"\x00" + MARKER), id="sRGB"),
        pytest.param(chunk(b"cHRM", bytes(32) + MARKER), id="cHRM"),
        pytest.param(chunk(b"PLTE", MARKER[:40]), id="PLTE not in colours"),
        pytest.param(chunk(b"tRNS", MARKER * 7), id="tRNS too long"),
    ],
)
def test_text_hidden_in_a_kept_png_chunk_is_refused(hiding):
    with pytest.raises(ImageError, match="PNG"):
        strip_png(png(hiding))


def test_text_after_the_end_of_the_compressed_pixels_is_refused():
    with pytest.raises(ImageError, match="data after its end"):
        strip_png(png(idat=(RGB_2X2 + MARKER,)))
    with pytest.raises(ImageError, match="data after its end"):
        strip_png(png(idat=(RGB_2X2, zlib.compress(MARKER))))


def test_compressed_pixels_split_over_chunks_are_kept():
    data = png(idat=(RGB_2X2[:5], RGB_2X2[5:]))
    assert strip_png(data) == data


def test_png_data_beyond_what_its_size_needs_is_refused():
    bomb = zlib.compress(bytes(50 * 1024 * 1024))  # 50 MiB of zeros in about 50 KB
    with pytest.raises(ImageError, match="more data than its size needs"):
        strip_png(png(idat=(bomb,)))


def test_png_with_fewer_pixels_than_it_declares_is_refused():
    with pytest.raises(ImageError, match="cut off"):
        strip_png(png(idat=(zlib.compress(b"\x00" + bytes(6)),)))


def test_a_65535_square_png_of_a_few_kilobytes_is_refused():
    rows = zlib.compress((b"\x00" + bytes(65535 * 3)) * 8)
    data = png(ihdr=header(65535, 65535), idat=(rows,))
    assert len(data) < 8 * 1024
    with pytest.raises(ImageTooLargeError, match="65535 x 65535 pixels, more than 50 megapixels"):
        strip_metadata(data)


def test_png_at_the_pixel_limit_passes_the_size_check():
    # Refused for its missing pixels, not for its size.
    with pytest.raises(ImageError, match="cut off") as caught:
        strip_png(png(ihdr=header(10_000, MAX_PIXELS // 10_000)))
    assert not isinstance(caught.value, ImageTooLargeError)


def test_interlaced_png_is_measured_pass_by_pass():
    # 3x3 grey, Adam7: passes 1, 4, 5, 6 and 7 hold 1x1, 1x1, 2x1, 1x2 and 3x1 pixels,
    # each row after a filter byte: 2 + 2 + 3 + 4 + 4 bytes.
    rows = bytes(2 + 2 + 3 + 4 + 4)
    data = png(ihdr=header(3, 3, colour=0, interlace=1), idat=(zlib.compress(rows),))
    assert strip_png(data) == data


def test_png_chunk_before_the_header_is_refused():
    data = PLAIN_PNG[:8] + chunk(b"gAMA", struct.pack(">I", 45455)) + PLAIN_PNG[8:]
    with pytest.raises(ImageError, match="start with its header"):
        strip_png(data)


def test_png_with_an_unknown_pixel_format_is_refused():
    with pytest.raises(ImageError, match="unknown pixel format"):
        strip_png(png(ihdr=header(colour=5)))


# -- the reported photo and a PNG carrying text, EXIF and a time ---------------------


def test_jpeg_stripper_keeps_the_image_and_drops_metadata():
    clean = strip_jpeg(JPEG)
    assert GPS_MARKER not in clean and b"COMMENT-MARKER" not in clean
    assert b"TRAILING-MARKER" not in clean and b"THU" not in clean
    assert b"JFIF\x00" in clean
    assert b"\x12\x34\xff\x00\x56\xff\xd0\x78" in clean  # the scan data, untouched
    assert strip_jpeg(clean) == clean


@pytest.mark.parametrize("cut", [3, 10, 30, len(JPEG) - 20])
def test_jpeg_stripper_refuses_a_cut_file(cut):
    with pytest.raises(ImageError):
        strip_jpeg(JPEG[:cut])


def test_png_stripper_drops_text_exif_and_time():
    ihdr = chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    idat = chunk(b"IDAT", zlib.compress(b"\x00\x00"))
    png = b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            ihdr,
            chunk(b"tEXt", b"Comment\x00TEXT-MARKER"),
            chunk(b"eXIf", b"MM\x00\x2a" + GPS_MARKER),
            chunk(b"tIME", b"\x07\xe8\x01\x01\x00\x00\x00"),
            chunk(b"gAMA", struct.pack(">I", 45455)),
            idat,
            chunk(b"IEND", b""),
            b"TRAILING-MARKER",
        ]
    )
    clean = strip_png(png)
    for marker in (b"TEXT-MARKER", GPS_MARKER, b"tIME", b"TRAILING-MARKER"):
        assert marker not in clean
    assert ihdr in clean and idat in clean and b"gAMA" in clean
    with pytest.raises(ImageError):
        strip_png(png[:40])
