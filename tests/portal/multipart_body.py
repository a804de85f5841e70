"""Build multipart/form-data bodies by hand, as a browser (or an attacker) would."""

from __future__ import annotations

from collections.abc import Iterable

BOUNDARY = "----amanatTestBoundary7MA4YWxkTrZu0gW"


def encode(
    fields: Iterable[tuple[str, str]] = (),
    files: Iterable[tuple[str, str, bytes, str]] = (),
    boundary: str = BOUNDARY,
) -> bytes:
    """fields are (name, value); files are (name, filename, content, content type)."""
    out = bytearray()
    for name, value in fields:
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += value.encode() + b"\r\n"
    for name, filename, content, content_type in files:
        out += (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()
        out += content + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out)


def content_type(boundary: str = BOUNDARY) -> str:
    return f"multipart/form-data; boundary={boundary}"
