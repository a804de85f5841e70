"""Reading case rows from a vault: each report's answers beside the reviewer's case state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from admin.case import case_state, empty_state
from admin.case_types import CaseState
from admin.stats.tables import CaseRow


def empty_case() -> CaseState:
    """The state of a case nobody has worked on yet (admin.case's own empty state)."""
    return empty_state()


def case_state_of(vault: Any, report_id: str) -> CaseState:
    """The reviewer's case state for report_id."""
    return case_state(vault, report_id)


def load_case_rows(
    vault: Any, answers_of: Callable[[str], dict[str, Any] | None] | None = None
) -> list[CaseRow]:
    """One CaseRow per report in vault; a report whose answers do not open counts with none.

    answers_of lets the console reuse the answers it already decrypted.
    """
    read = answers_of or vault.answers
    rows = []
    for report in vault.reports():
        answers = read(report.id) or {}
        rows.append(
            CaseRow(report.id, report.created_day, answers, case_state_of(vault, report.id))
        )
    return rows
