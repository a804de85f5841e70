"""Programme statistics from case records: pure counting, no Flask, no I/O.

`compute_stats` turns case rows (the source's answers beside the reviewer's
case state) into the figures REAct programmes publish: clients, cases, cases
qualified as violations, and one table per breakdown. Every table carries
its counting rule, and every cell knows whether it must be hidden.

Counting rules (also printed with each table):

- A client is a distinct client code; a case without one is its own client.
- Key population, gender and age group count clients, one row each. A
  client in several key populations is counted once, under the first that
  applies in KEY_POPULATION_PRIORITY: the most criminalised behaviour first
  (drug use), then HIV status, then sex work, then sexual and gender
  minorities, then the rest in the questionnaire's order
  (admin/stats/vocabulary.py). Gender and age group come from the client's
  most recent case in the selection that states them.
- Region and resolution count cases, one row each.
- Violation and perpetrator types count cases per type: one case may hold
  several types, so totals exceed the number of cases. The reviewer's acts
  are used when the case has any, else the source's own answers.
- State role counts cases per role, from the acts only.
- Response type counts responses (not cases), split given directly or referred.

Consent: only reports whose source agreed to be counted in anonymous
statistics are counted (admin/consent.py: the form's answer, or the latest
consent the reviewer logged). The others are left out of every figure, and
Stats.left_out says how many there were in the period and region.

Suppression (admin/stats/suppression.py): counts from 1 to threshold-1 are
hidden, and one more cell where a total would give a hidden one back.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from admin.case_vocab import (  # the vocabularies, stated once
    PERPETRATOR_TYPES,
    RESOLUTIONS,
    RESPONSE_MODES,
    RESPONSE_TYPES,
    STATE_ROLES,
    VIOLATION_TYPES,
)
from admin.consent import counts_in_statistics
from admin.stats.suppression import DEFAULT_THRESHOLD, Suppressor
from admin.stats.tables import RULES, TITLES, CaseRow, Cell, Row, Stats, Table
from admin.stats.vocabulary import (
    AGE_GROUPS,
    GENDERS,
    KEY_POPULATION_PRIORITY,
    NOT_STATED,
    REGIONS,
)


def compute_stats(
    cases: Iterable[CaseRow],
    period: tuple[date, date] | None = None,
    region: str | None = None,
    threshold: int = DEFAULT_THRESHOLD,
) -> Stats:
    """Count the cases created within period (inclusive) and in region (a code), if given.

    Returns every figure with small cells already marked suppressed (see the module
    docstring). Raises ValueError for a threshold below 1 or a period that ends
    before it starts.
    """
    if threshold < 1:
        raise ValueError("the suppression threshold must be at least 1")
    if period is not None and period[1] < period[0]:
        raise ValueError("the period ends before it starts")
    in_scope = [c for c in cases if _in_period(c, period) and _in_region(c, region)]
    selected = [c for c in in_scope if counts_in_statistics(c.answers, c.case)]
    selected.sort(key=lambda c: (c.created_day, c.report_id))
    by_client: dict[str, list[CaseRow]] = defaultdict(list)
    for case in selected:
        by_client[client_of(case)].append(case)
    violations = sum(1 for c in selected if _qualification(c.case) is True)
    suppress = Suppressor(threshold)
    return Stats(
        period=period,
        region=region,
        threshold=threshold,
        clients=suppress.cell(len(by_client)),
        cases=suppress.cell(len(selected)),
        violations=suppress.cell(violations),
        tables=tuple(suppress.table(t) for t in _tables(selected, by_client)),
        left_out=len(in_scope) - len(selected),
    )


def _tables(selected: list[CaseRow], by_client: dict[str, list[CaseRow]]) -> tuple[Table, ...]:
    """Every table, in the order of TABLES, before suppression."""
    return (
        _single("key_population", "clients", KEY_POPULATION_PRIORITY, by_client, key_population),
        _single("gender", "clients", GENDERS, by_client, _latest("gender")),
        _single("age_group", "clients", AGE_GROUPS, by_client, _latest("age_group")),
        _per_case("region", REGIONS, selected, lambda c: [_region(c.answers)], multi=False),
        _per_case("violation_type", VIOLATION_TYPES, selected, violation_types, multi=True),
        _per_case("perpetrator_type", PERPETRATOR_TYPES, selected, perpetrator_types, multi=True),
        _per_case("state_role", STATE_ROLES, selected, state_roles, multi=True),
        _responses(selected),
        _per_case("resolution", RESOLUTIONS, selected, lambda c: [resolution(c)], multi=False),
    )


# -- what each case and client counts as ---------------------------------------


def client_of(case: CaseRow) -> str:
    """The case's client code, or a code of its own when the reviewer recorded none."""
    code = case.case.get("client_code")
    return f"client:{code}" if isinstance(code, str) and code else f"case:{case.report_id}"


def key_population(cases: Sequence[CaseRow]) -> str:
    """The client's one key population: the first in priority order named in any of their cases."""
    named: set[str] = set()
    for case in cases:
        named.update(_codes(case.answers.get("key_population")))
    for code in KEY_POPULATION_PRIORITY:
        if code in named:
            return code
    return sorted(named)[0] if named else NOT_STATED


def _latest(field_code: str) -> Callable[[Sequence[CaseRow]], str]:
    def pick(cases: Sequence[CaseRow]) -> str:
        for case in reversed(cases):  # cases are sorted oldest first
            value = case.answers.get(field_code)
            if isinstance(value, str) and value:
                return value
        return NOT_STATED

    return pick


def _acts(case: CaseRow) -> list[dict[str, Any]]:
    acts = case.case.get("acts") or []
    return [a for a in acts if isinstance(a, dict)]


def violation_types(case: CaseRow) -> list[str]:
    """The case's violation types: from the acts if any, else from the source's answers."""
    return _from_acts_or_answers(case, "violation_type", "violation_types")


def perpetrator_types(case: CaseRow) -> list[str]:
    """The case's perpetrator types: from the acts if any, else from the source's answers."""
    return _from_acts_or_answers(case, "perpetrator_type", "perpetrator_types")


def state_roles(case: CaseRow) -> list[str]:
    """The state roles of the case's acts ("not recorded" when it has none)."""
    acts = _acts(case)
    if not acts:
        return [NOT_STATED]
    return _distinct(a.get("state_role") or NOT_STATED for a in acts)


def resolution(case: CaseRow) -> str:
    outcome = case.case.get("outcome") or {}
    value = outcome.get("resolution") if isinstance(outcome, dict) else None
    return value if isinstance(value, str) and value else NOT_STATED


def _from_acts_or_answers(case: CaseRow, act_key: str, answer_key: str) -> list[str]:
    acts = _acts(case)
    if acts:
        return _distinct(a.get(act_key) or NOT_STATED for a in acts)
    return _distinct(_codes(case.answers.get(answer_key))) or [NOT_STATED]


def _qualification(case: Mapping[str, Any]) -> bool | None:
    qualification = case.get("qualification") or {}
    return qualification.get("violation") if isinstance(qualification, dict) else None


def _region(answers: dict[str, Any]) -> str:
    value = answers.get("region")
    return value if isinstance(value, str) and value else NOT_STATED


def _codes(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, str) and v]
    return []


def _distinct(values: Iterable[Any]) -> list[str]:
    return list(dict.fromkeys(str(v) for v in values))


def _in_period(case: CaseRow, period: tuple[date, date] | None) -> bool:
    if period is None:
        return True
    day = case.created_day[:10]
    return period[0].isoformat() <= day <= period[1].isoformat()


def _in_region(case: CaseRow, region: str | None) -> bool:
    return not region or case.answers.get("region") == region


# -- building the tables ---------------------------------------------------------


def _codes_in_order(vocabulary: Sequence[str], counts: Counter[str]) -> list[str]:
    """The vocabulary in order, then codes it does not know, then "not stated" if counted."""
    extra = sorted(c for c in counts if c not in vocabulary and c != NOT_STATED)
    tail = [NOT_STATED] if counts.get(NOT_STATED) else []
    return [*vocabulary, *extra, *tail]


def _raw_table(
    code: str, unit: str, counts: Counter[str], vocabulary: Sequence[str], multi: bool
) -> Table:
    rows = tuple(Row(c, (Cell(counts.get(c, 0)),)) for c in _codes_in_order(vocabulary, counts))
    total = (Cell(sum(counts.values())),)
    return Table(code, TITLES[code], RULES[code], unit, ("count",), rows, total, multi)


def _single(
    code: str,
    unit: str,
    vocabulary: Sequence[str],
    by_client: dict[str, list[CaseRow]],
    pick: Callable[[Sequence[CaseRow]], str],
) -> Table:
    counts = Counter(pick(cases) for cases in by_client.values())
    return _raw_table(code, unit, counts, vocabulary, multi=False)


def _per_case(
    code: str,
    vocabulary: Sequence[str],
    cases: Sequence[CaseRow],
    values: Callable[[CaseRow], list[str]],
    multi: bool,
) -> Table:
    counts: Counter[str] = Counter()
    for case in cases:
        counts.update(set(values(case)))
    return _raw_table(code, "cases", counts, vocabulary, multi)


def _responses(cases: Sequence[CaseRow]) -> Table:
    counts: dict[str, Counter[str]] = {mode: Counter() for mode in RESPONSE_MODES}
    for case in cases:
        for response in case.case.get("responses") or []:
            if not isinstance(response, dict):
                continue
            mode = response.get("mode")
            if mode in counts:
                counts[mode][str(response.get("type") or NOT_STATED)] += 1
    every = counts["direct"] + counts["referred"]
    rows = tuple(
        Row(c, tuple(Cell(counts[m].get(c, 0)) for m in RESPONSE_MODES))
        for c in _codes_in_order(RESPONSE_TYPES, every)
    )
    totals = tuple(Cell(sum(counts[m].values())) for m in RESPONSE_MODES)
    code = "response_type"
    return Table(code, TITLES[code], RULES[code], "responses", RESPONSE_MODES, rows, totals, True)
