"""The vault's sealed index: what it holds, and how it is read and saved.

The index is JSON sealed (kind INDEX) to the reviewer's own box key, so
only their key file opens it. A save takes the vault's lock and merges
with what other commands saved meanwhile (admin.vault_lock) before it
writes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

from admin.listing_types import BlobListing, RecipientListing, ReportListing
from admin.vault_errors import DamagedVaultError, VaultError, WrongVaultKeyError
from admin.vault_lock import VaultBusyError, locked, merge, snapshot
from crypto.envelope import Kind, open_bytes, seal_bytes
from crypto.errors import EnvelopeError, NotARecipientError
from crypto.keys import ReviewerKey
from crypto.private_files import write_private

INDEX_NAME = "index.amanat"
INDEX_VERSION = 1


class ReportEntry(TypedDict):
    """A report in the index: the server's listing and the reviewer's read mark."""

    listing: ReportListing
    read: bool


class ManifestEntry(TypedDict):
    """A file's manifest (crypto.manifest.Manifest), cached once the file was opened."""

    filename: str
    content_type: str
    size: int
    sha256: str


class PendingEvent(TypedDict):
    """A case event that could not be posted yet (base64 of the envelope and signature)."""

    report_id: str
    envelope: str
    signature: str


class FormerKey(TypedDict):
    """The public half of a key the vault was sealed to before a rekey (base64)."""

    verify_key: str
    box_key: str


@dataclass(frozen=True)
class VaultReport:
    """A report as the vault knows it: the server's listing plus local flags."""

    id: str
    status: str
    created_day: str
    updated_day: str
    source_key: str
    recipients: list[RecipientListing]
    blobs: list[BlobListing]
    read: bool


class TextSetting:
    """A setting of the vault kept as text in its index (None when unset)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, vault: Any, owner: type | None = None) -> str | None:
        value = vault._index.get(self.name)
        return value if isinstance(value, str) else None

    def __set__(self, vault: Any, value: str | None) -> None:
        vault._index[self.name] = value


def make_report(report_id: str, entry: ReportEntry) -> VaultReport:
    listing = entry["listing"]
    return VaultReport(
        id=report_id,
        status=listing.get("status", ""),
        created_day=listing.get("created_day", ""),
        updated_day=listing.get("updated_day", ""),
        source_key=listing.get("source_key", ""),
        recipients=list(listing.get("recipients", [])),
        blobs=list(listing.get("blobs", [])),
        read=bool(entry.get("read")),
    )


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


def open_sealed_json(sealed: bytes, key: ReviewerKey, what: Path) -> Any:
    """The JSON sealed (kind INDEX) to key in a vault file.

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
        return json.loads(content.decode("utf-8"))
    except ValueError as exc:
        raise DamagedVaultError(f"{what} is unreadable") from exc


def seal_json(value: Any, key: ReviewerKey) -> bytes:
    """value as JSON, sealed (kind INDEX) to the reviewer's own key."""
    content = json.dumps(value, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return seal_bytes(content, [key.box.public_key], Kind.INDEX)


class IndexStore:
    """The index of one vault folder: the copy in memory and the sealed file on disk."""

    def __init__(self, folder: Path, key: ReviewerKey) -> None:
        self.folder = Path(folder)
        self.key = key
        self.path = self.folder / INDEX_NAME
        self.data = empty_index()
        self._base: dict[str, Any] = snapshot(self.data)
        self._loaded: str | None = None  # SHA-256 of the sealed index as last read or written

    def exists(self) -> bool:
        return self.path.exists()

    def load(self) -> None:
        """Read the index from disk. Raises WrongVaultKeyError or DamagedVaultError."""
        self.data, self._loaded = self._read()
        self._base = snapshot(self.data)

    def _read(self) -> tuple[dict[str, Any], str]:
        """The index on disk and the SHA-256 of its sealed file."""
        try:
            sealed = self.path.read_bytes()
        except OSError as exc:
            raise VaultError(f"cannot read the vault index {self.path}: {exc}") from exc
        try:
            index = open_sealed_json(sealed, self.key, self.path)
        except WrongVaultKeyError as exc:
            raise WrongVaultKeyError(
                f"the vault at {self.folder} belongs to another key file"
            ) from exc
        except DamagedVaultError as exc:
            raise DamagedVaultError(f"the vault index {exc}") from exc
        if not isinstance(index, dict) or index.get("v") != INDEX_VERSION:
            raise DamagedVaultError("the vault index has an unknown version")
        return {**empty_index(), **index}, hashlib.sha256(sealed).hexdigest()

    def save(self, wait: float | None) -> None:
        """Merge with what other commands saved meanwhile, seal, and write, under the lock.

        Raises VaultError if another command holds the lock longer than wait
        seconds (None: admin.vault_lock's default).
        """
        try:
            with locked(self.folder, wait):
                self._merge_and_write()
        except VaultBusyError as exc:
            raise VaultError(str(exc)) from exc

    def _merge_and_write(self) -> None:
        on_disk = self._disk_digest() if self.path.exists() else None
        if on_disk is not None and on_disk == self._loaded and self.data == self._base:
            return  # nothing changed here or elsewhere: no re-sealing
        if on_disk is not None and on_disk != self._loaded:
            try:
                theirs, _ = self._read()
            except WrongVaultKeyError:
                theirs = self.data  # re-keyed here or elsewhere: nothing to merge
            self.data = merge(self._base, self.data, theirs)
        sealed = seal_json(self.data, self.key)
        write_private(self.path, sealed)
        self._loaded = hashlib.sha256(sealed).hexdigest()
        self._base = snapshot(self.data)

    def _disk_digest(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()
