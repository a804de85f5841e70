"""The background writer: same bytes and hash as a plain write, and errors surface."""

import hashlib
import io

import pytest

from portal.writer import BackgroundWriter


def test_background_writer_writes_and_hashes_everything_in_order():
    out = io.BytesIO()
    writer = BackgroundWriter(out)
    pieces = [bytes([i]) * (1000 + i) for i in range(200)]
    buffer = bytearray(5000)
    for piece in pieces:
        buffer[: len(piece)] = piece  # the sealer reuses its buffer like this
        writer.write(memoryview(buffer)[: len(piece)])
    writer.close()
    assert out.getvalue() == b"".join(pieces)
    assert writer.hexdigest() == hashlib.sha256(b"".join(pieces)).hexdigest()
    assert writer.size == len(out.getvalue())


class FullDisk(io.BytesIO):
    def write(self, data):
        raise OSError(28, "No space left on device")


def test_a_full_disk_surfaces_in_the_request_thread():
    writer = BackgroundWriter(FullDisk())
    with pytest.raises(OSError, match="No space"):
        for _ in range(100):
            writer.write(b"x" * 65536)
        writer.close()
