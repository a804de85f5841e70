"""The shapes of what the vault's index stores, and the report a reader gets from it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict

from admin.listing_types import BlobListing, RecipientListing, ReportListing


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
    """A report as the vault knows it: the server's listing plus local flags.

    Its recipients and blobs are the index's own dicts: read them, never
    change them in place (Vault.add_blob_listing changes a blob).
    """

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
