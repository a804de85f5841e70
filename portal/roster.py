"""The organisation's signed roster on the server: stored, served, and obeyed by routing.

The operator publishes a roster a coordinator signed (`amanat-server roster
publish FILE`). The server checks it is signed by the same organisation key
as the first one published and is newer, then makes the recipients table say
what the roster says: members active with the roster's regions, everyone
else revoked. Routing seals new reports only to roster members. None of
this is what protects reviewers from a hostile server (their vaults check
the roster themselves, admin/roster.py); it is what an honest server does.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.roster import Roster, RosterError, from_signed
from portal.models import Blob, PublishedRoster, Recipient, today


class RosterRefused(Exception):
    """The operator's roster cannot be published; the message says why."""


def _latest(session: Session) -> PublishedRoster | None:
    return session.scalar(select(PublishedRoster).order_by(PublishedRoster.id.desc()).limit(1))


def current_roster_data(session: Session) -> dict[str, Any] | None:
    """The newest published roster as its coordinator signed it, or None."""
    latest = _latest(session)
    if latest is None:
        return None
    data: dict[str, Any] = json.loads(latest.body)
    return data


def current_roster(session: Session) -> Roster | None:
    """The newest published roster, checked again, or None if none was published."""
    data = current_roster_data(session)
    return None if data is None else from_signed(data)


def member_verify_keys(session: Session) -> set[bytes] | None:
    """The verify keys of the current roster's members; None when no roster was published."""
    roster = current_roster(session)
    if roster is None:
        return None
    return {base64.b64decode(m.verify_key) for m in roster.members}


def publish_roster(
    session: Session, data: Any, regions: Sequence[str], *, new_organisation: bool = False
) -> tuple[Roster, list[str]]:
    """Check and store a signed roster, and apply it to the recipients; the caller commits.

    Returns the roster and what changed, one line each. Raises RosterRefused
    if it is not signed by the organisation key already published (unless
    new_organisation), is not newer, or names an unknown region.
    """
    try:
        roster = from_signed(data)
    except RosterError as exc:
        raise RosterRefused(str(exc)) from exc
    latest = _latest(session)
    if latest is not None:
        same = base64.b64decode(roster.organisation_key) == latest.organisation_key
        if not same and not new_organisation:
            raise RosterRefused(
                "this roster is signed by another organisation key than the one published "
                "before; if the organisation really has a new key, publish it with "
                "--new-organisation-key (every reviewer must pin it again)"
            )
        if same and roster.serial <= latest.serial:
            raise RosterRefused(
                f"this roster (serial {roster.serial}) is not newer than the published one "
                f"(serial {latest.serial})"
            )
    for member in roster.members:
        unknown = [r for r in member.regions if r not in regions]
        if unknown:
            raise RosterRefused(f"{member.name}: unknown region {', '.join(unknown)}")
    changes = _apply(session, roster)
    session.add(
        PublishedRoster(
            serial=roster.serial,
            organisation_key=base64.b64decode(roster.organisation_key),
            body=json.dumps(data, ensure_ascii=False, sort_keys=True),
        )
    )
    session.flush()
    return roster, changes


def _apply(session: Session, roster: Roster) -> list[str]:
    changes = []
    members = {base64.b64decode(m.verify_key): m for m in roster.members}
    for recipient in session.scalars(select(Recipient).where(Recipient.active)):
        if recipient.verify_key not in members:
            recipient.active, recipient.revoked_day = False, today()
            changes.append(f"revoked {recipient.id} {recipient.name}: not on the roster")
    for verify_key, member in members.items():
        row = session.scalar(select(Recipient).where(Recipient.verify_key == verify_key))
        if row is None:
            row = Recipient(
                name=member.name,
                box_key=base64.b64decode(member.box_key),
                verify_key=verify_key,
                fingerprint=member.fingerprint,
                active=True,
            )
            session.add(row)
            changes.append(f"added {member.name} ({member.fingerprint})")
        elif row.box_key != base64.b64decode(member.box_key):
            raise RosterRefused(f"{member.name}: the box key differs from the registered one")
        elif not row.active:
            changes.append(f"{member.name} stays revoked: a revoked key is never active again")
            continue
        row.name, row.regions = member.name, ",".join(member.regions)
        session.flush()
    return changes


def known_verify_keys(session: Session) -> set[bytes] | None:
    """Keys the current roster names, members or revoked; None when no roster was published."""
    roster = current_roster(session)
    if roster is None:
        return None
    named = [m.verify_key for m in roster.members] + [r.verify_key for r in roster.revoked]
    return {base64.b64decode(k) for k in named}


def roster_knows_author(session: Session, blob: Blob) -> bool:
    """Whether a reviewer's blob was written by a key the roster names (always without one)."""
    known = known_verify_keys(session)
    if known is None:
        return True
    author = session.get(Recipient, blob.recipient_id) if blob.recipient_id is not None else None
    return author is not None and author.verify_key in known
