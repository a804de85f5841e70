"""Write and hash a blob's ciphertext on a second thread.

While the request thread parses the upload and encrypts it, this thread
hashes the ciphertext (for the receipt) and writes it to disk. Both hashlib
and file writes release the GIL, so on two cores the work overlaps. The
queue is short, so memory stays flat whatever the file's size.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from typing import Protocol

QUEUE_DEPTH = 8  # frames of 64 KiB: at most half a MiB waiting


class Writable(Protocol):
    def write(self, data: bytes, /) -> int | None: ...


class BackgroundWriter:
    """A Sink that hands writes to a thread; close() waits and re-raises its error."""

    def __init__(self, file: Writable) -> None:
        self._file = file
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=QUEUE_DEPTH)
        self._sha256 = hashlib.sha256()
        self._error: BaseException | None = None
        self._closed = False
        self.size = 0
        self._thread = threading.Thread(target=self._run, name="blob-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._sha256.update(item)
                    self._file.write(item)
                except BaseException as exc:  # handed to the request thread
                    self._error = exc

    def write(self, data: bytes | bytearray | memoryview, /) -> int:
        """Queue data (copied: the sealer reuses its buffer). Raises an earlier write's error."""
        if self._error is not None:
            raise self._error
        chunk = bytes(data)
        self.size += len(chunk)
        self._queue.put(chunk)
        return len(chunk)

    def close(self) -> None:
        """Wait until everything is written; raise the error a write met, if any."""
        if not self._closed:
            self._closed = True
            self._queue.put(None)
            self._thread.join()
        if self._error is not None:
            raise self._error

    def hexdigest(self) -> str:
        return self._sha256.hexdigest()
