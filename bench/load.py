"""200 concurrent small submissions; none may be lost.

    .venv/bin/python -m bench.load [--reports 200] [--threads 200]

The portal runs under gunicorn with the production settings file
(deploy/gunicorn.conf.py: gthread, 1 worker, 128 threads) on 127.0.0.1, on
SQLite in a temp directory. Each of N sources takes a codename, then all N
send a small report (text and a 10 KB file) at the same moment. Afterwards a
reviewer syncs over the real API and opens every report: the run fails
unless every one arrived and opens with the reviewer's key, each with its
own marker. Loopback only; every wait is bounded.

The portal's rate limits are a global budget against floods (portal.limits)
and would refuse most of a 200-report burst by design; this bench measures
capacity, so its app (`unlimited_app()`) switches the limiter off.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.upload import (
    BOUNDARY,
    Browser,
    free_port,
    multipart_head_and_tail,
    new_source,
    token_of,
)
from crypto.keys import ReviewerKey

ROOT = Path(__file__).resolve().parents[1]


def unlimited_app() -> Any:
    """The portal app from the environment, with its rate limits off (see the docstring)."""
    from portal import create_app
    from portal.limits import limiter

    app = create_app()
    limiter.enabled = False
    return app


@dataclass
class Portal:
    port: int
    data_dir: Path
    env: dict[str, str]
    reviewer: ReviewerKey
    pid: int = 0  # gunicorn's master process


@contextmanager
def portal(
    kdf_cost: str = "minimal",
    workers: int | None = None,
    threads: int | None = None,
    connections: int | None = None,
) -> Iterator[Portal]:
    """The portal under gunicorn with deploy/gunicorn.conf.py, one reviewer registered.

    workers, threads and connections (per worker) override the settings
    file's values through its AMANAT_GUNICORN_* variables; None keeps them.
    """
    with tempfile.TemporaryDirectory(prefix="amanat-bench-") as scratch:
        data_dir = Path(scratch) / "data"
        env = {
            **os.environ,
            "AMANAT_DATA_DIR": str(data_dir),
            "AMANAT_KDF_COST": kdf_cost,
        }
        for name, value in (
            ("WORKERS", workers),
            ("THREADS", threads),
            ("CONNECTIONS", connections),
        ):
            if value is not None:
                env[f"AMANAT_GUNICORN_{name}"] = str(value)
        env.pop("AMANAT_DATABASE_URL", None)
        reviewer = ReviewerKey.generate("Bench reviewer")
        _register(env, reviewer)
        port = free_port()
        command = [
            str(Path(sys.executable).parent / "gunicorn"),
            "--config",
            str(ROOT / "deploy" / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
            "bench.load:unlimited_app()",
        ]
        process = subprocess.Popen(command, cwd=ROOT, env=env)
        try:
            _wait_for(port)
            yield Portal(port=port, data_dir=data_dir, env=env, reviewer=reviewer, pid=process.pid)
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _register(env: dict[str, str], reviewer: ReviewerKey) -> None:
    from portal import db
    from portal.recipients import register_recipient
    from portal.settings import Settings

    settings = Settings.from_env(env)
    db.upgrade(settings.database_url)
    engine = db.make_engine(settings.database_url)
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        register_recipient(session, reviewer.bundle())
        session.commit()
    engine.dispose()


def _wait_for(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if Browser(port).request("GET", "/")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the portal did not start")


def report_body(token: str, marker: str, file_bytes: int = 10_000) -> bytes:
    fields = [("csrf_token", token), ("website", ""), ("store_report", "yes")]
    fields += [("region", "osh"), ("narrative", f"Нагрузочный тест {marker}")]
    head, tail = multipart_head_and_tail(fields, f"{marker}.bin", "application/octet-stream")
    return head + os.urandom(file_bytes) + tail


def submit(browser: Browser, body: bytes) -> tuple[int, float]:
    start = time.perf_counter()
    status, _, _ = browser.request(
        "POST", "/report", body, {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    )
    return status, time.perf_counter() - start


def ready_sources(port: int, count: int) -> list[tuple[Browser, str]]:
    """count logged-in sources, each with a report form token."""
    sources = []
    for _ in range(count):
        browser = Browser(port)
        new_source(browser)
        _, page, _ = browser.request("GET", "/report")
        sources.append((browser, token_of(page)))
    return sources


def synced_markers(running: Portal) -> tuple[int, set[str], int]:
    """Sync as the reviewer; return (reports listed, narrative markers opened, refusals)."""
    from admin.client import ApiClient
    from admin.sync import sync
    from admin.vault import Vault

    with tempfile.TemporaryDirectory(prefix="amanat-bench-vault-") as vault_dir:
        vault = Vault.open(Path(vault_dir), running.reviewer)
        with ApiClient(f"http://127.0.0.1:{running.port}", running.reviewer) as client:
            result = sync(vault, client)
        markers = set()
        for report in vault.reports():
            narrative = vault.answers(report.id)["narrative"]
            markers.add(narrative.rsplit(" ", 1)[-1])
            for entry in vault.files(report.id):
                vault.manifest(entry.blob_id)  # opens and verifies the file
        return len(vault.reports()), markers, len(result.refused)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=200)
    args = parser.parse_args(argv)
    with portal() as running:
        setup = time.perf_counter()
        sources = ready_sources(running.port, args.reports)
        print(f"{args.reports} sources ready in {time.perf_counter() - setup:.1f} s")
        bodies = [report_body(token, f"m{i:04d}") for i, (_, token) in enumerate(sources)]
        results: list[tuple[int, float]] = [(0, 0.0)] * args.reports
        gate = threading.Barrier(args.reports + 1, timeout=60)

        def send(i: int) -> None:
            gate.wait()
            try:
                results[i] = submit(sources[i][0], bodies[i])
            except OSError as exc:
                results[i] = (-1, 0.0)
                print(f"submission {i} failed: {exc}")

        threads = [threading.Thread(target=send, args=(i,)) for i in range(args.reports)]
        for thread in threads:
            thread.start()
        gate.wait()
        start = time.perf_counter()
        for thread in threads:
            thread.join(timeout=300)
        wall = time.perf_counter() - start
        statuses = [status for status, _ in results]
        times = [seconds for _, seconds in results]
        accepted = statuses.count(303)
        print(f"{accepted}/{args.reports} accepted (303) in {wall:.2f} s wall")
        print(
            f"latency: median {statistics.median(times):.2f} s, "
            f"p99 {percentile(times, 0.99):.2f} s, max {max(times):.2f} s"
        )
        sync_start = time.perf_counter()
        listed, markers, refused = synced_markers(running)
        print(
            f"sync: {listed} reports listed, {len(markers)} opened with the reviewer key, "
            f"{refused} refused, in {time.perf_counter() - sync_start:.1f} s"
        )
        expected = {f"m{i:04d}" for i in range(args.reports)}
        lost = expected - markers
        ok = accepted == args.reports and not lost and refused == 0 and listed == args.reports
        print("PASS: none lost" if ok else f"FAIL: lost {sorted(lost)[:10]}")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
