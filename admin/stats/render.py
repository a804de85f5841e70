"""Statistics made readable: translated labels, SVG bar charts, CSV, text and a printable page.

Every output goes through `report_view`, which turns a Stats into text in
one language. It reads a count only through Cell.shown, so a hidden cell
reaches no export as a number. Charts are chart.py's plain SVG. Nothing here
needs Flask: the command line renders the printable report with its own
Jinja environment.
"""

from __future__ import annotations

import csv
import io
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from babel.support import Translations
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

import templates
from admin.stats import N_
from admin.stats.chart import bar_chart
from admin.stats.suppression import SECONDARY_MARKER
from admin.stats.tables import Stats, Table
from admin.stats.vocabulary import NOT_STATED
from portal.questionnaire import load_questionnaire

Gettext = Callable[[str], str]
ADMIN_DIR = Path(__file__).resolve().parents[1]
TRANSLATIONS_DIR = ADMIN_DIR / "translations"
CSS_PATH = ADMIN_DIR / "static" / "console.css"

# Tables whose codes are the questionnaire's options, and the field that labels them.
QUESTIONNAIRE_FIELDS = {
    "key_population": "key_population",
    "gender": "gender",
    "age_group": "age_group",
    "region": "region",
    "violation_type": "violation_types",
    "perpetrator_type": "perpetrator_types",
}
# Labels of the reviewer's own vocabularies (in English; translated where shown).
LABELS: dict[str, str] = {
    "perpetrator": N_("The state was the perpetrator"),
    "failed_to_protect": N_("The state failed to protect"),
    "failed_to_remedy": N_("The state failed to remedy"),
    "none": N_("No state role"),
    "primary_legal_aid": N_("Primary legal aid"),
    "secondary_legal_aid": N_("Secondary legal aid (lawyer)"),
    "psychosocial": N_("Psychosocial help"),
    "medical_social_referral": N_("Medical and social referral"),
    "accompaniment": N_("Accompaniment"),
    "shelter": N_("Shelter"),
    "art_ost_continuity": N_("Continuity of ART or OST"),
    "mediation_with_perpetrator": N_("Talking with the perpetrator"),
    "complaint_to_facility": N_("Complaint to a facility head"),
    "complaint_to_police_or_prosecutor": N_("Complaint to police or prosecutor"),
    "complaint_to_ombudsman": N_("Complaint to the ombudsman"),
    "strategic_litigation": N_("Strategic litigation"),
    "un_communication": N_("UN communication"),
    "material_support": N_("Material support"),
    "information_only": N_("Information only"),
    "resolved_fully": N_("Resolved fully"),
    "resolved_partially": N_("Resolved partially"),
    "not_resolved": N_("Not resolved"),
    "client_declined": N_("Client declined further action"),
    "lost_contact": N_("Contact lost"),
    "ongoing": N_("Ongoing"),
    "direct": N_("Given directly"),
    "referred": N_("Referred"),
    "count": N_("Count"),
    NOT_STATED: N_("Not stated or not recorded"),
}
UNITS = {"clients": N_("Clients"), "cases": N_("Cases"), "responses": N_("Responses")}


@dataclass(frozen=True)
class TableView:
    code: str
    title: str
    rule: str
    unit: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, tuple[str, ...]], ...]
    total_label: str
    totals: tuple[str, ...]
    chart: Markup


@dataclass(frozen=True)
class ReportView:
    """Everything a page, a file or the terminal prints, in one language."""

    lang: str
    title: str
    scope: str
    suppression_note: str
    consent_note: str
    headline: tuple[tuple[str, str], ...]
    tables: tuple[TableView, ...]


def translations(lang: str) -> Gettext:
    """The console catalog's gettext for lang (outside Flask, for the command line)."""
    found = Translations.load(str(TRANSLATIONS_DIR), [lang])
    return found.gettext


def label(table: str, code: str, lang: str, _: Gettext) -> str:
    """The translated label of code in table's vocabulary; an unknown code is shown as it is."""
    if code in LABELS and (code == NOT_STATED or table not in QUESTIONNAIRE_FIELDS):
        return _(LABELS[code])
    field_code = QUESTIONNAIRE_FIELDS.get(table)
    if field_code:
        option = load_questionnaire(1).field(field_code).option(code)
        if option is not None:
            return option.label(lang)
    return code


def report_view(stats: Stats, lang: str, _: Gettext) -> ReportView:
    """Stats as text in lang: hidden cells appear only as their markers."""
    if stats.period:
        scope = _("Cases received from %(start)s to %(end)s") % {
            "start": stats.period[0].isoformat(),
            "end": stats.period[1].isoformat(),
        }
    else:
        scope = _("Cases received at any date")
    where = label("region", stats.region, lang, _) if stats.region else _("all regions")
    scope = f"{scope}; {_('Region')}: {where}"
    note = _(
        "Counts from 1 to %(below)d are hidden and shown as “%(marker)s”, because a small "
        "count can identify a person. Where a total would give a hidden count back, one more "
        "count is hidden and shown as “%(other)s”. Zero is shown as 0."
    ) % {"below": stats.threshold - 1, "marker": f"<{stats.threshold}", "other": SECONDARY_MARKER}
    headline = (
        (_("Clients"), stats.clients.shown),
        (_("Cases"), stats.cases.shown),
        (_("Cases qualified as human-rights violations"), stats.violations.shown),
    )
    consent_note = _(
        "Only reports whose source agreed to be counted in anonymous statistics are counted. "
        "Left out for want of that consent: %(left_out)d."
    ) % {"left_out": stats.left_out}
    return ReportView(
        lang=lang,
        title=_("Programme statistics"),
        scope=scope,
        suppression_note=note,
        consent_note=consent_note,
        headline=headline,
        tables=tuple(_table_view(t, lang, _) for t in stats.tables),
    )


def _table_view(table: Table, lang: str, _: Gettext) -> TableView:
    columns = tuple(_(LABELS[c]) if c in LABELS else c for c in table.columns)
    if columns == (_(LABELS["count"]),):
        columns = (_(UNITS[table.unit]),)
    rows = tuple(
        (label(table.code, r.code, lang, _), tuple(c.shown for c in r.cells)) for r in table.rows
    )
    title = _(table.title)
    return TableView(
        code=table.code,
        title=title,
        rule=_(table.rule),
        unit=_(UNITS[table.unit]),
        columns=columns,
        rows=rows,
        total_label=_("Total"),
        totals=tuple(c.shown for c in table.totals),
        chart=bar_chart(title, table, rows, columns),
    )


# -- CSV and text ---------------------------------------------------------------


def table_csv(view: ReportView, code: str) -> str:
    """One table as CSV: code, label, one column per count, the total, then the rules."""
    table = next(t for t in view.tables if t.code == code)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([table.title, *table.columns])
    for text, shown in table.rows:
        writer.writerow([text, *shown])
    writer.writerow([table.total_label, *table.totals])
    writer.writerow([])
    writer.writerow([table.rule])
    writer.writerow([view.scope])
    writer.writerow([view.consent_note])
    writer.writerow([view.suppression_note])
    return out.getvalue()


def write_csv_dir(view: ReportView, folder: Path) -> list[Path]:
    """Write one CSV per table into folder (created if needed); return the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for table in view.tables:
        path = folder / f"{table.code}.csv"
        # utf-8-sig: spreadsheet programs then read Cyrillic labels correctly.
        path.write_text(table_csv(view, table.code), encoding="utf-8-sig", newline="")
        written.append(path)
    return written


def report_text(view: ReportView) -> str:
    """The whole report for a terminal."""
    lines = [
        view.title,
        view.scope,
        *textwrap.wrap(view.consent_note, 88, break_on_hyphens=False),
        "",
    ]
    lines += [f"{name}: {shown}" for name, shown in view.headline]
    for table in view.tables:
        width = max([len(t) for t, _s in table.rows] + [len(table.total_label)])
        lines += ["", table.title, "  " + " " * width + "  " + "  ".join(table.columns)]
        for text, shown in [*table.rows, (table.total_label, table.totals)]:
            cells = "  ".join(s.rjust(len(c)) for s, c in zip(shown, table.columns, strict=True))
            lines.append(f"  {text.ljust(width)}  {cells}")
        lines += textwrap.wrap(
            table.rule, 88, initial_indent="  ", subsequent_indent="  ", break_on_hyphens=False
        )
    lines += ["", *textwrap.wrap(view.suppression_note, 88, break_on_hyphens=False)]
    return "\n".join(lines) + "\n"


# -- printable HTML -------------------------------------------------------------

_env = Environment(
    loader=FileSystemLoader(str(Path(templates.__file__).parent)),
    autoescape=select_autoescape(default=True, default_for_string=True),
)


def print_html(view: ReportView, _: Gettext, css_href: str | None = None) -> str:
    """The printable report as one HTML page.

    With css_href the page links the console's stylesheet (served under the
    console's CSP); without it the stylesheet is copied into the page, so the
    file written by the command line prints the same on its own.
    """
    # Our own stylesheet, never user data: it must reach <style> unescaped.
    css = None if css_href else Markup(CSS_PATH.read_text(encoding="utf-8"))  # noqa: S704
    template = _env.get_template("admin/stats_print.html")
    return template.render(view=view, _=_, css_href=css_href, inline_css=css)
