"""Programme statistics: every count checked against a second, simple implementation."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date

import pytest

from admin.stats.case_rows import empty_case
from admin.stats.counting import compute_stats, key_population
from admin.stats.tables import TABLES, CaseRow, Stats
from admin.stats.vocabulary import NOT_STATED
from tests.admin.stats.cases import AGREED, KEY_POPULATIONS, generate_cases

CASES = generate_cases(600)


# -- a second implementation, written the plain way ------------------------------


def expected_counts(rows: list[CaseRow]) -> dict[str, Counter[str]]:
    cases_of: dict[str, list[CaseRow]] = defaultdict(list)
    for row in rows:
        cases_of[row.case["client_code"] or "own " + row.report_id].append(row)
    found: dict[str, Counter[str]] = {t: Counter() for t in TABLES}
    for client_cases in cases_of.values():
        client_cases.sort(key=lambda r: (r.created_day, r.report_id))
        populations: set[str] = set()
        for row in client_cases:
            populations |= set(row.answers.get("key_population", []))
        ranked = [p for p in KEY_POPULATIONS if p in populations]
        found["key_population"][ranked[0] if ranked else NOT_STATED] += 1
        for table in ("gender", "age_group"):
            stated = [r.answers[table] for r in client_cases if r.answers.get(table)]
            found[table][stated[-1] if stated else NOT_STATED] += 1
    for row in rows:
        found["region"][row.answers["region"]] += 1
        acts = row.case["acts"]
        if acts:
            violations = {a["violation_type"] for a in acts}
            perpetrators = {a["perpetrator_type"] for a in acts}
            found["state_role"].update({a["state_role"] for a in acts})
        else:
            violations = set(row.answers["violation_types"])
            perpetrators = set(row.answers["perpetrator_types"])
            found["state_role"][NOT_STATED] += 1
        found["violation_type"].update(violations)
        found["perpetrator_type"].update(perpetrators)
        for response in row.case["responses"]:
            found["response_type"][f"{response['type']}/{response['mode']}"] += 1
        found["resolution"][row.case["outcome"]["resolution"] or NOT_STATED] += 1
    return found


def counted(stats: Stats, code: str) -> Counter[str]:
    table = stats.table(code)
    if code == "response_type":
        return Counter(
            {
                f"{row.code}/{mode}": cell.value
                for row in table.rows
                for mode, cell in zip(table.columns, row.cells, strict=True)
                if cell.value
            }
        )
    return Counter({row.code: row.cells[0].value for row in table.rows if row.cells[0].value})


# -- counting ----------------------------------------------------------------------


def test_the_generated_data_set_is_big_and_repeats_clients():
    assert len(CASES) >= 500
    codes = Counter(r.case["client_code"] for r in CASES if r.case["client_code"])
    assert max(codes.values()) > 1


@pytest.mark.parametrize("table", TABLES)
def test_every_table_matches_independent_counts(table):
    stats = compute_stats(CASES, None, None)
    assert counted(stats, table) == expected_counts(CASES)[table]


def test_headline_figures_match_independent_counts():
    stats = compute_stats(CASES, None, None)
    clients = {r.case["client_code"] or r.report_id for r in CASES}
    assert stats.clients.value == len(clients)
    assert stats.cases.value == len(CASES)
    assert stats.violations.value == sum(
        r.case["qualification"]["violation"] is True for r in CASES
    )


@pytest.mark.parametrize("table", TABLES)
def test_period_and_region_filters_match_independent_counts(table):
    start, end = date(2024, 3, 1), date(2024, 8, 31)
    chosen = [
        r
        for r in CASES
        if start.isoformat() <= r.created_day <= end.isoformat() and r.answers["region"] == "osh"
    ]
    stats = compute_stats(CASES, (start, end), "osh")
    assert stats.cases.value == len(chosen) > 0
    assert counted(stats, table) == expected_counts(chosen)[table]


def test_multi_select_totals_exceed_case_counts():
    stats = compute_stats(CASES, None, None)
    for code in ("violation_type", "perpetrator_type", "state_role"):
        assert stats.table(code).totals[0].value > stats.cases.value, code
        assert stats.table(code).multi
    for code in ("region", "resolution"):
        assert stats.table(code).totals[0].value == stats.cases.value, code


def test_one_key_population_per_client():
    stats = compute_stats(CASES, None, None)
    assert stats.table("key_population").totals[0].value == stats.clients.value
    # A client named as living with HIV in one case and injecting drugs in another
    # is counted once, under pwid, which comes first in the priority order.
    client = {**empty_case(), "client_code": "C"}
    rows = [
        CaseRow("a", "2024-01-01", {**AGREED, "key_population": ["plhiv"]}, client),
        CaseRow("b", "2024-02-01", {**AGREED, "key_population": ["pwid", "sex_worker"]}, client),
    ]
    table = compute_stats(rows, None, None, threshold=1).table("key_population")
    assert {r.code: r.cells[0].value for r in table.rows if r.cells[0].value} == {"pwid": 1}


def test_acts_replace_the_sources_answers_for_types():
    case = {**empty_case(), "acts": [{"violation_type": "physical_violence",
            "perpetrator_type": "police", "state_role": "perpetrator"}]}  # fmt: skip
    row = CaseRow("a", "2024-01-01", {**AGREED, "violation_types": ["other"]}, case)
    stats = compute_stats([row], None, None, threshold=1)
    assert counted(stats, "violation_type") == Counter({"physical_violence": 1})


def test_a_bad_threshold_or_period_is_refused():
    with pytest.raises(ValueError):
        compute_stats(CASES, None, None, threshold=0)
    with pytest.raises(ValueError):
        compute_stats(CASES, (date(2024, 2, 1), date(2024, 1, 1)), None)


def test_generated_rows_are_deterministic():
    assert generate_cases(50, seed=7) == generate_cases(50, seed=7)


def test_a_partner_of_a_pwid_who_is_also_a_migrant_counts_as_the_partner() -> None:
    """The counting order is kept as REAct's dashboards had it: drug-related first."""
    answers = {**AGREED, "key_population": ["migrant", "partner_of_pwid"]}
    rows = [CaseRow("a", "2024-01-01", answers, {**empty_case(), "client_code": "C"})]
    assert key_population(rows) == "partner_of_pwid"
