"""The reviewer's local vault: ciphertext blobs and a sealed index, on their laptop.

Blobs are kept exactly as the server sent them (still sealed); the index that
says which report each belongs to is itself an envelope sealed to the
reviewer's own key. Nothing decrypted is ever written here: answers,
messages and replies are opened in memory when asked for, and files are
streamed to the caller or exported only where the reviewer says.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from nacl.public import PublicKey
from nacl.signing import VerifyKey

from admin import roster
from admin.listing_types import BlobListing, RecipientListing, ReportListing
from admin.vault_lock import VaultBusyError, locked, merge, snapshot
from crypto.envelope import Kind, open_bytes, seal_bytes
from crypto.errors import BadSignatureError, EnvelopeError, NotARecipientError
from crypto.events import sign_event
from crypto.keys import ReviewerKey
from crypto.manifest import FileOpener, Manifest
from crypto.manifest import export_file as _export_file
from crypto.private_files import fsync_dir
from crypto.replies import sign_reply, verify_reply

INDEX_NAME = "index.amanat"
INDEX_VERSION = 1
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_COPY_CHUNK = 64 * 1024
NOT_A_REVIEWER = "signed by a key that is not one of this report's reviewers"


class VaultError(Exception):
    """The vault cannot be used as asked; the message is meant for the reviewer."""


class UnknownReportError(KeyError):
    """The vault holds no report, or no file, with this id.

    A KeyError by inheritance only so that older callers keep working; catch
    this class, never a bare KeyError, to mean "no such report".
    """

    def __init__(self, item_id: str, what: str = "report") -> None:
        super().__init__(item_id)
        self.item_id = item_id
        self.what = what

    def __str__(self) -> str:
        return f"The vault holds no {self.what} {self.item_id}."


class WrongVaultKeyError(VaultError):
    """The vault index is sealed to another reviewer's key."""


class DamagedVaultError(VaultError):
    """The vault index or a blob in it does not open."""


def check_id(value: object, what: str = "id") -> str:
    """Return value if it is a safe server id (also usable as a file name); raise VaultError."""
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise VaultError(f"the server sent an invalid {what}: {str(value)[:80]!r}")
    return value


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


@dataclass(frozen=True)
class Entry:
    """One message of a conversation, opened in memory.

    text is None when the blob is not in the vault or does not open; for a
    reviewer's reply, verified is False when its signature does not hold, and
    its text must then not be presented as that reviewer's.
    """

    blob_id: str
    kind: str  # "message" (from the source) or "reply" (from a reviewer)
    author: str  # "source" or "reviewer"
    day: str
    text: str | None
    verified: bool
    author_name: str | None = None
    problem: str | None = None
    # For a reply, what the organisation's roster says of its author
    # (admin.roster.Author.status): "roster", "unlisted", "revoked",
    # "not_on_roster"; "bad_signature" when the signature fails.
    author_check: str | None = None


@dataclass(frozen=True)
class FileEntry:
    """An evidence file: what the listing says of its ciphertext, and the manifest once known."""

    blob_id: str
    size: int
    sha256: str
    day: str
    author: str
    present: bool
    manifest: Manifest | None = None


class _ClosingFileOpener(FileOpener):
    """A FileOpener that closes the vault file it reads once chunks() ends."""

    def __init__(self, src: BinaryIO, key: ReviewerKey) -> None:
        self._file = src
        try:
            super().__init__(src, key.box)
        except BaseException:
            src.close()
            raise

    def chunks(self):  # type: ignore[no-untyped-def]
        try:
            yield from super().chunks()
        finally:
            self._file.close()

    def close(self) -> None:
        self._file.close()


def _empty_index() -> dict[str, Any]:
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


class Vault:
    """A folder of sealed blobs and the sealed index that describes them."""

    def __init__(self, path: Path, key: ReviewerKey) -> None:
        self.path = Path(path)
        self.key = key
        self.blobs_dir = self.path / "blobs"
        self.partial_dir = self.path / "partial"
        self.index_path = self.path / INDEX_NAME
        self._index = _empty_index()
        self._base: dict[str, Any] = snapshot(self._index)
        self._loaded: str | None = None  # SHA-256 of the sealed index as last read or written

    @classmethod
    def open(cls, path: Path, key: ReviewerKey) -> Vault:
        """Open the vault at path, creating it (owner-only) if it does not exist.

        Raises WrongVaultKeyError if the index belongs to another key and
        DamagedVaultError if it does not open.
        """
        vault = cls(path, key)
        for folder in (vault.path, vault.blobs_dir, vault.partial_dir):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if vault.index_path.exists():
            vault._load()
        else:
            vault.save()
        return vault

    # -- the index -----------------------------------------------------------

    def _load(self) -> None:
        self._index, self._loaded = self._read_index()
        self._base = snapshot(self._index)

    def _read_index(self) -> tuple[dict[str, Any], str]:
        """The index on disk and the SHA-256 of its sealed file."""
        try:
            sealed = self.index_path.read_bytes()
        except OSError as exc:
            raise VaultError(f"cannot read the vault index {self.index_path}: {exc}") from exc
        try:
            content = open_bytes(sealed, self.key.box, Kind.INDEX).content
        except NotARecipientError as exc:
            raise WrongVaultKeyError(
                f"the vault at {self.path} belongs to another key file"
            ) from exc
        except EnvelopeError as exc:
            raise DamagedVaultError(f"the vault index {self.index_path} is damaged") from exc
        try:
            index = json.loads(content.decode("utf-8"))
        except ValueError as exc:
            raise DamagedVaultError(f"the vault index {self.index_path} is unreadable") from exc
        if not isinstance(index, dict) or index.get("v") != INDEX_VERSION:
            raise DamagedVaultError("the vault index has an unknown version")
        return {**_empty_index(), **index}, hashlib.sha256(sealed).hexdigest()

    def save(self) -> None:
        """Merge with what other commands saved meanwhile, seal, and replace the index.

        Under the vault's lock (admin.vault_lock): a queued event, a status
        or a read mark saved by the console while a sync runs is kept.
        Raises VaultError if another command holds the lock too long.
        """
        self.save_with_wait(None)

    def save_with_wait(self, wait: float | None) -> None:
        """save(), waiting at most wait seconds for the lock (None: the default wait)."""
        try:
            with locked(self.path, wait):
                self._merge_and_write()
        except VaultBusyError as exc:
            raise VaultError(str(exc)) from exc

    def _merge_and_write(self) -> None:
        on_disk = self._disk_digest() if self.index_path.exists() else None
        if on_disk is not None and on_disk == self._loaded and self._index == self._base:
            return  # nothing changed here or elsewhere: no re-sealing
        if on_disk is not None and on_disk != self._loaded:
            try:
                theirs, _ = self._read_index()
            except WrongVaultKeyError:
                theirs = self._index  # re-keyed here or elsewhere: nothing to merge
            self._index = merge(self._base, self._index, theirs)
        self._loaded = self._write_index()
        self._base = snapshot(self._index)

    def _disk_digest(self) -> str:
        return hashlib.sha256(self.index_path.read_bytes()).hexdigest()

    def _write_index(self) -> str:
        content = json.dumps(self._index, ensure_ascii=False, sort_keys=True).encode("utf-8")
        sealed = seal_bytes(content, [self.key.box.public_key], Kind.INDEX)
        tmp = self.path / f".{INDEX_NAME}.{os.urandom(6).hex()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(sealed)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.index_path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        fsync_dir(self.path)
        return hashlib.sha256(sealed).hexdigest()

    @property
    def server_url(self) -> str | None:
        value = self._index.get("server_url")
        return value if isinstance(value, str) else None

    @server_url.setter
    def server_url(self, value: str | None) -> None:
        self._index["server_url"] = value

    @property
    def proxy(self) -> str | None:
        value = self._index.get("proxy")
        return value if isinstance(value, str) else None

    @proxy.setter
    def proxy(self, value: str | None) -> None:
        self._index["proxy"] = value

    @property
    def receipt_key(self) -> str | None:
        """The server's receipt key (base64) pinned at the first sync."""
        value = self._index.get("receipt_key")
        return value if isinstance(value, str) else None

    @receipt_key.setter
    def receipt_key(self, value: str) -> None:
        self._index["receipt_key"] = value

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
        old = self._index["reports"].get(report_id)
        read = bool(old and old.get("read"))
        if old:
            known = {b["id"] for b in old["listing"]["blobs"]}
            if any(b["id"] not in known and b["author"] == "source" for b in listing["blobs"]):
                read = False
            # Keep blobs the server no longer lists (it may have deleted them).
            listed = {b["id"] for b in listing["blobs"]}
            kept = [b for b in old["listing"]["blobs"] if b["id"] not in listed]
            listing = {**listing, "blobs": kept + list(listing["blobs"])}
        self._index["reports"][report_id] = {"listing": listing, "read": read}

    def add_blob_listing(self, report_id: str, blob: BlobListing) -> None:
        """Add one blob (a reply just posted) to a report's listing."""
        entry = self._entry(report_id)
        blobs = [b for b in entry["listing"]["blobs"] if b["id"] != blob["id"]]
        entry["listing"]["blobs"] = [*blobs, blob]

    def set_status(self, report_id: str, status: str) -> None:
        self._entry(report_id)["listing"]["status"] = status

    def blob_path(self, blob_id: str) -> Path:
        return self.blobs_dir / check_id(blob_id, "blob id")

    def partial_path(self, blob_id: str) -> Path:
        return self.partial_dir / check_id(blob_id, "blob id")

    def has_blob(self, blob_id: str) -> bool:
        return self.blob_path(blob_id).is_file()

    def accept_blob(self, blob_id: str, *, sync_dir: bool = True) -> None:
        """Move a verified download from partial/ into blobs/.

        With sync_dir=False the caller calls commit_accepted() after a batch:
        one directory fsync for many blobs.
        """
        os.replace(self.partial_path(blob_id), self.blob_path(blob_id))
        if sync_dir:
            fsync_dir(self.blobs_dir)

    def commit_accepted(self) -> None:
        """Make the moves of accept_blob(sync_dir=False) durable."""
        fsync_dir(self.blobs_dir)

    def store_blob(self, blob_id: str, data: bytes) -> None:
        """Write a blob this machine made (a reply), the same way a download lands."""
        partial = self.partial_path(blob_id)
        with open(partial, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        self.accept_blob(blob_id)

    # -- what the reviewer reads ---------------------------------------------

    def _entry(self, report_id: str) -> dict[str, Any]:
        entry: dict[str, Any] | None = self._index["reports"].get(report_id)
        if entry is None:
            raise UnknownReportError(report_id)
        return entry

    def _make_report(self, report_id: str, entry: dict[str, Any]) -> VaultReport:
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

    def reports(self) -> list[VaultReport]:
        """Every report in the vault: unread first, then the most recently changed."""
        reports = [self._make_report(i, e) for i, e in self._index["reports"].items()]
        reports.sort(key=lambda r: (r.updated_day, r.created_day), reverse=True)
        reports.sort(key=lambda r: r.read)
        return reports

    def listing(self, report_id: str) -> dict[str, Any]:
        """A copy of the server's listing of the report, as sync checked and kept it."""
        return copy.deepcopy(self._entry(report_id)["listing"])

    def report(self, report_id: str) -> VaultReport:
        """The report with this id; raises UnknownReportError if the vault does not hold it."""
        return self._make_report(report_id, self._entry(report_id))

    def _blob(self, blob_id: str) -> tuple[str, dict[str, Any]]:
        for report_id, entry in self._index["reports"].items():
            for blob in entry["listing"]["blobs"]:
                if blob["id"] == blob_id:
                    return report_id, blob
        raise UnknownReportError(blob_id, "file")

    def _read_blob(self, blob_id: str) -> bytes:
        try:
            return self.blob_path(blob_id).read_bytes()
        except FileNotFoundError as exc:
            raise VaultError(f"blob {blob_id} is not in the vault yet; run sync") from exc

    def answers(self, report_id: str) -> dict[str, Any]:
        """The source's questionnaire answers, opened in memory."""
        report = self.report(report_id)
        blob = next((b for b in report.blobs if b["kind"] == "answers"), None)
        if blob is None:
            raise VaultError(f"report {report_id} has no answers")
        try:
            content = open_bytes(self._read_blob(blob["id"]), self.key.box, Kind.REPORT).content
            answers = json.loads(content.decode("utf-8"))
        except EnvelopeError as exc:
            raise DamagedVaultError(f"the answers of report {report_id} do not open") from exc
        except ValueError as exc:
            raise DamagedVaultError(f"the answers of report {report_id} are unreadable") from exc
        if not isinstance(answers, dict):
            raise DamagedVaultError(f"the answers of report {report_id} are unreadable")
        return answers

    def conversation(self, report_id: str) -> list[Entry]:
        """The source's follow-ups and reviewers' replies, oldest first, opened in memory."""
        report = self.report(report_id)
        reviewers = {r.get("verify_key"): r.get("name") for r in report.recipients}
        entries: list[Entry] = []
        for blob in report.blobs:
            if blob["kind"] == "message":
                entries.append(self._message(blob, Kind.MESSAGE))
            elif blob["kind"] == "reply":
                entries.append(self._reply(report_id, blob, reviewers))
        entries.sort(key=lambda e: e.day)  # stable: same-day entries keep the server's order
        return entries

    def _open_text(self, blob: BlobListing, kind: Kind) -> tuple[str | None, str | None]:
        if not self.has_blob(blob["id"]):
            return None, "not in the vault yet (run sync)"
        try:
            content = open_bytes(self._read_blob(blob["id"]), self.key.box, kind).content
            return content.decode("utf-8"), None
        except (EnvelopeError, UnicodeDecodeError):
            return None, "does not open with this key (damaged or not sealed to you)"

    def _message(self, blob: BlobListing, kind: Kind) -> Entry:
        text, problem = self._open_text(blob, kind)
        return Entry(
            blob_id=blob["id"],
            kind=blob["kind"],
            author=blob.get("author", "source"),
            day=blob.get("created_day", ""),
            text=text,
            verified=problem is None,
            problem=problem,
        )

    def _reply(self, report_id: str, blob: BlobListing, reviewers: dict[Any, Any]) -> Entry:
        entry = self._message(blob, Kind.REPLY)
        if entry.text is None:
            return entry
        author_key = blob.get("author_key")
        own_keys = {_b64(bytes(self.key.signing.verify_key)), *self.former_verify_keys()}
        author = roster.author_of(self, author_key, blob["id"])
        if author.status == "unlisted" and author_key not in own_keys | set(reviewers):
            author = roster.Author("not_on_roster", None, NOT_A_REVIEWER)
        if not author.trusted:
            return _unverified(entry, author.problem, author.status, author.label)
        try:
            verify_reply(
                VerifyKey(_unb64(author_key)),
                report_id,
                self._signed_digest(blob),
                _unb64(blob.get("signature")),
            )
        except (BadSignatureError, ValueError, TypeError, binascii.Error):
            problem = "the reviewer's signature does not verify"
            return _unverified(entry, problem, "bad_signature", author.label)
        name = author.label or (self.key.name if author_key in own_keys else None)
        name = name or reviewers.get(author_key)
        return Entry(**{**entry.__dict__, "author_name": name, "author_check": author.status})

    def _signed_digest(self, blob: BlobListing) -> str:
        """The SHA-256 a reply's signature covers: the ciphertext as the server received it.

        A blob re-sealed to a new key (admin.rekey) is no longer those bytes;
        if it is still the file the re-sealing wrote, the digest the server's
        receipt vouched for at sync stands in for it.
        """
        digest = hashlib.sha256(self._read_blob(blob["id"])).hexdigest()
        if self._index.setdefault("resealed", {}).get(blob["id"]) == digest:
            return str(blob["sha256"])
        return digest

    def mark_resealed(self, blob_id: str, sha256: str) -> None:
        """Record that blob_id was re-sealed to a new key and now has this SHA-256."""
        self._index.setdefault("resealed", {})[check_id(blob_id, "blob id")] = sha256

    def resealed_digest(self, blob_id: str) -> str | None:
        value = self._index.setdefault("resealed", {}).get(blob_id)
        return value if isinstance(value, str) else None

    def former_verify_keys(self) -> set[str]:
        return {k["verify_key"] for k in self._index.setdefault("former_keys", [])}

    def rekey(self, new_key: ReviewerKey) -> None:
        """Seal the index to new_key from now on, and keep the old key's public half as former.

        Replies are never again sealed to the old key, and the reviewer's
        replies signed with it still show as theirs. Saves the index.
        """
        old = {
            "verify_key": _b64(bytes(self.key.signing.verify_key)),
            "box_key": _b64(bytes(self.key.box.public_key)),
        }
        if old not in self._index.setdefault("former_keys", []):
            self._index.setdefault("former_keys", []).append(old)
        self.key = new_key
        self.save()

    def files(self, report_id: str) -> list[FileEntry]:
        """The report's evidence files (ciphertext facts; the manifest once it is cached)."""
        report = self.report(report_id)
        manifests = self._index["manifests"]
        return [
            FileEntry(
                blob_id=b["id"],
                size=b["size"],
                sha256=b["sha256"],
                day=b.get("created_day", ""),
                author=b.get("author", "source"),
                present=self.has_blob(b["id"]),
                manifest=Manifest(**manifests[b["id"]]) if b["id"] in manifests else None,
            )
            for b in report.blobs
            if b["kind"] == "file"
        ]

    def _file_blob(self, blob_id: str) -> None:
        _, blob = self._blob(check_id(blob_id, "blob id"))
        if blob["kind"] != "file":
            raise VaultError(f"blob {blob_id} is not a file")

    def open_file(self, blob_id: str) -> FileOpener:
        """A streaming opener for a file; its chunks() closes the vault file when done.

        As with any FileOpener, output is proven whole only when chunks() ends
        without raising: on an exception, discard everything streamed.
        """
        self._file_blob(blob_id)
        try:
            src = open(self.blob_path(blob_id), "rb")  # noqa: SIM115 - closed by the opener
        except FileNotFoundError as exc:
            raise VaultError(f"file {blob_id} is not in the vault yet; run sync") from exc
        try:
            return _ClosingFileOpener(src, self.key)
        except EnvelopeError as exc:
            raise DamagedVaultError(f"file {blob_id} does not open with this key") from exc

    def manifest(self, blob_id: str, *, save: bool = True) -> Manifest:
        """Decrypt the file once (discarding the output) to learn and cache its manifest."""
        cached = self._index["manifests"].get(blob_id)
        if cached is not None:
            return Manifest(**cached)
        opener = self.open_file(blob_id)
        try:
            for _ in opener.chunks():
                pass
        except EnvelopeError as exc:
            raise DamagedVaultError(f"file {blob_id} is damaged: {exc}") from exc
        assert opener.manifest is not None  # noqa: S101 - chunks() sets it when it ends
        self._remember_manifest(blob_id, opener.manifest, save)
        return opener.manifest

    def export_file(self, blob_id: str, out: Path) -> Manifest:
        """Decrypt a file to out; out appears only if the whole file verifies."""
        self._file_blob(blob_id)
        try:
            with open(self.blob_path(blob_id), "rb") as src:
                manifest = _export_file(src, Path(out), self.key.box)
        except FileNotFoundError as exc:
            raise VaultError(f"file {blob_id} is not in the vault yet; run sync") from exc
        except EnvelopeError as exc:
            raise DamagedVaultError(f"file {blob_id} is damaged: {exc}") from exc
        self._remember_manifest(blob_id, manifest)
        return manifest

    def _remember_manifest(self, blob_id: str, manifest: Manifest, save: bool = True) -> None:
        if self._index["manifests"].get(blob_id) != manifest.__dict__:
            self._index["manifests"][blob_id] = dict(manifest.__dict__)
            if save:
                self.save()

    def learn_manifests(self, blob_ids: list[str]) -> dict[str, Manifest]:
        """The manifests of many files, learnt in bulk and the index saved once.

        Re-sealing the whole index for each new manifest made opening the
        details of 1,000 files run at 21 files/s. Raises DamagedVaultError
        or VaultError as manifest() does (what was learnt before is kept).
        """
        found: dict[str, Manifest] = {}
        known = len(self._index["manifests"])
        try:
            for blob_id in blob_ids:
                found[blob_id] = self.manifest(blob_id, save=False)
        finally:
            if len(self._index["manifests"]) != known:
                self.save()
        return found

    # -- what the reviewer does ----------------------------------------------

    def mark_read(self, report_id: str) -> None:
        """Mark a report read and save the index. Raises KeyError if absent."""
        entry = self._entry(report_id)
        if not entry.get("read"):
            entry["read"] = True
            self.save()

    def seal_reply(self, report_id: str, text: str) -> tuple[bytes, bytes]:
        """Seal a reply to the source and every reviewer of the report, and sign it.

        Returns (envelope, signature) as POST /api/v1/reports/<id>/replies takes them.
        """
        report = self.report(report_id)
        try:
            keys = [_unb64(report.source_key), *self._colleague_box_keys(report)]
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            raise VaultError(f"report {report_id} has a malformed key in its listing") from exc
        former = {_unb64(k["box_key"]) for k in self._index.setdefault("former_keys", [])}
        keys = [k for k in keys if k not in former]
        keys.append(bytes(self.key.box.public_key))
        unique = list(dict.fromkeys(k for k in keys if len(k) == 32))
        if len(unique) != len(set(keys)):
            raise VaultError(f"report {report_id} has a malformed key in its listing")
        envelope = seal_bytes(text.encode("utf-8"), [PublicKey(k) for k in unique], Kind.REPLY)
        digest = hashlib.sha256(envelope).hexdigest()
        return envelope, sign_reply(self.key.signing, report_id, digest)

    # -- case events ---------------------------------------------------------

    def seal_event(self, report_id: str, content: bytes) -> tuple[bytes, bytes]:
        """Seal a case event to every reviewer of the report (never the source), and sign it.

        Returns (envelope, signature) as POST /api/v1/reports/<id>/events takes them.
        """
        report = self.report(report_id)
        try:
            keys = self._colleague_box_keys(report)
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            raise VaultError(f"report {report_id} has a malformed key in its listing") from exc
        keys.append(bytes(self.key.box.public_key))
        if any(len(k) != 32 for k in keys):
            raise VaultError(f"report {report_id} has a malformed key in its listing")
        unique = list(dict.fromkeys(keys))
        envelope = seal_bytes(content, [PublicKey(k) for k in unique], Kind.EVENT)
        digest = hashlib.sha256(envelope).hexdigest()
        return envelope, sign_event(self.key.signing, report_id, digest)

    def _colleague_box_keys(self, report: VaultReport) -> list[bytes]:
        """The listed recipients' box keys that the pinned roster approves (all without one).

        A key the server lists but the organisation never approved gets
        nothing new (admin.roster).
        """
        approved = roster.sealing_keys(self, report)
        if approved is not None:
            return approved
        return [_unb64(r["box_key"]) for r in report.recipients]

    def event_blobs(self, report_id: str) -> list[BlobListing]:
        """The listing entries of the report's case events (present in the vault or not)."""
        return [b for b in self.report(report_id).blobs if b["kind"] == "event"]

    def read_blob(self, blob_id: str) -> bytes:
        """The ciphertext of a blob held in the vault; raise VaultError if it is not there."""
        return self._read_blob(blob_id)

    def open_event(self, blob_id: str) -> bytes:
        """An event's content, opened in memory; raise DamagedVaultError if it does not open."""
        try:
            return open_bytes(self._read_blob(blob_id), self.key.box, Kind.EVENT).content
        except EnvelopeError as exc:
            raise DamagedVaultError(f"event {blob_id} does not open with this key") from exc

    def queue_event(self, report_id: str, envelope: bytes, signature: bytes) -> None:
        """Keep an event that could not be posted (server unreachable) until the next sync."""
        self._entry(report_id)
        self._index["pending_events"].append(
            {"report_id": report_id, "envelope": _b64(envelope), "signature": _b64(signature)}
        )
        self.save()

    def pending_events(self, report_id: str | None = None) -> list[tuple[str, bytes, bytes]]:
        """Events waiting to be posted, oldest first: (report id, envelope, signature)."""
        return [
            (p["report_id"], _unb64(p["envelope"]), _unb64(p["signature"]))
            for p in self._index["pending_events"]
            if report_id is None or p["report_id"] == report_id
        ]

    def drop_pending_event(self, envelope: bytes) -> None:
        """Forget a queued event once the server has stored it (the caller saves)."""
        encoded = _b64(envelope)
        self._index["pending_events"] = [
            p for p in self._index["pending_events"] if p["envelope"] != encoded
        ]

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

    def manifest_if_known(self, blob_id: str) -> Manifest | None:
        """The cached manifest of a file, without decrypting anything."""
        cached = self._index["manifests"].get(blob_id)
        return Manifest(**cached) if cached is not None else None


def _unverified(entry: Entry, problem: str | None, check: str, label: str | None = None) -> Entry:
    changes = {"verified": False, "problem": problem, "author_check": check, "author_name": label}
    return Entry(**{**entry.__dict__, **changes})


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise ValueError("expected base64 text")
    return base64.b64decode(text, validate=True)


__all__ = [
    "DamagedVaultError",
    "Entry",
    "FileEntry",
    "Vault",
    "VaultError",
    "VaultReport",
    "WrongVaultKeyError",
    "check_id",
]
