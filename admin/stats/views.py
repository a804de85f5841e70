"""The console's statistics: the page, one CSV per table, and the printable report.

Locked like every console page (admin.console.views.require_unlocked runs first).
Filters come by GET: from and to (YYYY-MM-DD, inclusive) and a region code.
The suppression threshold is the app's AMANAT_STATS_THRESHOLD (default 5).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask_babel import gettext

from admin.console.views import _answers, lang, unlocked
from admin.stats.case_rows import load_case_rows
from admin.stats.counting import compute_stats
from admin.stats.render import label, print_html, report_view, table_csv
from admin.stats.suppression import DEFAULT_THRESHOLD
from admin.stats.tables import TABLES, Stats
from admin.stats.vocabulary import REGIONS
from portal.questionnaire import PREFER_NOT

bp = Blueprint("stats", __name__)


@dataclass(frozen=True)
class Filters:
    start: date | None
    end: date | None
    region: str
    problem: str | None

    @property
    def period(self) -> tuple[date, date] | None:
        if self.start is None and self.end is None:
            return None
        return (self.start or date.min, self.end or date.max)

    def query(self) -> dict[str, str]:
        """The filters as URL parameters (for the CSV and print links)."""
        found = {"from": self.start, "to": self.end, "region": self.region}
        return {k: str(v) for k, v in found.items() if v}


def _translate(message: str) -> str:
    return str(gettext(message))


def read_filters() -> Filters:
    problem = None
    days: list[date | None] = []
    for name in ("from", "to"):
        text = request.args.get(name, "").strip()
        try:
            days.append(date.fromisoformat(text) if text else None)
        except ValueError:
            days.append(None)
            problem = gettext("Write dates as YYYY-MM-DD.")
    start, end = days
    if start and end and end < start:
        start, end, problem = None, None, gettext("The period ends before it starts.")
    region = request.args.get("region", "").strip()
    return Filters(start, end, region if region in _region_codes() else "", problem)


def _region_codes() -> list[str]:
    return [code for code in REGIONS if code != PREFER_NOT]


def current_stats(filters: Filters) -> Stats:
    state = unlocked()
    with state.lock:
        rows = load_case_rows(state.vault, lambda report_id: _answers(state, report_id))
    threshold = int(current_app.config.get("AMANAT_STATS_THRESHOLD", DEFAULT_THRESHOLD))
    return compute_stats(rows, filters.period, filters.region or None, threshold)


@bp.get("/stats")
def page() -> str:
    filters = read_filters()
    view = report_view(current_stats(filters), lang(), _translate)
    regions = [(c, label("region", c, lang(), _translate)) for c in _region_codes()]
    return render_template(
        "admin/stats.html",
        view=view,
        regions=regions,
        filters={"from": filters.start or "", "to": filters.end or "", "region": filters.region},
        query=filters.query(),
        problem=filters.problem,
    )


@bp.get("/stats/<table>.csv")
def table_csv_file(table: str) -> Response:
    if table not in TABLES:
        abort(404)
    view = report_view(current_stats(read_filters()), lang(), _translate)
    return Response(
        table_csv(view, table).encode("utf-8-sig"),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{table}.csv"'},
    )


@bp.get("/stats/print")
def printable() -> str:
    view = report_view(current_stats(read_filters()), lang(), _translate)
    return print_html(view, _translate, css_href=url_for("static", filename="console.css"))
