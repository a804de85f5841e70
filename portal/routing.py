"""Who a report is sealed to (docs/DESIGN.md section 6).

The reviewers of the report's region plus those who cover every region; if
that is nobody, every active reviewer: a report is never dropped for want of
a matching region. With no active reviewer at all, the portal takes no
report.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Recipient, ReportRecipient
from portal.roster import member_verify_keys


class NotAcceptingReports(Exception):
    """No active reviewer is registered, so nothing can be sealed."""


def active_recipients(session: Session) -> list[Recipient]:
    """Active recipients; once a roster is published, only those on it (portal.roster)."""
    active = list(session.scalars(select(Recipient).where(Recipient.active).order_by(Recipient.id)))
    on_roster = member_verify_keys(session)
    if on_roster is None:
        return active
    return [r for r in active if r.verify_key in on_roster]


def recipients_for(session: Session, region: str | None) -> list[Recipient]:
    """The recipients for a report from region (None: unknown or not said).

    Raises NotAcceptingReports when no reviewer is active.
    """
    active = active_recipients(session)
    if not active:
        raise NotAcceptingReports()
    matched = [r for r in active if not r.region_list or (region and region in r.region_list)]
    # Nobody covers the region (or, with no region, nobody covers all):
    # every active reviewer gets it rather than no one.
    return matched or active


def recipients_of_report(session: Session, report_id: str) -> list[Recipient]:
    """The still-active reviewers a report was sealed to, or all active ones if none remain.

    Raises NotAcceptingReports when no reviewer is active.
    """
    rows = session.scalars(
        select(Recipient)
        .join(ReportRecipient, ReportRecipient.recipient_id == Recipient.id)
        .where(ReportRecipient.report_id == report_id, Recipient.active)
        .order_by(Recipient.id)
    )
    on_roster = member_verify_keys(session)
    found = [r for r in rows if on_roster is None or r.verify_key in on_roster]
    return found or recipients_for(session, None)
