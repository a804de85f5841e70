"""Suppression: small counts are hidden in the figures and in every export (CSV, text, print),
and every table's counting rule is printed with it, in every language."""

from __future__ import annotations

import csv
import html
import io

import pytest

from admin.stats.counting import compute_stats
from admin.stats.render import print_html, report_text, report_view, table_csv, translations
from admin.stats.tables import RULES, TABLES
from tests.admin.stats.cases import small_data_set
from tests.admin.stats.shown import SMALL, assert_no_small_number, numbers_in_html


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


def test_suppression_holds_in_the_printable_report():
    page = print_html(views(), translations("en"))
    assert_no_small_number(numbers_in_html(page), "print")
    assert "<script" not in page.lower() and "style=" not in page.lower()


def test_suppression_holds_in_the_text_report():
    text = report_text(views())
    numbers = [line.split()[-1] for line in text.splitlines() if line.startswith("  ")]
    assert_no_small_number(numbers, "text")


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
