"""The shipped commands and servers run as in production, for the tests of deploy/
and tests/faults: an installation made as an operator makes one, and bounded waits
for a server to start or a condition to hold."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from crypto.keys import ReviewerKey

BIN = Path(sys.executable).parent


def init_installation(
    tmp_path: Path, reviewer: str, settings: dict[str, str]
) -> tuple[dict[str, str], ReviewerKey]:
    """Run `amanat-server init`, then add a reviewer named reviewer; return the
    environment the installation runs with (production, plus settings) and the
    reviewer's key. No AMANAT_* or GUNICORN_* variable of the caller leaks in."""
    key = ReviewerKey.generate(reviewer)
    bundle = tmp_path / "bundle.json"
    bundle.write_text(key.bundle().to_json())
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AMANAT_", "GUNICORN_"))},
        "AMANAT_ENV": "production",
        **settings,
    }
    for args in (["init"], ["recipient", "add", str(bundle)]):
        subprocess.run(
            [str(BIN / "amanat-server"), *args], env=env, check=True, capture_output=True
        )
    return env, key


def wait_until(condition: Callable[[], bool], what: str, seconds: float = 20.0) -> None:
    """Return once condition() is true; AssertionError naming what after seconds."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def listening(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:port."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
