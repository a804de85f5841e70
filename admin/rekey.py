"""Re-sealing a vault to a reviewer's new key (`amanat-admin reseal`).

When a key file is lost or compromised the reviewer makes a new key and the
operator replaces the old one (`amanat-server recipient replace`). The
vault's blobs are still sealed to the old key: each is opened with it and
sealed again to the new key alone, streamed frame by frame, so a 4 GiB video
takes the memory of a note. Each new envelope is written beside the vault,
synced, and renamed over the old one; the index is sealed to the new key
last, after the vault's side files (case numbers, reply templates, the
search index). Running it again after an interruption finishes the job: blobs already
sealed to the new key are recognised and left alone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from admin import triage_cache
from admin.vault import Vault, WrongVaultKeyError
from admin.vault_sealed import reseal_sides
from crypto.envelope import Kind, Opener, Sealer, key_id
from crypto.errors import EnvelopeError, NotARecipientError
from crypto.keys import ReviewerKey
from crypto.private_files import private_file

_HEAD = 9  # magic (7), version, kind: the start of crypto.envelope's fixed prefix
_FIRST_SLOT = 12  # after magic, version, kind, flags and the slot count (2 bytes)


@dataclass
class Resealed:
    """Blob ids re-sealed now, found already re-sealed, and refused (with why)."""

    resealed: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    side_files: list[str] = field(default_factory=list)


class _HashingSink:
    def __init__(self, file: object) -> None:
        self._file = file
        self.sha256 = hashlib.sha256()

    def write(self, data: bytes | bytearray | memoryview, /) -> int:
        self.sha256.update(data)
        return int(self._file.write(data))  # type: ignore[attr-defined]


def reseal_vault(vault_dir: Path, old_key: ReviewerKey, new_key: ReviewerKey) -> Resealed:
    """Re-seal every blob in the vault from old_key to new_key, then the index.

    Raises WrongVaultKeyError if the vault belongs to neither key.
    """
    try:
        vault = Vault.open(vault_dir, old_key)
    except WrongVaultKeyError:
        vault = Vault.open(vault_dir, new_key)  # an earlier run got as far as the index
    done = Resealed()
    for blob_id in _blob_ids(vault):
        reason = _reseal_blob(vault, blob_id, old_key, new_key)
        if reason is None:
            done.resealed.append(blob_id)
        elif reason == "already":
            done.already.append(blob_id)
        else:
            done.refused[blob_id] = reason
    # Case numbers, reply templates, the search index, bundle state: before the
    # index, so a run cut short here is finished by the next one.
    done.side_files = reseal_sides(vault.path, old_key, new_key)
    if vault.key is old_key:
        vault.rekey(new_key)
    else:
        vault.save()
    # The inbox's cache is sealed to the old key and its fingerprints name the old
    # files: dropped, and built again by the next inbox.
    triage_cache.forget(vault)
    return done


def _blob_ids(vault: Vault) -> list[str]:
    return [
        blob["id"]
        for report in vault.reports()
        for blob in report.blobs
        if vault.has_blob(blob["id"])
    ]


def _reseal_blob(
    vault: Vault, blob_id: str, old_key: ReviewerKey, new_key: ReviewerKey
) -> str | None:
    """Re-seal one blob; None when done, "already", or why it was refused."""
    path = vault.blob_path(blob_id)
    try:
        with open(path, "rb") as src:
            head = src.read(_HEAD)
            src.seek(0)
            try:
                kind = Kind(head[8]) if len(head) == _HEAD else None
            except ValueError:
                kind = None
            if kind is None:
                return "not an envelope"
            try:
                opener = Opener(src, old_key.box, kind)
            except NotARecipientError:
                return _already(vault, blob_id, path, new_key)
            # The new envelope replaces the old one only once it is whole.
            with private_file(path) as out:
                sink = _HashingSink(out)
                sealer = Sealer(sink, [new_key.box.public_key], kind)
                for chunk in opener.chunks():
                    sealer.write(chunk)
                sealer.close(opener.trailer or b"")
    except EnvelopeError as exc:
        return f"does not open with the old key ({exc})"
    vault.mark_resealed(blob_id, sink.sha256.hexdigest())
    # Keep progress: a crash now must not lose which blobs were re-sealed.
    vault.save()
    return None


def _already(vault: Vault, blob_id: str, path: Path, new_key: ReviewerKey) -> str:
    """A blob the old key cannot open: sealed to the new key by an earlier run, or foreign."""
    wanted = key_id(new_key.box.public_key)
    with open(path, "rb") as src:
        first_slot = src.read(_FIRST_SLOT + len(wanted))[_FIRST_SLOT:]
    if first_slot != wanted:
        return "is not sealed to the old key"
    if vault.resealed_digest(blob_id) is None:
        digest = hashlib.sha256()
        with open(path, "rb") as src:
            while chunk := src.read(1024 * 1024):
                digest.update(chunk)
        vault.mark_resealed(blob_id, digest.hexdigest())
    return "already"
