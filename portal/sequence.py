"""The change sequence: a counter that orders report changes by when they commit.

The reviewers' listing cursor (GET /api/v1/reports?since=N) is a number from
this sequence, not a day. A day cursor skips a report whose transaction took
its day before midnight and committed after a listing had moved the cursor
to the next day. A number taken when a row is inserted has the same flaw:
transaction A takes 5, B takes 6 and commits, a listing moves the cursor to
6, then A commits 5 behind it.

So the number is taken in the commit itself, from a one-row counter that the
taking transaction keeps locked until it commits: on PostgreSQL the row lock
makes every other committer wait, on SQLite the database's single writer
lock does. Numbers therefore become visible in the order they were given,
and a listing that saw N has seen every change numbered N or less.

Only the latest number of a report is kept (it is overwritten at each
change), so the table records an order of the last changes, never a history.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from portal.models import Blob, ChangeCounter, Report, ReportRecipient

_CHANGED = "amanat.changed_reports"


def _changed(session: Session) -> dict[str, Any]:
    found: dict[str, Any] = session.info.setdefault(_CHANGED, {"ids": set(), "reports": []})
    return found


def _note_changes(session: Session, *_: Any) -> None:
    """Remember which reports this transaction changes (before each flush)."""
    changed = _changed(session)
    for obj in [*session.new, *session.dirty]:
        if isinstance(obj, Report):
            if obj in session.new or session.is_modified(obj, include_collections=False):
                changed["reports"].append(obj)  # a new one has no id before its flush
        elif isinstance(obj, Blob | ReportRecipient) and obj.report_id is not None:
            changed["ids"].add(obj.report_id)


def _number_changes(session: Session) -> None:
    """Give each report this transaction changed the next number, under the counter's lock."""
    _note_changes(session)
    session.flush()  # new reports get their ids and rows first
    changed = _changed(session)
    reports = {r.id: r for r in changed["reports"] if r.id is not None and r in session}
    ids = sorted(changed["ids"] | set(reports))
    session.info.pop(_CHANGED, None)
    if not ids:
        return
    # The UPDATE takes the counter's row lock; it is held until this commit ends.
    session.execute(update(ChangeCounter).values(value=ChangeCounter.value + len(ids)))
    last = session.scalar(select(ChangeCounter.value))
    if last is None:
        raise RuntimeError("the change counter row is missing: run amanat-server migrate")
    for number, report_id in enumerate(ids, start=last - len(ids) + 1):
        session.execute(
            update(Report).where(Report.id == report_id).values(change_seq=number),
            execution_options={"synchronize_session": False},
        )
        if report_id in reports:
            set_committed_value(reports[report_id], "change_seq", number)


def _forget(session: Session, *_: Any) -> None:
    session.info.pop(_CHANGED, None)


def watch() -> None:
    """Number report changes in every session of this process (idempotent)."""
    if not event.contains(Session, "before_commit", _number_changes):
        event.listen(Session, "before_flush", _note_changes)
        event.listen(Session, "before_commit", _number_changes)
        event.listen(Session, "after_rollback", _forget)


def latest(session: Session) -> int:
    """The highest number given so far (what a listing that sees everything ends at)."""
    return int(session.scalar(select(ChangeCounter.value)) or 0)
