"""Consent is law in the statistics: a report whose source did not agree is counted nowhere."""

from __future__ import annotations

import csv
import html
import io
import re

import pytest
from click.testing import CliRunner

from admin.cli import main
from admin.stats.case_rows import empty_case
from admin.stats.counting import compute_stats
from admin.stats.render import print_html, report_text, report_view, table_csv, translations
from admin.stats.tables import CaseRow


def rows() -> list[CaseRow]:
    """Osh: 8 reports that agreed; Talas: 6 that did not (unticked, absent, or refused later)."""
    out = []
    for n in range(8):
        answers = {"anonymised_statistics": True, "region": "osh", "violation_types": ["other"]}
        out.append(CaseRow(f"yes{n}", "2024-05-01", answers, empty_case()))
    refused_later = {**empty_case(), "consent": [
        {"action": "anonymised_statistics", "agreed": False, "day": "2024-06-01"}]}  # fmt: skip
    for n, (answers, case) in enumerate(
        [({"anonymised_statistics": False}, empty_case())] * 3
        + [({}, empty_case())] * 2
        + [({"anonymised_statistics": True}, refused_later)]
    ):
        answers = {**answers, "region": "talas", "violation_types": ["physical_violence"]}
        out.append(CaseRow(f"no{n}", "2024-05-01", answers, case))
    return out


def test_only_consenting_reports_are_counted_and_the_rest_are_counted_as_left_out():
    stats = compute_stats(rows(), None, None)
    assert stats.cases.value == 8 and stats.left_out == 6
    region = {r.code: r.cells[0].value for r in stats.table("region").rows}
    assert region["talas"] == 0 and region["osh"] == 8
    violation = {r.code: r.cells[0].value for r in stats.table("violation_type").rows}
    assert violation["physical_violence"] == 0


def test_consent_logged_by_a_reviewer_wins_over_the_form():
    agreed_later = {**empty_case(), "consent": [
        {"action": "anonymised_statistics", "agreed": True, "day": "2024-06-01"}]}  # fmt: skip
    row = CaseRow("r", "2024-05-01", {"anonymised_statistics": False}, agreed_later)
    stats = compute_stats([row], None, None, threshold=1)
    assert stats.cases.value == 1 and stats.left_out == 0


def test_the_left_out_count_follows_the_period_and_region():
    assert compute_stats(rows(), None, "osh").left_out == 0
    assert compute_stats(rows(), None, "talas").left_out == 6


def test_the_left_out_count_is_said_in_the_csv_print_and_text():
    _ = translations("en")
    view = report_view(compute_stats(rows(), None, None), "en", _)
    expected = "Left out for want of that consent: 6."
    assert expected in table_csv(view, "region")
    assert expected in html.unescape(print_html(view, _))
    assert expected in " ".join(report_text(view).split())


@pytest.fixture
def console(console_for):
    return console_for(rows())


def talas_count(page: str) -> str:
    match = re.search(
        r"<th scope=\"row\">Talas region</th><td[^>]*>([^<]*)</td>", html.unescape(page)
    )
    assert match, "no Talas row"
    return match.group(1)


def test_a_report_without_consent_is_in_no_table_csv_or_print_page(console):
    page = console.get("/stats").get_data(as_text=True)
    assert talas_count(page) == "0"
    assert "Left out for want of that consent: 6." in html.unescape(page)
    assert re.search(r"<dt>Cases</dt><dd>8</dd>", html.unescape(page))
    printable = console.get("/stats/print").get_data(as_text=True)
    assert talas_count(printable) == "0"
    assert "Left out for want of that consent: 6." in html.unescape(printable)
    for table in ("region", "violation_type"):
        data = console.get(f"/stats/{table}.csv").get_data().decode("utf-8-sig")
        lines = list(csv.reader(io.StringIO(data)))
        counts = {line[0]: line[1] for line in lines if len(line) > 1}
        assert counts.get("Talas region", "0") == "0"
        assert "6" not in counts.values()  # the six left out are nowhere, even as a total
        assert any("Left out for want of that consent: 6." in line[0] for line in lines if line)


def test_the_command_line_counts_only_consenting_reports(tmp_path, monkeypatch, serve_rows):
    vault = serve_rows(rows())
    monkeypatch.setattr("admin.cli.options.open_vault", lambda _dir, _key: vault)
    key = tmp_path / "me.key"
    key.write_text("stub")
    result = CliRunner().invoke(main, ["stats", "--keyfile", str(key), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "Cases: 8" in result.stdout
    assert "Left out for want of that consent: 6." in " ".join(result.stdout.split())
