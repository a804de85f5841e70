"""What statistics are made of: case rows in, tables of cells out, each table with its rule.

A Cell knows whether it is hidden, and every export reads it through
Cell.shown, so a hidden count reaches no output as a number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from admin.stats import N_

# The counting rule of each table, in English; translated where shown.
RULES: dict[str, str] = {
    "key_population": N_(
        "Clients, each counted once: a client in several key populations is counted under "
        "the most relevant one, the first that applies in the order of this table. "
        "The total is the number of clients."
    ),
    "gender": N_(
        "Clients, each counted once, under the gender given in their most recent case. "
        "The total is the number of clients."
    ),
    "age_group": N_(
        "Clients, each counted once, under the age group given in their most recent case. "
        "The total is the number of clients."
    ),
    "region": N_(
        "Cases, each counted once, under the region named in the report. "
        "The total is the number of cases."
    ),
    "violation_type": N_(
        "Cases by violation type: one case may hold several violation types, so the total "
        "exceeds the number of cases. The reviewer's acts are used when recorded, "
        "otherwise the source's answers."
    ),
    "perpetrator_type": N_(
        "Cases by perpetrator type: one case may involve several perpetrators, so the total "
        "exceeds the number of cases. The reviewer's acts are used when recorded, "
        "otherwise the source's answers."
    ),
    "state_role": N_(
        "Cases by the state's role, from the acts the reviewer recorded: a case with several "
        "acts may count under several roles, so the total may exceed the number of cases."
    ),
    "response_type": N_(
        "Responses, not cases: every response recorded is counted once, as given directly "
        "or referred; one case may receive several responses."
    ),
    "resolution": N_(
        "Cases, each counted once, under the outcome the reviewer recorded; "
        "cases with none are counted as not recorded."
    ),
}
TITLES: dict[str, str] = {
    "key_population": N_("Key population"),
    "gender": N_("Gender"),
    "age_group": N_("Age group"),
    "region": N_("Region"),
    "violation_type": N_("Violation type"),
    "perpetrator_type": N_("Perpetrator type"),
    "state_role": N_("State role"),
    "response_type": N_("Response type"),
    "resolution": N_("Resolution"),
}
TABLES = tuple(TITLES)


class CaseRow(NamedTuple):
    """One case: the source's report (its day and answers) and the reviewer's case state."""

    report_id: str
    created_day: str
    answers: dict[str, Any]
    case: Mapping[str, Any]  # admin.case_types.CaseState, or the keys a test gives


@dataclass(frozen=True)
class Cell:
    """A count, and whether it is hidden (marker is what every output shows instead)."""

    value: int
    suppressed: bool = False
    marker: str = ""

    @property
    def shown(self) -> str:
        """What an export prints: the marker for a hidden count, else the number."""
        return self.marker if self.suppressed else str(self.value)


class Row(NamedTuple):
    """One line of a table: a vocabulary code and its counts, one per column."""

    code: str
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Table:
    """One breakdown: rows by code, one column per count (most tables have one)."""

    code: str
    title: str
    rule: str
    unit: str  # "clients", "cases" or "responses"
    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    totals: tuple[Cell, ...]
    multi: bool = False


@dataclass(frozen=True)
class Stats:
    """Every figure for one period and region: the headline counts and the tables."""

    period: tuple[date, date] | None
    region: str | None
    threshold: int
    clients: Cell
    cases: Cell
    violations: Cell
    tables: tuple[Table, ...] = field(default=())
    # Reports in the period and region left out: no consent to anonymised statistics.
    left_out: int = 0

    def table(self, code: str) -> Table:
        """The table with code. Raises KeyError for an unknown one."""
        for table in self.tables:
            if table.code == code:
                return table
        raise KeyError(code)
