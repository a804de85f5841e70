"""The files under deploy/: each is run, verified or parsed here.

gunicorn is started with the shipped configuration and a report goes
through it; the torrc, the nginx configuration and the systemd units are
checked by the tools that will read them in production when this machine
has them (tor, nginx, systemd-analyze), and parsed for their safety
settings always.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import runpy
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from bench.slow_clients import connections_of, established_inodes, worker_pids
from bench.upload import Browser, free_port, new_source, token_of
from crypto.envelope import Kind, open_bytes
from crypto.keys import ReviewerKey
from portal.check import Deployment, check_gunicorn, check_nginx
from portal.models import Blob
from portal.onion import onion_address
from portal.settings import Settings
from tests.portal.deployment import BIN, init_installation, listening, wait_until
from tests.portal.multipart_body import content_type, encode

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
GUNICORN = (str(BIN / "gunicorn"), "--config", str(DEPLOY / "gunicorn.conf.py"))
UNITS = ("amanat.service", "amanat-retention.service", "amanat-retention.timer")


@pytest.fixture
def production_portal(
    tmp_path: Path, redis_url: str
) -> Iterator[tuple[dict[str, str], ReviewerKey]]:
    """A production data directory made with amanat-server init, one reviewer registered."""
    settings = {
        "AMANAT_DATA_DIR": str(tmp_path / "data"),
        "AMANAT_RATELIMIT_STORAGE": redis_url,
        "AMANAT_ONION_ADDRESS": onion_address(bytes(32)),
        "AMANAT_GUNICORN_WORKERS": "1",
        "AMANAT_GUNICORN_THREADS": "4",
    }
    yield init_installation(tmp_path, "Deploy reviewer", settings)


@pytest.fixture
def gunicorn(production_portal, tmp_path: Path):
    env, key = production_portal
    port = free_port()
    log = (tmp_path / "gunicorn.log").open("wb")
    process = subprocess.Popen(
        [*GUNICORN, "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until(lambda: process.poll() is not None or listening(port), "gunicorn to start")
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited at start")
        yield port, env, key, tmp_path / "gunicorn.log", process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # pragma: no cover - a hung server
            process.kill()
            process.wait()
        log.close()


def test_gunicorn_with_the_shipped_config_takes_a_report(gunicorn) -> None:
    port, env, key, log, _ = gunicorn
    browser = Browser(port)
    new_source(browser)
    _, page, _ = browser.request("GET", "/report")
    fields = [
        ("csrf_token", token_of(page)),
        ("website", ""),
        ("store_report", "yes"),
        ("region", "osh"),
        ("narrative", "Through gunicorn with deploy/gunicorn.conf.py"),
    ]
    files = [("evidence", "photo.jpg", os.urandom(700_000), "image/jpeg")]
    status, _, _ = browser.request(
        "POST", "/report", encode(fields, files), {"Content-Type": content_type()}
    )
    assert status == 303, status
    engine = create_engine(f"sqlite:///{env['AMANAT_DATA_DIR']}/amanat.db")
    try:
        with Session(engine) as session:
            blobs = session.scalars(select(Blob)).all()
    finally:
        engine.dispose()
    assert sorted(b.kind for b in blobs) == ["answers", "file"]
    (answers,) = [b for b in blobs if b.kind == "answers"]
    sealed = (Path(env["AMANAT_DATA_DIR"]) / "blobs" / answers.storage_name).read_bytes()
    content = json.loads(open_bytes(sealed, key.box, Kind.REPORT).content)
    assert content["narrative"] == "Through gunicorn with deploy/gunicorn.conf.py"
    # No access log: no request line and no client address was written.
    written = log.read_text(errors="replace")
    assert "POST /report" not in written and "127.0.0.1" not in written


def test_a_slow_upload_does_not_hold_up_other_visitors(gunicorn) -> None:
    port, master = gunicorn[0], gunicorn[4]
    slow = socket.create_connection(("127.0.0.1", port))
    try:
        slow.sendall(
            b"POST /report HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n"
            b"Content-Type: " + content_type().encode() + b"\r\n\r\n" + b"-" * 1000
        )
        # The upload is taken by the one worker (and, its body begun, by a thread).
        (worker,) = worker_pids(master)
        wait_until(lambda: connections_of(worker, established_inodes(port)) == 1, "the upload")
        start = time.monotonic()
        status, _, _ = Browser(port).request("GET", "/")
        assert status == 200
        assert time.monotonic() - start < 5
    finally:
        slow.close()


def test_gunicorn_config_is_fit_for_tor() -> None:
    conf = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    assert conf["bind"] == "127.0.0.1:8080"
    assert conf["worker_class"] == "gthread" and conf["threads"] >= 8
    assert conf["accesslog"] is None
    assert conf["forwarded_allow_ips"] == ""
    assert conf["limit_request_line"] <= 8190 and conf["limit_request_fields"] <= 100
    settings = Settings.from_env({"AMANAT_DATA_DIR": "/nonexistent"})
    deployment = Deployment(settings, gunicorn_conf=DEPLOY / "gunicorn.conf.py")
    assert check_gunicorn(deployment) == []


def test_gunicorn_error_log_blanks_addresses() -> None:
    import logging

    conf = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    record = logging.LogRecord(
        "gunicorn.error",
        logging.WARNING,
        "",
        0,
        "Invalid request from ip=%s: %s",
        ("203.0.113.7", "bad"),
        None,
    )
    assert conf["_NoAddresses"]().filter(record)
    assert record.getMessage() == "Invalid request from ip=[address]: bad"


def test_torrc_points_the_onion_service_at_gunicorn(tmp_path: Path) -> None:
    text = (DEPLOY / "torrc").read_text()
    assert re.search(r"^HiddenServicePort 80 127\.0\.0\.1:8080$", text, re.MULTILINE)
    assert re.search(r"^HiddenServiceDir /var/lib/tor/amanat/$", text, re.MULTILINE)
    assert re.search(r"^SocksPort 0$", text, re.MULTILINE)
    tor = shutil.which("tor")
    if tor is None:
        pytest.skip("tor is not installed: the torrc was parsed but not verified by tor")
    service_dir = tmp_path / "hs"
    service_dir.mkdir(mode=0o700)
    local = tmp_path / "torrc"
    local.write_text(
        text.replace("/var/lib/tor/amanat/", f"{service_dir}/")
        + f"\nDataDirectory {tmp_path / 'tor-data'}\n"
    )
    result = subprocess.run(
        [tor, "--verify-config", "-f", str(local)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Configuration was valid" in result.stdout


def test_nginx_config_never_buffers_or_logs(tmp_path: Path) -> None:
    settings = Settings.from_env({"AMANAT_DATA_DIR": str(tmp_path / "data")})
    assert check_nginx(Deployment(settings, nginx_conf=DEPLOY / "nginx.conf")) == []
    text = (DEPLOY / "nginx.conf").read_text()
    assert "X-Forwarded-For" not in text.split("#")[0]
    nginx = shutil.which("nginx")
    if nginx is None:
        pytest.skip("nginx is not installed: the config was parsed but not tested by nginx")
    local = tmp_path / "nginx.conf"
    # Paths a test may write: its own error log; no user switch unless root.
    local.write_text(
        text.replace("/var/log/nginx/error.log", str(tmp_path / "error.log")).replace(
            "user www-data;", "user www-data;" if os.geteuid() == 0 else ""
        )
    )
    result = subprocess.run(
        [nginx, "-t", "-c", str(local), "-p", str(tmp_path), "-g", f"pid {tmp_path}/nginx.pid;"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DEPLOY / name)
    return parser


def test_portal_unit_is_sandboxed() -> None:
    service = _unit("amanat.service")["Service"]
    assert service["ProtectSystem"] == "strict"
    assert service["ReadWritePaths"] == "/var/lib/amanat"
    for key in ("PrivateTmp", "NoNewPrivileges", "ProtectHome", "PrivateDevices"):
        assert service[key] == "true", key
    assert service["User"] == "amanat" and service["UMask"] == "0077"
    assert "deploy/gunicorn.conf.py" in service["ExecStart"]
    retention = _unit("amanat-retention.service")["Service"]
    assert retention["ExecStart"].endswith("amanat-server purge")
    assert retention["ProtectSystem"] == "strict"
    assert _unit("amanat-retention.timer")["Timer"]["OnCalendar"]


def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed: the units were parsed only")
    for name in UNITS:
        text = (DEPLOY / name).read_text()
        # The real paths of this checkout stand in for /opt/amanat.
        text = text.replace("/opt/amanat/.venv/bin", str(BIN)).replace("/opt/amanat", str(ROOT))
        (tmp_path / name).write_text(text)
    result = subprocess.run(
        [analyze, "verify", *(str(tmp_path / n) for n in UNITS)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    complaints = [line for line in (result.stdout + result.stderr).splitlines() if "amanat" in line]
    assert result.returncode == 0 and complaints == [], result.stdout + result.stderr


def test_deploy_doc_covers_every_shipped_file() -> None:
    doc = (ROOT / "docs" / "DEPLOY.md").read_text()
    for path in DEPLOY.iterdir():
        assert f"deploy/{path.name}" in doc, path.name
    assert "docs/DEPLOY.md" in (ROOT / "README.md").read_text()


def test_a_path_with_a_line_break_neither_raises_nor_writes_the_path(gunicorn) -> None:
    port, _, _, log, _ = gunicorn
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(
            b"GET /%0aX-Forged-Log-Line:%20admin%20login HTTP/1.1\r\n"
            b"Host: localhost\r\nConnection: close\r\n\r\n"
        )
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    assert head.startswith("HTTP/1.1 404 ")
    onion = [line for line in head.split("\r\n") if line.startswith("Onion-Location:")]
    assert onion == [
        f"Onion-Location: http://{onion_address(bytes(32))}/%0AX-Forged-Log-Line:%20admin%20login"
    ]
    assert not [line for line in head.split("\r\n") if line.startswith("X-Forged")]
    written = log.read_text(encoding="utf-8", errors="replace")
    assert "X-Forged" not in written and "admin login" not in written
    assert "Traceback" not in written


def test_gunicorn_error_log_names_no_request_path() -> None:
    import logging

    conf = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    for template, args in (
        ("Error handling request %s", ("/api/v1/blobs/abcdefghijklmnopqrstuvwxyz",)),
        ("Invalid request from ip=%s: %s", ("127.0.0.1", "Invalid HTTP request line: 'GET /a\nb'")),
    ):
        record = logging.LogRecord("gunicorn.error", logging.ERROR, "", 0, template, args, None)
        assert conf["_NoAddresses"]().filter(record)
        message = record.getMessage()
        assert "abcdefghijklmnopqrstuvwxyz" not in message and "GET /a" not in message
        assert "\n" not in message


def test_nginx_passes_the_request_target_unchanged() -> None:
    # API signatures cover the raw target; a proxy_pass with a URI part would
    # make nginx normalise it (docs/API.md, "Authentication").
    text = (DEPLOY / "nginx.conf").read_text()
    passes = [line.strip() for line in text.splitlines() if line.strip().startswith("proxy_pass")]
    assert passes
    assert all(re.fullmatch(r"proxy_pass https?://[^/\s]+;", line) for line in passes)
