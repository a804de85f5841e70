"""Hiding the counts that could identify a person.

A count from 1 to threshold-1 can identify a person in a small town, so it
is hidden ("<5"); 0 is shown. Totals are printed, so when a column holds
exactly one hidden cell, the smallest other non-zero cell of that column is
hidden too (complementary suppression, marked "x"): the total then never
gives a hidden count back. A total below the threshold is hidden like any
cell. Headline figures follow the same threshold.
"""

from __future__ import annotations

from dataclasses import replace

from admin.stats.tables import Cell, Row, Table

DEFAULT_THRESHOLD = 5
SECONDARY_MARKER = "x"


class Suppressor:
    """Hides small counts, then one more cell per column where a total would give one back."""

    def __init__(self, threshold: int) -> None:
        self.threshold = threshold
        self.marker = f"<{threshold}"

    def cell(self, value: int) -> Cell:
        return Cell(value, True, self.marker) if 0 < value < self.threshold else Cell(value)

    def table(self, table: Table) -> Table:
        grid = [[self.cell(c.value) for c in row.cells] for row in table.rows]
        for column in range(len(table.columns)):
            self._complement(grid, column)
        rows = tuple(Row(r.code, tuple(cells)) for r, cells in zip(table.rows, grid, strict=True))
        totals = tuple(self.cell(c.value) for c in table.totals)
        return replace(table, rows=rows, totals=totals)

    def _complement(self, grid: list[list[Cell]], column: int) -> None:
        hidden = [r for r in grid if r[column].suppressed]
        if len(hidden) != 1:
            return
        visible = [(r[column].value, i) for i, r in enumerate(grid) if not r[column].suppressed]
        candidates = sorted((v, i) for v, i in visible if v > 0)
        if candidates:
            value, index = candidates[0]
            grid[index][column] = Cell(value, True, SECONDARY_MARKER)
