"""What a background sync prepares for the console's next pages: inbox rows and search words.

The sync's thread has just fetched reports. Their answers are decrypted
there, once, for both the inbox's sealed cache (admin/triage_cache.py) and
the search index (admin/search_index.py), and the console takes both in
under its lock when the sync ends: the next inbox and the next search
decrypt nothing. Reports the search index has never seen (nobody searched
yet) are read too, once; the index then keeps them, sealed. Nothing here is
written until the console takes it in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from admin import triage_cache
from admin.console.inbox import absorb_warmed
from admin.console.state import Unlocked
from admin.search_index import SearchIndex, entry_of
from admin.triage_cache import TriageCache, readable_answers
from admin.vault import Vault, VaultError


@dataclass
class Warmed:
    """The inbox's cache with the fetched reports in it, and search entries the index lacks."""

    cache: TriageCache
    words: dict[str, str] = field(default_factory=dict)


def warm(vault: Vault, report_ids: list[str]) -> Warmed | None:
    """Compute, in the calling (sync) thread, what the next inbox and search need.

    None if the vault cannot be read as asked: the pages then do it themselves.
    """
    words: dict[str, str] = {}
    plain = readable_answers(vault)

    def read(report_id: str) -> Mapping[str, Any] | None:
        answers = plain(report_id)
        if answers is not None:
            words[report_id] = entry_of(answers)
        return answers

    try:
        cache = triage_cache.warm(vault, report_ids, read)
        indexed = set(SearchIndex.load(vault).entries)
    except (VaultError, KeyError):
        return None
    for report in vault.reports():
        if report.id not in indexed and report.id not in words:
            read(report.id)
    return Warmed(cache, {rid: text for rid, text in words.items() if rid not in indexed})


def take_in(state: Unlocked, warmed: Warmed) -> None:
    """Merge warmed into the session's inbox cache and search index, and seal both."""
    with state.lock:
        absorb_warmed(state, warmed.cache)
        if not warmed.words:
            return
        try:
            index = state.search_index or SearchIndex.load(state.vault)
        except VaultError:
            return  # a damaged index: the search page says so, as before
        if index.add(warmed.words):
            index.save(state.vault)
        state.search_index = index
