"""Sync in the background for the console, with progress a page can show.

A sync over Tor takes seconds to minutes; run inside a request it held the
vault's lock and every page waited. Here it runs in a thread on a Vault
instance of its own: saves merge under the vault's file lock
(admin.vault_lock), so the pages keep working on theirs, and the console's
vault is re-read when the sync ends. The progress page refreshes itself
with <meta http-equiv="refresh">, which needs no script.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask
from flask_babel import force_locale

from admin.client import ApiClient
from admin.console.state import Unlocked
from admin.console.warm import Warmed, take_in, warm
from admin.sync import SyncResult, sync
from admin.vault import Vault, VaultError


@dataclass
class SyncProgress:
    """Blobs and bytes planned and fetched so far by one background sync."""

    running: bool = True
    planned: int = 0
    done: int = 0
    planned_bytes: int = 0
    done_bytes: int = 0
    started: float = field(default_factory=time.monotonic)
    thread: threading.Thread | None = None

    def plan(self, blobs: int, size: int) -> None:
        self.planned += blobs
        self.planned_bytes += size

    def advance(self, blobs: int, size: int) -> None:
        self.done += blobs
        self.done_bytes += size


_RUNS: dict[str, SyncProgress] = {}
# How a run opens its client, and how it tells the session what came of it.
Connect = Callable[[Unlocked], ApiClient]
Report = Callable[[Unlocked, SyncResult | None, Exception | None], None]


def progress_of(state: Unlocked) -> SyncProgress | None:
    return _RUNS.get(state.session_id)


def start(
    state: Unlocked,
    connect: Connect,
    report: Report,
    app: Flask,
    locale: str,
) -> SyncProgress:
    """Start a sync unless one runs already; return its progress."""
    current = _RUNS.get(state.session_id)
    if current is not None and current.running:
        return current
    progress = SyncProgress()
    _RUNS[state.session_id] = progress
    progress.thread = threading.Thread(
        target=_run, args=(state, progress, connect, report, app, locale), daemon=True
    )
    progress.thread.start()
    return progress


def _run(
    state: Unlocked,
    progress: SyncProgress,
    connect: Connect,
    report: Report,
    app: Flask,
    locale: str,
) -> None:
    result: SyncResult | None = None
    error: Exception | None = None
    warmed: Warmed | None = None
    try:
        vault = Vault.open(state.vault.path, state.key)
        with app.app_context(), connect(state) as client:
            result = sync(vault, client, progress=progress)
        # The next inbox and search decrypt nothing (admin/console/warm.py).
        warmed = warm(vault, result.reports)
    except Exception as exc:
        error = exc
    finally:
        with state.lock:
            try:
                state.vault.save()  # what the pages changed meanwhile, merged
                state.vault = Vault.open(state.vault.path, state.key)
                if warmed is not None:
                    take_in(state, warmed)
            except (VaultError, OSError) as exc:
                error = error or exc
            with app.app_context(), force_locale(locale):
                report(state, result, error)
        progress.running = False


def wait(state: Unlocked, timeout: float = 60.0) -> None:
    """Wait for this session's background sync to end (for tests and a clean exit)."""
    progress = _RUNS.get(state.session_id)
    if progress is not None and progress.thread is not None:
        progress.thread.join(timeout)
