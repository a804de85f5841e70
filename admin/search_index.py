"""Search over the decrypted text of reports, with an index kept only sealed in the vault.

The index maps each report to the words of its answers (the narrative and
every other text the source wrote), folded to lower case. It is a sealed
side file (admin/vault_sealed.py): written only as ciphertext to the
reviewer's own key, opened in memory after unlocking. Reports the index
does not know yet are read (their answers decrypted once) and added the
next time the inbox is searched, or by the console's background sync
(admin/console/warm.py). A query matches a report when every word
of the query starts a word of the report ("задерж" finds «задержали»).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from admin.vault import Vault
from admin.vault_sealed import load_side, save_side

SIDE_NAME = "search_index"
MAX_QUERY_WORDS = 8
_WORD = re.compile(r"\w+")
Reader = Callable[[str], Mapping[str, Any] | None]


def words_of(text: str) -> list[str]:
    """The distinct words of text, folded to lower case, in first-seen order."""
    return list(dict.fromkeys(w.casefold() for w in _WORD.findall(text)))


def text_of(answers: Mapping[str, Any]) -> str:
    """Every text in a report's answers (strings, and strings inside lists), one per line."""
    parts: list[str] = []
    for value in answers.values():
        items = value if isinstance(value, list) else [value]
        parts += [item for item in items if isinstance(item, str)]
    return "\n".join(parts)


def entry_of(answers: Mapping[str, Any]) -> str:
    """What the index keeps of a report: the distinct words of all its text."""
    return " ".join(words_of(text_of(answers)))


class SearchIndex:
    """Report id to its words; searched in memory."""

    def __init__(self, entries: Mapping[str, str]) -> None:
        self.entries = dict(entries)
        self._words = {rid: text.split(" ") for rid, text in self.entries.items()}

    @classmethod
    def load(cls, vault: Vault) -> SearchIndex:
        data = load_side(vault, SIDE_NAME)
        found = data.get("reports", {})
        entries = {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}
        return cls(entries)

    def add_missing(
        self,
        vault: Vault,
        report_ids: Iterable[str],
        read: Callable[[str], Mapping[str, Any] | None],
    ) -> None:
        """Index the reports not indexed yet (read gives their answers) and save if any were."""
        found: dict[str, str] = {}
        for report_id in report_ids:
            if report_id in self.entries:
                continue
            answers = read(report_id)
            if answers is not None:  # not readable yet: tried again at the next search
                found[report_id] = entry_of(answers)
        if self.add(found):
            self.save(vault)

    def add(self, entries: Mapping[str, str]) -> bool:
        """Index the reports of entries (id to entry_of) not indexed yet; True if any were."""
        added = False
        for report_id, text in entries.items():
            if report_id not in self.entries:
                self.entries[report_id] = text
                self._words[report_id] = text.split(" ")
                added = True
        return added

    def save(self, vault: Vault) -> None:
        save_side(vault, SIDE_NAME, {"reports": self.entries})

    def search(self, query: str) -> frozenset[str]:
        """The reports in which every word of the query starts a word."""
        wanted = words_of(query)[:MAX_QUERY_WORDS]
        if not wanted:
            return frozenset(self.entries)
        return frozenset(
            rid
            for rid, words in self._words.items()
            if all(any(w.startswith(q) for w in words) for q in wanted)
        )


__all__ = ["SIDE_NAME", "SearchIndex", "entry_of", "text_of", "words_of"]
