"""The inbox's sealed cache of triage fields: equal to what it stands for, never stale or clear."""

from __future__ import annotations

from pathlib import Path

import pytest

from admin import triage_cache
from admin.case import load_case
from admin.rekey import reseal_vault
from admin.triage import row_of, triage_row
from admin.triage_cache import SIDE_NAME, VERSION, TriageCache, readable_answers
from admin.vault import Vault, VaultError
from admin.vault_sealed import load_side, save_side, side_path
from bench.synced_vault import add_event, add_report, fill_vault
from crypto import canonical
from crypto.keys import ReviewerKey

MARKER = "Кызыл-Кия-маркер"
ASSIGNEE = "Айгуль"  # bench.synced_vault's set_assignee events name her


@pytest.fixture
def key() -> ReviewerKey:
    return ReviewerKey.generate("Cache reviewer")


@pytest.fixture
def vault(tmp_path: Path, key: ReviewerKey) -> Vault:
    """30 synced reports, one with a queued event, one missing an event file, one damaged."""
    vault = Vault.open(tmp_path / "vault", key)
    ids = fill_vault(vault, 30, seed=3)
    add_report(vault, "marked", {"region": "batken", "narrative": MARKER}, "2026-10-01")
    add_report(vault, "danger", {"in_danger_now": True, "needs": ["shelter"]}, "2026-01-01")
    add_event(vault, "danger", "set_assignee", {"assignee": ASSIGNEE})
    queue(vault, ids[0], "add_response")
    missing = add_event(vault, ids[1], "set_priority", {"priority": "low"})
    vault.blob_path(missing).unlink()
    damaged = vault.blob_path(f"{ids[2]}-a")
    damaged.write_bytes(damaged.read_bytes()[:-5] + b"xxxxx")
    vault.save()
    return vault


def queue(vault: Vault, report_id: str, kind: str = "set_priority") -> None:
    """Queue an event by this reviewer, as a console without a connection does."""
    from admin.case_events import make_event

    data = (
        {"priority": "urgent"}
        if kind == "set_priority"
        else {"type": "shelter", "mode": "referred", "day": "2026-11-05"}
    )
    event = make_event(vault, report_id, kind, data)
    vault.queue_event(report_id, *vault.seal_event(report_id, canonical.encode(event)))


def uncached_rows(vault: Vault) -> dict[str, object]:
    read = readable_answers(vault)
    return {
        r.id: triage_row(r, read(r.id), load_case(vault, r.id).state)  # type: ignore[arg-type]
        for r in vault.reports()
    }


def cached_rows(vault: Vault, cache: TriageCache, read=None) -> dict[str, object]:  # type: ignore[no-untyped-def]
    reports = vault.reports()
    fields = cache.fields(vault, reports, read or readable_answers(vault))
    return {r.id: row_of(r, *fields[r.id]) for r in reports}


class Counting:
    """A reader of answers (and a stand-in for load_case) that records whom it was asked for."""

    def __init__(self, vault: Vault) -> None:
        self.vault = vault
        self.read: list[str] = []
        self.folded: list[str] = []

    def answers(self, report_id: str):  # type: ignore[no-untyped-def]
        self.read.append(report_id)
        return readable_answers(self.vault)(report_id)

    def load_case(self, vault: Vault, report_id: str):  # type: ignore[no-untyped-def]
        self.folded.append(report_id)
        return load_case(vault, report_id)


def test_the_cached_row_equals_the_uncached_row_for_every_report(vault, key, monkeypatch):
    expected = uncached_rows(vault)
    cache = TriageCache.load(vault)
    assert cached_rows(vault, cache) == expected
    cache.save(vault)

    # Another unlock: everything comes from the sealed file but the damaged answers.
    reopened = Vault.open(vault.path, key)
    counting = Counting(reopened)
    monkeypatch.setattr(triage_cache, "load_case", counting.load_case)
    assert cached_rows(reopened, TriageCache.load(reopened), counting.answers) == expected
    assert counting.folded == []
    assert counting.read == ["r0000002"]  # unreadable: not kept, tried again
    assert any(row.urgent for row in expected.values())  # type: ignore[attr-defined]


def test_a_new_event_invalidates_only_that_reports_entry(vault, monkeypatch):
    cache = TriageCache.load(vault)
    cached_rows(vault, cache)
    counting = Counting(vault)
    monkeypatch.setattr(triage_cache, "load_case", counting.load_case)

    add_event(
        vault,
        "marked",
        "add_response",
        {"type": "psychosocial", "mode": "direct", "day": "2026-11-03"},
    )
    queue(vault, "r0000005")
    rows = cached_rows(vault, cache, counting.answers)
    assert sorted(counting.folded) == ["marked", "r0000005"]
    assert counting.read == ["r0000002"]  # the damaged one only: answers were not read again
    assert rows["marked"].responded and rows["r0000005"].priority == "urgent"  # type: ignore[attr-defined]
    assert rows == uncached_rows(vault)


def test_an_event_file_that_goes_or_arrives_refolds_only_its_case(vault, monkeypatch):
    cache = TriageCache.load(vault)
    cached_rows(vault, cache)
    counting = Counting(vault)
    monkeypatch.setattr(triage_cache, "load_case", counting.load_case)
    (event,) = vault.event_blobs("danger")
    held = vault.blob_path(event["id"])
    kept = held.read_bytes()
    held.unlink()  # not in the vault: the event is rejected until it is fetched
    gone = cached_rows(vault, cache, counting.answers)
    assert gone == uncached_rows(vault) and gone["danger"].assignee is None  # type: ignore[attr-defined]
    held.write_bytes(kept)  # fetched
    back = cached_rows(vault, cache, counting.answers)
    assert back == uncached_rows(vault) and back["danger"].assignee == ASSIGNEE  # type: ignore[attr-defined]
    assert counting.folded == ["danger", "danger"]
    assert counting.read == ["r0000002", "r0000002"]  # only the unreadable answers, each time


@pytest.mark.parametrize(
    "damage", ["flipped", "truncated", "another key", "old version", "bad entries"]
)
def test_a_damaged_or_foreign_cache_is_dropped_and_rebuilt(vault, damage):
    cache = TriageCache.load(vault)
    expected = cached_rows(vault, cache)
    cache.save(vault)
    path = side_path(vault, SIDE_NAME)
    sealed = path.read_bytes()
    if damage == "flipped":
        path.write_bytes(sealed[:100] + bytes([sealed[100] ^ 1]) + sealed[101:])
    elif damage == "truncated":
        path.write_bytes(sealed[: len(sealed) // 2])
    elif damage == "another key":
        save_side(
            Vault(vault.path, ReviewerKey.generate("Other")),
            SIDE_NAME,
            {"version": VERSION, "answers": {}, "cases": {}},
        )
    elif damage == "old version":
        cache.changed = True
        cache.save(vault)
        old = load_side(vault, SIDE_NAME)
        save_side(vault, SIDE_NAME, {**old, "version": VERSION - 1})
    else:
        # Sealed to the right key, but the fields are not what a row takes.
        answers = {r: [fp, 7, [], [], [], False] for r, (fp, _f) in cache.answers.items()}
        cases = {r: [fp, True, None, None, "x"] for r, (fp, _f) in cache.cases.items()}
        some = next(iter(cache.answers))
        answers[some] = [cache.answers[some][0], None, [1], [], [], False]
        save_side(vault, SIDE_NAME, {"version": VERSION, "answers": answers, "cases": cases})

    rebuilt = TriageCache.load(vault)
    assert cached_rows(vault, rebuilt) == expected
    assert rebuilt.changed
    rebuilt.save(vault)
    again = TriageCache.load(vault)
    assert (again.answers, again.cases) == (rebuilt.answers, rebuilt.cases)


def test_nothing_decrypted_lands_on_disk_in_the_clear(vault):
    cache = TriageCache.load(vault)
    cached_rows(vault, cache)
    cache.save(vault)
    assert side_path(vault, SIDE_NAME).exists()
    assert any(fields.assignee == ASSIGNEE for _fp, fields in cache.cases.values())
    for path in vault.path.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for secret in (MARKER, ASSIGNEE, "batken", "shelter"):
                assert secret.encode("utf-8") not in data, (secret, path)


def test_reseal_drops_the_cache_and_the_new_key_rebuilds_it(vault, key):
    cache = TriageCache.load(vault)
    expected = cached_rows(vault, cache)
    cache.save(vault)
    new_key = ReviewerKey.generate("New key")
    reseal_vault(vault.path, key, new_key)
    assert not side_path(vault, SIDE_NAME).exists()

    resealed = Vault.open(vault.path, new_key)
    rebuilt = TriageCache.load(resealed)
    rows = cached_rows(resealed, rebuilt)
    assert rows == uncached_rows(resealed)
    assert {r: (x.region, x.danger) for r, x in rows.items()} == {  # type: ignore[attr-defined]
        r: (x.region, x.danger)
        for r, x in expected.items()  # type: ignore[attr-defined]
    }


def test_warm_computes_the_reports_a_sync_fetched(vault, key, monkeypatch):
    warmed = triage_cache.warm(vault, ["marked", "danger", "marked"])
    assert set(warmed.answers) == set(warmed.cases) == {"marked", "danger"}
    mine = TriageCache.load(vault)
    mine.absorb(warmed)
    assert mine.changed and set(mine.answers) == set(mine.cases) == {"marked", "danger"}
    mine.save(vault)
    counting = Counting(vault)
    monkeypatch.setattr(triage_cache, "load_case", counting.load_case)
    cached_rows(vault, TriageCache.load(vault), counting.answers)
    assert "marked" not in counting.read and "danger" not in counting.folded


def test_reading_answers_that_do_not_open_gives_none(vault):
    read = readable_answers(vault)
    assert read("r0000002") is None
    with pytest.raises(VaultError):
        vault.answers("r0000002")


def test_entries_made_by_other_code_are_computed_again(vault, key, monkeypatch):
    """An upgrade that changes the fold, triage fields or danger rule leaves no stale row."""
    cache = TriageCache.load(vault)
    cached_rows(vault, cache)
    cache.save(vault)
    monkeypatch.setattr(triage_cache, "CODE", "the digest of another version's code")
    reopened = Vault.open(vault.path, key)
    counting = Counting(reopened)
    monkeypatch.setattr(triage_cache, "load_case", counting.load_case)
    assert cached_rows(reopened, TriageCache.load(reopened), counting.answers) == uncached_rows(
        reopened
    )
    assert len(counting.folded) == len(reopened.reports())
    assert len(counting.read) == len(reopened.reports())


def test_the_code_digest_covers_the_danger_rule_and_the_questionnaire() -> None:
    from portal.questionnaire import validation

    assert validation in triage_cache._DECIDING
    assert len(triage_cache.CODE) == 64
