"""Two portal hosts on one PostgreSQL database and one data directory.

Two gunicorn masters run with deploy/gunicorn.conf.py, as two hosts behind
one onion service would: one database, one shared data directory (shared
storage), one Redis. What a source or reviewer does on one must hold on the
other: a codename made on A logs in on B; a signed request A accepted is a
replay on B; reports sent to each are synced once; and a sweep run while B
commits a slow multi-file upload removes nothing.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from admin.client import ApiClient
from admin.sync import sync
from admin.vault import Vault
from bench.upload import Browser, free_port, new_source, token_of
from crypto.keys import ReviewerKey
from crypto.requests_auth import sign_request
from portal import db
from portal.models import Blob
from portal.store import BlobStore
from portal.sweep import sweep
from tests.conftest import POSTGRES_ENV, drop_everything
from tests.conftest import postgres_url as conftest_postgres_url
from tests.portal.deployment import BIN, init_installation, listening, wait_until
from tests.portal.multipart_body import content_type, encode

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
ROOT = Path(__file__).resolve().parents[2]
DAY = 24 * 3600
GUNICORN = (str(BIN / "gunicorn"), "--config", str(ROOT / "deploy" / "gunicorn.conf.py"))
MIB = 1024**2


def postgres_url() -> str:
    url = conftest_postgres_url()
    if not url:
        pytest.skip(f"{POSTGRES_ENV} is not set: two hosts need one PostgreSQL database")
    engine = db.make_engine(url)
    try:
        engine.connect().close()
    except Exception as exc:  # any failure to connect: say so and skip
        pytest.skip(f"PostgreSQL at {POSTGRES_ENV} does not answer ({type(exc).__name__})")
    finally:
        engine.dispose()
    return url


@pytest.fixture
def installation(tmp_path: Path, redis_url: str) -> Iterator[tuple[dict[str, str], ReviewerKey]]:
    """A production installation (init, one reviewer) on PostgreSQL; yields (env, key)."""
    url = postgres_url()
    drop_everything(url)
    settings = {
        "AMANAT_DATA_DIR": str(tmp_path / "shared"),
        "AMANAT_DATABASE_URL": url,
        "AMANAT_RATELIMIT_STORAGE": redis_url,
        "AMANAT_GUNICORN_WORKERS": "1",
        "AMANAT_GUNICORN_THREADS": "4",
    }
    yield init_installation(tmp_path, "Reviewer", settings)
    drop_everything(url)


@pytest.fixture
def hosts(installation) -> Iterator[tuple[int, int, dict[str, str], ReviewerKey]]:
    """Two gunicorn masters (hosts A and B) on the installation; yields their ports."""
    env, key = installation
    ports = [free_port(), free_port()]
    masters = [
        subprocess.Popen(
            [*GUNICORN, "--bind", f"127.0.0.1:{port}", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        for port in ports:
            wait_until(lambda port=port: listening(port), f"gunicorn on {port}")
        yield ports[0], ports[1], env, key
    finally:
        for master in masters:
            master.send_signal(signal.SIGTERM)
        for master in masters:
            try:
                master.wait(timeout=20)
            except subprocess.TimeoutExpired:  # pragma: no cover - a hung server
                master.kill()
                master.wait()


def log_in(browser: Browser, codename: str) -> int:
    _, page, _ = browser.request("GET", "/login")
    status, _, _ = browser.form("/login", {"csrf_token": token_of(page), "codename": codename})
    return status


def report_body(browser: Browser, narrative: str, files) -> bytes:
    _, page, _ = browser.request("GET", "/report")
    fields = [("csrf_token", token_of(page)), ("website", ""), ("store_report", "yes")]
    fields += [("region", "osh"), ("narrative", narrative)]
    return encode(fields, files)


def slow_post(browser: Browser, body: bytes, pause_at: int, paused) -> int:
    """POST /report, stopping after pause_at bytes until paused() returns."""
    cookies = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
    head = (
        f"POST /report HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type()}\r\n"
        f"Content-Length: {len(body)}\r\nCookie: {cookies}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", browser.port), timeout=60) as conn:
        conn.sendall(head + body[:pause_at])
        paused()
        conn.sendall(body[pause_at:])
        answer = conn.recv(200).decode("latin-1")
    return int(answer.split()[1])


def replay_on_b_is_refused(port_a: int, port_b: int, key: ReviewerKey) -> None:
    """A signed request A accepted is a replay on B."""
    identity = requests.get(f"http://127.0.0.1:{port_a}/api/v1/identity", timeout=30)
    server = identity.json()["receipt_key"]  # the same on both hosts: one installation
    signed = sign_request(key.signing, "GET", "/api/v1/reports", b"", server)
    accepted = requests.get(f"http://127.0.0.1:{port_a}/api/v1/reports", headers=signed, timeout=30)
    assert accepted.status_code == 200
    replay = requests.get(f"http://127.0.0.1:{port_b}/api/v1/reports", headers=signed, timeout=30)
    assert replay.status_code == 401 and "replayed_nonce" in replay.text


def post_while_sweeping(browser: Browser, body: bytes, store: BlobStore, engine: Engine):
    """slow_post the body, sweeping over and over from the moment its third file arrives.

    The pending files are aged by two days first, so any clock calls them abandoned.
    Returns the post's status and every sweep's result.
    """
    stop, sweeps = threading.Event(), []

    def sweeping() -> None:
        while not stop.is_set():
            with Session(engine) as session:
                sweeps.append(sweep(session, store, 0))

    def two_files_arrived() -> None:
        wait_until(lambda: len(list(store.incoming.glob("?" * 32))) >= 3, "three pending files")
        for path in store.incoming.glob("?" * 32):
            old = time.time() - 2 * DAY
            os.utime(path, (old, old))  # they look abandoned to any clock
        sweeper.start()

    sweeper = threading.Thread(target=sweeping)
    try:
        status = slow_post(browser, body, len(body) - 300_000, two_files_arrived)
    finally:
        stop.set()
        if sweeper.is_alive():
            sweeper.join()
    return status, sweeps


def test_two_hosts_share_sources_replay_protection_reports_and_a_safe_sweep(
    hosts, tmp_path: Path
) -> None:
    port_a, port_b, env, key = hosts
    on_a, on_b = Browser(port_a), Browser(port_b)

    # A codename made on A logs in on B.
    codename = new_source(on_a)
    assert log_in(on_b, codename) == 303

    replay_on_b_is_refused(port_a, port_b, key)

    # A report to A; a slow three-file report to B, swept from the outside
    # (as host A's retention would) all the while it arrives and commits.
    # The upload pauses inside its third file (the portal reads 1 MiB at a
    # time, so the files are larger than that).
    first = report_body(
        on_a, "sent to host A", [("evidence", "a.jpg", b"\xff\xd8 A", "image/jpeg")]
    )
    assert on_a.request("POST", "/report", first, {"Content-Type": content_type()})[0] == 303
    files = [("evidence", f"{n}.bin", os.urandom(3 * MIB // 2), "x/y") for n in range(3)]
    second = report_body(on_b, "sent to host B", files)
    store = BlobStore(Path(env["AMANAT_DATA_DIR"]))
    engine = db.make_engine(env["AMANAT_DATABASE_URL"])
    status, sweeps = post_while_sweeping(on_b, second, store, engine)
    assert status == 303
    assert sweeps and all(s.orphans == 0 and s.partial == 0 for s in sweeps)
    with Session(engine) as session:
        names = set(session.scalars(select(Blob.storage_name)))
    engine.dispose()
    assert len(names) == 6  # two answers, four files
    assert names == set(store.names())

    # Both reports are synced once: from A, and nothing new from B.
    vault = Vault.open(tmp_path / "vault", key)
    with ApiClient(f"http://127.0.0.1:{port_a}", key) as client:
        synced = sync(vault, client)
    assert len(synced.reports) == 2 and len(synced.fetched) == 6 and not synced.refused
    with ApiClient(f"http://127.0.0.1:{port_b}", key) as client:
        again = sync(vault, client)
    assert again.fetched == [] and not again.refused
    narratives = sorted(vault.answers(r)["narrative"] for r in synced.reports)
    assert narratives == ["sent to host A", "sent to host B"]
