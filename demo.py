"""`make run`: a local demo of Amanat on 127.0.0.1, set up from nothing.

Everything lives in ./.demo (delete it to start over): a server data
directory, a demo reviewer's key file and vault. The demo key and its
passphrase are generated here on first run and never leave this machine.
The portal serves sources on http://127.0.0.1:8080; the reviewer console,
when installed, runs on http://127.0.0.1:8081.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from crypto.keys import ReviewerKey, read_keyfile_bundle, write_keyfile

ROOT = Path(__file__).resolve().parent
DEMO = ROOT / ".demo"
PORTAL_PORT = 8080
CONSOLE_PORT = 8081


def bin_of(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def demo_key() -> tuple[Path, str]:
    """The demo reviewer's key file and passphrase, made on first run."""
    keyfile = DEMO / "reviewer.key"
    passphrase_file = DEMO / "passphrase.txt"
    if not keyfile.exists():
        passphrase = "-".join(secrets.token_hex(3) for _ in range(4))
        write_keyfile(keyfile, ReviewerKey.generate("Demo REActor"), passphrase)
        fd = os.open(passphrase_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(passphrase + "\n")
    return keyfile, passphrase_file.read_text().strip()


def server_env() -> dict[str, str]:
    return {
        **os.environ,
        "AMANAT_DATA_DIR": str(DEMO / "server"),
        "AMANAT_CRISIS_CONTACTS": "Demo: in a real installation, local hotline numbers go here.",
    }


def prepare(keyfile: Path) -> None:
    env = server_env()
    subprocess.run([bin_of("amanat-server"), "init"], env=env, check=True, capture_output=True)
    bundle = DEMO / "reviewer.bundle.json"
    bundle.write_text(read_keyfile_bundle(keyfile).to_json())
    listed = subprocess.run(
        [bin_of("amanat-server"), "recipient", "list"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    if read_keyfile_bundle(keyfile).fingerprint not in listed:
        subprocess.run(
            [bin_of("amanat-server"), "recipient", "add", str(bundle)],
            env=env,
            check=True,
            capture_output=True,
        )


def console_available() -> bool:
    try:
        import admin.console  # noqa: F401
    except ImportError:
        return False
    return True


def stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    DEMO.mkdir(mode=0o700, exist_ok=True)
    keyfile, passphrase = demo_key()
    prepare(keyfile)
    processes = [
        subprocess.Popen(
            [
                bin_of("gunicorn"),
                "wsgi:app",
                "--bind",
                f"127.0.0.1:{PORTAL_PORT}",
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
    ]
    started = [f"portal (for sources):        http://127.0.0.1:{PORTAL_PORT}/"]
    if console_available():
        env = {**os.environ, "AMANAT_VAULT": str(DEMO / "vault")}
        processes.append(
            subprocess.Popen(
                [
                    bin_of("amanat-admin"),
                    "console",
                    "--keyfile",
                    str(keyfile),
                    "--server",
                    f"http://127.0.0.1:{PORTAL_PORT}",
                    "--port",
                    str(CONSOLE_PORT),
                ],
                cwd=ROOT,
                env=env,
            )
        )
        started.append(f"reviewer console:            http://127.0.0.1:{CONSOLE_PORT}/")
    else:
        started.append("reviewer console:            not built yet (use amanat-admin)")
    time.sleep(1.5)
    print("\nAmanat demo is running (Ctrl-C stops it):")
    for line in started:
        print("  " + line)
    print(f"  demo reviewer key file:      {keyfile}")
    print(f"  demo reviewer passphrase:    {passphrase}")
    print("  data (delete to start over): .demo/\n")
    try:
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for p in processes:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in processes:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
