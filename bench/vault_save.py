"""Saving the vault's sealed index: one changed report, and the saves of a first sync.

    .venv/bin/python -m bench.vault_save [--sizes 1000,10000] [--saves 20] [--sync 10000]

Drives admin.vault.Vault directly with synthetic listings (no server, no
blobs). Timed: (a) in a vault of each size, one report marked read or given
a new status and the index saved, median and worst of --saves saves, with
the bytes each save hands to write() (from /proc/self/io); (b) a first sync
of --sync reports into an empty vault, one save per listing page of 500 as
admin.sync does: the total time and bytes of those saves, then the time to
open that vault again. The cost of a save should follow the change, not the
vault.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from admin.vault import Vault
from crypto.keys import ReviewerKey

PAGE = 500  # admin.sync saves once per listing page of this many reports
_KEY = "A" * 43 + "="


def listing(n: int) -> dict[str, Any]:
    """A report as the server lists it: answers, two files, a message, a reply."""
    report_id = f"r{n:07d}"
    kinds = ["answers", "file", "file", "message", "reply"]
    return {
        "id": report_id,
        "status": "received",
        "created_day": "2026-11-01",
        "updated_day": f"2026-11-{1 + n % 28:02d}",
        "source_key": _KEY,
        "recipients": [{"box_key": _KEY, "verify_key": _KEY, "name": "Reviewer"}],
        "blobs": [
            {
                "id": f"{report_id}b{i}",
                "kind": kind,
                "author": "reviewer" if kind == "reply" else "source",
                "author_key": _KEY if kind == "reply" else None,
                "size": 4096 * (i + 1),
                "sha256": f"{n:064x}",
                "receipt": "R" * 88,
                "signature": "S" * 88 if kind == "reply" else None,
                "created_day": "2026-11-01",
            }
            for i, kind in enumerate(kinds)
        ],
    }


def written_bytes() -> int:
    """Bytes this process has passed to write() so far (Linux /proc/self/io, wchar)."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    return 0


def measure(action: Callable[[], None]) -> tuple[float, int]:
    """Seconds and bytes written by one call of action."""
    before, start = written_bytes(), time.perf_counter()
    action()
    return time.perf_counter() - start, written_bytes() - before


def one_change(folder: Path, key: ReviewerKey, size: int, saves: int) -> None:
    vault = Vault.open(folder, key)
    for page in range(0, size, PAGE):
        for n in range(page, min(size, page + PAGE)):
            vault.merge_report(listing(n))
        vault.save()
    results = []
    for i in range(saves):
        report_id = f"r{i * 7919 % size:07d}"
        if i % 2:
            vault.set_status(report_id, "in_review")
            results.append(measure(vault.save))
        else:
            results.append(measure(lambda r=report_id: vault.mark_read(r)))  # type: ignore[misc]
    times = [t for t, _ in results]
    sizes = [b for _, b in results]
    median = statistics.median(times) * 1000
    print(
        f"one changed report, vault of {size:>6} reports: median {median:7.1f} ms, "
        f"worst {max(times) * 1000:7.1f} ms, median {statistics.median(sizes) / 1024:8.1f} KiB "
        f"written (worst {max(sizes) / 1024:.0f} KiB) over {saves} saves"
    )


def first_sync(folder: Path, key: ReviewerKey, total: int) -> None:
    vault = Vault.open(folder, key)
    seconds, written = 0.0, 0
    for page in range(0, total, PAGE):
        for n in range(page, min(total, page + PAGE)):
            vault.merge_report(listing(n))
        took, wrote = measure(vault.save)
        seconds, written = seconds + took, written + wrote
    on_disk = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
    start = time.perf_counter()
    Vault.open(folder, key)
    opening = time.perf_counter() - start
    print(
        f"first sync of {total} reports ({-(-total // PAGE)} saves): index saves {seconds:.2f} s, "
        f"{written / 1e6:.1f} MB written; index files now {on_disk / 1e6:.1f} MB, "
        f"opened again in {opening:.2f} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--saves", type=int, default=20)
    parser.add_argument("--sync", type=int, default=10_000)
    args = parser.parse_args(argv)
    key = ReviewerKey.generate("bench")
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            one_change(Path(tmp) / f"vault{size}", key, size, args.saves)
        first_sync(Path(tmp) / "synced", key, args.sync)
    return 0


if __name__ == "__main__":
    sys.exit(main())
