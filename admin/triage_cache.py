"""The inbox's sealed cache: what a triage row needs of each report, kept between unlocks.

Building the inbox of 10,000 reports used to decrypt every report's answers
and fold every case (each event decrypted and its signature checked): 6-8 s
after an unlock or a big sync. A row needs little of that
(admin.triage.answer_fields and case_fields), so those fields are kept
here, per report, each under a fingerprint of everything it was computed from:

- the answers' fields: the reviewer's own keys, and the answers blob as
  listed (id, SHA-256) and whether the vault holds its file;
- the case's fields: the reviewer's own keys, the organisation section of
  the index (the pinned roster, which decides whose events count), the
  report's recipients, every event blob (id, SHA-256, author key,
  signature, whether its file is held) and every event queued for it.

An entry whose fingerprint does not match is never used; it is computed
again, so a new event (or an event file fetched at last) re-folds that
report's case and nothing else. Answers that do not open are not kept:
they are tried again at every inbox, as before. A blob file is never
rewritten under the same id except by re-sealing to a new key, which
deletes this cache (admin.rekey); file sizes and times are not part of the
fingerprints (a stat of each of 17,000 blobs cost a fifth of the page).

The cache is a sealed side file (admin.vault_sealed: sealed to the
reviewer's own box key, replaced whole through crypto.private_files), so
nothing decrypted lands on disk in the clear. A cache file that is damaged,
of another version, or sealed to another key is dropped and built again,
never an error.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from admin import case, case_events, case_vocab, triage
from admin import roster as admin_roster
from admin.case import load_case
from admin.roster import SECTION as ROSTER_SECTION
from admin.triage import AnswerFields, CaseFields, answer_fields, case_fields
from admin.vault import Vault, VaultError, VaultReport
from admin.vault_sealed import load_side, save_side, side_path
from portal.questionnaire import validation

SIDE_NAME = "triage_cache"
# Bump when the sealed file's layout changes: a cache of another version is dropped.
VERSION = 2
# The code and data that decide a row's fields (the case fold, event checks,
# triage fields, the danger rule and the questionnaire it reads). Every entry's
# fingerprint includes their digest, so after an upgrade that changes any of them
# the inbox never shows a row the old code computed (it is computed again).
_DECIDING = (case, case_events, case_vocab, triage, admin_roster, validation)
CODE = hashlib.sha256(
    b"".join(Path(str(m.__file__)).read_bytes() for m in _DECIDING)
    + (Path(str(validation.__file__)).parent / "v1.json").read_bytes()
).hexdigest()
Reader = Callable[[str], Mapping[str, Any] | None]
Fields = tuple[AnswerFields, CaseFields]
# The sealed file lists each entry as [fingerprint, *fields]; in memory it is
# (fingerprint, fields), tuples all through, which the cycle collector soon stops
# scanning (10,000 reports' worth of dicts made each full collection slower).
AnswerEntry = tuple[str, AnswerFields]
CaseEntry = tuple[str, CaseFields]


def _codes(value: Any) -> bool:
    # set(map(type)): all() over a generator cost a third of opening the cache.
    return type(value) is list and set(map(type, value)) <= {str}


def _text(value: Any) -> bool:
    return value is None or type(value) is str


def _answer_entry(row: Any) -> AnswerEntry | None:
    """(fingerprint, answer fields) from the sealed file's list, or None if malformed."""
    if type(row) is not list or len(row) != 6:
        return None
    fingerprint, region, violations, perpetrators, needs, danger = row
    if not (type(fingerprint) is str and _text(region) and type(danger) is bool):
        return None
    if not (_codes(violations) and _codes(perpetrators) and _codes(needs)):
        return None
    return fingerprint, AnswerFields(
        region, tuple(violations), tuple(perpetrators), tuple(needs), danger
    )


def _case_entry(row: Any) -> CaseEntry | None:
    """(fingerprint, case fields) from the sealed file's list, or None if malformed."""
    if type(row) is not list or len(row) != 4:
        return None
    fingerprint, responded, assignee, priority = row
    if not (type(fingerprint) is str and type(responded) is bool):
        return None
    if not (_text(assignee) and _text(priority)):
        return None
    return fingerprint, CaseFields(responded, assignee, priority)


def _digest(*parts: str) -> str:
    return hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=12).hexdigest()


class Stamps:
    """The fingerprints of the reports of one vault, as it is now (made once per inbox)."""

    def __init__(self, vault: Vault) -> None:
        # One listing of the folder (has_blob for each of 17,000 blobs took longer).
        self._held = set(os.listdir(vault.blobs_dir))
        own = bytes(vault.key.box.public_key) + bytes(vault.key.signing.verify_key)
        organisation = json.dumps(vault.section(ROSTER_SECTION), sort_keys=True)
        self._answers_base = _digest(str(VERSION), CODE, own.hex())
        self._case_base = _digest(str(VERSION), CODE, own.hex(), organisation)
        self._pending: dict[str, list[str]] = {}
        for report_id, envelope, _signature in vault.pending_events():
            self._pending.setdefault(report_id, []).append(hashlib.sha256(envelope).hexdigest())

    def of(self, report: VaultReport) -> tuple[str, str]:
        """The report's fingerprints: (of its answers, of its case)."""
        held = self._held
        answers = [self._answers_base]
        case = [self._case_base]
        case += (
            f"{r.get('verify_key')}|{r.get('box_key')}|{r.get('name')}" for r in report.recipients
        )
        for blob in report.blobs:
            kind, blob_id = blob.get("kind"), blob["id"]
            if kind == "event":
                case.append(
                    f"{blob_id}|{blob.get('sha256')}|{blob_id in held}|"
                    f"{blob.get('author_key')}|{blob.get('signature')}"
                )
            elif kind == "answers" and len(answers) == 1:  # the first, as Vault.answers reads
                answers.append(f"{blob_id}|{blob.get('sha256')}|{blob_id in held}")
        case += self._pending.get(report.id, ())
        return _digest(*answers), _digest(*case)


E = TypeVar("E")


def _unpack(found: Any, entry: Callable[[Any], E | None]) -> dict[str, E]:
    """Report id to (fingerprint, fields) from the sealed file; malformed entries left out."""
    if not isinstance(found, dict):
        return {}
    entries = {}
    for report_id, row in found.items():
        unpacked = entry(row)
        if unpacked is not None:
            entries[str(report_id)] = unpacked
    return entries


def _pack(entries: Mapping[str, tuple[str, tuple[Any, ...]]]) -> dict[str, list[Any]]:
    return {rid: [fp, *fields] for rid, (fp, fields) in entries.items()}


class TriageCache:
    """Report id to (fingerprint, fields) for its answers, and for its case."""

    def __init__(
        self,
        answers: dict[str, AnswerEntry] | None = None,
        cases: dict[str, CaseEntry] | None = None,
    ) -> None:
        self.answers: dict[str, AnswerEntry] = answers or {}
        self.cases: dict[str, CaseEntry] = cases or {}
        self.changed = False

    @classmethod
    def load(cls, vault: Vault) -> TriageCache:
        """The cache kept in vault; empty if there is none or it cannot be used."""
        try:
            data = load_side(vault, SIDE_NAME)
        except VaultError:
            return cls()  # damaged or sealed to another key: built again
        if data.get("version") != VERSION:
            return cls()
        return cls(
            _unpack(data.get("answers"), _answer_entry), _unpack(data.get("cases"), _case_entry)
        )

    def save(self, vault: Vault) -> None:
        """Seal the cache into vault if anything was added since it was loaded or saved."""
        if self.changed:
            data = {
                "version": VERSION,
                "answers": _pack(self.answers),
                "cases": _pack(self.cases),
            }
            save_side(vault, SIDE_NAME, data)
            self.changed = False

    def fields(
        self, vault: Vault, reports: Iterable[VaultReport], read: Reader
    ) -> dict[str, Fields]:
        """Report id to (answer_fields, case_fields), computing what the cache lacks.

        read gives a report's decrypted answers (None if unreadable: not kept,
        so it is tried again next time).
        """
        stamps = Stamps(vault)
        found = {}
        for report in reports:
            answers, case = stamps.of(report)
            found[report.id] = (
                self._answers(report, answers, read),
                self._case(vault, report, case),
            )
        return found

    def _answers(self, report: VaultReport, fingerprint: str, read: Reader) -> AnswerFields:
        found = self.answers.get(report.id)
        if found is not None and found[0] == fingerprint:
            return found[1]
        answers = read(report.id)
        fields = answer_fields(answers)
        if answers is not None or not any(b.get("kind") == "answers" for b in report.blobs):
            self.answers[report.id] = (fingerprint, fields)
            self.changed = True
        return fields

    def _case(self, vault: Vault, report: VaultReport, fingerprint: str) -> CaseFields:
        found = self.cases.get(report.id)
        if found is not None and found[0] == fingerprint:
            return found[1]
        fields = case_fields(load_case(vault, report.id).state)
        self.cases[report.id] = (fingerprint, fields)
        self.changed = True
        return fields

    def absorb(self, other: TriageCache) -> None:
        """Take other's entries (another Vault instance's, e.g. a background sync's)."""
        changed = any(self.answers.get(k) != v for k, v in other.answers.items()) or any(
            self.cases.get(k) != v for k, v in other.cases.items()
        )
        self.answers.update(other.answers)
        self.cases.update(other.cases)
        self.changed = self.changed or changed


def readable_answers(vault: Vault) -> Reader:
    """A Reader over vault.answers: None when the answers cannot be read."""

    def read(report_id: str) -> Mapping[str, Any] | None:
        try:
            return vault.answers(report_id)
        except VaultError:
            return None

    return read


def warm(vault: Vault, report_ids: Iterable[str], read: Reader | None = None) -> TriageCache:
    """The vault's cache with the entries of report_ids computed (not saved).

    For a sync that has just fetched these reports: the console absorbs
    the result into its own cache, so its next inbox decrypts nothing.
    read gives answers (readable_answers(vault) by default).
    """
    cache = TriageCache.load(vault)
    reports = [vault.report(i) for i in dict.fromkeys(report_ids)]
    cache.fields(vault, reports, read or readable_answers(vault))
    return cache


def forget(vault: Vault) -> None:
    """Delete the cache file (it is rebuilt from the vault when next needed)."""
    side_path(vault, SIDE_NAME).unlink(missing_ok=True)


__all__ = ["SIDE_NAME", "Stamps", "TriageCache", "forget", "readable_answers", "warm"]
