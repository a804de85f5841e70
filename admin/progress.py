"""The progress bar amanat-admin sync shows on a terminal (tqdm)."""

from __future__ import annotations

from tqdm import tqdm


class ProgressBar:
    """tqdm on stderr: blobs fetched of those planned, bytes, rate and time left.

    Shown only on a terminal, so scripts and logs get the summary line alone.
    """

    def __init__(self) -> None:
        self._bar = tqdm(
            total=0, unit="B", unit_scale=True, desc="blobs 0/0", disable=None, leave=False
        )
        self._blobs = self._planned = 0

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.close()

    def plan(self, blobs: int, size: int) -> None:
        self._planned += blobs
        self._bar.total = (self._bar.total or 0) + size
        self._show()

    def advance(self, blobs: int, size: int) -> None:
        self._blobs += blobs
        self._bar.update(size)
        self._show()

    def _show(self) -> None:
        self._bar.set_description(f"blobs {self._blobs}/{self._planned}", refresh=True)
