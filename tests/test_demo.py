"""`make run` (demo.py): says "running" only when it is, and the ports can be chosen."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

import demo
from tests.portal.deployment import closed_port

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port on which something else already listens (on all addresses)."""
    with socket.socket() as listener:
        listener.bind(("0.0.0.0", 0))  # noqa: S104 - a local listener the demo must notice
        listener.listen()
        yield int(listener.getsockname()[1])


def demo_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMANAT_DEMO_")}
    return {**env, "AMANAT_DEMO_DIR": str(tmp_path / "demo"), **extra}


def run_demo(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "demo.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_demo_fails_loudly_naming_a_taken_portal_port(tmp_path: Path, taken_port: int) -> None:
    result = run_demo(
        ["--portal-port", str(taken_port), "--console-port", str(closed_port())], demo_env(tmp_path)
    )
    assert result.returncode == 1
    assert f"port {taken_port} on 127.0.0.1 is not free for the portal" in result.stderr
    assert "running" not in result.stdout


def test_demo_fails_loudly_naming_a_taken_console_port_given_by_variable(
    tmp_path: Path, taken_port: int
) -> None:
    env = demo_env(
        tmp_path,
        AMANAT_DEMO_PORTAL_PORT=str(closed_port()),
        AMANAT_DEMO_CONSOLE_PORT=str(taken_port),
    )
    result = run_demo([], env)
    assert result.returncode == 1
    assert f"port {taken_port} on 127.0.0.1 is not free for the reviewer console" in result.stderr
    assert "running" not in result.stdout


def test_demo_refuses_a_port_that_is_not_a_number(tmp_path: Path) -> None:
    result = run_demo([], demo_env(tmp_path, AMANAT_DEMO_PORTAL_PORT="80x"))
    assert result.returncode == 2
    assert "AMANAT_DEMO_PORTAL_PORT: not a port number: '80x'" in result.stderr


def test_a_server_that_exits_at_start_is_reported_with_its_port() -> None:
    port = closed_port()
    process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    with pytest.raises(demo.DemoError, match=rf"portal did not start on 127\.0\.0\.1:{port} "):
        demo.wait_until_serving(process, port, "portal")
    assert process.returncode == 3


def test_make_run_passes_the_chosen_ports_to_the_demo() -> None:
    dry = subprocess.run(
        ["make", "-n", "run", "PORTAL_PORT=9080", "CONSOLE_PORT=9081"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "demo.py --portal-port 9080" in dry
    assert "--console-port 9081" in dry


@pytest.mark.slow
def test_demo_serves_on_the_chosen_ports_and_stops_cleanly(tmp_path: Path) -> None:
    portal_port, console_port = closed_port(), closed_port()
    command = [sys.executable, "demo.py", "--portal-port", str(portal_port)]
    command += ["--console-port", str(console_port)]
    with subprocess.Popen(
        command, cwd=ROOT, env=demo_env(tmp_path), stdout=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdout is not None
            # The console prints its own line too; the demo's summary follows it.
            lines = [process.stdout.readline() for _ in range(6)]
            summary = "".join(lines[lines.index("Amanat demo is running (Ctrl-C stops it):\n") :])
            assert f"portal (for sources):        http://127.0.0.1:{portal_port}/" in summary
            assert f"reviewer console:            http://127.0.0.1:{console_port}/" in summary
            for port in (portal_port, console_port):
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as page:
                    assert page.status == 200
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0
