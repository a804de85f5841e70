"""`make run`: a local demo of Amanat on 127.0.0.1, set up from nothing.

Everything lives in ./.demo (delete it to start over): a server data
directory, a demo reviewer's key file and vault. The demo key and its
passphrase are generated here on first run and never leave this machine.
The portal serves sources on http://127.0.0.1:8080; the reviewer console,
when installed, runs on http://127.0.0.1:8081. Other ports:

    make run PORTAL_PORT=9080 CONSOLE_PORT=9081
    python demo.py --portal-port 9080 --console-port 9081

(AMANAT_DEMO_PORTAL_PORT and AMANAT_DEMO_CONSOLE_PORT work too.) A port that
is taken, or a server that does not come up, stops the demo with the port
named and a non-zero exit status: it never says "running" when it is not.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from crypto.keys import (
    RecipientBundle,
    ReviewerKey,
    read_keyfile,
    read_keyfile_bundle,
    write_keyfile,
)
from crypto.private_files import write_private
from crypto.roster import Member, Roster

ROOT = Path(__file__).resolve().parent
DEMO = Path(os.environ.get("AMANAT_DEMO_DIR", ROOT / ".demo"))
PORTAL_PORT = 8080
CONSOLE_PORT = 8081
# How long a server may take to start answering before the demo gives up.
START_SECONDS = 30.0


class DemoError(Exception):
    """The demo cannot run; the message says why (and names the port)."""


def bin_of(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def demo_key() -> tuple[Path, str]:
    """The demo reviewer's key file and passphrase, made on first run."""
    keyfile = DEMO / "reviewer.key"
    passphrase_file = DEMO / "passphrase.txt"
    if not keyfile.exists():
        passphrase = "-".join(secrets.token_hex(3) for _ in range(4))
        write_keyfile(keyfile, ReviewerKey.generate("Demo REActor"), passphrase)
        write_private(passphrase_file, (passphrase + "\n").encode())
    return keyfile, passphrase_file.read_text().strip()


def server_env() -> dict[str, str]:
    return {
        **os.environ,
        "AMANAT_DATA_DIR": str(DEMO / "server"),
        "AMANAT_CRISIS_CONTACTS": "Demo: in a real installation, local hotline numbers go here.",
    }


def prepare(keyfile: Path, passphrase: str) -> None:
    """Initialise the server and publish a roster, signed by a demo coordinator key, naming
    the demo reviewer (docs/DEPLOY.md, section "The organisation's roster")."""
    env = server_env()
    subprocess.run([bin_of("amanat-server"), "init"], env=env, check=True, capture_output=True)
    shown = subprocess.run(
        [bin_of("amanat-server"), "roster", "show"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    bundle = read_keyfile_bundle(keyfile)
    if bundle.fingerprint in shown:
        return
    roster_file = DEMO / "roster.json"
    roster_file.write_text(json.dumps(demo_roster(bundle, passphrase), indent=2) + "\n")
    subprocess.run(
        [bin_of("amanat-server"), "roster", "publish", str(roster_file)],
        env=env,
        check=True,
        capture_output=True,
    )


def demo_roster(bundle: RecipientBundle, passphrase: str) -> dict[str, object]:
    """A roster naming the demo reviewer as a coordinator, signed by the demo organisation key.

    The organisation key is made here on first run, in its own key file
    (.demo/coordinator.key, the demo passphrase): in a real installation it
    lives on a coordinator's machine, never on the server.
    """
    coordinator_file = DEMO / "coordinator.key"
    if coordinator_file.exists():
        organisation = read_keyfile(coordinator_file, passphrase)
    else:
        organisation = ReviewerKey.generate("Demo organisation")
        write_keyfile(coordinator_file, organisation, passphrase)
    org_key = base64.b64encode(bytes(organisation.signing.verify_key)).decode("ascii")
    # A serial from the clock only grows from one run to the next.
    draft = Roster(org_key, int(time.time()), (Member.from_bundle(bundle, (), "coordinator"),))
    return draft.sign(organisation.signing).to_dict()


def console_available() -> bool:
    try:
        import admin.console.app  # noqa: F401
    except ImportError:
        return False
    return True


def stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 1-65535, not {port}")
    return port


def parse_ports(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run the Amanat demo on 127.0.0.1.")
    parser.add_argument(
        "--portal-port",
        type=port_number,
        help="port of the source portal (default 8080, or AMANAT_DEMO_PORTAL_PORT)",
    )
    parser.add_argument(
        "--console-port",
        type=port_number,
        help="port of the reviewer console (default 8081, or AMANAT_DEMO_CONSOLE_PORT)",
    )
    ports = parser.parse_args(argv)
    for name, default in (("portal_port", PORTAL_PORT), ("console_port", CONSOLE_PORT)):
        if getattr(ports, name) is None:
            variable = f"AMANAT_DEMO_{name.upper()}"
            try:
                setattr(ports, name, port_number(os.environ.get(variable) or str(default)))
            except argparse.ArgumentTypeError as exc:
                parser.error(f"{variable}: {exc}")
    if ports.portal_port == ports.console_port:
        parser.error(f"the portal and the console cannot share port {ports.portal_port}")
    return ports


def check_free(port: int, what: str, flag: str) -> None:
    """Raise DemoError if something already listens on 127.0.0.1:port."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # The same option gunicorn sets: a port left in TIME_WAIT counts as free,
    # one with a listener does not.
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        probe.bind(("127.0.0.1", port))
    except OSError as exc:
        raise DemoError(
            f"port {port} on 127.0.0.1 is not free for the {what} ({exc.strerror}); "
            f"stop what uses it or choose another port with {flag}"
        ) from None
    finally:
        probe.close()


def answering(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_until_serving(process: subprocess.Popen[bytes], port: int, what: str) -> None:
    """Return once `process` answers on the port; raise DemoError if it exits first."""
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        code = process.poll()
        if code is not None:
            raise DemoError(
                f"the {what} did not start on 127.0.0.1:{port} (exit status {code}; "
                "its own message is above)"
            )
        # The port was free before the process started, so whoever answers now
        # is the process itself.
        if answering(port):
            return
        time.sleep(0.2)
    raise DemoError(f"the {what} did not answer on 127.0.0.1:{port} within {START_SECONDS:.0f} s")


def start_portal(port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            bin_of("gunicorn"),
            "wsgi:app",
            "--bind",
            f"127.0.0.1:{port}",
            "--worker-class",
            "gthread",
            "--threads",
            "4",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=server_env(),
    )


def start_console(keyfile: Path, portal_port: int, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "AMANAT_VAULT": str(DEMO / "vault")}
    return subprocess.Popen(
        [
            bin_of("amanat-admin"),
            "console",
            "--keyfile",
            str(keyfile),
            "--server",
            f"http://127.0.0.1:{portal_port}",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        env=env,
    )


def start_all(
    ports: argparse.Namespace, keyfile: Path, processes: list[subprocess.Popen[bytes]]
) -> list[str]:
    """Start the servers (appending each to `processes`); the lines to print."""
    processes.append(start_portal(ports.portal_port))
    wait_until_serving(processes[-1], ports.portal_port, "portal")
    started = [f"portal (for sources):        http://127.0.0.1:{ports.portal_port}/"]
    if console_available():
        processes.append(start_console(keyfile, ports.portal_port, ports.console_port))
        wait_until_serving(processes[-1], ports.console_port, "reviewer console")
        started.append(f"reviewer console:            http://127.0.0.1:{ports.console_port}/")
    else:
        started.append("reviewer console:            not built yet (use amanat-admin)")
    return started


def stop_all(processes: list[subprocess.Popen[bytes]]) -> None:
    for p in processes:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in processes:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()


def run(ports: argparse.Namespace) -> int:
    check_free(ports.portal_port, "portal", "--portal-port (or PORTAL_PORT=...)")
    if console_available():
        check_free(ports.console_port, "reviewer console", "--console-port (or CONSOLE_PORT=...)")
    DEMO.mkdir(mode=0o700, exist_ok=True)
    keyfile, passphrase = demo_key()
    prepare(keyfile, passphrase)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        started = start_all(ports, keyfile, processes)
        print("\nAmanat demo is running (Ctrl-C stops it):", flush=True)
        for line in started:
            print("  " + line)
        print(f"  demo reviewer key file:      {keyfile}")
        print(f"  demo reviewer passphrase:    {passphrase}")
        print(f"  data (delete to start over): {DEMO}\n", flush=True)
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
        print("Amanat demo: a server stopped on its own; stopping the rest.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop_all(processes)


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    ports = parse_ports(sys.argv[1:] if argv is None else argv)
    try:
        return run(ports)
    except DemoError as exc:
        print(f"Amanat demo cannot run: {exc}.", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
