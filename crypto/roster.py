"""The organisation's roster: who may read reports and whose words are genuine.

A coordinator signs the roster on their own machine with the organisation's
Ed25519 key (kept in a coordinator key file, never on the server). It lists,
for each reviewer, their public bundle (name, fingerprint, box key, verify
key), the regions they cover and their role; the keys revoked; and a serial
number that only grows. Reviewers pin the organisation key when they set up
their vault and believe a list of keys from the server only where this
roster agrees with it.
"""

from __future__ import annotations

import binascii
import hashlib
from dataclasses import dataclass, field
from typing import Any

from nacl.public import PublicKey
from nacl.signing import SigningKey, VerifyKey

from crypto import canonical as canonical_json
from crypto.encoding import from_b64, to_b64
from crypto.errors import BadSignatureError, CryptoError
from crypto.keys import RecipientBundle, fingerprint
from crypto.signatures import Purpose, sign, verify

ROSTER_FORMAT = "amanat-roster"
ROSTER_VERSION = 1
ROLES = ("reviewer", "coordinator")
MAX_MEMBERS = 1000
MAX_TEXT = 200


class RosterError(CryptoError):
    """A roster is malformed, not signed by the organisation key, or older than one seen."""


def organisation_fingerprint(verify_key: VerifyKey) -> str:
    """30 digits in six groups of five naming the organisation key, read aloud to compare."""
    digest = hashlib.blake2b(bytes(verify_key), digest_size=16, person=b"amanat.org").digest()
    digits = f"{int.from_bytes(digest, 'big') % 10**30:030d}"
    return " ".join(digits[i : i + 5] for i in range(0, 30, 5))


def organisation_key_fingerprint(organisation_key: str) -> str:
    """The fingerprint of an organisation key written as a roster holds it (base64)."""
    return organisation_fingerprint(VerifyKey(from_b64(organisation_key)))


def short_fingerprint(text: str) -> str:
    """The first two groups of a fingerprint: enough to tell colleagues apart on screen."""
    return " ".join(text.split()[:2])


@dataclass(frozen=True)
class Member:
    """One reviewer on the roster: their public keys, regions ([] = all) and role."""

    name: str
    box_key: str  # base64
    verify_key: str  # base64
    regions: tuple[str, ...] = ()
    role: str = "reviewer"

    @property
    def fingerprint(self) -> str:
        return fingerprint(PublicKey(from_b64(self.box_key)), VerifyKey(from_b64(self.verify_key)))

    @property
    def label(self) -> str:
        """How a console names this member: name and short fingerprint."""
        return f"{self.name} ({short_fingerprint(self.fingerprint)})"

    @classmethod
    def from_bundle(
        cls, bundle: RecipientBundle, regions: tuple[str, ...] = (), role: str = "reviewer"
    ) -> Member:
        return cls(
            name=bundle.name,
            box_key=to_b64(bytes(bundle.box_key)),
            verify_key=to_b64(bytes(bundle.verify_key)),
            regions=tuple(regions),
            role=role,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "box_key": self.box_key,
            "verify_key": self.verify_key,
            "fingerprint": self.fingerprint,
            "regions": list(self.regions),
            "role": self.role,
        }


@dataclass(frozen=True)
class Revoked:
    """A key the organisation no longer trusts, and the serial of the roster that revoked it."""

    name: str
    box_key: str
    verify_key: str
    serial: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "box_key": self.box_key,
            "verify_key": self.verify_key,
            "serial": self.serial,
        }


@dataclass(frozen=True)
class Roster:
    """A roster's content; signed() makes the form that travels, from_signed() checks it."""

    organisation_key: str  # base64 Ed25519 verify key
    serial: int
    members: tuple[Member, ...] = ()
    revoked: tuple[Revoked, ...] = ()
    signature: bytes | None = field(default=None, compare=False)

    def _content(self) -> dict[str, Any]:
        return {
            "format": ROSTER_FORMAT,
            "version": ROSTER_VERSION,
            "organisation_key": self.organisation_key,
            "serial": self.serial,
            "members": [m.to_dict() for m in self.members],
            "revoked": [r.to_dict() for r in self.revoked],
        }

    def to_dict(self) -> dict[str, Any]:
        """The roster as JSON data, with its signature if it has one."""
        data = self._content()
        if self.signature is not None:
            data["signature"] = to_b64(self.signature)
        return data

    def sign(self, signing_key: SigningKey) -> Roster:
        """This roster signed by the organisation key; raises RosterError for another key."""
        if to_b64(bytes(signing_key.verify_key)) != self.organisation_key:
            raise RosterError("this key file does not hold the organisation key of this roster")
        signature = sign(signing_key, Purpose.ROSTER, canonical(self._content()))
        return Roster(self.organisation_key, self.serial, self.members, self.revoked, signature)

    def member(self, verify_key: object) -> Member | None:
        """The member whose verify key (base64) this is, or None."""
        return next((m for m in self.members if m.verify_key == verify_key), None)

    def member_by_box_key(self, box_key: object) -> Member | None:
        return next((m for m in self.members if m.box_key == box_key), None)

    def revocation(self, verify_key: object) -> Revoked | None:
        return next((r for r in self.revoked if r.verify_key == verify_key), None)

    # The coordinator's edits: each returns the next roster, unsigned, to sign.

    def with_member(self, member: Member) -> Roster:
        """The next roster (serial one higher) with member on it, in place of their old entry.

        Raises RosterError if member's key was revoked: a revoked key is never added again.
        """
        if self.revocation(member.verify_key) is not None:
            raise RosterError("this key was revoked; a revoked key is never added again")
        others = tuple(m for m in self.members if m.verify_key != member.verify_key)
        return Roster(self.organisation_key, self.serial + 1, (*others, member), self.revoked)

    def find(self, who: str) -> Member:
        """The member whose fingerprint (its digits) or name is who; RosterError unless just one."""
        digits = "".join(c for c in who if c.isdigit())
        found = [
            m
            for m in self.members
            if m.name == who or (digits and "".join(m.fingerprint.split()) == digits)
        ]
        if len(found) != 1:
            many = "no" if not found else "more than one"
            raise RosterError(f"{many} member matches {who!r}; give a fingerprint")
        return found[0]

    def without(self, member: Member) -> Roster:
        """The next roster with member taken off and their keys revoked as of its serial."""
        serial = self.serial + 1
        members = tuple(m for m in self.members if m != member)
        revoked = (*self.revoked, Revoked(member.name, member.box_key, member.verify_key, serial))
        return Roster(self.organisation_key, serial, members, revoked)

    def renumbered(self, serial: int | None = None) -> Roster:
        """This roster under serial (default one higher); RosterError unless it is higher."""
        new_serial = self.serial + 1 if serial is None else serial
        if new_serial <= self.serial:
            raise RosterError(f"the serial only grows: give more than {self.serial}")
        return Roster(self.organisation_key, new_serial, self.members, self.revoked)


def describe(roster: Roster) -> list[str]:
    """The roster as lines of text: serial, organisation key, members, revoked keys.

    The coordinator's `amanat-admin roster show` and the operator's
    `amanat-server roster show` print these same lines.
    """
    lines = [
        f"Roster serial {roster.serial}",
        f"Organisation key fingerprint: {organisation_key_fingerprint(roster.organisation_key)}",
    ]
    for member in roster.members:
        regions = ",".join(member.regions) or "all regions"
        lines.append(f"  {member.role:<11} {member.name}: {member.fingerprint} ({regions})")
    for revoked in roster.revoked:
        lines.append(f"  revoked     {revoked.name} (since serial {revoked.serial})")
    return lines


def canonical(obj: dict[str, Any]) -> bytes:
    """The bytes a roster signature covers: crypto.canonical (the same bytes as before)."""
    return canonical_json.encode(obj)


def from_signed(data: Any, pinned: str | None = None, seen_serial: int | None = None) -> Roster:
    """Parse and verify a signed roster.

    pinned is the organisation key (base64) the reader trusts; None checks
    only the roster's own signature (the server does that before it pins).
    Raises RosterError if the roster is malformed, not signed by the pinned
    key, or has a serial lower than seen_serial.
    """
    roster = _parse(data)
    if pinned is not None and roster.organisation_key != pinned:
        raise RosterError("the roster is not signed by your organisation's key")
    try:
        verify(
            VerifyKey(from_b64(roster.organisation_key)),
            Purpose.ROSTER,
            canonical(roster._content()),
            from_b64(data.get("signature")),
        )
    except (BadSignatureError, ValueError, binascii.Error) as exc:
        raise RosterError("the roster's signature does not verify") from exc
    if seen_serial is not None and roster.serial < seen_serial:
        raise RosterError(
            f"the roster is older (serial {roster.serial}) than one already seen ({seen_serial})"
        )
    return Roster(
        roster.organisation_key,
        roster.serial,
        roster.members,
        roster.revoked,
        from_b64(data["signature"]),
    )


def parse_unsigned(data: Any) -> Roster:
    """Parse a roster without checking its signature (to sign it again); raise RosterError."""
    return _parse(data)


def _parse(data: Any) -> Roster:
    try:
        if data["format"] != ROSTER_FORMAT or data["version"] != ROSTER_VERSION:
            raise RosterError("this is not a version 1 Amanat roster")
        serial = data["serial"]
        if not isinstance(serial, int) or isinstance(serial, bool) or serial < 0:
            raise RosterError("the roster's serial is not a number")
        members = tuple(_member(m) for m in _items(data["members"]))
        revoked = tuple(_revoked(r) for r in _items(data["revoked"]))
        from_b64(data["organisation_key"], 32)
    except RosterError:
        raise
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise RosterError("the roster is malformed") from exc
    keys = [m.verify_key for m in members] + [m.box_key for m in members]
    if len(set(keys)) != len(keys):
        raise RosterError("the roster lists a key twice")
    if {m.verify_key for m in members} & {r.verify_key for r in revoked}:
        raise RosterError("the roster lists a revoked key as a member")
    return Roster(str(data["organisation_key"]), serial, members, revoked)


def _items(value: Any) -> list[Any]:
    if not isinstance(value, list) or len(value) > MAX_MEMBERS:
        raise RosterError("the roster is malformed")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_TEXT:
        raise RosterError("the roster has a missing or overlong name")
    return value


def _member(raw: Any) -> Member:
    regions = raw.get("regions", [])
    if not isinstance(regions, list):
        raise RosterError("the roster's regions are malformed")
    role = raw.get("role", "reviewer")
    if role not in ROLES:
        raise RosterError(f"unknown role {str(role)[:40]!r} in the roster")
    member = Member(
        name=_text(raw["name"]),
        box_key=_key(raw["box_key"]),
        verify_key=_key(raw["verify_key"]),
        regions=tuple(_text(r) for r in regions),
        role=role,
    )
    if raw.get("fingerprint", member.fingerprint) != member.fingerprint:
        raise RosterError("a member's fingerprint does not match their keys")
    return member


def _revoked(raw: Any) -> Revoked:
    serial = raw["serial"]
    if not isinstance(serial, int) or isinstance(serial, bool):
        raise RosterError("a revocation's serial is not a number")
    return Revoked(_text(raw["name"]), _key(raw["box_key"]), _key(raw["verify_key"]), serial)


def _key(value: Any) -> str:
    from_b64(value, 32)
    return str(value)
