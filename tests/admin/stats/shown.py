"""What an export shows: the numbers in a page, and the check that no small count is among them."""

from __future__ import annotations

import html
import re

SMALL = re.compile(r"^[1-4]$")


def assert_no_small_number(values: list[str], where: str) -> None:
    shown = [v.strip() for v in values]
    assert not [v for v in shown if SMALL.match(v)], where
    assert "<5" in shown, where


def numbers_in_html(page: str) -> list[str]:
    cells = re.findall(r'<td class="num">([^<]*)</td>', page)
    svg = re.findall(r'<text [^>]*fill="#111">([^<]*)</text>', page)
    headline = re.findall(r"<dd>([^<]*)</dd>", page)
    return [html.unescape(v) for v in cells + svg + headline]
