"""amanat-admin stats: the text report, one CSV per table and the printable page, small
counts hidden in each."""

from __future__ import annotations

import csv
import io

from click.testing import CliRunner

from admin.cli import main
from admin.stats.tables import TABLES
from tests.admin.stats.cases import StubVault
from tests.admin.stats.shown import assert_no_small_number, numbers_in_html


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
