"""The console's inbox page: triage rows built from the unlocked vault, filtered and sorted by GET.

What a row needs of each report's answers and case comes from the inbox's
sealed cache (admin/triage_cache.py), opened once per unlock and kept in
the session's memory; a report it lacks, or whose blobs or events changed,
is decrypted and folded once and the cache sealed again. The background
sync fills it, and the search index, for the reports it fetched
(admin/console/warm.py).
"""

from __future__ import annotations

import datetime as dt
import gc
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from admin import case_vocab
from admin.airgap import is_offline
from admin.case_numbers import case_numbers
from admin.console.forms import STATUSES
from admin.console.state import Unlocked
from admin.roster import unapproved_reports
from admin.search_index import SearchIndex
from admin.triage import SORTS, InboxFilter, TriageRow, filter_rows, row_of, sort_rows
from admin.triage_cache import TriageCache
from admin.vault import VaultError, VaultReport
from portal.questionnaire import PREFER_NOT, in_danger, load_questionnaire


def _lang() -> str:
    return str(get_locale() or "ru")


def answers_of(state: Unlocked, report_id: str) -> dict[str, Any] | None:
    """The report's answers, decrypted once per unlock and kept in memory; None if unreadable."""
    if report_id not in state.answers:
        try:
            state.answers[report_id] = state.vault.answers(report_id)
        except VaultError:
            return None
    return state.answers[report_id]


def search_reports(state: Unlocked, query: str) -> frozenset[str]:
    """The ids of the reports whose decrypted text matches query (admin/search_index.py)."""
    with state.lock:
        # Kept on the unlocked session, so locking the console forgets it with the key.
        index = state.search_index
        if index is None:
            index = state.search_index = SearchIndex.load(state.vault)
        index.add_missing(
            state.vault, (r.id for r in state.vault.reports()), lambda rid: answers_of(state, rid)
        )
        return index.search(query)


def triage_cache_of(state: Unlocked) -> TriageCache:
    """The session's inbox cache, opened from the vault once per unlock."""
    if state.triage_cache is None:
        state.triage_cache = TriageCache.load(state.vault)
    return state.triage_cache


def absorb_warmed(state: Unlocked, warmed: TriageCache) -> None:
    """Take what a background sync computed for the inbox into the session's cache, sealed."""
    with state.lock:
        if state.triage_cache is None:
            state.triage_cache = warmed
        else:
            state.triage_cache.absorb(warmed)
        state.triage_cache.save(state.vault)


def triage_rows(state: Unlocked, reports: list[VaultReport] | None = None) -> list[TriageRow]:
    """One row per report (every report in the vault by default), with its local case number."""
    reports = state.vault.reports() if reports is None else reports
    cache = triage_cache_of(state)
    fields = cache.fields(state.vault, reports, lambda rid: answers_of(state, rid))
    numbers = case_numbers(
        state.vault, ((r.id, r.created_day, fields[r.id][0].region) for r in reports)
    )
    cache.save(state.vault)
    return [row_of(r, *fields[r.id], numbers.get(r.id, "")) for r in reports]


def read_filter(only: frozenset[str] | None = None) -> InboxFilter:
    args = request.args
    return InboxFilter(
        status=args.get("status", ""),
        region=args.get("region", ""),
        danger=args.get("danger") == "1",
        awaiting=args.get("awaiting") == "1",
        violation=args.get("violation", ""),
        perpetrator=args.get("perpetrator", ""),
        need=args.get("need", ""),
        assignee=args.get("assignee", ""),
        unassigned=args.get("assignee") == "-",
        only=only,
    )


def _options(field_code: str) -> list[tuple[str, str]]:
    field = load_questionnaire(1).field(field_code)
    return [(o.code, o.label(_lang())) for o in field.options if o.code != PREFER_NOT]


def option_label(field_code: str, code: str) -> str:
    option = load_questionnaire(1).field(field_code).option(code)
    return option.label(_lang()) if option else code


SORT_LABELS = {
    "received": _l("Newest received"),
    "activity": _l("Latest activity"),
    "age": _l("Oldest first"),
    "region": _l("Region"),
    "status": _l("Status"),
}


def sort_label(code: str) -> str:
    return str(SORT_LABELS.get(code, code))


# Rows per inbox page: a case worker reads the first screens (danger first), and a
# page of 10,000 rows took over a second to render (bench/inbox.py).
PAGE_ROWS = 200


def _page(count: int) -> tuple[int, int]:
    """The page asked for (?page=N, kept within range) and the number of pages."""
    pages = max(1, -(-count // PAGE_ROWS))
    try:
        page = int(request.args.get("page", "1"))
    except ValueError:
        page = 1
    return min(max(page, 1), pages), pages


def _page_url(number: int) -> str:
    """The inbox with the same filters and sort, at page number."""
    args: dict[str, Any] = {**request.args.to_dict(), "page": str(number)}
    return url_for("console.inbox", **args)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while a page builds its rows (restored after).

    An inbox of 10,000 reports makes some 200,000 short-lived objects, which
    set off two or three full collections over the whole vault index in the
    middle of the page (a third of its time). Paused, they are freed as the
    page returns, before any collection has to scan them.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def inbox_page(state: Unlocked, only: frozenset[str] | None = None, query: str = "") -> str:
    with collector_paused():
        return _inbox_page(state, only, query)


def _inbox_page(state: Unlocked, only: frozenset[str] | None, query: str) -> str:
    with state.lock:
        reports = state.vault.reports()
        rows = triage_rows(state, reports)
        # Reports the server lists with a key the organisation never approved (admin.roster).
        unapproved = unapproved_reports(state.vault, reports)
    chosen = read_filter(only)
    if chosen.unassigned:
        chosen = InboxFilter(**{**chosen.__dict__, "assignee": ""})
    sort = request.args.get("sort", "")
    shown = sort_rows(filter_rows(rows, chosen), sort)
    page, pages = _page(len(shown))
    return render_template(
        "admin/inbox.html",
        rows=shown[(page - 1) * PAGE_ROWS : page * PAGE_ROWS],
        shown=len(shown),
        page=page,
        pages=pages,
        page_url=_page_url,
        unapproved=unapproved,
        total=len(rows),
        counts=Counter(r.status for r in rows),
        urgent=sum(1 for r in rows if r.urgent),
        awaiting=sum(1 for r in rows if r.awaiting_reply),
        statuses=STATUSES,
        offline=is_offline(state.vault),
        regions=_options("region"),
        violations=_options("violation_types"),
        perpetrators=_options("perpetrator_types"),
        needs=_options("needs"),
        sorts=SORTS,
        sort=sort if sort in SORTS else "",
        args=request.args,
        query=query,
        today=dt.datetime.now(dt.UTC).date(),
        option_label=option_label,
        sort_label=sort_label,
        vocab=case_vocab,
    )


def danger_banner(
    answers: dict[str, Any], case: dict[str, Any], lang: str
) -> dict[str, Any] | None:
    """What the report page's danger banner says, or None if the source is not in danger."""
    if not in_danger(answers):
        return None
    questionnaire = load_questionnaire(1)
    needs = [c for c in answers.get("needs", []) if isinstance(c, str)]
    labels = []
    for code in needs:
        option = questionnaire.field("needs").option(code)
        labels.append(option.label(lang) if option else code)
    return {
        "needs": labels,
        "responses": list(case.get("responses", [])),
        "follow_up": answers.get("follow_up"),
        "contact_me": answers.get("contact_me") is True,
    }
