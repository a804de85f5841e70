"""What the vault believes about who is who: the organisation's roster, pinned and checked.

The server lists, with each report, the keys it says the report is sealed
to and the key that wrote each reply or event. None of that is believed
unchecked once the vault has pinned an organisation key: replies and events
are sealed only to listed keys the roster approves; an author is named only
if the roster names them; a listed key the roster does not approve is
flagged ("this report was also sealed to a key your organisation has not
approved"). A vault that has pinned no organisation key (and a server that
serves no roster) keeps the old behaviour, believing the listing, and every
sync says so.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

from crypto.roster import (
    Member,
    Roster,
    RosterError,
    canonical,
    from_signed,
    organisation_key_fingerprint,
    short_fingerprint,
)

if TYPE_CHECKING:
    from admin.listing_types import RecipientListing
    from admin.vault import Vault, VaultReport

SECTION = "organisation"
NO_ROSTER = (
    "No organisation roster is pinned: the names and keys the server lists are believed "
    "as they are. Ask your coordinator for the organisation key's fingerprint and run "
    "sync with --organisation-key."
)
UNAPPROVED = "this report was also sealed to a key your organisation has not approved"


class UnapprovedRecipient(TypedDict):
    """A recipient the server lists that the pinned roster does not approve."""

    name: str  # as the server lists it, cut to 100 characters
    verify_key: str


class RosterSummary(TypedDict):
    """What `show --json` says of the roster."""

    pinned: bool
    serial: int | None
    organisation_fingerprint: str | None


class RosterRefused(Exception):
    """The server's roster is not one this vault can accept; the message says why."""


@dataclass(frozen=True)
class Author:
    """What the roster says of the key that signed a reply or event."""

    status: str  # "roster", "unlisted" (no roster pinned), "revoked" or "not_on_roster"
    label: str | None  # the roster's name and short fingerprint; None when unknown
    problem: str | None = None

    @property
    def trusted(self) -> bool:
        return self.status in ("roster", "unlisted")


def _section(vault: Vault) -> dict[str, Any]:
    return vault.section(SECTION)


def pinned_key(vault: Vault) -> str | None:
    value = _section(vault).get("key")
    return value if isinstance(value, str) else None


def pinned_roster(vault: Vault) -> Roster | None:
    """The newest roster this vault accepted, or None if it has pinned none."""
    data = _section(vault).get("roster")
    key = pinned_key(vault)
    if data is None or key is None:
        return None
    return from_signed(data, pinned=key)


def pin_organisation(vault: Vault, expected: str) -> None:
    """Remember the organisation key the reviewer was told of, out of band.

    expected is the key (base64) or its 30-digit fingerprint. Raises
    RosterRefused if another organisation key is already pinned.
    """
    text = expected.strip()
    section = _section(vault)
    current = pinned_key(vault)
    if current is not None:
        known = organisation_key_fingerprint(current)
        if text not in (current, known) and _digits(text) != _digits(known):
            raise RosterRefused(
                f"this vault already trusts another organisation key (fingerprint {known})"
            )
        return
    section["expected"] = text


def forget_organisation(vault: Vault, expected: str) -> None:
    """Trust a new organisation key from the next sync on (after a lost coordinator key).

    expected is the new key's fingerprint, read out by a coordinator; the
    roster signed by the old key is forgotten, the revocations it taught are kept.
    """
    section = _section(vault)
    for name in ("key", "roster", "serial"):
        section.pop(name, None)
    section["expected"] = expected.strip()


def accept_roster(vault: Vault, offered: Any) -> str | None:
    """Check the roster the server sent and keep it; return a note for the reviewer, or None.

    Raises RosterRefused if it is not signed by the pinned organisation key,
    is older than one already seen, or reuses a serial for other content.
    """
    section = _section(vault)
    key = pinned_key(vault)
    if offered is None:
        if key is not None:
            raise RosterRefused(
                "the server sent no roster, but this vault trusts organisation key "
                f"{organisation_key_fingerprint(key)}; nothing was downloaded"
            )
        return NO_ROSTER
    try:
        roster = from_signed(offered, pinned=key, seen_serial=section.get("serial"))
    except RosterError as exc:
        raise RosterRefused(f"the server's roster is refused: {exc}") from exc
    note = None
    if key is None:
        note = _first_pin(section, roster)
    elif roster.serial == section.get("serial") and canonical(roster.to_dict()) != canonical(
        section["roster"]
    ):
        raise RosterRefused(
            f"the server's roster has serial {roster.serial} but is not the roster of that "
            "serial already seen; ask your coordinator"
        )
    _remember_revocations(vault, roster)
    section.update({"key": roster.organisation_key, "serial": roster.serial})
    section["roster"] = roster.to_dict()
    return note


def _first_pin(section: dict[str, Any], roster: Roster) -> str:
    found = organisation_key_fingerprint(roster.organisation_key)
    expected = section.get("expected")
    given = expected is not None and expected != roster.organisation_key
    if given and _digits(str(expected)) != _digits(found):
        raise RosterRefused(
            f"the server's roster is signed by organisation key {found}, not the one "
            "you were given; nothing was downloaded"
        )
    section.pop("expected", None)
    if expected is not None:
        return f"Pinned your organisation's key {found}: it matches the one you were given."
    return (
        f"Pinned your organisation's key, fingerprint {found}. "
        "Compare it with your coordinator's, in person or by phone."
    )


def _remember_revocations(vault: Vault, roster: Roster) -> None:
    """Note, once, which blobs each newly revoked key had signed before the vault heard of it.

    Those stay theirs; anything signed by the key that arrives later is
    rejected, whatever day the server puts on it.
    """
    known: dict[str, list[str]] = _section(vault).setdefault("revoked_held", {})
    for revoked in roster.revoked:
        if revoked.verify_key not in known:
            known[revoked.verify_key] = [
                b["id"]
                for r in vault.reports()
                for b in r.blobs
                if b.get("author_key") == revoked.verify_key and vault.has_blob(b["id"])
            ]


def author_of(vault: Vault, verify_key: Any, blob_id: str) -> Author:
    """What the roster says of the key that signed blob_id (the signature is checked elsewhere)."""
    roster = pinned_roster(vault)
    if roster is None:
        return Author("unlisted", None)
    member = roster.member(verify_key)
    if member is not None:
        return Author("roster", member.label)
    revoked = roster.revocation(verify_key)
    if revoked is not None:
        held = _section(vault).get("revoked_held", {}).get(revoked.verify_key, [])
        label = f"{revoked.name} (revoked)"
        if blob_id in held:
            return Author("roster", label)
        return Author("revoked", label, "signed by a key your organisation revoked")
    return Author(
        "not_on_roster", None, "signed by a key that is not on your organisation's roster"
    )


def sealing_keys(vault: Vault, report: VaultReport) -> list[bytes] | None:
    """The box keys of the report's listed recipients the roster approves.

    None when no roster is pinned (the caller believes the listing).
    """
    roster = pinned_roster(vault)
    if roster is None:
        return None
    approved = []
    for recipient in report.recipients:
        member = _approved(roster, recipient)
        if member is not None:
            approved.append(base64.b64decode(member.box_key))
    return approved


def unapproved_recipients(vault: Vault, report: VaultReport) -> list[UnapprovedRecipient]:
    """The recipients the server lists for report that the pinned roster does not approve."""
    roster = pinned_roster(vault)
    if roster is None:
        return []
    return [
        UnapprovedRecipient(name=str(r.get("name", ""))[:100], verify_key=r.get("verify_key"))
        for r in report.recipients
        if _approved(roster, r) is None
    ]


def unapproved_reports(vault: Vault, reports: Iterable[VaultReport]) -> set[str]:
    """The ids of the reports that list a recipient the pinned roster does not approve.

    unapproved_recipients() for many reports, with the roster's signature checked once.
    """
    roster = pinned_roster(vault)
    if roster is None:
        return set()
    return {r.id for r in reports if any(_approved(roster, x) is None for x in r.recipients)}


def _approved(roster: Roster, recipient: RecipientListing) -> Member | None:
    member = roster.member(recipient.get("verify_key"))
    if member is None or member.box_key != recipient.get("box_key"):
        return None
    return member


def roster_summary(vault: Vault) -> RosterSummary:
    """What `show --json` says of the roster: pinned or not, serial, organisation fingerprint."""
    key = pinned_key(vault)
    return RosterSummary(
        pinned=key is not None,
        serial=_section(vault).get("serial"),
        organisation_fingerprint=organisation_key_fingerprint(key) if key else None,
    )


def member_label(member: Member) -> str:
    return f"{member.name} ({short_fingerprint(member.fingerprint)})"


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())
