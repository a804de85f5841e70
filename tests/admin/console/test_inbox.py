"""The inbox page: the synced report listed, counted and filtered."""

from __future__ import annotations

import html


def test_inbox_lists_the_report_with_counts_and_region(unlocked, source):
    _, _, report_id = source
    page = unlocked.get("/inbox").get_data(as_text=True)
    assert report_id[:12] in page
    assert "Ошская область" in page
    assert "Получено: 1" in html.unescape(page)


def test_inbox_filters_by_status_and_region(unlocked, source):
    _, _, report_id = source
    assert report_id[:12] in unlocked.get("/inbox?region=osh").get_data(as_text=True)
    assert report_id[:12] not in unlocked.get("/inbox?region=naryn").get_data(as_text=True)
    assert report_id[:12] in unlocked.get("/inbox?status=received").get_data(as_text=True)
    assert report_id[:12] not in unlocked.get("/inbox?status=closed").get_data(as_text=True)
