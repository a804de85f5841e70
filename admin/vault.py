"""The reviewer's local vault: ciphertext blobs and a sealed index, on their laptop.

Blobs are kept exactly as the server sent them (still sealed); the index that
says which report each belongs to is itself an envelope sealed to the
reviewer's own key (admin.vault_index). Nothing decrypted is ever written
here: what the blobs say is opened in memory when asked for
(admin.vault_contents), and what the reviewer sends is sealed and signed by
admin.vault_sealing.
"""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path
from typing import Any, cast

from admin import vault_contents, vault_sealing
from admin.listing_types import BlobListing, ReportListing
from admin.vault_blobs import BlobFolder
from admin.vault_contents import Entry, FileEntry
from admin.vault_errors import (
    DamagedVaultError,
    UnknownReportError,
    VaultError,
    WrongVaultKeyError,
    check_id,
)
from admin.vault_index import INDEX_NAME, IndexStore
from admin.vault_types import (
    FormerKey,
    ManifestEntry,
    PendingEvent,
    ReportEntry,
    TextSetting,
    VaultReport,
    make_report,
)
from crypto.encoding import from_b64, to_b64
from crypto.envelope import Kind, open_bytes
from crypto.errors import EnvelopeError
from crypto.keys import ReviewerKey
from crypto.manifest import FileOpener, Manifest


class Vault(BlobFolder):
    """A folder of sealed blobs and the sealed index that describes them."""

    server_url = TextSetting()
    proxy = TextSetting()
    receipt_key = TextSetting()  # the server's receipt key (base64) pinned at the first sync

    def __init__(self, path: Path, key: ReviewerKey) -> None:
        super().__init__(path)
        self.index_path = self.path / INDEX_NAME
        self._store = IndexStore(self.path, key)

    @classmethod
    def open(cls, path: Path, key: ReviewerKey) -> Vault:
        """Open the vault at path, creating it (owner-only) if it does not exist.

        Raises WrongVaultKeyError if the index belongs to another key and
        DamagedVaultError if it does not open.
        """
        vault = cls(path, key)
        for folder in (vault.path, vault.blobs_dir, vault.partial_dir):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if vault._store.exists():
            vault._store.load()
        else:
            vault.save()
        return vault

    # -- the index -----------------------------------------------------------

    @property
    def key(self) -> ReviewerKey:
        return self._store.key

    @property
    def _index(self) -> dict[str, Any]:
        return self._store.data

    @property
    def _reports(self) -> dict[str, ReportEntry]:
        return cast(dict[str, ReportEntry], self._index["reports"])

    @property
    def _manifests(self) -> dict[str, ManifestEntry]:
        return cast(dict[str, ManifestEntry], self._index["manifests"])

    def save(self) -> None:
        """Merge with what other commands saved meanwhile, seal, and save the index.

        Under the vault's lock (admin.vault_lock): a queued event, a status
        or a read mark saved by the console while a sync runs is kept.
        Raises VaultError if another command holds the lock too long.
        """
        self.save_with_wait(None)

    def save_with_wait(self, wait: float | None) -> None:
        """save(), waiting at most wait seconds for the lock (None: the default wait)."""
        self._store.save(wait)

    @property
    def cursor(self) -> int | None:
        """The last change number (GET /api/v1/reports?since=) the vault holds all of.

        None for a new vault, and for one made before the change sequence,
        which kept a day here: it lists everything once and then follows numbers.
        """
        value = self._index.get("cursor")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @cursor.setter
    def cursor(self, value: int | None) -> None:
        self._index["cursor"] = value

    # -- what sync puts in ---------------------------------------------------

    def merge_report(self, listing: ReportListing) -> None:
        """Record the server's (already checked) listing of a report, keeping local flags.

        A report that gained a blob from the source since it was read is unread again.
        """
        report_id = check_id(listing["id"], "report id")
        old = self._reports.get(report_id)
        read = bool(old and old.get("read"))
        if old:
            known = {b["id"] for b in old["listing"]["blobs"]}
            if any(b["id"] not in known and b["author"] == "source" for b in listing["blobs"]):
                read = False
            # Keep blobs the server no longer lists (it may have deleted them).
            listed = {b["id"] for b in listing["blobs"]}
            kept = [b for b in old["listing"]["blobs"] if b["id"] not in listed]
            listing = {**listing, "blobs": kept + list(listing["blobs"])}
        self._reports[report_id] = {"listing": listing, "read": read}
        self._store.touch("reports", report_id)

    def add_blob_listing(self, report_id: str, blob: BlobListing) -> None:
        """Add one blob (a reply just posted) to a report's listing."""
        entry = self._changing(report_id)
        blobs = [b for b in entry["listing"]["blobs"] if b["id"] != blob["id"]]
        entry["listing"]["blobs"] = [*blobs, blob]

    def set_status(self, report_id: str, status: str) -> None:
        self._changing(report_id)["listing"]["status"] = status

    # -- what the reviewer reads ---------------------------------------------

    def _entry(self, report_id: str) -> ReportEntry:
        entry = self._reports.get(report_id)
        if entry is None:
            raise UnknownReportError(report_id)
        return entry

    def _changing(self, report_id: str) -> ReportEntry:
        """The entry of a report about to be changed in place (the next save compares it)."""
        entry = self._entry(report_id)
        self._store.touch("reports", report_id)
        return entry

    def reports(self) -> list[VaultReport]:
        """Every report in the vault: unread first, then the most recently changed."""
        reports = [make_report(i, e) for i, e in self._reports.items()]
        reports.sort(key=lambda r: (r.updated_day, r.created_day), reverse=True)
        reports.sort(key=lambda r: r.read)
        return reports

    def listing(self, report_id: str) -> ReportListing:
        """A copy of the server's listing of the report, as sync checked and kept it."""
        return copy.deepcopy(self._entry(report_id)["listing"])

    def report(self, report_id: str) -> VaultReport:
        """The report with this id; raises UnknownReportError if the vault does not hold it."""
        return make_report(report_id, self._entry(report_id))

    def _blob(self, blob_id: str) -> tuple[str, BlobListing]:
        for report_id, entry in self._reports.items():
            for blob in entry["listing"]["blobs"]:
                if blob["id"] == blob_id:
                    return report_id, blob
        raise UnknownReportError(blob_id, "file")

    def blob_kind(self, blob_id: str) -> str:
        """The kind of a listed blob ("file", "reply", ...); UnknownReportError if none."""
        return str(self._blob(blob_id)[1]["kind"])

    def answers(self, report_id: str) -> dict[str, Any]:
        """The source's questionnaire answers, opened in memory."""
        return vault_contents.answers(self, report_id)

    def conversation(self, report_id: str) -> list[Entry]:
        """The source's follow-ups and reviewers' replies, oldest first, opened in memory."""
        return vault_contents.conversation(self, report_id)

    def mark_resealed(self, blob_id: str, sha256: str) -> None:
        """Record that blob_id was re-sealed to a new key and now has this SHA-256."""
        self._index.setdefault("resealed", {})[check_id(blob_id, "blob id")] = sha256

    def resealed_digest(self, blob_id: str) -> str | None:
        value = self._index.setdefault("resealed", {}).get(blob_id)
        return value if isinstance(value, str) else None

    def former_keys(self) -> list[FormerKey]:
        """The public halves of the keys the vault was sealed to before (admin.rekey)."""
        return cast(list[FormerKey], self._index.setdefault("former_keys", []))

    def former_verify_keys(self) -> set[str]:
        return {k["verify_key"] for k in self.former_keys()}

    def rekey(self, new_key: ReviewerKey) -> None:
        """Seal the index to new_key from now on, and keep the old key's public half as former.

        Replies are never again sealed to the old key, and the reviewer's
        replies signed with it still show as theirs. Saves the index.
        """
        old: FormerKey = {
            "verify_key": to_b64(bytes(self.key.signing.verify_key)),
            "box_key": to_b64(bytes(self.key.box.public_key)),
        }
        if old not in self.former_keys():
            self.former_keys().append(old)
        self._store.key = new_key
        self.save()

    def files(self, report_id: str) -> list[FileEntry]:
        """The report's evidence files (ciphertext facts; the manifest once it is cached)."""
        return vault_contents.files(self, report_id)

    def open_file(self, blob_id: str) -> FileOpener:
        """A streaming opener for a file; its chunks() closes the vault file when done.

        As with any FileOpener, output is proven whole only when chunks() ends
        without raising: on an exception, discard everything streamed.
        """
        return vault_contents.open_file(self, blob_id)

    def manifest(self, blob_id: str, *, save: bool = True) -> Manifest:
        """Decrypt the file once (discarding the output) to learn and cache its manifest."""
        manifest = self.manifest_if_known(blob_id)
        if manifest is None:
            manifest = vault_contents.read_manifest(self, blob_id)
            self._remember_manifest(blob_id, manifest, save)
        return manifest

    def export_file(self, blob_id: str, out: Path) -> Manifest:
        """Decrypt a file to out; out appears only if the whole file verifies."""
        manifest = vault_contents.export_file(self, blob_id, out)
        self._remember_manifest(blob_id, manifest)
        return manifest

    def _remember_manifest(self, blob_id: str, manifest: Manifest, save: bool = True) -> None:
        if self._manifests.get(blob_id) != manifest.__dict__:
            self._manifests[blob_id] = cast(ManifestEntry, dict(manifest.__dict__))
            self._store.touch("manifests", blob_id)
            if save:
                self.save()

    def learn_manifests(self, blob_ids: list[str]) -> dict[str, Manifest]:
        """The manifests of many files, learnt in bulk and the index saved once.

        Re-sealing the whole index for each new manifest made opening the
        details of 1,000 files run at 21 files/s. Raises DamagedVaultError
        or VaultError as manifest() does (what was learnt before is kept).
        """
        found: dict[str, Manifest] = {}
        known = len(self._manifests)
        try:
            for blob_id in blob_ids:
                found[blob_id] = self.manifest(blob_id, save=False)
        finally:
            if len(self._manifests) != known:
                self.save()
        return found

    def manifest_if_known(self, blob_id: str) -> Manifest | None:
        """The cached manifest of a file, without decrypting anything."""
        cached = self._manifests.get(blob_id)
        return Manifest(**cached) if cached is not None else None

    # -- what the reviewer does ----------------------------------------------

    def mark_read(self, report_id: str) -> None:
        """Mark a report read and save the index. Raises KeyError if absent."""
        entry = self._changing(report_id)
        if not entry.get("read"):
            entry["read"] = True
            self.save()

    def seal_reply(self, report_id: str, text: str) -> tuple[bytes, bytes]:
        """Seal a reply to the source and every reviewer of the report, and sign it.

        Returns (envelope, signature) as POST /api/v1/reports/<id>/replies takes them.
        """
        return vault_sealing.seal_reply(self, report_id, text)

    # -- case events ---------------------------------------------------------

    def seal_event(self, report_id: str, content: bytes) -> tuple[bytes, bytes]:
        """Seal a case event to every reviewer of the report (never the source), and sign it.

        Returns (envelope, signature) as POST /api/v1/reports/<id>/events takes them.
        """
        return vault_sealing.seal_event(self, report_id, content)

    def event_blobs(self, report_id: str) -> list[BlobListing]:
        """The listing entries of the report's case events (present in the vault or not)."""
        return [b for b in self.report(report_id).blobs if b["kind"] == "event"]

    def open_event(self, blob_id: str) -> bytes:
        """An event's content, opened in memory; raise DamagedVaultError if it does not open."""
        try:
            return open_bytes(self.read_blob(blob_id), self.key.box, Kind.EVENT).content
        except EnvelopeError as exc:
            raise DamagedVaultError(f"event {blob_id} does not open with this key") from exc

    @property
    def _pending(self) -> list[PendingEvent]:
        return cast(list[PendingEvent], self._index["pending_events"])

    def queue_event(self, report_id: str, envelope: bytes, signature: bytes) -> None:
        """Keep an event that could not be posted (server unreachable) until the next sync."""
        self._entry(report_id)
        self._pending.append(
            {"report_id": report_id, "envelope": to_b64(envelope), "signature": to_b64(signature)}
        )
        self.save()

    def pending_events(self, report_id: str | None = None) -> list[tuple[str, bytes, bytes]]:
        """Events waiting to be posted, oldest first: (report id, envelope, signature)."""
        return [
            (p["report_id"], from_b64(p["envelope"]), from_b64(p["signature"]))
            for p in self._pending
            if report_id is None or p["report_id"] == report_id
        ]

    def drop_pending_event(self, envelope: bytes) -> None:
        """Forget a queued event once the server has stored it (the caller saves)."""
        encoded = to_b64(envelope)
        self._index["pending_events"] = [p for p in self._pending if p["envelope"] != encoded]

    def keep_posted_blob(self, report_id: str, blob: BlobListing, envelope: bytes) -> bool:
        """Keep a blob this machine posted, if the server's (checked) answer describes it.

        Return False, keeping nothing, when the answer's SHA-256 is not the envelope's.
        """
        if blob["sha256"] != hashlib.sha256(envelope).hexdigest():
            return False
        if not self.has_blob(blob["id"]):
            self.add_blob_listing(report_id, blob)
            self.store_blob(blob["id"], envelope)
        return True

    def blob_report(self, blob_id: str) -> str:
        """The id of the report a blob belongs to; KeyError if the vault lists no such blob."""
        return self._blob(blob_id)[0]

    def section(self, name: str) -> dict[str, Any]:
        """A named part of the index another module keeps (admin.roster); saved with it."""
        part: dict[str, Any] = self._index.setdefault(name, {})
        return part

    def acknowledged(self) -> set[str]:
        """Blob ids the server has counted as held here, or refused for good (admin.acks)."""
        return set(self._index.setdefault("acked", []))

    def mark_acknowledged(self, counted: list[str], refused: list[str]) -> None:
        """Remember blobs acknowledged (or refused by the server) so they are not sent again."""
        known = self._index.setdefault("acked", [])
        known += [b for b in dict.fromkeys([*counted, *refused]) if b not in set(known)]


__all__ = [
    "INDEX_NAME",
    "DamagedVaultError",
    "Entry",
    "FileEntry",
    "UnknownReportError",
    "Vault",
    "VaultError",
    "VaultReport",
    "WrongVaultKeyError",
    "check_id",
]
