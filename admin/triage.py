"""The inbox as a case worker triages it: one row per report, danger first.

Pure data, no Flask and no I/O: a row is built from what the console has
already opened in memory (the report's listing, its decrypted answers, its
folded case state), then rows are filtered and sorted.

**Danger first.** A report whose source ticked "I am in danger right now"
is *urgent* until a reviewer records a response (any `add_response` case
event). Urgent reports sort before every other report whatever sort the
reviewer chose; the danger flag itself stays visible after a response.

**Awaiting our reply.** The source wrote (the report itself or a follow-up)
after the last reviewer reply in the report's listing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from portal.questionnaire import in_danger, region_of

if TYPE_CHECKING:
    from admin.case_types import CaseState
    from admin.listing_types import BlobListing
    from admin.vault import VaultReport

SOURCE_KINDS = ("answers", "message", "file")
SORTS = ("received", "activity", "age", "region", "status")
DEFAULT_SORT = "activity"


@dataclass(frozen=True)
class TriageRow:
    """What the inbox shows of one report (codes; labels are the template's job)."""

    report_id: str
    number: str
    status: str
    read: bool
    created_day: str
    last_activity: str
    region: str | None
    violation_types: tuple[str, ...]
    perpetrator_types: tuple[str, ...]
    needs: tuple[str, ...]
    danger: bool
    responded: bool
    awaiting_reply: bool
    assignee: str | None
    priority: str | None

    @property
    def urgent(self) -> bool:
        """In danger and nobody has recorded a response yet: this report comes first."""
        return self.danger and not self.responded

    def age_days(self, today: dt.date) -> int | None:
        try:
            return (today - dt.date.fromisoformat(self.created_day)).days
        except ValueError:
            return None


@dataclass(frozen=True)
class InboxFilter:
    """The inbox's GET filters; empty strings mean "any"."""

    status: str = ""
    region: str = ""
    danger: bool = False
    awaiting: bool = False
    violation: str = ""
    perpetrator: str = ""
    need: str = ""
    assignee: str = ""
    unassigned: bool = False
    only: frozenset[str] | None = None  # report ids a search matched

    def accepts(self, row: TriageRow) -> bool:
        checks = (
            not self.status or row.status == self.status,
            not self.region or row.region == self.region,
            not self.danger or row.danger,
            not self.awaiting or row.awaiting_reply,
            not self.violation or self.violation in row.violation_types,
            not self.perpetrator or self.perpetrator in row.perpetrator_types,
            not self.need or self.need in row.needs,
            not self.assignee or row.assignee == self.assignee,
            not self.unassigned or row.assignee is None,
            self.only is None or row.report_id in self.only,
        )
        return all(checks)


def _codes(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(v for v in value if isinstance(v, str))
    return ()


def _awaiting(blobs: Sequence[BlobListing]) -> bool:
    last_source = last_reply = -1
    for position, blob in enumerate(blobs):
        if blob.get("kind") == "reply":
            last_reply = position
        elif blob.get("author") == "source" and blob.get("kind") in SOURCE_KINDS:
            last_source = position
    return last_source > last_reply


def _last_activity(report: VaultReport) -> str:
    days = [str(b.get("created_day") or "") for b in report.blobs]
    return max([report.updated_day or "", report.created_day or "", *days])


class AnswerFields(NamedTuple):
    """What a row takes from a report's answers (the inbox's sealed cache keeps these)."""

    region: str | None
    violation_types: tuple[str, ...]
    perpetrator_types: tuple[str, ...]
    needs: tuple[str, ...]
    danger: bool


class CaseFields(NamedTuple):
    """What a row takes from a report's folded case state."""

    responded: bool
    assignee: str | None
    priority: str | None


def answer_fields(answers: Mapping[str, Any] | None) -> AnswerFields:
    """The row's fields from a report's answers (None if unreadable)."""
    answers = answers or {}
    return AnswerFields(
        region=region_of(answers),
        violation_types=_codes(answers.get("violation_types")),
        perpetrator_types=_codes(answers.get("perpetrator_types")),
        needs=_codes(answers.get("needs")),
        danger=in_danger(answers),
    )


def case_fields(case: Mapping[str, Any]) -> CaseFields:
    """The row's fields from a report's folded case state (admin.case's contract)."""
    return CaseFields(
        responded=bool(case.get("responses")),
        assignee=case.get("assignee"),
        priority=case.get("priority"),
    )


def row_of(
    report: VaultReport, answered: AnswerFields, cased: CaseFields, number: str = ""
) -> TriageRow:
    """One inbox row from a VaultReport and the fields of its answers and its case."""
    return TriageRow(
        report_id=report.id,
        number=number,
        status=report.status,
        read=report.read,
        created_day=report.created_day,
        last_activity=_last_activity(report),
        region=answered.region,
        violation_types=answered.violation_types,
        perpetrator_types=answered.perpetrator_types,
        needs=answered.needs,
        danger=answered.danger,
        responded=cased.responded,
        awaiting_reply=_awaiting(report.blobs),
        assignee=cased.assignee,
        priority=cased.priority,
    )


def triage_row(
    report: VaultReport, answers: dict[str, Any] | None, case: CaseState, number: str = ""
) -> TriageRow:
    """One inbox row from a VaultReport, its answers (None if unreadable) and its case state."""
    return row_of(report, answer_fields(answers), case_fields(case), number)


_PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}


def _sort_key(sort: str) -> Callable[[TriageRow], Any]:
    if sort == "received":
        return lambda r: r.created_day
    if sort == "age":
        return lambda r: _reverse_day(r.created_day)
    if sort == "region":
        return lambda r: r.region or "~"
    if sort == "status":
        return lambda r: r.status
    return lambda r: r.last_activity


def _reverse_day(day: str) -> str:
    """A key that sorts days oldest-first under a descending sort."""
    return "".join(chr(0x10FFFF - ord(c)) for c in day)


def sort_rows(rows: Iterable[TriageRow], sort: str = DEFAULT_SORT) -> list[TriageRow]:
    """Urgent (danger, no response yet) first, then by sort; ties by unread, then id.

    "received" and "activity" put the newest first, "age" the oldest first;
    "region" and "status" go alphabetically by code.
    """
    key = _sort_key(sort if sort in SORTS else DEFAULT_SORT)
    descending = sort in ("received", "activity", "age") or sort not in SORTS
    ordered = sorted(rows, key=lambda r: r.report_id)
    ordered.sort(key=lambda r: r.read)
    ordered.sort(key=key, reverse=descending)
    ordered.sort(key=lambda r: not r.urgent)
    return ordered


def filter_rows(rows: Iterable[TriageRow], chosen: InboxFilter) -> list[TriageRow]:
    return [r for r in rows if chosen.accepts(r)]
