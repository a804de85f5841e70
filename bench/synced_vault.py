"""A vault as a sync leaves it, for N reports, made without a portal (for bench.inbox and tests).

Each report is what admin.sync keeps: a listing checked by
admin.sync.check_listing (the reviewer as its only recipient), its answers
sealed to the reviewer's key (kind REPORT), and for about a third of the
reports one to three case events made, sealed and signed as admin.case_events
makes them (priority, a response, an assignee). The vault has pinned its
organisation's signed roster, which names the reviewer, as a sync does
first (every check of an event's author and of a report's recipients reads
it). Seeded, so every run makes the same reports. Blob files are written
without fsync: this is a bench fixture, not a sync.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
from pathlib import Path
from typing import Any

from admin.case_events import make_event
from admin.case_vocab import PERPETRATOR_TYPES, VIOLATION_TYPES
from admin.roster import accept_roster, pinned_key
from admin.sync import check_listing
from admin.vault import Vault
from crypto import canonical
from crypto.envelope import Kind, seal_bytes
from crypto.keys import ReviewerKey
from crypto.roster import Member, Roster

REGIONS = ("bishkek", "osh_city", "batken", "chuy", "issyk_kul", "jalal_abad", "naryn", "osh")
NEEDS = ("legal_aid", "medical", "psychological", "shelter")
_TEXT = (
    "меня задержали у пункта озт милиция отобрала телефон врач отказал в лечении соседи"
    " узнали статус угрожали работодатель уволил документы не выдали избили ночью"
)
NARRATIVE_WORDS = tuple(_TEXT.split())
# The case events a third of the reports get, as (type, data).
EVENTS = (
    ("set_priority", {"priority": "high"}),
    ("add_response", {"type": "primary_legal_aid", "mode": "direct", "day": "2026-11-02"}),
    ("set_assignee", {"assignee": "Айгуль"}),
)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def make_answers(rng: random.Random) -> dict[str, Any]:
    """A report's answers as the portal's validation leaves them."""
    answers: dict[str, Any] = {
        "region": rng.choice(REGIONS),
        "narrative": " ".join(rng.choices(NARRATIVE_WORDS, k=40)),
        "violation_types": rng.sample(VIOLATION_TYPES, 2),
        "perpetrator_types": [rng.choice(PERPETRATOR_TYPES)],
        "needs": [rng.choice(NEEDS)],
    }
    if rng.random() < 0.05:
        answers["in_danger_now"] = True
    return answers


def blob_listing(
    blob_id: str, kind: str, envelope: bytes, day: str, **extra: Any
) -> dict[str, Any]:
    """One blob of a listing as the server sends it."""
    return {
        "id": blob_id,
        "kind": kind,
        "author": extra.pop("author", "source"),
        "size": len(envelope),
        "sha256": hashlib.sha256(envelope).hexdigest(),
        "receipt": "bench",
        "created_day": day,
        **extra,
    }


def add_report(vault: Vault, report_id: str, answers: dict[str, Any], day: str) -> None:
    """Store answers as a newly synced report of vault's reviewer."""
    key = vault.key
    envelope = seal_bytes(
        json.dumps(answers, ensure_ascii=False).encode("utf-8"),
        [key.box.public_key],
        Kind.REPORT,
    )
    blob_id = f"{report_id}-a"
    (vault.blobs_dir / blob_id).write_bytes(envelope)
    me = {
        "id": 1,
        "name": key.name,
        "box_key": _b64(bytes(key.box.public_key)),
        "verify_key": _b64(bytes(key.signing.verify_key)),
    }
    raw = {
        "id": report_id,
        "status": "received",
        "created_day": day,
        "updated_day": day,
        "source_key": _b64(os.urandom(32)),
        "recipients": [me],
        "blobs": [blob_listing(blob_id, "answers", envelope, day)],
    }
    vault.merge_report(check_listing(raw))


def add_event(vault: Vault, report_id: str, kind: str, data: Any) -> str:
    """Make, seal and sign a case event by vault's reviewer and keep it as a synced blob."""
    event = make_event(vault, report_id, kind, data)
    envelope, signature = vault.seal_event(report_id, canonical.encode(event))
    blob_id = f"{report_id}-e{event['id'][:8]}"
    (vault.blobs_dir / blob_id).write_bytes(envelope)
    author_key = _b64(bytes(vault.key.signing.verify_key))
    listed = blob_listing(
        blob_id,
        "event",
        envelope,
        event["day"],
        author="reviewer",
        author_key=author_key,
        signature=_b64(signature),
    )
    vault.add_blob_listing(report_id, listed)
    return blob_id


def pin_roster(vault: Vault) -> None:
    """Accept a roster signed by a new organisation key that names the vault's reviewer."""
    organisation = ReviewerKey.generate("Bench organisation")
    member = Member.from_bundle(vault.key.bundle(), ())
    draft = Roster(_b64(bytes(organisation.signing.verify_key)), 1, (member,))
    accept_roster(vault, draft.sign(organisation.signing).to_dict())


def fill_vault(vault: Vault, count: int, seed: int = 7, first: int = 0) -> list[str]:
    """Add count synced reports (ids first..first+count) to vault, save it, return their ids.

    Pins a roster first if the vault has none.
    """
    if pinned_key(vault) is None:
        pin_roster(vault)
    rng = random.Random(seed + first)
    ids = []
    for n in range(first, first + count):
        report_id = f"r{n:07d}"
        day = f"2026-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}"
        add_report(vault, report_id, make_answers(rng), day)
        if rng.random() < 0.33:
            for kind, data in EVENTS[: rng.randint(1, len(EVENTS))]:
                add_event(vault, report_id, kind, data)
        ids.append(report_id)
    vault.save()
    return ids


def synced_vault(path: Path, key: ReviewerKey, count: int, seed: int = 7) -> Vault:
    """A new vault at path holding count synced reports."""
    vault = Vault.open(path, key)
    fill_vault(vault, count, seed)
    return vault
