"""Sync over a slow link (bench.relay) beside the same sync over bare loopback, in one run.

    .venv/bin/python -m bench.link [--reports 1000] [--attachment-kib 4]
                                   [--latency-ms 300] [--rate-mbps 2]

Setup (not timed): as bench.sync, N reports with one attachment each,
received through portal.intake (SQLite), served by gunicorn (bench.upload.Server).
Timed, each into a fresh vault: (a) a first sync over bare loopback; (b) a
first sync through the relay (a process of its own) adding the one-way
latency each way and capping each direction at the rate; (c) a sync with
nothing new through the relay. Targets (issue 12): (b) under 30 s at
300 ms / 2 MB/s for 1,000 reports with 4 KiB each, (c) under 2 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from admin.client import ApiClient
from admin.sync import SyncResult, sync
from admin.vault import Vault
from bench.sync import bench_portal, create_reports, warm_up
from bench.upload import Server
from crypto.keys import ReviewerKey

TARGET_FIRST_S = 30.0
TARGET_EMPTY_S = 2.0


class Relay:
    """bench.relay in a process of its own, in front of a loopback port."""

    def __init__(self, upstream: int, latency_ms: float, rate_mbps: float) -> None:
        command = [sys.executable, "-m", "bench.relay", "--upstream", str(upstream)]
        command += ["--latency-ms", str(latency_ms), "--rate-mbps", str(rate_mbps)]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline() if self.process.stdout else ""
        if not line.startswith("listening on "):
            self.stop()
            raise RuntimeError("the relay did not start")
        self.port = int(line.split()[-1])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


def timed_sync(url: str, vault: Vault, key: ReviewerKey) -> tuple[float, SyncResult]:
    start = time.perf_counter()
    with ApiClient(url, key) as client:
        result = sync(vault, client)
    return time.perf_counter() - start, result


_KILLED_SYNC = """
import sys
from pathlib import Path
from admin.client import ApiClient
from admin.sync import sync
from admin.vault import Vault
from crypto.keys import read_keyfile
key = read_keyfile(Path(sys.argv[1]), sys.argv[2])
vault = Vault.open(Path(sys.argv[3]), key)
with ApiClient(sys.argv[4], key) as client:
    sync(vault, client)
"""


def big_file(tmp: Path, app, server: Server, key: ReviewerKey, args: argparse.Namespace) -> str:
    """One report with a big attachment: a client killed halfway, then a resumed sync."""
    from crypto.kdf import MINIMAL
    from crypto.keys import write_keyfile

    create_reports(app, 1, args.big_mb * 1024 * 1024)
    keyfile = tmp / "reviewer.key"
    write_keyfile(keyfile, key, "bench passphrase, not secret", MINIMAL)
    relay = Relay(server.port, args.latency_ms, args.rate_mbps)
    link = f"http://127.0.0.1:{relay.port}"
    vault_dir = tmp / "big"
    try:
        command = [sys.executable, "-c", _KILLED_SYNC, str(keyfile)]
        command += ["bench passphrase, not secret", str(vault_dir), link]
        child = subprocess.Popen(command)
        kill_after = args.big_mb * 1e6 / (args.rate_mbps * 1e6) / 2
        try:
            child.wait(kill_after)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        partial = sum(p.stat().st_size for p in (vault_dir / "partial").iterdir())
        start = time.perf_counter()
        _, result = timed_sync(link, Vault.open(vault_dir, key), key)
        resumed_s = time.perf_counter() - start
    finally:
        relay.stop()
    big = max(Path(vault_dir / "blobs").iterdir(), key=lambda p: p.stat().st_size)
    rest = big.stat().st_size - partial
    share = rest / resumed_s / (args.rate_mbps * 1e6)
    return (
        f"  (d) {args.big_mb} MiB file: client killed after {kill_after:.0f} s with "
        f"{partial / 1e6:.1f} MB in partial/; the resumed sync fetched the other "
        f"{rest / 1e6:.1f} MB in {resumed_s:.1f} s = {rest / resumed_s / 1e6:.2f} MB/s, "
        f"{share:.0%} of the link ({'meets' if share >= 0.8 else 'MISSES'} the 80% target); "
        f"{len(result.refused)} refused"
    )


@dataclass
class Figures:
    bare_s: float
    first_s: float
    empty_s: float
    first: SyncResult
    empty: SyncResult
    held_bytes: int
    big_line: str


def time_syncs(tmp: Path, args: argparse.Namespace) -> Figures:
    """(a) bare loopback, (b) and (c) through the relay, and (d) the big file if asked."""
    env, app, key = bench_portal(tmp)
    create_reports(app, args.reports, args.attachment_kib * 1024)
    big_line = ""
    server = Server("wsgi:app", env)
    relay = Relay(server.port, args.latency_ms, args.rate_mbps)
    try:
        warm_up(server.port)
        bare_s, bare = timed_sync(
            f"http://127.0.0.1:{server.port}", Vault.open(tmp / "a", key), key
        )
        slow_vault = Vault.open(tmp / "b", key)
        link = f"http://127.0.0.1:{relay.port}"
        first_s, first = timed_sync(link, slow_vault, key)
        empty_s, empty = timed_sync(link, slow_vault, key)
        relay.stop()
        if args.big_mb:
            big_line = big_file(tmp, app, server, key, args)
    finally:
        relay.stop()
        server.stop()
    for result in (bare, first):
        if result.refused or len(set(result.reports)) != args.reports:
            raise RuntimeError(f"sync refused {len(result.refused)}: {result.refused[:3]}")
    held = sum(p.stat().st_size for p in (tmp / "b" / "blobs").iterdir())
    return Figures(bare_s, first_s, empty_s, first, empty, held, big_line)


def print_figures(figures: Figures, args: argparse.Namespace) -> None:
    held = figures.held_bytes
    link_name = f"{args.latency_ms:.0f} ms each way, {args.rate_mbps:g} MB/s each direction"
    print(
        f"link: {args.reports} reports with a {args.attachment_kib} KiB attachment each, "
        f"{len(figures.first.fetched)} blobs, {held / 1e6:.1f} MB of ciphertext"
    )
    print(f"  (a) first sync, bare loopback: {figures.bare_s:6.2f} s")
    verdict = "meets" if figures.first_s < TARGET_FIRST_S else "MISSES"
    print(
        f"  (b) first sync through the relay ({link_name}): {figures.first_s:6.2f} s "
        f"({verdict} the {TARGET_FIRST_S:.0f} s target; the bytes alone take "
        f"{held / (args.rate_mbps * 1e6):.1f} s)"
    )
    verdict = "meets" if figures.empty_s < TARGET_EMPTY_S else "MISSES"
    listed = len(figures.empty.reports)
    print(
        f"  (c) sync with nothing new through the relay: {figures.empty_s:6.2f} s "
        f"({verdict} the {TARGET_EMPTY_S:.0f} s target; {listed} reports listed)"
    )
    if figures.big_line:
        print(figures.big_line)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=1000)
    parser.add_argument("--attachment-kib", type=int, default=4)
    parser.add_argument("--latency-ms", type=float, default=300.0)
    parser.add_argument("--rate-mbps", type=float, default=2.0)
    parser.add_argument("--big-mb", type=int, default=0, help="also a file of this many MiB")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="amanat-bench-link-", dir=os.environ.get("BENCH_DIR")))
    try:
        figures = time_syncs(tmp, args)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print_figures(figures, args)


if __name__ == "__main__":
    main()
