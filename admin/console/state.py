"""The console's unlocked key, held in the server process's memory only.

The browser's cookie carries a random session id, never the key or the
passphrase. One console serves one reviewer: unlocking again (from another
browser tab or window) replaces the previous session. The key is forgotten
after a stretch without requests and at once when the reviewer locks.
Python cannot wipe memory reliably; forgetting means dropping every
reference so the garbage collector can reclaim the key objects.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from admin.search_index import SearchIndex
from admin.triage_cache import TriageCache
from admin.vault import Vault
from crypto.keys import ReviewerKey


@dataclass
class Unlocked:
    """What an unlocked session holds: the key, its vault, and decrypted data cached in memory."""

    session_id: str
    key: ReviewerKey
    vault: Vault
    last_seen: float
    # Serialises everything that reads or changes the vault's index.
    lock: threading.RLock = field(default_factory=threading.RLock)
    # Messages for the next page (sync results, errors), kept here, not in the cookie.
    notices: list[tuple[str, str]] = field(default_factory=list)
    # Decrypted answers by report id, so the inbox can filter by region.
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    # What the inbox's rows need of each report (admin/triage_cache.py), once opened.
    triage_cache: TriageCache | None = None
    # The search index (admin/search_index.py), once opened; locking forgets it with the key.
    search_index: SearchIndex | None = None

    def notify(self, category: str, text: str) -> None:
        self.notices.append((category, text))

    def take_notices(self) -> list[tuple[str, str]]:
        notices, self.notices = self.notices, []
        return notices


class Keyring:
    """The one unlocked session of this console, if any, with its idle timeout."""

    def __init__(self, idle_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.idle_seconds = idle_seconds
        self.clock = clock
        self._unlocked: Unlocked | None = None
        self._guard = threading.Lock()

    def unlock(self, key: ReviewerKey, vault: Vault) -> Unlocked:
        """Hold key and vault under a new random session id (replacing any other session)."""
        with self._guard:
            self._unlocked = Unlocked(
                session_id=secrets.token_urlsafe(32), key=key, vault=vault, last_seen=self.clock()
            )
            return self._unlocked

    def get(self, session_id: object) -> Unlocked | None:
        """The unlocked session for session_id, touched; None if locked, expired or another's."""
        with self._guard:
            self._expire_locked()
            unlocked = self._unlocked
            if unlocked is None or not isinstance(session_id, str):
                return None
            if not secrets.compare_digest(unlocked.session_id, session_id):
                return None
            unlocked.last_seen = self.clock()
            return unlocked

    def lock(self) -> None:
        """Forget the key at once."""
        with self._guard:
            self._unlocked = None

    def expire(self) -> bool:
        """Forget the key if it has been idle too long; return True if it is now locked."""
        with self._guard:
            self._expire_locked()
            return self._unlocked is None

    def _expire_locked(self) -> None:
        unlocked = self._unlocked
        if unlocked is not None and self.clock() - unlocked.last_seen >= self.idle_seconds:
            self._unlocked = None

    def start_reaper(self, interval: float = 30.0) -> threading.Thread:
        """Check for idleness in the background, so an unused console forgets the key
        even when no request comes to trigger the check."""

        def run() -> None:
            while True:
                time.sleep(interval)
                self.expire()

        thread = threading.Thread(target=run, name="console-idle-lock", daemon=True)
        thread.start()
        return thread
