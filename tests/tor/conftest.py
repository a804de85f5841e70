"""The portal behind a real onion service on a private Tor network (tests/tor/network.py).

One network per test session: bringing it up takes about half a minute (the
authorities' first consensus), so every onion test shares it. The portal
runs under gunicorn with deploy/gunicorn.conf.py, in the foreground of a
child of the test process (with --daemon, gunicorn leaves a zombie where
PID 1 does not reap), inside the network's namespace on the port that
deploy/torrc forwards to.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from crypto.kdf import MINIMAL
from crypto.keys import ReviewerKey, write_keyfile
from tests.tor.network import NetworkUnavailable, TorNetwork, missing_tools, tor_network

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PORTAL_PORT = 8080  # the port deploy/torrc and deploy/gunicorn.conf.py agree on
MAX_UPLOAD = 8 * 1024**2
PASSPHRASE = "onion reviewer passphrase"
BRING_UP_SECONDS = 240


class Response:
    """A requests answer with the few methods the journey helpers use."""

    def __init__(self, response: requests.Response) -> None:
        self.status_code = response.status_code
        self.headers = response.headers
        self._body = response.content

    def get_data(self, as_text: bool = False) -> Any:
        return self._body.decode() if as_text else self._body


class OnionBrowser:
    """A browser without JavaScript whose every request goes through Tor.

    It speaks the subset of Flask's test client that tests/portal/journey.py
    uses, so the source's steps are the same code over the onion as on
    loopback.
    """

    def __init__(
        self, network: TorNetwork, base_url: str, *, via_tor: bool = True, timeout: float = 60
    ) -> None:
        self.network = network
        self.base_url = base_url
        self.timeout = timeout
        self.session = requests.Session()
        if via_tor:
            self.session.proxies = {"http": network.socks_url, "https": network.socks_url}

    def _send(self, method: str, path: str, **kwargs: Any) -> Response:
        def send() -> Response:
            answer = self.session.request(
                method, self.base_url + path, allow_redirects=False, timeout=self.timeout, **kwargs
            )
            return Response(answer)

        return self.network.namespace.call(send)

    def get(self, path: str, **kwargs: Any) -> Response:
        # A page cut short on the way through Tor is reloaded, as a person would;
        # a POST is never sent twice.
        try:
            return self._send("GET", path, **kwargs)
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError):
            return self._send("GET", path, **kwargs)

    def post(self, path: str, data: Any = None, content_type: str | None = None) -> Response:
        headers = {"Content-Type": content_type} if content_type else {}
        return self._send("POST", path, data=data, headers=headers)

    def delete_cookie(self, name: str) -> None:
        for cookie in list(self.session.cookies):
            if cookie.name == name:
                self.session.cookies.clear(cookie.domain, cookie.path, cookie.name)


@dataclass
class OnionPortal:
    network: TorNetwork
    onion: str
    env: dict[str, str]
    keyfile: Path
    vault: Path
    bring_up_seconds: float

    @property
    def url(self) -> str:
        return f"http://{self.onion}"

    def browser(self, timeout: float = 60) -> OnionBrowser:
        return OnionBrowser(self.network, self.url, timeout=timeout)

    def clearnet_browser(self) -> OnionBrowser:
        """The same gunicorn reached directly, as a clearnet reverse proxy would."""
        return OnionBrowser(self.network, f"http://127.0.0.1:{PORTAL_PORT}", via_tor=False)

    def admin(
        self, *args: str, online: bool = True, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run amanat-admin as the reviewer, inside the network when it goes online."""
        env = {**self.env, "AMANAT_PASSPHRASE": PASSPHRASE, "AMANAT_VAULT": str(self.vault)}
        argv = [str(BIN / "amanat-admin"), *args]
        if online:
            argv = self.network.namespace.command(argv)
        return subprocess.run(
            argv, env=env, input=input, capture_output=True, text=True, timeout=300
        )

    def server_in_network(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run amanat-server as the operator, on the onion service's machine."""
        argv = self.network.namespace.command([str(BIN / "amanat-server"), *args])
        return subprocess.run(
            argv, env={**self.env, **(env or {})}, capture_output=True, text=True, timeout=120
        )


def _portal_env(data_dir: Path, onion: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AMANAT_", "GUNICORN_"))}
    return {
        **clean,
        "AMANAT_DATA_DIR": str(data_dir),
        "AMANAT_DATABASE_URL": f"sqlite:///{data_dir / 'amanat.db'}",
        "AMANAT_KDF_COST": "minimal",
        "AMANAT_ONION_ADDRESS": onion,
        "AMANAT_MAX_UPLOAD_BYTES": str(MAX_UPLOAD),
        "AMANAT_GUNICORN_WORKERS": "1",
        "AMANAT_GUNICORN_THREADS": "8",
    }


def _register_reviewer(base: Path, env: dict[str, str]) -> Path:
    key = ReviewerKey.generate("Onion reviewer")
    keyfile = base / "reviewer.key"
    write_keyfile(keyfile, key, PASSPHRASE, MINIMAL)
    bundle = base / "reviewer.json"
    bundle.write_text(key.bundle().to_json())
    for args in (["init"], ["recipient", "add", str(bundle)]):
        done = subprocess.run([str(BIN / "amanat-server"), *args], env=env, capture_output=True)
        assert done.returncode == 0, done.stderr
    return keyfile


def _wait_until(what: str, probe: Any, network: TorNetwork, deadline: float) -> None:
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if probe():
                return
        except (requests.RequestException, OSError) as exc:
            last = exc
        time.sleep(1)
    raise NetworkUnavailable(f"{what} did not answer in time ({last})\n{network.logs()}")


@pytest.fixture(scope="session")
def onion_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OnionPortal]:
    reason = missing_tools()
    if reason:
        pytest.skip(f"no private Tor network here: {reason}")
    base = tmp_path_factory.mktemp("onion")
    started = time.monotonic()
    with tor_network(base / "tor") as network:
        onion = network.wait_for_hostname()
        env = _portal_env(base / "data", onion)
        keyfile = _register_reviewer(base, env)
        log = (base / "gunicorn.log").open("wb")
        gunicorn = subprocess.Popen(
            network.namespace.command(
                [
                    str(BIN / "gunicorn"),
                    "--config",
                    str(ROOT / "deploy" / "gunicorn.conf.py"),
                    "wsgi:app",
                ]
            ),
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            portal = OnionPortal(network, onion, env, keyfile, base / "vault", 0.0)
            deadline = started + BRING_UP_SECONDS
            _wait_until(
                "gunicorn",
                lambda: portal.clearnet_browser().get("/").status_code == 200,
                network,
                deadline,
            )
            _wait_until(
                "the onion service",
                lambda: portal.browser(timeout=8).get("/").status_code == 200,
                network,
                deadline,
            )
            portal.bring_up_seconds = time.monotonic() - started
            yield portal
        finally:
            gunicorn.terminate()
            gunicorn.wait(timeout=30)
            log.close()
