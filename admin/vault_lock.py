"""Several commands on one vault: one writer at a time, and saves that merge.

The console, a sync and an `amanat-admin` command each load the sealed
index, work, and save. Without care the last save wins and a case event
queued by one is lost when another saves. So a save takes an exclusive
lock on the vault (a lock file, flock), reads what other processes saved
since this one last read (admin.vault_index), and merges: whatever this
process changed since it loaded wins, everything else is taken from the
disk. Lists (queued events, acknowledged blobs, a report's blobs) merge
as sets: an item this process removed stays removed, one another added
stays.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

LOCK_NAME = ".lock"
WAIT_SECONDS = 10.0
_POLL = 0.05


class VaultBusyError(Exception):
    """Another command has held the vault's lock for longer than the wait."""


@contextmanager
def locked(folder: Path, wait: float | None = None) -> Iterator[None]:
    """Hold the vault's exclusive lock; raise VaultBusyError after wait seconds.

    None waits WAIT_SECONDS.
    """
    wait = WAIT_SECONDS if wait is None else wait
    fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise VaultBusyError(
                        f"the vault {folder} is being saved by another command (the console, "
                        "a sync or amanat-admin) for more than "
                        f"{wait:.0f} s; wait for it to finish and try again"
                    ) from None
                time.sleep(_POLL)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def snapshot(index: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of an index as JSON would store it (the base of the next merge)."""
    copy: dict[str, Any] = json.loads(json.dumps(index))
    return copy


def merge(base: Any, mine: Any, theirs: Any) -> Any:
    """Three-way merge of JSON values: my changes since base win, the rest is theirs."""
    if mine == base:
        return theirs
    if theirs in (base, mine):
        return mine
    if isinstance(mine, dict) and isinstance(theirs, dict):
        return _merge_dicts(base if isinstance(base, dict) else {}, mine, theirs)
    if isinstance(mine, list) and isinstance(theirs, list):
        return _merge_lists(base if isinstance(base, list) else [], mine, theirs)
    return mine


def _merge_dicts(
    base: dict[str, Any], mine: dict[str, Any], theirs: dict[str, Any]
) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for key in dict.fromkeys([*theirs, *mine]):
        if key in mine and key in theirs:
            merged[key] = merge(base.get(key), mine[key], theirs[key])
        elif key in mine:
            if key not in base or mine[key] != base[key]:  # else: they deleted it
                merged[key] = mine[key]
        elif key not in base or theirs[key] != base[key]:  # else: I deleted it
            merged[key] = theirs[key]
    return merged


def _merge_lists(base: list[Any], mine: list[Any], theirs: list[Any]) -> list[Any]:
    def key(value: Any) -> str:
        return json.dumps(value, sort_keys=True)

    old = {key(v) for v in base}
    kept = {key(v) for v in mine}
    seen = {key(v) for v in theirs}
    result = [v for v in theirs if key(v) not in old or key(v) in kept]
    return result + [v for v in mine if key(v) not in old and key(v) not in seen]
