"""Read a multipart/form-data body as a stream of parts, holding no file in full.

Werkzeug's own form parser spools file parts over 500 KB to plaintext temp
files; this reader hands each file's bytes to the caller as they arrive (the
caller seals them), and keeps only text fields in memory, within limits.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.sansio.multipart import (
    Data,
    Epilogue,
    Event,
    Field,
    File,
    MultipartDecoder,
    NeedData,
)

# Reads grow from 64 KiB to 1 MiB while the body arrives fast and fall back
# to 64 KiB when it does not. Fast: gunicorn's body reader copies what it has
# buffered on every read, so 64 KiB reads cost a third of the worker's time
# (py-spy); 1 MiB reads made uploads 1.7x faster (docs/PERFORMANCE.md). Slow:
# a read returns only once it is full, and its buffers (Werkzeug's, gunicorn's
# and their copies) are held meanwhile, so a source trickling over Tor held
# about 6.5 MiB of worker memory with 1 MiB reads and holds a tenth of that
# with 64 KiB ones. Werkzeug's decoder refuses to buffer more than
# max_form_memory_size (docs/PERFORMANCE.md, "The machine": 1 MiB reads got a
# 413 under the 500 KB default), so its limit here is 4 MiB; text fields are
# held to Limits below, not by this buffer.
MIN_READ = 64 * 1024
MAX_READ = 1024 * 1024
FAST_READ_SECONDS = 0.05
DECODER_BUFFER = 4 * 1024 * 1024


class AdaptiveReader:
    """Reads a stream in pieces sized to how fast it arrives (MIN_READ to MAX_READ)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self.size = MIN_READ

    def read(self) -> bytes:
        started = time.monotonic()
        data = self._stream.read(self.size)
        if len(data) == self.size and time.monotonic() - started < FAST_READ_SECONDS:
            self.size = min(self.size * 2, MAX_READ)
        else:
            self.size = MIN_READ
        return data


@dataclass(frozen=True)
class TextField:
    name: str
    value: str


@dataclass(frozen=True)
class FileStart:
    name: str
    filename: str
    content_type: str


@dataclass(frozen=True)
class FileChunk:
    data: bytes


@dataclass(frozen=True)
class FileEnd:
    pass


Part = TextField | FileStart | FileChunk | FileEnd


@dataclass(frozen=True)
class Limits:
    """How much a form may hold besides its files."""

    max_parts: int = 200
    max_field_bytes: int = 256 * 1024
    max_text_bytes: int = 1024 * 1024


def read_parts(stream: IO[bytes], boundary: bytes, limits: Limits) -> Iterator[Part]:
    """Yield the parts of a multipart body in order.

    Raises BadRequest for a malformed body, RequestEntityTooLarge for too
    many parts or too much text. File data is yielded in pieces as it
    arrives; a FileEnd follows each file's last piece.
    """
    decoder = MultipartDecoder(
        boundary, max_form_memory_size=DECODER_BUFFER, max_parts=limits.max_parts
    )
    text_total = 0
    field: str | None = None
    field_bytes = bytearray()
    in_file = False
    for event in _events(stream, decoder):
        if isinstance(event, Field):
            field, field_bytes = event.name, bytearray()
        elif isinstance(event, File):
            in_file = True
            content_type = event.headers.get("Content-Type", "application/octet-stream")
            yield FileStart(event.name, event.filename or "", content_type)
        elif isinstance(event, Data):
            if in_file:
                if event.data:
                    yield FileChunk(event.data)
                if not event.more_data:
                    in_file = False
                    yield FileEnd()
                continue
            field_bytes += event.data
            text_total += len(event.data)
            if len(field_bytes) > limits.max_field_bytes or text_total > limits.max_text_bytes:
                raise RequestEntityTooLarge()
            if not event.more_data and field is not None:
                yield TextField(field, _decode(field_bytes))
                field = None


def _events(stream: IO[bytes], decoder: MultipartDecoder) -> Iterator[Event]:
    """The decoder's events for the body read from stream, up to its epilogue.

    Raises BadRequest for a malformed body or one that ends too soon.
    """
    reader = AdaptiveReader(stream)
    while True:
        chunk = reader.read()
        decoder.receive_data(chunk or None)
        while True:
            try:
                event = decoder.next_event()
            except ValueError as exc:
                raise BadRequest("malformed multipart body") from exc
            if isinstance(event, Epilogue):
                return
            if isinstance(event, NeedData):
                break
            yield event
        if not chunk:
            raise BadRequest("the form ended before its last boundary")


def _decode(data: bytearray) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest("a form field is not UTF-8") from exc


def boundary_of(mimetype: str, options: dict[str, str]) -> bytes:
    """The multipart boundary from a Content-Type, or BadRequest."""
    boundary = options.get("boundary", "")
    if mimetype != "multipart/form-data" or not boundary or len(boundary) > 200:
        raise BadRequest("expected a multipart/form-data body")
    return boundary.encode("latin-1")
