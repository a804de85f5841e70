"""Base64 text, as the bundles, key files and rosters hold raw keys and signatures."""

from __future__ import annotations

import base64
from typing import Any


def to_b64(data: bytes) -> str:
    """Return data as standard base64 text."""
    return base64.b64encode(data).decode("ascii")


def from_b64(text: Any, size: int | None = None) -> bytes:
    """Return the bytes of base64 text, of exactly size bytes if size is given.

    Raises ValueError for anything but a string, binascii.Error (a ValueError)
    for text that is not strict base64, and ValueError for a wrong length.
    """
    if not isinstance(text, str):
        raise ValueError("expected base64 text")
    data = base64.b64decode(text, validate=True)
    if size is not None and len(data) != size:
        raise ValueError(f"expected {size} bytes")
    return data
