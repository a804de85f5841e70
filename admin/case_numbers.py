"""Short local case numbers (OSH-0042) that a case worker can say on the phone.

Server ids are random and hard to read aloud. Each vault gives every report
a number once, the first time it sees it: a prefix from the report's region
and the next free number for that prefix. Numbers are local to this vault
(another reviewer's vault may number the same report differently) and never
change once given; they are kept sealed beside the vault index.
"""

from __future__ import annotations

from collections.abc import Iterable

from admin.vault import Vault
from admin.vault_sealed import load_side, save_side

SIDE_NAME = "case_numbers"
NO_REGION = "KG"
REGION_PREFIXES = {
    "bishkek": "BSK",
    "osh_city": "OSH",
    "osh": "OSR",
    "batken": "BTK",
    "chuy": "CHU",
    "issyk_kul": "IKL",
    "jalal_abad": "JAL",
    "naryn": "NRN",
    "talas": "TLS",
}


def prefix_of(region: str | None) -> str:
    if not region:
        return NO_REGION
    return REGION_PREFIXES.get(region, region[:3].upper())


def case_numbers(vault: Vault, reports: Iterable[tuple[str, str, str | None]]) -> dict[str, str]:
    """Report id to case number, for (report id, created day, region) triples.

    Reports seen for the first time are numbered in the order they were
    received (then by id), and the numbers are saved before returning.
    """
    data = load_side(vault, SIDE_NAME)
    numbers: dict[str, str] = dict(data.get("numbers", {}))
    counters: dict[str, int] = dict(data.get("counters", {}))
    new = sorted((day, rid, region) for rid, day, region in reports if rid not in numbers)
    for _day, report_id, region in new:
        prefix = prefix_of(region)
        counters[prefix] = counters.get(prefix, 0) + 1
        numbers[report_id] = f"{prefix}-{counters[prefix]:04d}"
    if new:
        save_side(vault, SIDE_NAME, {"numbers": numbers, "counters": counters})
    return numbers
