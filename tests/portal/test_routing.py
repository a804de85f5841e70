"""Routing by region (docs/DESIGN.md section 6): a report is never dropped."""

import pytest

from portal.recipients import revoke_recipient
from portal.routing import NotAcceptingReports, active_recipients, recipients_for


def names(recipients):
    return sorted(r.name for r in recipients)


def test_no_reviewer_means_not_accepting_reports(db_session):
    with pytest.raises(NotAcceptingReports):
        recipients_for(db_session, "osh")


def test_region_reviewers_and_all_region_reviewers_get_the_report(add_recipient, db_session):
    add_recipient("osh", ["osh", "osh_city"])
    add_recipient("bishkek", ["bishkek"])
    add_recipient("coordinator")
    assert names(recipients_for(db_session, "osh")) == ["coordinator", "osh"]


def test_unmatched_region_goes_to_all_region_reviewers(add_recipient, db_session):
    add_recipient("bishkek", ["bishkek"])
    add_recipient("coordinator")
    assert names(recipients_for(db_session, "naryn")) == ["coordinator"]


def test_region_nobody_covers_goes_to_every_active_reviewer(add_recipient, db_session):
    add_recipient("bishkek", ["bishkek"])
    add_recipient("osh", ["osh"])
    assert names(recipients_for(db_session, "naryn")) == ["bishkek", "osh"]
    assert names(recipients_for(db_session, None)) == ["bishkek", "osh"]


def test_revoked_reviewers_receive_nothing(add_recipient, db_session):
    add_recipient("osh", ["osh"])
    add_recipient("coordinator")
    coordinator = next(r for r in active_recipients(db_session) if r.name == "coordinator")
    revoke_recipient(db_session, coordinator.id)
    db_session.commit()
    assert names(recipients_for(db_session, "bishkek")) == ["osh"]
