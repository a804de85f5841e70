"""Create a small secret file exactly once, so that no reader ever sees it half written.

Several processes (gunicorn workers, `init`, a second host on shared
storage) may ask for the same secret at once. Creating the file with O_EXCL
and then writing it lets a reader that comes between the two read an empty
file (24 of 300 first logins failed so). Here the content is written and
synced under a temporary name first, then linked to the final name, which
fails if the name exists: the final name only ever holds the whole content,
and whoever linked first wins.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def write_once(path: Path, data: bytes) -> bytes:
    """Return the content of path, creating it (mode 0600) with data if it does not exist."""
    path = Path(path)
    if path.exists():
        return path.read_bytes()
    partial = path.with_name(f".{path.name}.{secrets.token_hex(8)}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(partial, path)
        except FileExistsError:
            return path.read_bytes()  # another process won the race: its content is whole
        _fsync_dir(path.parent)
        return data
    finally:
        partial.unlink(missing_ok=True)


def replace_atomically(path: Path, data: bytes) -> None:
    """Write data to path (mode 0600), replacing whatever was there in one step."""
    path = Path(path)
    partial = path.with_name(f".{path.name}.{secrets.token_hex(8)}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
        _fsync_dir(path.parent)
    finally:
        partial.unlink(missing_ok=True)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
