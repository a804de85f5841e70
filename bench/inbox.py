"""The console inbox and search with N reports: sort, filter, and search decrypted text.

    .venv/bin/python -m bench.inbox [--reports 10000] [--rounds 5] [--no-sync]

Rows are generated (seeded) TriageRows, as the console builds them from
answers and case states it holds in memory after unlocking; narratives are
generated from a Russian word list (about 60 words each). Timed, best and
median of the rounds: (a) filter and sort the rows (danger first) for five
filter/sort choices; (b) a two-word search over the SearchIndex of all
narratives; (c) opening the sealed index from the vault folder (once per
unlock); (d) the whole inbox page rendered (HTML of every row) for three of
the choices, in the console app; (e) the first inbox page after a
background sync of N reports in the same console, and (f) after unlocking
their vault afresh, with the inbox's sealed cache and without it as the
baseline (bench/inbox_synced.py). Targets: (a), (b), (e) and (f) under 1 s
each, (d) under 1 s a page.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from admin.case_vocab import PERPETRATOR_TYPES, VIOLATION_TYPES
from admin.search_index import SIDE_NAME, SearchIndex, words_of
from admin.triage import InboxFilter, TriageRow, filter_rows, sort_rows
from admin.vault import Vault
from admin.vault_sealed import save_side
from bench.inbox_synced import synced_figures
from bench.timing import timed
from crypto.keys import ReviewerKey

TARGET_SECONDS = 1.0
REGIONS = ("bishkek", "osh_city", "batken", "chuy", "issyk_kul", "jalal_abad", "naryn", "osh")
_TEXT = (
    "меня задержали у пункта озт милиция отобрала телефон врач отказал в лечении соседи узнали"
    " статус угрожали работодатель уволил документы не выдали избили ночью требовали деньги"
    " шприцы нашли подбросили протокол суд адвокат помощь больница приют мама сестра улица"
    " вечером утром вчера неделю назад просил вернуть кричали оскорбляли снимали видео"
)
WORDS = tuple(_TEXT.split())
CHOICES = (
    ("activity", InboxFilter()),
    ("received", InboxFilter(region="osh")),
    ("age", InboxFilter(danger=True)),
    ("region", InboxFilter(status="received", violation="physical_violence")),
    ("status", InboxFilter(awaiting=True, perpetrator="police")),
)


def make_rows(count: int, seed: int = 7) -> list[TriageRow]:
    rng = random.Random(seed)
    rows = []
    for n in range(count):
        day = f"2026-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}"
        rows.append(
            TriageRow(
                report_id=f"r{n:07d}",
                number=f"OSH-{n:04d}",
                status=rng.choice(("received", "in_review", "closed")),
                read=rng.random() < 0.5,
                created_day=day,
                last_activity=day,
                region=rng.choice(REGIONS),
                violation_types=tuple(rng.sample(VIOLATION_TYPES, 2)),
                perpetrator_types=(rng.choice(PERPETRATOR_TYPES),),
                needs=("legal_aid",),
                danger=rng.random() < 0.05,
                responded=rng.random() < 0.5,
                awaiting_reply=rng.random() < 0.3,
                assignee=None,
                priority=None,
            )
        )
    return rows


def make_narratives(count: int, seed: int = 7) -> dict[str, str]:
    rng = random.Random(seed)
    return {f"r{n:07d}": " ".join(rng.choices(WORDS, k=60)) for n in range(count)}


def report(name: str, times: list[float], target: float | None) -> bool:
    best, median = min(times), statistics.median(times)
    verdict = "" if target is None else (" ok" if median < target else f" OVER {target:.1f} s")
    print(f"{name}: best {best * 1000:.1f} ms, median {median * 1000:.1f} ms{verdict}")
    return target is None or median < target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-sync", action="store_true", help="skip (e) and (f)")
    args = parser.parse_args(argv)
    rows = make_rows(args.reports)

    def sort_and_filter() -> None:
        for sort, chosen in CHOICES:
            sort_rows(filter_rows(rows, chosen), sort)

    ok = report(
        f"(a) inbox, {args.reports} reports, 5 filter+sort choices",
        timed(sort_and_filter, args.rounds),
        TARGET_SECONDS,
    )
    narratives = make_narratives(args.reports)
    index = SearchIndex({rid: " ".join(words_of(text)) for rid, text in narratives.items()})
    hits = index.search("задерж телефон")
    ok &= report(
        f"(b) search, {args.reports} narratives, 2 words ({len(hits)} found)",
        timed(lambda: index.search("задерж телефон"), args.rounds),
        TARGET_SECONDS,
    )
    with tempfile.TemporaryDirectory() as where:
        vault = Vault.open(Path(where) / "vault", ReviewerKey.generate("bench"))
        save_side(vault, SIDE_NAME, {"reports": index.entries})
        report(
            f"(c) open the sealed index of {args.reports} reports",
            timed(lambda: SearchIndex.load(vault), args.rounds),
            None,
        )
        ok &= report(
            f"(d) inbox page rendered, {args.reports} reports, 3 filter+sort choices",
            timed(render_pages(Path(where), vault, rows), args.rounds),
            TARGET_SECONDS * 3,
        )
        if not args.no_sync:
            ok &= synced_figures(args.reports, Path(where), TARGET_SECONDS)
    return 0 if ok else 1


def render_pages(where: Path, vault: Vault, rows: list[TriageRow]):  # type: ignore[no-untyped-def]
    """A function that renders the console's inbox page for three filter and sort choices."""
    from unittest import mock

    from admin.console import inbox as console_inbox
    from admin.console.app import create_console
    from admin.console.state import Unlocked
    from crypto.kdf import MINIMAL
    from crypto.keys import write_keyfile

    keyfile = where / "bench.key"
    write_keyfile(keyfile, vault.key, "bench passphrase", MINIMAL)
    app = create_console(keyfile, vault.path, None)
    state = Unlocked(session_id="bench", key=vault.key, vault=vault, last_seen=time.time())
    queries = ("/inbox", "/inbox?region=osh&sort=age", "/inbox?danger=1&sort=region")

    def render() -> None:
        with mock.patch.object(console_inbox, "triage_rows", lambda _state, _reports=None: rows):
            for query in queries:
                with app.test_request_context(query):
                    page = console_inbox.inbox_page(state)
                    assert "<table" in page

    return render


if __name__ == "__main__":
    sys.exit(main())
