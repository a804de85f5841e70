"""Writing a private file so that it is whole or absent, and readable by its owner only.

Every key file, vault index, side file, backup and export goes through
private_file(): the content is written to a random temporary sibling
(O_EXCL, mode 0600, never following a link), flushed to disk, renamed over
the target, and the directory is synced so the rename survives a crash. On
any error, KeyboardInterrupt included, the temporary file is removed and the
target is left as it was.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)


@contextmanager
def private_file(path: str | os.PathLike[str], *, overwrite: bool = True) -> Iterator[BinaryIO]:
    """Yield a binary file that becomes path, mode 0600, only when the block ends without error.

    With overwrite=False an existing path is never replaced: FileExistsError,
    even if the path appeared while the block ran.
    """
    path = Path(path)
    if not overwrite and path.exists():
        raise FileExistsError(f"{path} already exists")
    tmp = path.with_name(f".{path.name}.{os.urandom(8).hex()}.tmp")
    fd = os.open(tmp, _FLAGS, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # fails if path exists: never replaces it
            os.unlink(tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def write_private(path: str | os.PathLike[str], data: bytes, *, overwrite: bool = True) -> None:
    """Write data to path as private_file() does."""
    with private_file(path, overwrite=overwrite) as out:
        out.write(data)


def fsync_dir(folder: str | os.PathLike[str]) -> None:
    """Make the renames and removals in folder durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
