"""Envelope throughput and memory against a bare secretstream loop, in one run.

    .venv/bin/python -m bench.envelope [--mib 1024] [--dir /dev/shm]

Each phase runs in a child process of its own so its peak RSS is its own.
Sealing writes to a sink that discards; opening reads a file prepared
beforehand in tmpfs. The bare loop does the same with the same frame size,
so the comparison measures the envelope code and not the disk.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import BinaryIO

from nacl.public import PrivateKey

from crypto import _sodium
from crypto.envelope import CHUNK, Kind, open_stream, seal_stream

TARGET_RATIO = 0.85
TARGET_RSS_MIB = 64


class RepeatingSource:
    """Reads n bytes of a repeated random block without holding n bytes."""

    def __init__(self, size: int) -> None:
        self._block = os.urandom(CHUNK)
        self._left = size

    def read(self, n: int = -1) -> bytes:
        n = self._left if n < 0 else min(n, self._left)
        self._left -= n
        whole, rest = divmod(n, CHUNK)
        return self._block * whole + self._block[:rest]


class NullSink:
    """Discards what is written, so the crypto is measured and not tmpfs."""

    def write(self, data: bytes | memoryview) -> int:
        return len(data)


def bare_seal(size: int, dst: BinaryIO, key: bytes) -> None:
    pusher = _sodium.StreamPusher(key)
    src = RepeatingSource(size)
    dst.write(pusher.header)
    while chunk := src.read(CHUNK):
        dst.write(pusher.push(chunk, b"", final=False))


def bare_open(path: Path, key: bytes) -> None:
    with path.open("rb") as src:
        puller = _sodium.StreamPuller(key, src.read(_sodium.STREAM_HEADERBYTES))
        while frame := src.read(CHUNK + _sodium.STREAM_ABYTES):
            puller.pull(frame, b"")


def peak_rss_mib() -> float:
    """This process's peak RSS since exec (VmHWM).

    ru_maxrss would carry over the parent's peak across fork and exec, so a
    phase started from a large parent (`python -m bench`) would inherit it.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_phase(phase: str, size: int, workdir: Path, key_hex: str) -> None:
    """Run one phase in this process and print seconds and peak RSS (MiB)."""
    key = PrivateKey(bytes.fromhex(key_hex))
    bare_key = bytes(key)  # any 32 bytes serve as the bare loop's stream key
    envelope_path, bare_path = workdir / "envelope", workdir / "bare"
    if phase == "prepare":
        with envelope_path.open("wb") as out:
            seal_stream(RepeatingSource(size), out, [key.public_key], Kind.FILE)
        with bare_path.open("wb") as out:
            bare_seal(size, out, bare_key)
        return
    start = time.perf_counter()
    if phase == "seal":
        seal_stream(RepeatingSource(size), NullSink(), [key.public_key], Kind.FILE)
    elif phase == "open":
        with envelope_path.open("rb") as src:
            open_stream(src, NullSink(), key, Kind.FILE)
    elif phase == "bare-seal":
        bare_seal(size, NullSink(), bare_key)
    elif phase == "bare-open":
        bare_open(bare_path, bare_key)
    elapsed = time.perf_counter() - start
    rss_mib = peak_rss_mib()
    print(f"{elapsed:.6f} {rss_mib:.1f}")


def child(phase: str, size: int, workdir: Path, key_hex: str) -> tuple[float, float]:
    command = [sys.executable, "-m", "bench.envelope", "--phase", phase]
    command += ["--bytes", str(size), "--workdir", str(workdir), "--key", key_hex]
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    if phase == "prepare":
        return 0.0, 0.0
    seconds, rss = out.stdout.split()
    return float(seconds), float(rss)


PHASES = ("bare-seal", "seal", "bare-open", "open")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", default="/dev/shm" if os.path.isdir("/dev/shm") else None)
    parser.add_argument("--phase", choices=("prepare", *PHASES))
    parser.add_argument("--bytes", type=int)
    parser.add_argument("--workdir")
    parser.add_argument("--key")
    args = parser.parse_args(argv)
    if args.phase:
        run_phase(args.phase, args.bytes, Path(args.workdir), args.key)
        return

    size = args.mib * 1024 * 1024
    key_hex = bytes(PrivateKey.generate()).hex()
    best: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        child("prepare", size, Path(tmp), key_hex)
        # Phases alternate and each keeps its best round: the machine is shared.
        for _ in range(args.rounds):
            for phase in PHASES:
                seconds, rss = child(phase, size, Path(tmp), key_hex)
                old = best.get(phase, (float("inf"), 0.0))
                best[phase] = (min(old[0], seconds), max(old[1], rss))
    print(f"envelope: {args.mib} MiB, 64 KiB frames, best of {args.rounds} rounds")
    print(f"{'phase':<10} {'MB/s':>8} {'peak RSS MiB':>13}")
    for phase in PHASES:
        seconds, rss = best[phase]
        print(f"{phase:<10} {size / seconds / 1e6:8.0f} {rss:13.1f}")
    verdicts = []
    for name in ("seal", "open"):
        ratio = best[f"bare-{name}"][0] / best[name][0]
        ok = ratio >= TARGET_RATIO and best[name][1] < TARGET_RSS_MIB
        verdicts.append(f"{name} {ratio:.0%} of bare ({'ok' if ok else 'BELOW TARGET'})")
    print("; ".join(verdicts) + f"; targets >= {TARGET_RATIO:.0%}, RSS < {TARGET_RSS_MIB} MiB")


if __name__ == "__main__":
    main()
