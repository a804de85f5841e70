"""The console's statistics page, its CSV files and its printable report: locked like every
page, small counts hidden, no script and no inline style, filters by period and region.

The page over a vault that synced a real report is tests/admin/console/test_stats.py."""

from __future__ import annotations

import csv
import html
import io
import re

from admin.console.app import create_console
from admin.stats.tables import RULES, TABLES
from tests.admin.stats.shown import assert_no_small_number, numbers_in_html


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


def test_counting_rules_are_on_the_console_page(stub_console):
    page = html.unescape(stub_console.get("/stats").get_data(as_text=True))
    for code in TABLES:
        assert RULES[code] in page, code
