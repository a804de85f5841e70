"""A private Tor network on loopback, inside a network namespace of its own.

The shape of chutney's `hs-v3-min`: three directory authorities that are
also relays, three relays that exit only to 127.0.0.0/8, one onion service
and one client. Every torrc has `TestingTorNetwork 1` and only this
network's `DirAuthority` lines, and every process runs in a network
namespace whose only interface is `lo`: no tor here can reach, or even
name, a public directory authority.

The onion service's torrc is the project's deploy/torrc with only its paths
(and the ports it forwards to, where asked) replaced.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = Path(__file__).parent / "torrc"
DEPLOY_TORRC = ROOT / "deploy" / "torrc"
CLONE_NEWNET = 0x40000000
SOCKS_PORT = 9050
T = TypeVar("T")


class NetworkUnavailable(Exception):
    """The private network cannot be built here; the message says why."""


def missing_tools() -> str | None:
    """Why the network cannot run on this machine, or None if it can."""
    for tool in ("tor", "tor-gencert", "ip"):
        if shutil.which(tool) is None:
            return f"`{tool}` is not installed (apt-get install tor iproute2; .ci/run does it)"
    if os.geteuid() != 0:
        return "network namespaces need root (`ip netns add`)"
    probe = f"amanat-probe-{os.getpid()}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode:
        return f"`ip netns add` is refused here: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


class Namespace:
    """A network namespace whose only interface is loopback."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.path = Path("/run/netns") / name
        self._executor: ThreadPoolExecutor | None = None

    def create(self) -> None:
        result = subprocess.run(["ip", "netns", "add", self.name], capture_output=True, text=True)
        if result.returncode:
            raise NetworkUnavailable(f"ip netns add failed: {result.stderr.strip()}")
        subprocess.run(self.command(["ip", "link", "set", "lo", "up"]), check=True)

    def command(self, argv: list[str]) -> list[str]:
        """argv, run inside the namespace."""
        return ["ip", "netns", "exec", self.name, *argv]

    def interfaces(self) -> list[str]:
        out = subprocess.run(
            self.command(["ip", "-o", "link", "show"]), capture_output=True, text=True, check=True
        ).stdout
        return [line.split(":")[1].strip() for line in out.splitlines() if line.strip()]

    def call(self, function: Callable[..., T], *args: Any) -> T:
        """Run function(*args) on a thread that lives in the namespace.

        A network namespace belongs to a thread (setns), so sockets this
        thread opens connect to the namespace's loopback while the rest of
        the test process (its database, for one) stays outside.
        """
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, initializer=self._enter)
        return self._executor.submit(function, *args).result()

    def _enter(self) -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open(self.path, os.O_RDONLY)
        try:
            if libc.setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns into the test network failed")
        finally:
            os.close(fd)

    def delete(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False)
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)


@dataclass
class Node:
    nick: str
    role: str  # authority, relay, service, client
    directory: Path
    orport: int = 0
    dirport: int = 0
    fingerprint: str = ""
    v3ident: str = ""
    process: subprocess.Popen[bytes] | None = None

    @property
    def torrc(self) -> Path:
        return self.directory / "torrc"

    def log(self) -> str:
        path = self.directory / "notice.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _render(name: str, **values: object) -> str:
    return Template((TEMPLATES / name).read_text()).substitute(values)


def _relay_fingerprint(directory: Path) -> str:
    """Make the node's identity key and return its fingerprint (tor --list-fingerprint)."""
    subprocess.run(
        [
            "tor",
            "--ignore-missing-torrc",
            "-f",
            "/dev/null",
            "--defaults-torrc",
            "/dev/null",
            "--orport",
            "1",
            "--list-fingerprint",
            "--datadirectory",
            str(directory),
            "--Log",
            "err stderr",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return (directory / "fingerprint").read_text().split()[1]


def _authority_identity(directory: Path, dirport: int) -> str:
    """Make the authority's v3 identity with tor-gencert and return its fingerprint."""
    keys = directory / "keys"
    keys.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "tor-gencert",
            "--create-identity-key",
            "-m",
            "12",
            "-a",
            f"127.0.0.1:{dirport}",
            "-i",
            str(keys / "authority_identity_key"),
            "-s",
            str(keys / "authority_signing_key"),
            "-c",
            str(keys / "authority_certificate"),
            "--passphrase-fd",
            "0",
        ],
        input="",
        capture_output=True,
        text=True,
        check=True,
    )
    certificate = (keys / "authority_certificate").read_text()
    match = re.search(r"^fingerprint ([0-9A-F]{40})$", certificate, re.MULTILINE)
    assert match, "tor-gencert wrote no fingerprint"
    return match.group(1)


def service_torrc(directory: Path, forward_port: int | None = None) -> str:
    """deploy/torrc with its paths (and, if asked, its forwarded port) replaced."""
    text = DEPLOY_TORRC.read_text()
    text = re.sub(r"^HiddenServiceDir .*$", f"HiddenServiceDir {directory}/hs/", text, flags=re.M)
    if forward_port is not None:
        text = re.sub(
            r"^(HiddenServicePort 80 127\.0\.0\.1:)\d+$", rf"\g<1>{forward_port}", text, flags=re.M
        )
    return text


@dataclass
class TorNetwork:
    """Three authorities, three relays, one onion service and one client."""

    base: Path
    namespace: Namespace
    nodes: list[Node] = field(default_factory=list)

    @property
    def service(self) -> Node:
        return next(node for node in self.nodes if node.role == "service")

    @property
    def hostname_file(self) -> Path:
        return self.service.directory / "hs" / "hostname"

    @property
    def onion(self) -> str:
        return self.hostname_file.read_text().strip()

    @property
    def socks_url(self) -> str:
        return f"socks5h://127.0.0.1:{SOCKS_PORT}"

    def configure(self) -> None:
        """Write keys and a torrc for every node."""
        for i in range(3):
            self._add("authority", f"auth{i}", 5000 + i, 7000 + i)
        for i in range(3):
            self._add("relay", f"relay{i}", 5100 + i, 7100 + i)
        self._add("service", "service")
        self._add("client", "client")
        lines = "\n".join(
            f"DirAuthority {n.nick} orport={n.orport} no-v2 v3ident={n.v3ident} "
            f"127.0.0.1:{n.dirport} {n.fingerprint}"
            for n in self.nodes
            if n.role == "authority"
        )
        for node in self.nodes:
            common = _render("common.torrc", dir=node.directory, dirauthorities=lines)
            node.torrc.write_text(common + "\n" + self._role_torrc(node))

    def _add(self, role: str, nick: str, orport: int = 0, dirport: int = 0) -> None:
        directory = self.base / nick
        directory.mkdir(parents=True, mode=0o700)
        node = Node(nick, role, directory, orport, dirport)
        if role == "authority":
            node.v3ident = _authority_identity(directory, dirport)
        if role in {"authority", "relay"}:
            node.fingerprint = _relay_fingerprint(directory)
        self.nodes.append(node)

    def _role_torrc(self, node: Node) -> str:
        if node.role == "service":
            return service_torrc(node.directory)
        if node.role == "client":
            return _render("client.torrc", socksport=SOCKS_PORT)
        return _render(
            f"{node.role}.torrc", nick=node.nick, orport=node.orport, dirport=node.dirport
        )

    def start(self) -> None:
        for node in self.nodes:
            node.process = subprocess.Popen(
                self.namespace.command(["tor", "-f", str(node.torrc)]),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )

    def wait_for_hostname(self, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while not self.hostname_file.exists():
            self._check_alive()
            if time.monotonic() > deadline:
                raise NetworkUnavailable("the onion service wrote no hostname file")
            time.sleep(0.2)
        return self.onion

    def _check_alive(self) -> None:
        for node in self.nodes:
            if node.process is not None and node.process.poll() is not None:
                raise NetworkUnavailable(f"tor {node.nick} exited:\n{node.log()[-3000:]}")

    def stop(self) -> None:
        for node in self.nodes:
            if node.process is not None and node.process.poll() is None:
                node.process.send_signal(signal.SIGINT)
        for node in self.nodes:
            if node.process is not None:
                try:
                    node.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    node.process.kill()
                    node.process.wait()

    def logs(self) -> str:
        return "\n".join(f"--- {n.nick}\n{n.log()[-2000:]}" for n in self.nodes)


@contextlib.contextmanager
def tor_network(base: Path) -> Iterator[TorNetwork]:
    """Bring a private network up in a fresh namespace, and take it down after."""
    reason = missing_tools()
    if reason:
        raise NetworkUnavailable(reason)
    namespace = Namespace(f"amanat-tor-{os.getpid()}")
    namespace.create()
    network = TorNetwork(base, namespace)
    try:
        network.configure()
        network.start()
        yield network
    finally:
        network.stop()
        namespace.delete()
