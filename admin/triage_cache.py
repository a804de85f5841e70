"""The inbox's sealed cache: what a triage row needs of each report, kept between unlocks.

Building the inbox of 10,000 reports used to decrypt every report's answers
and fold every case (each event decrypted and its signature checked): 6-8 s
after an unlock or a big sync. A row needs little of that
(admin.triage.answer_fields and case_fields), so those fields are kept
here, per report, each under a fingerprint of everything it was computed from:

- the answers' fields: the reviewer's own keys, and the answers blob as
  listed (id, SHA-256) and as held in the vault (file size and mtime);
- the case's fields: the reviewer's own keys, the organisation section of
  the index (the pinned roster, which decides whose events count), the
  report's recipients, every event blob (listing, signature, file) and every
  event queued for it.

An entry whose fingerprint does not match is never used; it is computed
again, so a new event re-folds that report's case and nothing else, and a
blob replaced on disk (re-sealed, damaged) is read again.

The cache is a sealed side file (admin.vault_sealed: sealed to the
reviewer's own box key, replaced whole through crypto.private_files), so
nothing decrypted lands on disk in the clear. A cache file that is damaged,
of another version, or sealed to another key is dropped and built again,
never an error. Re-sealing the vault to a new key (admin.rekey) deletes it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from admin.case import load_case
from admin.roster import SECTION as ROSTER_SECTION
from admin.triage import answer_fields, case_fields
from admin.vault import Vault, VaultError, VaultReport
from admin.vault_sealed import load_side, save_side, side_path

SIDE_NAME = "triage_cache"
# Bump when answer_fields(), case_fields() or the case fold (admin.case) change
# what they give for the same blobs: entries of another version are dropped.
VERSION = 1
ANSWERS, CASE = "a", "c"
Reader = Callable[[str], Mapping[str, Any] | None]
Fields = tuple[dict[str, Any], dict[str, Any]]
_ANSWER_TYPES = {
    "region": (str, type(None)),
    "violation_types": list,
    "perpetrator_types": list,
    "needs": list,
    "danger": bool,
}
_CASE_TYPES = {"responded": bool, "assignee": (str, type(None)), "priority": (str, type(None))}


def _digest(*parts: str) -> str:
    return hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=16).hexdigest()


class Stamps:
    """The fingerprints of the reports of one vault, as it is now (made once per inbox)."""

    def __init__(self, vault: Vault) -> None:
        self.vault = vault
        own = bytes(vault.key.box.public_key) + bytes(vault.key.signing.verify_key)
        organisation = json.dumps(vault.section(ROSTER_SECTION), sort_keys=True)
        self._answers_base = _digest(str(VERSION), own.hex())
        self._case_base = _digest(str(VERSION), own.hex(), organisation)
        self._pending: dict[str, list[str]] = {}
        for report_id, envelope, _signature in vault.pending_events():
            self._pending.setdefault(report_id, []).append(hashlib.sha256(envelope).hexdigest())

    def _file(self, blob_id: str) -> str:
        """The blob's file as held now: size and mtime, or absent."""
        try:
            found = os.stat(self.vault.blob_path(blob_id))
        except (OSError, VaultError):
            return "absent"
        return f"{found.st_size}:{found.st_mtime_ns}"

    def answers(self, report: VaultReport) -> str:
        blob = next((b for b in report.blobs if b.get("kind") == "answers"), None)
        if blob is None:
            return _digest(self._answers_base, "no answers")
        return _digest(
            self._answers_base, str(blob["id"]), str(blob.get("sha256")), self._file(blob["id"])
        )

    def case(self, report: VaultReport) -> str:
        parts = [self._case_base, json.dumps(report.recipients, sort_keys=True)]
        for blob in report.blobs:
            if blob.get("kind") == "event":
                parts += [str(blob.get(k)) for k in ("id", "sha256", "author_key", "signature")]
                parts.append(self._file(blob["id"]))
        parts += self._pending.get(report.id, [])
        return _digest(*parts)


def _well_typed(value: Any, types: dict[str, Any]) -> bool:
    return (
        isinstance(value, dict)
        and value.keys() == types.keys()
        and all(isinstance(value[k], t) for k, t in types.items())
    )


class TriageCache:
    """Per report: [fingerprint, fields] for its answers ("a") and for its case ("c")."""

    def __init__(self, entries: dict[str, dict[str, list[Any]]] | None = None) -> None:
        self.entries: dict[str, dict[str, list[Any]]] = entries or {}
        self.changed = False

    @classmethod
    def load(cls, vault: Vault) -> TriageCache:
        """The cache kept in vault; empty if there is none or it cannot be used."""
        try:
            data = load_side(vault, SIDE_NAME)
        except VaultError:
            return cls()  # damaged or sealed to another key: built again
        found = data.get("reports")
        if data.get("version") != VERSION or not isinstance(found, dict):
            return cls()
        return cls({str(k): v for k, v in found.items() if isinstance(v, dict)})

    def save(self, vault: Vault) -> None:
        """Seal the cache into vault if anything was added since it was loaded or saved."""
        if self.changed:
            save_side(vault, SIDE_NAME, {"version": VERSION, "reports": self.entries})
            self.changed = False

    def _get(self, report_id: str, part: str, fingerprint: str) -> dict[str, Any] | None:
        found = self.entries.get(report_id, {}).get(part)
        if not isinstance(found, list) or len(found) != 2 or found[0] != fingerprint:
            return None
        types = _ANSWER_TYPES if part == ANSWERS else _CASE_TYPES
        return found[1] if _well_typed(found[1], types) else None

    def _put(self, report_id: str, part: str, fingerprint: str, value: dict[str, Any]) -> None:
        self.entries.setdefault(report_id, {})[part] = [fingerprint, value]
        self.changed = True

    def fields(
        self, vault: Vault, reports: Iterable[VaultReport], read: Reader
    ) -> dict[str, Fields]:
        """Report id to (answer_fields, case_fields), computing what the cache lacks.

        read gives a report's decrypted answers (None if unreadable: not kept,
        so it is tried again next time).
        """
        stamps = Stamps(vault)
        return {r.id: (self._answers(r, stamps, read), self._case(r, stamps)) for r in reports}

    def _answers(self, report: VaultReport, stamps: Stamps, read: Reader) -> dict[str, Any]:
        fingerprint = stamps.answers(report)
        found = self._get(report.id, ANSWERS, fingerprint)
        if found is None:
            answers = read(report.id)
            found = answer_fields(answers)
            if answers is not None or not any(b.get("kind") == "answers" for b in report.blobs):
                self._put(report.id, ANSWERS, fingerprint, found)
        return found

    def _case(self, report: VaultReport, stamps: Stamps) -> dict[str, Any]:
        fingerprint = stamps.case(report)
        found = self._get(report.id, CASE, fingerprint)
        if found is None:
            found = case_fields(load_case(stamps.vault, report.id).state)
            self._put(report.id, CASE, fingerprint, found)
        return found

    def absorb(self, other: TriageCache) -> None:
        """Take other's entries (another Vault instance's, e.g. a background sync's)."""
        for report_id, parts in other.entries.items():
            mine = self.entries.setdefault(report_id, {})
            for part, entry in parts.items():
                if mine.get(part) != entry:
                    mine[part] = entry
                    self.changed = True


def readable_answers(vault: Vault) -> Reader:
    """A Reader over vault.answers: None when the answers cannot be read."""

    def read(report_id: str) -> Mapping[str, Any] | None:
        try:
            return vault.answers(report_id)
        except VaultError:
            return None

    return read


def warm(vault: Vault, report_ids: Iterable[str]) -> TriageCache:
    """The vault's cache with the entries of report_ids computed (not saved).

    For a sync that has just fetched these reports: the console absorbs
    the result into its own cache, so its next inbox decrypts nothing.
    """
    cache = TriageCache.load(vault)
    reports = [vault.report(i) for i in dict.fromkeys(report_ids)]
    cache.fields(vault, reports, readable_answers(vault))
    return cache


def forget(vault: Vault) -> None:
    """Delete the cache file (it is rebuilt from the vault when next needed)."""
    side_path(vault, SIDE_NAME).unlink(missing_ok=True)


__all__ = ["SIDE_NAME", "Stamps", "TriageCache", "forget", "readable_answers", "warm"]
