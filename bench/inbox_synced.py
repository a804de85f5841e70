"""The console's first inbox page after a sync of N reports, and after unlocking their vault.

Part of bench.inbox. The reports are made once by bench.synced_vault in a
folder standing for the server (sealed answers, signed case events for a
third of them). Each run then has a console of its own, unlocked on an
empty vault, start its background sync (admin/console/sync.py) with a
stand-in for admin.sync.sync that copies every report's blobs and merges
its listing, as a sync over loopback would, and wait for it; timed:
(e) the first GET /inbox after the sync ended, in the same console process;
(f) the first GET /inbox after unlocking the synced vault afresh (a new
session, nothing in memory). Both are run a few times, first with the
inbox's sealed cache (admin/triage_cache.py) switched off as the baseline
(every answer decrypted and every case folded, as before the cache), then
with it, in the same process. Wall time and this process's CPU time are
printed: the machine is shared, and CPU time varies less with its load.
"""

from __future__ import annotations

import contextlib
import shutil
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

from flask.testing import FlaskClient

from admin.console import sync as console_sync
from admin.console.app import create_console
from admin.console.state import Unlocked
from admin.sync import SyncResult
from admin.triage_cache import TriageCache
from admin.vault import Vault
from bench.synced_vault import fill_vault
from crypto.keys import ReviewerKey


def copying_sync(source: Vault):  # type: ignore[no-untyped-def]
    """A stand-in for admin.sync.sync: every report of source lands in the vault."""

    def sync(vault: Vault, _client: Any, **_options: Any) -> SyncResult:
        reports = source.reports()
        for report in reports:
            for blob in report.blobs:
                shutil.copyfile(source.blob_path(blob["id"]), vault.blob_path(blob["id"]))
            vault.merge_report(source.listing(report.id))
        vault.save()
        return SyncResult(reports=[r.id for r in reports])

    return sync


@contextlib.contextmanager
def cache_off() -> Iterator[None]:
    """The console without the sealed cache: nothing loaded or saved, and the sync warms nothing."""
    with (
        mock.patch.object(TriageCache, "load", classmethod(lambda cls, _vault: cls())),
        mock.patch.object(TriageCache, "save", lambda _self, _vault: None),
        mock.patch.object(console_sync, "warm", lambda _vault, _ids: None),
    ):
        yield


def unlocked_client(where: Path, key: ReviewerKey) -> tuple[FlaskClient, Unlocked]:
    """A console on the vault in where, unlocked (the key file is never read)."""
    app = create_console(where / "none.key", where / "vault", None)
    app.config["TESTING"] = True
    state = app.extensions["amanat_console"].keyring.unlock(key, Vault.open(where / "vault", key))
    client = app.test_client()
    with client.session_transaction() as session:
        session["sid"] = state.session_id
    return client, state


Timing = tuple[float, float]  # (wall seconds, CPU seconds of this process)


def timed_get(client: FlaskClient, path: str = "/inbox") -> Timing:
    wall, cpu = time.perf_counter(), time.process_time()
    response = client.get(path)
    timing = (time.perf_counter() - wall, time.process_time() - cpu)
    if response.status_code != 200 or b"<tbody>" not in response.data:
        raise RuntimeError(f"{path} answered {response.status_code}")
    return timing


def after_sync(source: Vault, where: Path) -> tuple[float, Timing, Timing]:
    """(e): a console syncs every report of source; (sync seconds, first inbox, second)."""
    where.mkdir()
    client, state = unlocked_client(where, source.key)
    app = client.application
    start = time.perf_counter()
    with mock.patch.object(console_sync, "sync", copying_sync(source)):
        console_sync.start(state, lambda _s: contextlib.nullcontext(), lambda *_a: None, app, "ru")  # type: ignore[arg-type, return-value]
        console_sync.wait(state, 3600)
    return time.perf_counter() - start, timed_get(client), timed_get(client)


def after_unlock(where: Path, key: ReviewerKey) -> tuple[float, Timing]:
    """(f): a new console and session on the synced vault; (Vault.open seconds, first inbox)."""
    start = time.perf_counter()
    Vault.open(where / "vault", key)
    opened = time.perf_counter() - start
    client, _state = unlocked_client(where, key)
    return opened, timed_get(client)


def _spread(timings: list[Timing]) -> str:
    walls = sorted(w for w, _c in timings)
    cpus = sorted(c for _w, c in timings)
    return (
        f"best {walls[0]:.3f} s, median {statistics.median(walls):.3f} s "
        f"(CPU best {cpus[0]:.3f} s, median {statistics.median(cpus):.3f} s)"
    )


def one_mode(name: str, source: Vault, where: Path, rounds: int) -> Timing:
    """Run (e) and (f) rounds times each in where; print them; return (e)'s and (f)'s medians."""
    runs = [after_sync(source, where / f"{name}-{n}") for n in range(rounds)]
    unlocks = [after_unlock(where / f"{name}-0", source.key) for _ in range(rounds)]
    syncs = ", ".join(f"{run[0]:.1f}" for run in runs)
    print(f"{name}: background syncs of {len(source.reports())} reports took {syncs} s")
    print(f"  (e) first inbox after the sync: {_spread([run[1] for run in runs])}")
    print(f"      the next inbox:             {_spread([run[2] for run in runs])}")
    opened = statistics.median(u[0] for u in unlocks)
    print(f"  (f) first inbox after unlocking: {_spread([u[1] for u in unlocks])}")
    print(f"      (Vault.open at unlock, apart: median {opened:.3f} s)")
    return (
        statistics.median(run[1][0] for run in runs),
        statistics.median(u[1][0] for u in unlocks),
    )


def synced_figures(count: int, where: Path, target: float, rounds: int = 3) -> bool:
    """Make count synced reports, time (e) and (f) without and with the cache; print them."""
    start = time.perf_counter()
    source = Vault.open(where / "server", ReviewerKey.generate("Bench reviewer"))
    fill_vault(source, count)
    print(f"setup: {count} synced reports made in {time.perf_counter() - start:.1f} s (not timed)")
    with cache_off():
        one_mode("baseline (cache off)", source, where, rounds)
    synced, unlocked = one_mode("sealed cache", source, where, rounds)
    ok = synced < target and unlocked < target
    print(
        f"target: (e) and (f) medians with the cache under {target:.1f} s: {'ok' if ok else 'OVER'}"
    )
    return ok
