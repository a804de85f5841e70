"""The console's inbox with its sealed cache: the same rows as without it, filled by the sync."""

from __future__ import annotations

import contextlib
import html
from pathlib import Path
from typing import Any

import pytest

from admin import triage_cache
from admin.case_events import make_event
from admin.console import sync as console_sync
from admin.triage_cache import SIDE_NAME
from admin.vault import Vault
from admin.vault_sealed import side_path
from bench.inbox_synced import cache_off, copying_sync, unlocked_client
from bench.synced_vault import add_event, add_report, synced_vault
from crypto import canonical
from crypto.keys import ReviewerKey

QUERIES = (
    {},
    {"danger": "1"},
    {"region": "osh", "sort": "age"},
    {"sort": "status"},
    {"sort": "region", "page": "2"},
    {"assignee": "-"},
    {"assignee": "Айгуль"},
    {"awaiting": "1", "sort": "received"},
    {"violation": "physical_violence", "need": "shelter"},
)


def forbid(*_args: Any, **_kwargs: Any) -> Any:
    raise AssertionError("decrypted although the cache holds it")


def tbody(page: str) -> str:
    """The inbox table's rows ("" when no report is shown)."""
    if "<tbody>" not in page:
        return ""
    return html.unescape(page.split("<tbody>", 1)[1].split("</tbody>", 1)[0])


@pytest.fixture
def folder(tmp_path: Path, key: ReviewerKey) -> Path:
    """A vault of 230 synced reports (two inbox pages), two of them in danger, one answered."""
    vault = synced_vault(tmp_path / "vault", key, 230, seed=11)
    add_report(vault, "danger-new", {"in_danger_now": True, "region": "osh"}, "2026-01-02")
    add_report(vault, "danger-answered", {"in_danger_now": True}, "2026-01-01")
    response = {"type": "shelter", "mode": "direct", "day": "2026-01-03"}
    add_event(vault, "danger-answered", "add_response", response)
    vault.save()
    return tmp_path


@pytest.fixture
def key() -> ReviewerKey:
    return ReviewerKey.generate("Console reviewer")


def pages(folder: Path, key: ReviewerKey) -> list[str]:
    client, _state = unlocked_client(folder, key)
    return [tbody(client.get("/inbox", query_string=q).get_data(as_text=True)) for q in QUERIES]


def test_the_inbox_shows_the_same_rows_with_and_without_the_cache(folder, key, monkeypatch):
    cache_file = side_path(Vault(folder / "vault", key), SIDE_NAME)
    with cache_off():
        without = pages(folder, key)
    assert not cache_file.exists()
    first = pages(folder, key)  # builds and seals the cache
    assert cache_file.exists()
    monkeypatch.setattr(Vault, "answers", forbid)
    monkeypatch.setattr(triage_cache, "load_case", forbid)
    cached = pages(folder, key)  # a new unlock: everything from the sealed cache
    assert without == first == cached
    rows = without[0].split("<tr")[1:]
    urgent = ["urgent" in row.split(">", 1)[0] for row in rows]
    assert urgent[0] and urgent == sorted(urgent, reverse=True)  # danger first
    assert "/reports/danger-new" in "".join(r for r, u in zip(rows, urgent, strict=True) if u)
    answered = next(r for r in rows + without[4].split("<tr") if "/reports/danger-answered" in r)
    assert "urgent" not in answered.split(">", 1)[0]
    assert without[1].count("<tr") > 2 and without[4].count("<tr") > 0


def synced_console(folder: Path, key: ReviewerKey, where: Path, monkeypatch: Any) -> Any:
    """A console on an empty vault in where, after its background sync took folder's reports."""
    where.mkdir()
    client, state = unlocked_client(where, key)
    monkeypatch.setattr(console_sync, "sync", copying_sync(Vault.open(folder / "vault", key)))
    console_sync.start(
        state,
        lambda _s: contextlib.nullcontext(),  # type: ignore[arg-type, return-value]
        lambda *_a: None,
        client.application,
        "en",
    )
    console_sync.wait(state)
    return client, state


def test_a_background_sync_fills_the_cache_so_the_next_inbox_decrypts_nothing(
    folder, key, tmp_path, monkeypatch
):
    client, state = synced_console(folder, key, tmp_path / "console", monkeypatch)
    assert side_path(state.vault, SIDE_NAME).exists()
    monkeypatch.setattr(Vault, "answers", forbid)
    monkeypatch.setattr(triage_cache, "load_case", forbid)
    page = client.get("/inbox").get_data(as_text=True)
    assert tbody(page).count("<tr") == 200  # the first page of 232 reports


def test_a_background_sync_fills_the_search_index_so_a_search_decrypts_nothing(
    folder, key, tmp_path, monkeypatch
):
    fresh, _state = unlocked_client(folder, key)
    queries = ("задержали", "врач соседи", "osh")
    expected = [
        tbody(fresh.get("/inbox", query_string={"q": q}).get_data(as_text=True)) for q in queries
    ]
    assert all(expected[:2])
    client, state = synced_console(folder, key, tmp_path / "console", monkeypatch)
    assert state.search_index is not None and len(state.search_index.entries) == 232
    monkeypatch.setattr(Vault, "answers", forbid)
    monkeypatch.setattr(triage_cache, "load_case", forbid)
    found = [
        tbody(client.get("/inbox", query_string={"q": q}).get_data(as_text=True)) for q in queries
    ]
    assert found == expected
    again, _state = unlocked_client(tmp_path / "console", key)  # sealed, for the next unlock
    assert (
        tbody(again.get("/inbox", query_string={"q": queries[0]}).get_data(as_text=True))
        == expected[0]
    )


def test_an_event_queued_in_the_console_changes_its_row_at_once(folder, key):
    client, state = unlocked_client(folder, key)
    assert "/reports/r0000003" not in tbody(
        client.get("/inbox?assignee=Бакыт").get_data(as_text=True)
    )
    with state.lock:
        event = make_event(state.vault, "r0000003", "set_assignee", {"assignee": "Бакыт"})
        sealed = state.vault.seal_event("r0000003", canonical.encode(event))
        state.vault.queue_event("r0000003", *sealed)
    found = tbody(client.get("/inbox?assignee=Бакыт").get_data(as_text=True))
    assert found.count("<tr") == 1 and "/reports/r0000003" in found
