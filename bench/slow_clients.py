"""Slow uploads at Tor-like speed must not slow anyone else down, nor cost much memory.

    .venv/bin/python -m bench.slow_clients [--uploads 60] [--rate-kb 50] [--seconds 30]
        [--runs 5] [--workers N --threads N --connections N]

The portal runs under gunicorn with deploy/gunicorn.conf.py on 127.0.0.1
(--workers/--threads/--connections override its values, to compare
settings). N sources upload a file each, trickling at about 50 KB/s for the
whole run; meanwhile the landing page is fetched ten times a second, and
halfway through one more source sends a small report at full speed.

Reported per run: how the slow connections were split between the workers
(counted from /proc while they were all open), the landing page's median,
p99 and max, the workers' memory (VmRSS) per slow upload at a quarter and at
three quarters of the run (flat means it does not grow with the bytes
received), and the result of a reviewer sync that opens every slow upload
and checks its size and SHA-256 against what was sent.

A run fails unless the landing page's p99 is under 1 s, the fast report and
every slow upload are accepted and arrive whole, and memory per upload is at
most 2 MiB. Loopback only; every loop and wait is bounded.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import socket
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.load import Portal, percentile, portal, ready_sources, report_body, submit
from bench.upload import BOUNDARY, Browser

P99_LIMIT_SECONDS = 1.0
MEMORY_LIMIT_MIB = 2.0
WARM_UPS = 4  # small reports sent before the memory baseline, so both workers load the upload code


@dataclass
class Sent:
    """One slow upload as the client sent it."""

    marker: str
    size: int = 0
    sha256: str = ""
    status: int = 0


def form_head(token: str, marker: str) -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="store_report"\r\n\r\nyes\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="region"\r\n\r\nosh\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="narrative"\r\n\r\n'
        f"Медленно {marker}\r\n"
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="evidence"; filename="v.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()


def trickle(port: int, browser: Browser, token: str, rate: int, seconds: float, sent: Sent) -> None:
    """Upload a rate*seconds-byte file of seeded random bytes at about rate bytes/s."""
    sent.size = size = int(rate * seconds)
    head, tail = form_head(token, sent.marker), f"\r\n--{BOUNDARY}--\r\n".encode()
    cookies = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
    step = max(rate // 10, 1)  # ten sends a second
    content, digest = random.Random(sent.marker), hashlib.sha256()
    with socket.create_connection(("127.0.0.1", port), timeout=seconds + 120) as conn:
        conn.sendall(
            (
                "POST /report HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
                f"Content-Length: {len(head) + size + len(tail)}\r\nCookie: {cookies}\r\n\r\n"
            ).encode()
            + head
        )
        start, done = time.monotonic(), 0
        while done < size:
            chunk = content.randbytes(min(step, size - done))
            digest.update(chunk)
            conn.sendall(chunk)
            done += len(chunk)
            time.sleep(max(0.0, start + done / rate - time.monotonic()))
        conn.sendall(tail)
        answer = conn.recv(64).decode("latin-1")
    sent.sha256 = digest.hexdigest()
    sent.status = int(answer.split(" ", 2)[1]) if answer.startswith("HTTP/") else -1


# -- what the server's processes hold (Linux /proc) ---------------------------------


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return sorted(int(pid) for pid in children)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def established_inodes(port: int) -> set[str]:
    """Socket inodes of established TCP connections to 127.0.0.1:port (server side)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def connections_of(pid: int, inodes: set[str]) -> int:
    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = fd.readlink().name
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            count += 1
    return count


@dataclass
class Sample:
    at: float
    split: list[int]
    rss: float  # MiB, all workers


@dataclass
class Monitor:
    """Samples the workers' connections and memory once a second."""

    running: Portal
    samples: list[Sample] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def sample(self) -> Sample:
        pids = worker_pids(self.running.pid)
        inodes = established_inodes(self.running.port)
        split = [connections_of(pid, inodes) for pid in pids]
        return Sample(time.monotonic(), split, sum(rss_mib(pid) for pid in pids))

    def run(self) -> None:
        while not self.stop.wait(1.0):
            self.samples.append(self.sample())

    def rss_near(self, moment: float) -> float:
        """The workers' memory in the samples within 2 s of a moment (their median)."""
        near = [s.rss for s in self.samples if abs(s.at - moment) <= 2.0]
        return statistics.median(near) if near else float("nan")


# -- the run ----------------------------------------------------------------------


def verify_arrivals(running: Portal, sent: list[Sent]) -> list[str]:
    """Sync as the reviewer and open every slow upload; the problems found."""
    from admin.client import ApiClient
    from admin.sync import sync
    from admin.vault import Vault

    wanted = {s.marker: s for s in sent}
    problems = []
    with tempfile.TemporaryDirectory(prefix="amanat-bench-vault-") as vault_dir:
        vault = Vault.open(Path(vault_dir), running.reviewer)
        with ApiClient(f"http://127.0.0.1:{running.port}", running.reviewer) as client:
            refused = sync(vault, client).refused
        problems += [f"sync refused {item}" for item in refused]
        for report in vault.reports():
            marker = vault.answers(report.id)["narrative"].rsplit(" ", 1)[-1]
            if marker not in wanted:
                continue  # the warm-ups and the fast report
            expected = wanted.pop(marker)
            (entry,) = vault.files(report.id)
            digest, size = hashlib.sha256(), 0
            for chunk in vault.open_file(entry.blob_id).chunks():
                digest.update(chunk)
                size += len(chunk)
            if (size, digest.hexdigest()) != (expected.size, expected.sha256):
                problems.append(
                    f"{marker} arrived with {size} of {expected.size} bytes, or changed"
                )
    problems += [f"{marker} never arrived" for marker in sorted(wanted)]
    return problems


@dataclass
class RunResult:
    page_times: list[float]
    sent: list[Sent]
    fast_status: int
    fast_seconds: float
    samples: list[Sample]
    per_upload_mib: tuple[float, float]
    problems: list[str] = field(default_factory=list)


def probe_landing_page(port: int, stop: threading.Event, times: list[float]) -> None:
    visitor = Browser(port)
    while not stop.is_set():
        start = time.perf_counter()
        visitor.request("GET", "/")
        times.append(time.perf_counter() - start)
        time.sleep(0.1)


def one_run(args: argparse.Namespace) -> RunResult:
    with portal(
        workers=args.workers, threads=args.threads, connections=args.connections
    ) as running:
        sources = ready_sources(running.port, args.uploads + 1 + WARM_UPS)
        for browser, token in sources[:WARM_UPS]:
            submit(browser, report_body(token, "warm"))
        result = trickle_all(args, running, sources[WARM_UPS:])
        result.problems = verify_arrivals(running, result.sent)
    return result


def trickle_all(
    args: argparse.Namespace, running: Portal, sources: list[tuple[Browser, str]]
) -> RunResult:
    """The slow uploads, the landing-page probe and the fast report halfway, measured."""
    rate, port = args.rate_kb * 1000, running.port
    fast_browser, fast_token = sources.pop()
    monitor = Monitor(running)
    baseline = monitor.sample().rss
    sent = [Sent(f"s{i:03d}") for i in range(args.uploads)]
    page_times: list[float] = []
    stop = threading.Event()
    uploads = [
        threading.Thread(target=upload_or_note, args=(port, b, t, rate, args.seconds, s))
        for (b, t), s in zip(sources, sent, strict=True)
    ]
    others = [
        threading.Thread(target=probe_landing_page, args=(port, stop, page_times)),
        threading.Thread(target=monitor.run),
    ]
    start = time.monotonic()
    for thread in [*uploads, *others]:
        thread.start()
    time.sleep(args.seconds / 2)
    fast_status, fast_seconds = submit(fast_browser, report_body(fast_token, "fast"))
    for thread in uploads:
        thread.join(timeout=args.seconds + 180)
    stop.set()
    monitor.stop.set()
    for thread in others:
        thread.join(timeout=30)
    quarter, three_quarters = (
        (monitor.rss_near(start + args.seconds * f) - baseline) / args.uploads for f in (0.25, 0.75)
    )
    return RunResult(
        page_times, sent, fast_status, fast_seconds, monitor.samples, (quarter, three_quarters)
    )


def upload_or_note(
    port: int, browser: Browser, token: str, rate: int, seconds: float, sent: Sent
) -> None:
    try:
        trickle(port, browser, token, rate, seconds, sent)
    except OSError as exc:
        print(f"slow upload {sent.marker} failed: {exc}")
        sent.status = -1


def report(args: argparse.Namespace, result: RunResult) -> bool:
    """Print one run's figures; whether it passed."""
    times = result.page_times
    p99 = percentile(times, 0.99)
    accepted = sum(s.status == 303 for s in result.sent)
    peak = max(result.samples, key=lambda s: sum(s.split), default=None)
    split = "/".join(map(str, peak.split)) if peak else "?"
    quarter, three_quarters = result.per_upload_mib
    median, top = percentile(times, 0.5) * 1000, max(times) * 1000
    print(
        f"  {accepted}/{args.uploads} slow uploads accepted; connections per worker at the "
        f"peak {split}; landing page {len(times)} requests, median {median:.1f} ms, "
        f"p99 {p99 * 1000:.1f} ms, max {top:.1f} ms"
    )
    print(
        f"  memory per slow upload {quarter:.2f} MiB at 1/4 of the run, "
        f"{three_quarters:.2f} MiB at 3/4; fast report {result.fast_status} in "
        f"{result.fast_seconds * 1000:.0f} ms; reviewer opened "
        f"{args.uploads - len(result.problems)}/{args.uploads} whole"
    )
    for problem in result.problems[:10]:
        print(f"  PROBLEM: {problem}")
    return (
        p99 < P99_LIMIT_SECONDS
        and result.fast_status == 303
        and accepted == args.uploads
        and not result.problems
        and max(quarter, three_quarters) <= MEMORY_LIMIT_MIB
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=60)
    parser.add_argument("--rate-kb", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--workers", type=int, help="override the settings file's workers")
    parser.add_argument("--threads", type=int, help="override its threads per worker")
    parser.add_argument("--connections", type=int, help="override its worker_connections")
    args = parser.parse_args(argv)
    print(
        f"{args.uploads} uploads at {args.rate_kb} KB/s for {args.seconds:.0f} s "
        f"({args.rate_kb * args.seconds / 1000:.1f} MB each), {args.runs} run(s)"
    )
    passed = 0
    for number in range(1, args.runs + 1):
        print(f"run {number}:", flush=True)
        ok = report(args, one_run(args))
        passed += ok
        print(f"  {'PASS' if ok else 'FAIL'}", flush=True)
    print(f"{passed}/{args.runs} runs passed")
    return 0 if passed == args.runs else 1


if __name__ == "__main__":
    sys.exit(main())
