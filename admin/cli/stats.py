"""`amanat-admin stats`: counts for programme reports, with small counts hidden."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from admin.cli.options import Reviewer, with_vault


def _day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter("write the date as YYYY-MM-DD") from exc


@click.command("stats")
@with_vault
@click.option("--from", "start", callback=_day, help="First day counted (YYYY-MM-DD).")
@click.option("--to", "end", callback=_day, help="Last day counted (YYYY-MM-DD).")
@click.option("--region", help="Count only this region's cases (a region code, e.g. osh).")
@click.option(
    "--threshold",
    default=5,
    show_default=True,
    type=click.IntRange(1, 1000),
    help="Hide counts from 1 to this minus one.",
)
@click.option("--lang", type=click.Choice(["en", "ru", "ky"]), default="en", show_default=True)
@click.option(
    "--csv", "csv_dir", type=click.Path(path_type=Path, file_okay=False), help="Write CSVs here."
)
@click.option(
    "--html", "html_file", type=click.Path(path_type=Path, dir_okay=False), help="Printable report."
)
def stats_command(
    reviewer: Reviewer,
    start: date | None,
    end: date | None,
    region: str | None,
    threshold: int,
    lang: str,
    csv_dir: Path | None,
    html_file: Path | None,
) -> None:
    """Count clients, cases and breakdowns for programme reports; small counts are hidden."""
    from admin.stats.case_rows import load_case_rows
    from admin.stats.counting import compute_stats
    from admin.stats.render import print_html, report_text, report_view, translations, write_csv_dir

    if (start and end) and end < start:
        raise click.UsageError("--to is before --from.")
    period = (start or date.min, end or date.max) if (start or end) else None
    vault = reviewer.open_vault()
    stats = compute_stats(load_case_rows(vault), period, region, threshold)
    gettext = translations(lang)
    view = report_view(stats, lang, gettext)
    click.echo(report_text(view), nl=False)
    if csv_dir:
        for path in write_csv_dir(view, csv_dir):
            click.echo(f"Wrote {path}", err=True)
    if html_file:
        html_file.write_text(print_html(view, gettext), encoding="utf-8")
        click.echo(f"Wrote {html_file}", err=True)


COMMANDS = (stats_command,)
