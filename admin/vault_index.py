"""The vault's sealed index: a sealed base and a log of the changes saved since.

The index is JSON sealed (kind INDEX) to the reviewer's own box key, so
only their key file opens it. The base (index.amanat) holds the whole index
as of its last compaction; each save appends to the log (admin.vault_log)
one sealed record of only what it changed, so a save costs what it changed,
not what the vault holds. Opening reads the base, then the log's records in
order.

A save takes the vault's lock. Under it, it first reads the records other
commands appended since it last read, and merges them with its own changes
as admin.vault_lock.merge would (admin.vault_changes); then it appends its
record. When the log outgrows the base, the save compacts: the whole index
is sealed into a new base (atomically, crypto.private_files) and the log
removed.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from admin import vault_log
from admin.vault_changes import apply, diff, merge_theirs
from admin.vault_errors import DamagedVaultError, VaultError, WrongVaultKeyError
from admin.vault_lock import VaultBusyError, locked, merge
from crypto.envelope import Kind, open_bytes, seal_bytes
from crypto.errors import EnvelopeError, NotARecipientError
from crypto.keys import ReviewerKey
from crypto.private_files import write_private

INDEX_NAME = "index.amanat"
# Version 2: the base may have a log beside it. A build from before the log
# reads only version 1, so it refuses a vault that has one ("unknown version")
# instead of opening the base alone and losing the log's saves at its next
# save. A version-1 vault is read, and becomes version 2 at its first save.
INDEX_VERSION = 2
READABLE_VERSIONS = (1, 2)
COMPACT_MIN_BYTES = 256 * 1024  # below this the log is never compacted
COMPACT_FRACTION = 1.0  # compacted when the log is larger than this part of the base
# The large sections: a save compares only the entries admin.vault touched.
# Their entries change only through Vault's methods, which touch what they
# change; the VaultReports Vault hands out share their blob dicts with the
# index and are not to be changed in place.
TRACKED = ("reports", "manifests")
log = logging.getLogger(__name__)


def empty_index() -> dict[str, Any]:
    return {
        "v": INDEX_VERSION,
        "server_url": None,
        "proxy": None,
        "receipt_key": None,
        "cursor": None,
        "reports": {},
        "manifests": {},
        "pending_events": [],
    }


def open_sealed_json(sealed: bytes, key: ReviewerKey, what: Path, copies: int = 1) -> Any:
    """The JSON sealed (kind INDEX) to key in a vault file (a list of copies if copies > 1).

    Raises WrongVaultKeyError if it is sealed to another key and
    DamagedVaultError if it does not open or is not JSON.
    """
    try:
        content = open_bytes(sealed, key.box, Kind.INDEX).content
    except NotARecipientError as exc:
        raise WrongVaultKeyError(f"{what} belongs to another key file") from exc
    except EnvelopeError as exc:
        raise DamagedVaultError(f"{what} is damaged") from exc
    try:
        found = [json.loads(content.decode("utf-8")) for _ in range(copies)]
    except ValueError as exc:
        raise DamagedVaultError(f"{what} is unreadable") from exc
    return found if copies > 1 else found[0]


def to_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True).encode("utf-8")


def seal_json(value: Any, key: ReviewerKey) -> bytes:
    """value as JSON, sealed (kind INDEX) to the reviewer's own key."""
    return seal_content(to_json(value), key)


def seal_content(content: bytes, key: ReviewerKey) -> bytes:
    return seal_bytes(content, [key.box.public_key], Kind.INDEX)


@dataclass
class _Disk:
    """The index as the files on disk give it: two copies (one to work on, one kept as base)."""

    data: dict[str, Any]
    base: dict[str, Any]
    fingerprint: bytes
    base_size: int
    log: vault_log.LogRead


class IndexStore:
    """The index of one vault folder: the copy in memory and the sealed files on disk."""

    def __init__(self, folder: Path, key: ReviewerKey) -> None:
        self.folder = Path(folder)
        self.key = key  # what the next write is sealed to (a rekey changes it)
        self.path = self.folder / INDEX_NAME
        self.log_path = self.folder / vault_log.LOG_NAME
        self.data = empty_index()
        # What the files on disk hold as far as this process read or wrote them.
        self._base = empty_index()
        self._sealed_to = key
        self._fingerprint: bytes | None = None
        self._base_size = 0
        self._log = vault_log.LogRead()
        self._seq = 0
        self._touched: dict[str, set[str]] = {section: set() for section in TRACKED}

    def touch(self, section: str, key: str) -> None:
        """Note that an entry of a tracked section may have changed (see TRACKED)."""
        self._touched[section].add(key)

    def exists(self) -> bool:
        return self.path.exists()

    def load(self) -> None:
        """Read the base and the log. Raises WrongVaultKeyError or DamagedVaultError."""
        disk = self._read_disk()
        self._take(disk)
        self.data = disk.data

    def _take(self, disk: _Disk) -> None:
        self._base, self._fingerprint = disk.base, disk.fingerprint
        self._base_size, self._log, self._seq = disk.base_size, disk.log, len(disk.log.records)

    def _read_disk(self) -> _Disk:
        """Base and log as they are now (the log is read first: a compaction in
        between leaves records of the old base, which the new base holds)."""
        tail = vault_log.read_tail(self.log_path, 0)
        try:
            sealed = self.path.read_bytes()
        except OSError as exc:
            raise VaultError(f"cannot read the vault index {self.path}: {exc}") from exc
        fingerprint = vault_log.fingerprint(sealed)
        found = vault_log.parse_log(tail, 0, fingerprint, self.log_path)
        data, base = self._open_base(sealed)
        for seq, record in enumerate(found.records):
            mine, kept = self._open_record(record, fingerprint, seq)
            _apply_checked(data, mine, self.log_path)
            _apply_checked(base, kept, self.log_path)
        return _Disk(_sorted(data), _sorted(base), fingerprint, len(sealed), found)

    def _open_base(self, sealed: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
        try:
            copies = open_sealed_json(sealed, self._sealed_to, self.path, copies=2)
        except WrongVaultKeyError as exc:
            raise WrongVaultKeyError(
                f"the vault at {self.folder} belongs to another key file"
            ) from exc
        except DamagedVaultError as exc:
            raise DamagedVaultError(f"the vault index {exc}") from exc
        if any(not isinstance(c, dict) or c.get("v") not in READABLE_VERSIONS for c in copies):
            raise DamagedVaultError("the vault index has an unknown version")
        return {**empty_index(), **copies[0]}, {**empty_index(), **copies[1]}

    def _open_record(self, sealed: bytes, base: bytes, seq: int) -> tuple[list[Any], list[Any]]:
        """Two copies of the operations of log record seq (DamagedVaultError if it fails)."""
        try:
            copies = open_sealed_json(sealed, self._sealed_to, self.log_path, copies=2)
        except WrongVaultKeyError as exc:
            raise DamagedVaultError(f"the vault index log {self.log_path} is damaged") from exc
        return (
            vault_log.record_ops(copies[0], base, seq, self.log_path),
            vault_log.record_ops(copies[1], base, seq, self.log_path),
        )

    def save(self, wait: float | None) -> None:
        """Merge with what other commands saved meanwhile and append the changes, under the lock.

        Raises VaultError if another command holds the lock longer than wait
        seconds (None: admin.vault_lock's default), DamagedVaultError if what
        others saved does not open.
        """
        try:
            with locked(self.folder, wait):
                self._save_locked()
        except VaultBusyError as exc:
            raise VaultError(str(exc)) from exc

    def _save_locked(self) -> None:
        if not self.path.exists() or not self._catch_up() or self.key is not self._sealed_to:
            self._compact()
            return
        if self._base.get("v") != INDEX_VERSION:
            self.data["v"] = INDEX_VERSION  # before a log is written (see INDEX_VERSION)
            self._compact()
            return
        ops = diff(self._base, self.data, self._touched)
        if not ops:
            return  # nothing changed here: nothing written
        if self._log.stale:
            vault_log.discard(self.log_path)
            self._log, self._seq = vault_log.LogRead(), 0
        elif self._log.torn:
            log.warning(
                "%s: the last record was cut short (a save was interrupted); it is dropped",
                self.log_path,
            )
            write_private(self.log_path, self.log_path.read_bytes()[: self._log.end])
            self._log.torn = False
        self._append(ops)
        self._forget_touched()
        if self._log.end > max(COMPACT_MIN_BYTES, COMPACT_FRACTION * self._base_size):
            self._compact()

    def _catch_up(self) -> bool:
        """Bring in what others saved since this process read the disk.

        False when the disk cannot be merged with (sealed to another key now).
        """
        if self._fingerprint is None or (
            vault_log.base_fingerprint(self.path) != self._fingerprint
        ):
            return self._catch_up_whole()
        start = 0 if self._log.stale else self._log.end
        found = vault_log.read_log(self.log_path, start, self._fingerprint)
        if found.stale:
            self._log = found
            return True
        theirs = [
            self._open_record(r, self._fingerprint, self._seq + i)
            for i, r in enumerate(found.records)
        ]
        for mine, kept in theirs:
            try:
                merge_theirs(self._base, self.data, mine)
            except (ValueError, TypeError) as exc:
                raise DamagedVaultError(f"the vault index log {self.log_path} is damaged") from exc
            _apply_checked(self._base, kept, self.log_path)
        self._seq += len(theirs)
        self._log = vault_log.LogRead(end=found.end, torn=found.torn)
        return True

    def _catch_up_whole(self) -> bool:
        """Another command compacted: merge with the whole index on disk, as before the log."""
        try:
            disk = self._read_disk()
        except WrongVaultKeyError:
            return False  # re-keyed here or elsewhere: nothing to merge
        self.data = merge(self._base, self.data, disk.data)
        self._take(disk)
        return True

    def _append(self, ops: list[Any]) -> None:
        assert self._fingerprint is not None  # noqa: S101 - a base was read or written
        content = vault_log.record_content(self._fingerprint, self._seq, ops)
        sealed = seal_content(content, self.key)
        vault_log.append(self.log_path, vault_log.frame(self._fingerprint, sealed))
        apply(self._base, json.loads(content)["ops"])
        self._seq += 1
        self._log.end += vault_log.HEAD_BYTES + len(sealed)

    def _compact(self) -> None:
        """Seal the whole index into a new base and remove the log."""
        content = to_json(self.data)
        sealed = seal_content(content, self.key)
        write_private(self.path, sealed)
        vault_log.discard(self.log_path)
        self._base, self._sealed_to = json.loads(content), self.key
        self._fingerprint, self._base_size = vault_log.fingerprint(sealed), len(sealed)
        self._log, self._seq = vault_log.LogRead(), 0
        self._forget_touched()

    def _forget_touched(self) -> None:
        for keys in self._touched.values():
            keys.clear()


def _apply_checked(index: dict[str, Any], ops: list[Any], path: Path) -> None:
    try:
        apply(index, ops)
    except (ValueError, TypeError) as exc:
        raise DamagedVaultError(f"the vault index log {path} is damaged") from exc


def _sorted(index: dict[str, Any]) -> dict[str, Any]:
    """index with its keys, and each section's, in order, as a base just read has them."""
    return {
        key: dict(sorted(value.items())) if isinstance(value, dict) else value
        for key, value in sorted(index.items())
    }
