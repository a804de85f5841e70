"""Upload throughput through gunicorn, against a plain app that encrypts nothing.

    .venv/bin/python -m bench.upload [--mib 1024] [--logins 9] [--pages 2000]

Both apps run under gunicorn (gthread, one worker, four threads) on
127.0.0.1, in temp directories on the same disk, and receive the same
multipart body from the same client in the same run. Also measured: the
portal worker's peak RSS (VmHWM) after the upload, landing-page requests per
second, and the median codename login time at the production KDF cost.
Loopback only; every loop is bounded.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from crypto.keys import ReviewerKey

ROOT = Path(__file__).resolve().parents[1]
BOUNDARY = "----amanatBench9f8e7d"
CHUNK = 1024 * 1024
TARGET_RATIO = 0.70
TARGET_RSS_MIB = 100


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A gunicorn process serving one app on a free loopback port."""

    def __init__(self, app: str, env: dict[str, str]) -> None:
        self.port = free_port()
        command = [
            str(Path(sys.executable).parent / "gunicorn"),
            app,
            "--bind",
            f"127.0.0.1:{self.port}",
            "--worker-class",
            "gthread",
            "--workers",
            "1",
            "--threads",
            "4",
            "--timeout",
            "600",
            "--log-level",
            "warning",
        ]
        self.process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{app} did not start")

    def workers(self) -> list[str]:
        return subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True, check=False
        ).stdout.split()

    def reset_peak_rss(self) -> None:
        """Start the workers' peak RSS afresh (Linux: "5" to clear_refs resets VmHWM).

        The codename step before the uploads runs Argon2id, which takes 64 MiB
        by design; the figure wanted is what an upload adds.
        """
        for pid in self.workers():
            Path(f"/proc/{pid}/clear_refs").write_text("5")

    def worker_peak_rss_mib(self) -> float:
        peaks = []
        for pid in self.workers():
            status = Path(f"/proc/{pid}/status").read_text()
            match = re.search(r"VmHWM:\s+(\d+) kB", status)
            if match:
                peaks.append(int(match.group(1)) / 1024)
        return max(peaks, default=0.0)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


class Browser:
    """A minimal cookie-keeping client, like a browser with JavaScript off."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, str, dict[str, str]]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        all_headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        all_headers.update(headers or {})
        conn.request(method, path, body=body, headers=all_headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        conn.close()
        return response.status, text, dict(response.getheaders())

    def form(self, path: str, fields: dict[str, str]) -> tuple[int, str, dict[str, str]]:
        from urllib.parse import urlencode

        body = urlencode(fields).encode()
        return self.request(
            "POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"}
        )


def token_of(page: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    if not match:
        raise RuntimeError("no CSRF token on the page")
    return match.group(1)


def new_source(browser: Browser) -> str:
    _, page, _ = browser.request("GET", "/codename")
    groups = re.findall(r'<span class="group">([0-9]{4})</span>', page)
    if len(groups) != 7:
        raise RuntimeError("no codename on the page")
    # The server issued it to this browser; it asks one group back before it is hidden.
    _, page, _ = browser.request("GET", "/codename?step=check")
    asked = re.search(r'data-group="([0-9])"', page)
    if asked is None:
        raise RuntimeError("no codename check on the page")
    check = groups[int(asked.group(1)) - 1]
    status, _, _ = browser.form("/codename", {"csrf_token": token_of(page), "check": check})
    if status != 303:
        raise RuntimeError(f"codename confirmation answered {status}")
    return " ".join(groups)


def multipart_head_and_tail(
    fields: list[tuple[str, str]], filename: str = "video.mp4", content_type: str = "video/mp4"
) -> tuple[bytes, bytes]:
    """The bytes before and after one file's content in a multipart form (BOUNDARY).

    The form fields come first, then the "evidence" file part's header; the tail
    closes the file part and the form.
    """
    head = bytearray()
    for name, value in fields:
        head += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        head += value.encode() + b"\r\n"
    head += (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="evidence"; '
        f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'
    ).encode()
    return bytes(head), f"\r\n--{BOUNDARY}--\r\n".encode()


def upload(port: int, path: str, head: bytes, size: int, tail: bytes, cookies: str) -> float:
    """Stream a multipart body with a size-byte file; return seconds until the answer."""
    block = os.urandom(CHUNK)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
    start = time.perf_counter()
    conn.putrequest("POST", path)
    conn.putheader("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")
    conn.putheader("Content-Length", str(len(head) + size + len(tail)))
    if cookies:
        conn.putheader("Cookie", cookies)
    conn.endheaders()
    conn.send(head)
    left = size
    while left:
        piece = block[: min(CHUNK, left)]
        conn.send(piece)
        left -= len(piece)
    conn.send(tail)
    response = conn.getresponse()
    response.read()
    elapsed = time.perf_counter() - start
    conn.close()
    if response.status not in (200, 303):
        raise RuntimeError(f"upload to {path} answered {response.status}")
    return elapsed


def landing_rps(port: int, total: int, threads: int = 4) -> float:
    def worker(count: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for _ in range(count):
            conn.request("GET", "/")
            conn.getresponse().read()
        conn.close()

    pool = [threading.Thread(target=worker, args=(total // threads,)) for _ in range(threads)]
    start = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return (total // threads * threads) / (time.perf_counter() - start)


def login_times(port: int, codename: str, count: int) -> list[float]:
    times = []
    for _ in range(count):
        browser = Browser(port)
        _, page, _ = browser.request("GET", "/login")
        start = time.perf_counter()
        status, _, _ = browser.form("/login", {"csrf_token": token_of(page), "codename": codename})
        times.append(time.perf_counter() - start)
        if status != 303:
            raise RuntimeError(f"login answered {status}")
    return times


def prepare_portal(tmp: Path) -> dict[str, str]:
    env = {
        "AMANAT_DATA_DIR": str(tmp / "portal"),
        "AMANAT_KDF_COST": "interactive",
        "AMANAT_MAX_UPLOAD_BYTES": str(8 * 1024**3),
        "AMANAT_RATELIMIT_STORAGE": "memory://",
    }
    keyfile_dir = tmp / "reviewer"
    keyfile_dir.mkdir()
    bundle = keyfile_dir / "bundle.json"
    bundle.write_text(ReviewerKey.generate("Bench reviewer").bundle().to_json())
    cli = str(Path(sys.executable).parent / "amanat-server")
    for args in (["init"], ["recipient", "add", str(bundle)]):
        subprocess.run([cli, *args], env={**os.environ, **env}, check=True, capture_output=True)
    return env


@dataclass
class Figures:
    plain_s: list[float]
    portal_s: list[float]
    rss_mib: float
    landing_rps: float
    logins: list[float]


def report_fields(browser: Browser) -> list[tuple[str, str]]:
    """The report form's fields, with a fresh CSRF token from the portal's form page."""
    _, page, _ = browser.request("GET", "/report")
    return [
        ("csrf_token", token_of(page)),
        ("website", ""),
        ("store_report", "yes"),
        ("region", "bishkek"),
        ("narrative", "Benchmark report"),
    ]


def measure(
    portal: Server, plain: Server, plain_dir: Path, size: int, args: argparse.Namespace
) -> Figures:
    """Upload to both apps (alternating, twice each), then time landing pages and logins."""
    browser = Browser(portal.port)
    codename = new_source(browser)
    head, tail = multipart_head_and_tail(report_fields(browser))
    cookies = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
    # Alternate, best of two each: the machine is shared.
    plain_s: list[float] = []
    portal_s: list[float] = []
    portal.reset_peak_rss()
    for _ in range(2):
        plain_s.append(upload(plain.port, "/upload", head, size, tail, ""))
        head, tail = multipart_head_and_tail(report_fields(browser))
        portal_s.append(upload(portal.port, "/report", head, size, tail, cookies))
        shutil.rmtree(plain_dir)
        plain_dir.mkdir()
    rss = portal.worker_peak_rss_mib()
    rps = landing_rps(portal.port, args.pages)
    logins = login_times(portal.port, codename, args.logins)
    return Figures(plain_s, portal_s, rss, rps, logins)


def print_figures(figures: Figures, size: int, args: argparse.Namespace) -> None:
    plain_rate = size / min(figures.plain_s) / 1e6
    portal_rate = size / min(figures.portal_s) / 1e6
    ratio = portal_rate / plain_rate
    rss, logins = figures.rss_mib, figures.logins
    ok = ratio >= TARGET_RATIO and rss < TARGET_RSS_MIB
    print(f"upload: {args.mib} MiB through gunicorn (gthread, 1 worker, 4 threads), best of 2")
    print(f"  plain app (no encryption): {plain_rate:7.0f} MB/s")
    print(
        f"  portal (sealed on arrival): {portal_rate:6.0f} MB/s = {ratio:.0%} of plain "
        f"(target >= {TARGET_RATIO:.0%}); worker peak RSS {rss:.0f} MiB "
        f"(target < {TARGET_RSS_MIB}) {'ok' if ok else 'BELOW TARGET'}"
    )
    rps = figures.landing_rps
    print(f"landing page: {rps:.0f} requests/s ({args.pages} requests, 4 client threads)")
    print(
        f"codename login (Argon2id interactive): median {statistics.median(logins) * 1000:.0f} ms "
        f"over {len(logins)}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=1024)
    parser.add_argument("--logins", type=int, default=9)
    parser.add_argument("--pages", type=int, default=2000)
    args = parser.parse_args(argv)
    size = args.mib * 1024 * 1024
    tmp = Path(tempfile.mkdtemp(prefix="amanat-bench-", dir=os.environ.get("BENCH_DIR")))
    try:
        env = prepare_portal(tmp)
        plain_dir = tmp / "plain"
        plain_dir.mkdir()
        portal = Server("wsgi:app", env)
        plain = Server("bench.plain_app:app", {"BENCH_PLAIN_DIR": str(plain_dir)})
        try:
            figures = measure(portal, plain, plain_dir, size, args)
        finally:
            portal.stop()
            plain.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print_figures(figures, size, args)


if __name__ == "__main__":
    main()
