"""Programme statistics: counts checked against a second, simple implementation; suppression
checked in every export; the console page checked for script and inline style."""

from __future__ import annotations

import csv
import html
import io
import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from click.testing import CliRunner

import admin.stats
from admin.cli import main
from admin.console.app import create_console
from admin.stats import (
    KEY_POPULATION_PRIORITY,
    NOT_STATED,
    RULES,
    TABLES,
    CaseRow,
    compute_stats,
    empty_case,
)
from admin.stats_render import print_html, report_text, report_view, table_csv, translations
from crypto.keys import ReviewerKey
from portal.i18n import COOKIE_NAME

KEY_POPULATIONS = list(KEY_POPULATION_PRIORITY)
GENDERS = list(admin.stats.GENDERS)
AGES = list(admin.stats.AGE_GROUPS)
REGIONS = [r for r in admin.stats.REGIONS if r != "prefer_not"]
VIOLATIONS = list(admin.stats.VIOLATION_TYPES)
PERPETRATORS = list(admin.stats.PERPETRATOR_TYPES)
ROLES = list(admin.stats.STATE_ROLES)
RESPONSES = list(admin.stats.RESPONSE_TYPES)
RESOLUTIONS = list(admin.stats.RESOLUTIONS)


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
        day = date(2024, 1, 1).toordinal() + rng.randrange(366)
        rows.append(CaseRow(f"report-{n:05d}", date.fromordinal(day).isoformat(), answers, case))
    return rows


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


def counted(stats: admin.stats.Stats, code: str) -> Counter[str]:
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


# -- suppression --------------------------------------------------------------------


def small_data_set() -> list[CaseRow]:
    """Osh 20 cases, Chuy 7, Naryn 3: Naryn is hidden, and Chuy with it (the total is shown)."""
    rows = []
    for n, region in enumerate(["osh"] * 20 + ["chuy"] * 7 + ["naryn"] * 3):
        answers = {**AGREED, "region": region, "gender": "female", "violation_types": ["other"]}
        rows.append(CaseRow(f"r{n}", "2024-05-01", answers, empty_case()))
    return rows


def test_small_cells_are_hidden_and_one_more_cell_protects_them():
    table = compute_stats(small_data_set(), None, None).table("region")
    cells = {r.code: r.cells[0] for r in table.rows}
    assert cells["naryn"].suppressed and cells["naryn"].shown == "<5"
    assert cells["chuy"].suppressed and cells["chuy"].shown == "x"
    assert cells["osh"].shown == "20" and cells["talas"].shown == "0"
    assert table.totals[0].shown == "30"


def test_a_lone_small_count_hides_its_total():
    rows = small_data_set()[-3:]
    stats = compute_stats(rows, None, None)
    assert stats.cases.shown == "<5" and stats.table("region").totals[0].shown == "<5"


def test_the_threshold_is_configurable():
    table = compute_stats(small_data_set(), None, None, threshold=10).table("region")
    assert {r.code: r.cells[0].shown for r in table.rows}["chuy"] == "<10"


SMALL = re.compile(r"^[1-4]$")


def assert_no_small_number(values: list[str], where: str) -> None:
    shown = [v.strip() for v in values]
    assert not [v for v in shown if SMALL.match(v)], where
    assert "<5" in shown, where


def views(lang: str = "en"):  # type: ignore[no-untyped-def]
    stats = compute_stats(small_data_set(), None, None)
    return report_view(stats, lang, translations(lang))


def test_suppression_holds_in_csv():
    view = views()
    for code in TABLES:
        cells = [c for row in csv.reader(io.StringIO(table_csv(view, code))) for c in row[1:]]
        if code == "region":
            assert_no_small_number(cells, code)
        assert not [c for c in cells if SMALL.match(c)], code


def numbers_in_html(page: str) -> list[str]:
    cells = re.findall(r'<td class="num">([^<]*)</td>', page)
    svg = re.findall(r'<text [^>]*fill="#111">([^<]*)</text>', page)
    headline = re.findall(r"<dd>([^<]*)</dd>", page)
    return [html.unescape(v) for v in cells + svg + headline]


def test_suppression_holds_in_the_printable_report():
    page = print_html(views(), translations("en"))
    assert_no_small_number(numbers_in_html(page), "print")
    assert "<script" not in page.lower() and "style=" not in page.lower()


def test_suppression_holds_in_the_text_report():
    text = report_text(views())
    numbers = [line.split()[-1] for line in text.splitlines() if line.startswith("  ")]
    assert_no_small_number(numbers, "text")


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


@pytest.fixture
def stub_rows(monkeypatch):
    """Serve small_data_set() as the vault's reports and case states."""
    rows = small_data_set()
    by_id = {r.report_id: r for r in rows}
    monkeypatch.setattr(admin.stats, "case_state_of", lambda _vault, rid: by_id[rid].case)
    return rows


@pytest.fixture
def stub_console(tmp_path, stub_rows):
    """A console unlocked on a stub vault (the key is never used to open anything here)."""
    app = create_console(tmp_path / "none.key", tmp_path / "vault", None)
    app.config["TESTING"] = True
    unlocked = app.extensions["amanat_console"].keyring.unlock(
        ReviewerKey.generate("Stats tester"), StubVault(stub_rows)
    )
    client = app.test_client()
    client.set_cookie(COOKIE_NAME, "en")
    with client.session_transaction() as session:
        session["sid"] = unlocked.session_id
    return client


def test_stats_page_is_locked_like_the_rest(tmp_path):
    app = create_console(tmp_path / "none.key", tmp_path / "vault", None)
    for url in ("/stats", "/stats/print", "/stats/region.csv"):
        assert app.test_client().get(url).status_code == 303, url


def test_suppression_holds_on_the_console_page_and_its_exports(stub_console):
    page = stub_console.get("/stats").get_data(as_text=True)
    assert_no_small_number(numbers_in_html(page), "page")
    printable = stub_console.get("/stats/print").get_data(as_text=True)
    assert_no_small_number(numbers_in_html(printable), "print")
    response = stub_console.get("/stats/region.csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert_no_small_number([c for row in rows for c in row[1:]], "csv")
    assert stub_console.get("/stats/nothing.csv").status_code == 404


def test_stats_pages_have_no_script_and_no_inline_style(stub_console):
    for url in ("/stats", "/stats?from=2024-01-01&to=2024-12-31&region=osh", "/stats/print"):
        response = stub_console.get(url)
        assert response.status_code == 200, url
        page = response.get_data(as_text=True).lower()
        assert "<script" not in page and "style=" not in page and "<style" not in page, url
        assert not re.search(r"<[^>]+\son[a-z]+=", page), url
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]


def test_stats_page_filters_by_period_and_region(stub_console):
    page = html.unescape(stub_console.get("/stats?region=osh").get_data(as_text=True))
    assert re.search(r"<dt>Cases</dt><dd>20</dd>", page)
    page = html.unescape(stub_console.get("/stats?from=2025-01-01").get_data(as_text=True))
    assert re.search(r"<dt>Cases</dt><dd>0</dd>", page)
    page = html.unescape(stub_console.get("/stats?from=2024-13-01").get_data(as_text=True))
    assert "YYYY-MM-DD" in page


@pytest.mark.parametrize("lang", ["en", "ru", "ky"])
def test_counting_rules_are_printed_with_every_table(lang):
    _ = translations(lang)
    view = views(lang)
    text = report_text(view)
    page = print_html(view, _)
    for code in TABLES:
        rule = _(RULES[code])
        assert lang == "en" or rule != RULES[code], f"{lang}: {code} rule is not translated"
        assert rule in table_csv(view, code), code
        assert rule in html.unescape(page), code
        assert " ".join(rule.split()) in " ".join(text.split()), code


def test_counting_rules_are_on_the_console_page(stub_console):
    page = html.unescape(stub_console.get("/stats").get_data(as_text=True))
    for code in TABLES:
        assert RULES[code] in page, code


def test_cli_writes_csv_and_html_with_small_cells_hidden(tmp_path, monkeypatch, stub_rows):
    monkeypatch.setattr("admin.cli.options.open_vault", lambda _dir, _key: StubVault(stub_rows))
    key = tmp_path / "me.key"
    key.write_text("stub")
    out, page = tmp_path / "csv", tmp_path / "report.html"
    args = ["stats", "--keyfile", str(key), "--csv", str(out), "--html", str(page), "--lang", "ru"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    numbers = [line.split()[-1] for line in result.stdout.splitlines() if line.startswith("  ")]
    assert_no_small_number(numbers, "cli")
    assert sorted(p.stem for p in out.iterdir()) == sorted(TABLES)
    region = list(csv.reader(io.StringIO((out / "region.csv").read_text("utf-8-sig"))))
    assert_no_small_number([c for row in region for c in row[1:]], "cli csv")
    assert_no_small_number(numbers_in_html(page.read_text("utf-8")), "cli html")


def test_cli_refuses_a_reversed_period(tmp_path):
    key = tmp_path / "me.key"
    key.write_text("stub")
    args = ["stats", "--keyfile", str(key), "--from", "2024-05-01", "--to", "2024-01-01"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code != 0 and "before" in result.output


def test_generated_rows_are_deterministic():
    assert generate_cases(50, seed=7) == generate_cases(50, seed=7)
