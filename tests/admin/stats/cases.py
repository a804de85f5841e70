"""Case rows for the statistics tests and bench/stats.py: generated, small, and a stub vault."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from typing import Any

from admin import case_vocab
from admin.stats import vocabulary
from admin.stats.case_rows import empty_case
from admin.stats.tables import CaseRow

KEY_POPULATIONS = list(vocabulary.KEY_POPULATION_PRIORITY)
GENDERS = list(vocabulary.GENDERS)
AGES = list(vocabulary.AGE_GROUPS)
REGIONS = [r for r in vocabulary.REGIONS if r != "prefer_not"]
VIOLATIONS = list(case_vocab.VIOLATION_TYPES)
PERPETRATORS = list(case_vocab.PERPETRATOR_TYPES)
ROLES = list(case_vocab.STATE_ROLES)
RESPONSES = list(case_vocab.RESPONSE_TYPES)
RESOLUTIONS = list(case_vocab.RESOLUTIONS)

AGREED = {"anonymised_statistics": True}


def generate_cases(count: int, seed: int = 2021) -> list[CaseRow]:
    """count cases, deterministic for seed: repeat clients, multi-select answers, acts on half."""
    rng = random.Random(seed)
    clients = [f"KG-{n:04d}" for n in range(count // 3)]
    rows = []
    for n in range(count):
        answers: dict[str, Any] = {
            "anonymised_statistics": True,
            "region": rng.choice([*REGIONS, "prefer_not"]),
            "gender": rng.choice(GENDERS),
            "age_group": rng.choice(AGES),
            "key_population": rng.sample(KEY_POPULATIONS[:12], rng.randint(0, 3)),
            "violation_types": rng.sample(VIOLATIONS, rng.randint(1, 3)),
            "perpetrator_types": rng.sample(PERPETRATORS, rng.randint(1, 2)),
        }
        if rng.random() < 0.1:
            del answers["gender"]
        case = _case(rng, clients)  # drawn before the day, as the seeded data always was
        day = date(2024, 1, 1).toordinal() + rng.randrange(366)
        rows.append(CaseRow(f"report-{n:05d}", date.fromordinal(day).isoformat(), answers, case))
    return rows


def _case(rng: random.Random, clients: list[str]) -> dict[str, Any]:
    """A case state: a client code on most, a qualification, acts on half, responses, outcome."""
    case = empty_case()
    case["client_code"] = rng.choice(clients) if rng.random() < 0.7 else None
    case["qualification"] = {"violation": rng.choice([True, False, None]), "by": "lawyer"}
    if rng.random() < 0.5:
        case["acts"] = [
            {
                "violation_type": rng.choice(VIOLATIONS),
                "perpetrator_type": rng.choice(PERPETRATORS),
                "state_role": rng.choice(ROLES),
            }
            for _ in range(rng.randint(1, 3))
        ]
    case["responses"] = [
        {"type": rng.choice(RESPONSES), "mode": rng.choice(["direct", "referred"])}
        for _ in range(rng.randint(0, 3))
    ]
    case["outcome"] = {"resolution": rng.choice([*RESOLUTIONS, None]), "closed_day": None}
    return case


def small_data_set() -> list[CaseRow]:
    """Osh 20 cases, Chuy 7, Naryn 3: Naryn is hidden, and Chuy with it (the total is shown)."""
    rows = []
    for n, region in enumerate(["osh"] * 20 + ["chuy"] * 7 + ["naryn"] * 3):
        answers = {**AGREED, "region": region, "gender": "female", "violation_types": ["other"]}
        rows.append(CaseRow(f"r{n}", "2024-05-01", answers, empty_case()))
    return rows


class StubVault:
    """What load_case_rows reads from a vault: report ids, days and answers; no envelopes."""

    def __init__(self, rows: list[CaseRow]) -> None:
        self.rows = {r.report_id: r for r in rows}

    def reports(self) -> list[Any]:
        return [Listing(r.report_id, r.created_day) for r in self.rows.values()]

    def answers(self, report_id: str) -> dict[str, Any]:
        return self.rows[report_id].answers


@dataclass(frozen=True)
class Listing:
    id: str
    created_day: str
