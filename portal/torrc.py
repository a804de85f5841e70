"""`amanat-server check --torrc`: does the onion service lead to this portal?

Reads the torrc the onion service runs with, and checks what an operator
gets wrong: the address tor made (its hostname file) is not the one in
AMANAT_ONION_ADDRESS or fails its checksum; HiddenServicePort sends
visitors somewhere gunicorn does not listen, or off this machine.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from pathlib import Path

from portal.onion import onion_problem

DEFAULT_BIND = "127.0.0.1:8080"


@dataclass(frozen=True)
class OnionService:
    directory: Path | None
    version: str | None
    ports: list[tuple[str, str]]  # (virtual port, target)


def read_torrc(path: Path) -> OnionService:
    """The onion service a torrc declares (the first HiddenServiceDir). Raises OSError."""
    directory: Path | None = None
    version = None
    ports: list[tuple[str, str]] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        words = raw.split("#", 1)[0].split()
        if not words:
            continue
        key, values = words[0].lower(), words[1:]
        if key == "hiddenservicedir" and values:
            if directory is not None:
                break  # the next service's lines follow
            directory = Path(values[0])
        elif key == "hiddenserviceversion" and values:
            version = values[0]
        elif key == "hiddenserviceport" and values:
            ports.append((values[0], values[1] if len(values) > 1 else values[0]))
    return OnionService(directory, version, ports)


def _host_port(target: str) -> tuple[str, int] | None:
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        return None
    return host.strip("[]"), int(port)


def _listens(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError:
        return False
    return True


def hostname_problems(service: OnionService, onion: str | None) -> list[tuple[str, str]]:
    """(what, fix) for the hostname file against AMANAT_ONION_ADDRESS."""
    if service.directory is None:
        return [("the torrc declares no HiddenServiceDir", "Add the lines of deploy/torrc.")]
    hostname_file = service.directory / "hostname"
    try:
        hostname = hostname_file.read_text(encoding="ascii").strip()
    except OSError as exc:
        return [
            (
                f"cannot read {hostname_file} ({exc.strerror})",
                "Run check as a user who may read it (root), once tor has started.",
            )
        ]
    problems = []
    why = onion_problem(hostname)
    if why:
        problems.append((f"{hostname_file} holds no v3 onion address: {why}", "Restart tor."))
    if hostname != onion:
        problems.append(
            (
                f"AMANAT_ONION_ADDRESS is {onion!r}, but tor serves {hostname}",
                f"Set AMANAT_ONION_ADDRESS={hostname}.",
            )
        )
    return problems


def port_problems(service: OnionService, bind: str | None) -> list[tuple[str, str]]:
    """(what, fix) for HiddenServicePort against where gunicorn listens."""
    bind = bind or DEFAULT_BIND
    problems = []
    if service.version not in (None, "3"):
        problems.append((f"HiddenServiceVersion is {service.version}", "Set it to 3."))
    targets = [target for virtual, target in service.ports if virtual == "80"]
    if not targets:
        return [*problems, ("no HiddenServicePort 80", f"Add HiddenServicePort 80 {bind}.")]
    for target in targets:
        address = _host_port(target)
        if address is None or not ipaddress.ip_address(address[0]).is_loopback:
            problems.append(
                (
                    f"HiddenServicePort 80 sends visitors to {target}, not to loopback",
                    f"Use HiddenServicePort 80 {bind}.",
                )
            )
        elif target != bind:
            problems.append(
                (
                    f"HiddenServicePort 80 sends visitors to {target}, gunicorn listens on {bind}",
                    f"Use HiddenServicePort 80 {bind}, or change gunicorn's bind.",
                )
            )
        elif not _listens(*address):
            problems.append(
                (
                    f"nothing answers on {target}, where HiddenServicePort 80 sends visitors",
                    "Start the portal (systemctl start amanat).",
                )
            )
    return problems
