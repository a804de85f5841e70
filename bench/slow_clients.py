"""Slow uploads at Tor-like speed must not slow anyone else down.

    .venv/bin/python -m bench.slow_clients [--uploads 50] [--rate-kb 50] [--seconds 30]

The portal runs under gunicorn with deploy/gunicorn.conf.py (gthread) on
127.0.0.1. N sources upload a file each, trickling at about 50 KB/s for the
whole run; meanwhile the landing page is fetched ten times a second, and
halfway through one more source sends a small report at full speed. The run
fails unless the landing page's p99 stays under 1 s, the fast report is
accepted, and every slow upload is accepted too. Loopback only; bounded.
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
import time

from bench.load import percentile, portal, ready_sources, report_body, submit
from bench.upload import BOUNDARY, Browser

P99_LIMIT_SECONDS = 1.0


def trickle(port: int, browser: Browser, token: str, rate: int, seconds: float) -> int:
    """Upload a rate*seconds-byte file at about rate bytes/s; return the HTTP status."""
    size = int(rate * seconds)
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="store_report"\r\n\r\nyes\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="region"\r\n\r\nosh\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="narrative"\r\n\r\nМедленно\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="evidence"; filename="v.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    cookies = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
    step = max(rate // 10, 1)  # ten sends a second
    with socket.create_connection(("127.0.0.1", port), timeout=seconds + 120) as conn:
        conn.sendall(
            (
                "POST /report HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
                f"Content-Length: {len(head) + size + len(tail)}\r\nCookie: {cookies}\r\n\r\n"
            ).encode()
            + head
        )
        start, sent, piece = time.monotonic(), 0, bytes(step)
        while sent < size:
            chunk = piece[: min(step, size - sent)]
            conn.sendall(chunk)
            sent += len(chunk)
            time.sleep(max(0.0, start + sent / rate - time.monotonic()))
        conn.sendall(tail)
        answer = conn.recv(64).decode("latin-1")
    return int(answer.split(" ", 2)[1]) if answer.startswith("HTTP/") else -1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=50)
    parser.add_argument("--rate-kb", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args(argv)
    rate = args.rate_kb * 1000
    with portal() as running:
        port = running.port
        sources = ready_sources(port, args.uploads + 1)
        fast_browser, fast_token = sources.pop()
        statuses: list[int] = []
        page_times: list[float] = []
        stop = threading.Event()

        def slow(browser: Browser, token: str) -> None:
            try:
                statuses.append(trickle(port, browser, token, rate, args.seconds))
            except OSError as exc:
                print(f"a slow upload failed: {exc}")
                statuses.append(-1)

        def probe() -> None:
            visitor = Browser(port)
            while not stop.is_set():
                start = time.perf_counter()
                visitor.request("GET", "/")
                page_times.append(time.perf_counter() - start)
                time.sleep(0.1)

        uploads = [threading.Thread(target=slow, args=source) for source in sources]
        prober = threading.Thread(target=probe)
        for thread in uploads:
            thread.start()
        prober.start()
        time.sleep(args.seconds / 2)
        fast_status, fast_seconds = submit(fast_browser, report_body(fast_token, "fast"))
        for thread in uploads:
            thread.join(timeout=args.seconds + 180)
        stop.set()
        prober.join(timeout=30)

    p99 = percentile(page_times, 0.99)
    accepted = statuses.count(303)
    print(
        f"{args.uploads} uploads at {args.rate_kb} KB/s for {args.seconds:.0f} s: "
        f"{accepted}/{args.uploads} accepted"
    )
    print(
        f"landing page while they ran: {len(page_times)} requests, "
        f"median {percentile(page_times, 0.5) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
        f"max {max(page_times) * 1000:.1f} ms"
    )
    print(f"fast submission halfway: {fast_status} in {fast_seconds * 1000:.0f} ms")
    ok = p99 < P99_LIMIT_SECONDS and fast_status == 303 and accepted == args.uploads
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
