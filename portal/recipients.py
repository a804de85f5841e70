"""Registering, listing and revoking reviewers' public keys (operator tasks)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from crypto.keys import RecipientBundle
from portal.models import Recipient, ReportRecipient, today


class RecipientError(Exception):
    """An operator request about recipients cannot be done; the message says why."""


def parse_regions(text: str | None, known: Sequence[str]) -> list[str]:
    """Split a comma list of region codes; [] (all regions) for None or empty.

    Raises RecipientError naming any code not in known.
    """
    regions = [r.strip() for r in (text or "").split(",") if r.strip()]
    unknown = [r for r in regions if r not in known]
    if unknown:
        raise RecipientError(
            f"unknown region {', '.join(unknown)}; known regions: {', '.join(known)}"
        )
    return list(dict.fromkeys(regions))


def register_recipient(
    session: Session, bundle: RecipientBundle, regions: Iterable[str] = ()
) -> Recipient:
    """Add an active recipient for a verified bundle, covering regions ([] = all).

    The caller commits. Raises RecipientError if either key is already
    registered (even revoked: a revoked key stays revoked).
    """
    box_key = bytes(bundle.box_key)
    verify_key = bytes(bundle.verify_key)
    existing = session.scalar(
        select(Recipient).where(
            or_(Recipient.box_key == box_key, Recipient.verify_key == verify_key)
        )
    )
    if existing is not None:
        raise RecipientError(
            f"this key is already registered as recipient {existing.id} ({existing.name})"
        )
    recipient = Recipient(
        name=bundle.name,
        box_key=box_key,
        verify_key=verify_key,
        fingerprint=bundle.fingerprint,
        regions=",".join(regions),
        active=True,
    )
    session.add(recipient)
    session.flush()
    return recipient


def list_recipients(session: Session) -> list[Recipient]:
    """Every recipient ever registered, oldest first."""
    return list(session.scalars(select(Recipient).order_by(Recipient.id)))


def revoke_recipient(session: Session, recipient_id: int) -> Recipient:
    """Stop sealing new reports to a recipient. The caller commits.

    Raises RecipientError if there is no such recipient or it is already revoked.
    """
    recipient = session.get(Recipient, recipient_id)
    if recipient is None:
        raise RecipientError(f"there is no recipient {recipient_id}")
    if not recipient.active:
        raise RecipientError(f"recipient {recipient_id} is already revoked")
    recipient.active = False
    recipient.revoked_day = today()
    return recipient


def replace_recipient(
    session: Session,
    old_id: int,
    bundle: RecipientBundle,
    regions: Iterable[str] | None = None,
) -> Recipient:
    """Register bundle as the replacement of a reviewer's lost or compromised key.

    The new key gets the old one's regions (unless regions is given); the
    old key is revoked (if it is not already); and the new key is granted
    the old one's reports, so the reviewer can still reply, set statuses and
    delete them. The server cannot re-seal anything: those reports'
    envelopes stay sealed to the old key (the slots say sealed=False), and
    the reviewer re-seals their vault copies with `amanat-admin reseal`.
    The caller commits. Raises RecipientError as register_recipient does.
    """
    old = session.get(Recipient, old_id)
    if old is None:
        raise RecipientError(f"there is no recipient {old_id}")
    new = register_recipient(session, bundle, old.region_list if regions is None else regions)
    if old.active:
        revoke_recipient(session, old_id)
    granted = session.scalars(
        select(ReportRecipient.report_id).where(ReportRecipient.recipient_id == old_id)
    ).all()
    session.add_all(
        ReportRecipient(report_id=r, recipient_id=new.id, sealed=False) for r in granted
    )
    session.flush()
    return new
