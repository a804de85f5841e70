"""gunicorn with the shipped deploy/gunicorn.conf.py keeps serving pages while many
uploads are held open (issue 13 item 2).

Each held upload is a POST /report whose body never ends, so it holds a
gunicorn thread for as long as the test keeps it open; under the old
settings a worker accepted connections beyond its threads and a page request
that landed there waited for an upload to finish (100 s in the red team's
run). Timing is in bench/slow_clients.py; this test checks the properties:
no worker takes more connections than it has threads, and the landing page
is answered while 60 uploads are held. Loopback only; every wait is bounded.
"""

from __future__ import annotations

import http.client
import os
import runpy
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.slow_clients import connections_of, established_inodes, worker_pids
from bench.upload import free_port
from tests.portal.deployment import BIN, listening, wait_until
from tests.portal.multipart_body import content_type

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "deploy" / "gunicorn.conf.py"
HELD_UPLOADS = 60


@pytest.fixture
def shipped_gunicorn(tmp_path: Path) -> Iterator[tuple[int, int]]:
    """gunicorn with the shipped settings, none overridden; (port, master pid)."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AMANAT_", "GUNICORN_"))},
        "AMANAT_DATA_DIR": str(tmp_path / "data"),
    }
    subprocess.run([str(BIN / "amanat-server"), "init"], env=env, check=True, capture_output=True)
    port = free_port()
    command = [str(BIN / "gunicorn"), "--config", str(CONF), "--bind", f"127.0.0.1:{port}"]
    with subprocess.Popen([*command, "wsgi:app"], cwd=ROOT, env=env) as process:
        try:
            wait_until(lambda: listening(port), "gunicorn to start", seconds=60)
            yield port, process.pid
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)


def hold_upload(port: int) -> socket.socket:
    """A POST /report whose body has begun and will not end while the test runs."""
    conn = socket.create_connection(("127.0.0.1", port))
    conn.sendall(
        b"POST /report HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000000\r\n"
        b"Content-Type: " + content_type().encode() + b"\r\n\r\n" + b"-" * 1000
    )
    return conn


def connections_per_worker(port: int, master: int) -> list[int]:
    inodes = established_inodes(port)
    return [connections_of(pid, inodes) for pid in worker_pids(master)]


def no_request_waits_while_a_thread_is_free(conf: dict) -> bool:
    """One worker, or workers that stop accepting when their threads are all busy."""
    return conf["workers"] == 1 or conf["worker_connections"] <= conf["threads"]


def test_shipped_settings_let_no_request_wait_while_a_thread_is_free() -> None:
    conf = runpy.run_path(str(CONF))
    assert conf["worker_class"] == "gthread"
    assert no_request_waits_while_a_thread_is_free(conf)
    # Enough threads for the uploads an installation holds at once, and pages besides.
    assert conf["workers"] * conf["threads"] >= HELD_UPLOADS + 16


@pytest.mark.parametrize("workers", ["2", "4"])
def test_more_workers_cap_each_workers_connections_at_its_threads(monkeypatch, workers) -> None:
    monkeypatch.setenv("AMANAT_GUNICORN_WORKERS", workers)
    monkeypatch.delenv("AMANAT_GUNICORN_CONNECTIONS", raising=False)
    conf = runpy.run_path(str(CONF))
    assert conf["worker_connections"] == conf["threads"]
    assert no_request_waits_while_a_thread_is_free(conf)


def test_landing_page_is_served_while_60_uploads_are_held(shipped_gunicorn) -> None:
    port, master = shipped_gunicorn
    threads = runpy.run_path(str(CONF))["threads"]
    held = [hold_upload(port) for _ in range(HELD_UPLOADS)]
    try:
        wait_until(
            lambda: sum(connections_per_worker(port, master)) == HELD_UPLOADS,
            "gunicorn to accept every upload",
            seconds=60,
        )
        assert max(connections_per_worker(port, master)) <= threads
        # (With one worker that is the point of the check above; the old
        # settings, two workers taking up to 1000 connections each, let one
        # of them take 36 of 60 with 32 threads.)
        for _ in range(10):  # new connections, so every worker gets its turn
            # A stalled page fails the test at the timeout instead of hanging it.
            visitor = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                visitor.request("GET", "/")
                assert visitor.getresponse().status == 200
            finally:
                visitor.close()
    finally:
        for conn in held:
            conn.close()
