"""portal.multipart: how much of a slow upload the reader holds (issue 13 item 3).

A read from gunicorn returns only once it is full, so the read size is what
a trickling upload holds in worker memory for as long as the read takes.
The clock is simulated: each read of the slow stream "takes" a second.
"""

from __future__ import annotations

import io
import os
import tracemalloc

import pytest

import portal.multipart
from portal.multipart import (
    MAX_READ,
    MIN_READ,
    AdaptiveReader,
    FileChunk,
    Limits,
    read_parts,
)
from tests.portal.multipart_body import BOUNDARY, encode


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class SlowStream(io.BytesIO):
    """A body that arrives at one read per `seconds`, recording the sizes asked for."""

    def __init__(self, data: bytes, clock: Clock, seconds: float) -> None:
        super().__init__(data)
        self.clock, self.seconds, self.asked = clock, seconds, []

    def read(self, size: int | None = -1) -> bytes:
        self.asked.append(size)
        self.clock.now += self.seconds
        return super().read(size)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(portal.multipart.time, "monotonic", fake)
    return fake


def test_a_slow_stream_is_read_in_the_smallest_pieces(clock) -> None:
    stream = SlowStream(bytes(3 * MAX_READ), clock, seconds=1.0)
    reader = AdaptiveReader(stream)
    while reader.read():
        pass
    assert set(stream.asked) == {MIN_READ}


def test_a_fast_stream_grows_its_reads_to_the_largest(clock) -> None:
    stream = SlowStream(bytes(8 * MAX_READ), clock, seconds=0.0)
    reader = AdaptiveReader(stream)
    while reader.read():
        pass
    growing = [MIN_READ * 2**i for i in range(5)]
    assert stream.asked[:5] == growing and growing[-1] == MAX_READ
    # ...and stays there until the body ends (a short read, then an empty one).
    assert set(stream.asked[5:-1]) == {MAX_READ}


def test_a_stream_that_slows_down_falls_back_to_small_reads(clock) -> None:
    stream = SlowStream(bytes(8 * MAX_READ), clock, seconds=0.0)
    reader = AdaptiveReader(stream)
    for _ in range(6):
        reader.read()
    assert reader.size == MAX_READ
    stream.seconds = 1.0
    reader.read()  # a full read, but a slow one
    assert reader.size == MIN_READ


def peak_memory_reading(file_bytes: int, clock: Clock) -> int:
    """Peak bytes Python allocated while reading a slow upload of file_bytes."""
    body = encode(
        [("narrative", "x")], [("evidence", "v.mp4", os.urandom(file_bytes), "video/mp4")]
    )
    stream = SlowStream(body, clock, seconds=1.0)
    tracemalloc.start()
    try:
        received = sum(
            len(part.data)
            for part in read_parts(stream, BOUNDARY.encode(), Limits())
            if isinstance(part, FileChunk)
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert received == file_bytes
    return peak


def test_a_slow_upload_holds_well_under_a_mebibyte_whatever_its_size(clock) -> None:
    small, large = (
        peak_memory_reading(2 * MAX_READ, clock),
        peak_memory_reading(8 * MAX_READ, clock),
    )
    assert small < MAX_READ / 2 and large < MAX_READ / 2
    assert abs(large - small) < MIN_READ  # flat in the file's size
