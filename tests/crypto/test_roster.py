"""The signed roster: only the organisation key makes one, and nothing in it can be changed."""

from __future__ import annotations

import base64
import copy

import pytest
from nacl.signing import SigningKey

from crypto.keys import ReviewerKey
from crypto.roster import Member, Revoked, Roster, RosterError, from_signed

ORG = SigningKey.generate()
ORG_KEY = base64.b64encode(bytes(ORG.verify_key)).decode()
ALICE = Member.from_bundle(ReviewerKey.generate("Айгуль").bundle(), ("osh",))
BOB = Member.from_bundle(ReviewerKey.generate("Бакыт").bundle(), (), "coordinator")


def signed(serial: int = 3, members=(ALICE, BOB), revoked=()) -> dict:
    return Roster(ORG_KEY, serial, tuple(members), tuple(revoked)).sign(ORG).to_dict()


def test_a_signed_roster_round_trips_with_the_pinned_key() -> None:
    roster = from_signed(signed(), pinned=ORG_KEY, seen_serial=3)
    assert roster.members == (ALICE, BOB) and roster.serial == 3
    assert roster.member(ALICE.verify_key) == ALICE and roster.member("x") is None


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["members"][0].update(name="Мошенник"),
        lambda d: d["members"][0].update(regions=[]),
        lambda d: d["members"][1].update(role="reviewer"),
        lambda d: d.update(serial=4),
        lambda d: d["members"].pop(),
        lambda d: d["revoked"].append(
            {"name": "x", "box_key": ALICE.box_key, "verify_key": BOB.box_key, "serial": 1}
        ),
    ],
)
def test_any_change_to_a_signed_roster_breaks_its_signature(change) -> None:
    data = copy.deepcopy(signed())
    change(data)
    with pytest.raises(RosterError):
        from_signed(data, pinned=ORG_KEY)


def test_a_roster_signed_by_another_key_is_refused_for_the_pinned_one() -> None:
    other = SigningKey.generate()
    data = Roster(base64.b64encode(bytes(other.verify_key)).decode(), 9).sign(other).to_dict()
    from_signed(data)  # its own signature holds...
    with pytest.raises(RosterError, match="not signed by your organisation"):
        from_signed(data, pinned=ORG_KEY)  # ...but it is not the organisation's


def test_a_roster_claiming_the_organisation_key_but_signed_by_another_is_refused() -> None:
    data = signed()
    data["signature"] = base64.b64encode(SigningKey.generate().sign(b"x").signature).decode()
    with pytest.raises(RosterError, match="signature"):
        from_signed(data, pinned=ORG_KEY)


def test_an_older_serial_is_refused() -> None:
    with pytest.raises(RosterError, match="older"):
        from_signed(signed(serial=2), pinned=ORG_KEY, seen_serial=3)


def test_only_the_organisation_key_can_sign() -> None:
    with pytest.raises(RosterError):
        Roster(ORG_KEY, 1).sign(SigningKey.generate())


def test_a_member_fingerprint_must_match_their_keys() -> None:
    data = signed()
    data["members"][0]["fingerprint"] = "00000 00000 00000 00000 00000 00000"
    with pytest.raises(RosterError):
        from_signed(data, pinned=ORG_KEY)


def test_a_revoked_key_cannot_also_be_a_member() -> None:
    gone = Revoked(ALICE.name, ALICE.box_key, ALICE.verify_key, 2)
    with pytest.raises(RosterError, match="revoked key"):
        from_signed(signed(revoked=[gone]), pinned=ORG_KEY)


@pytest.mark.parametrize("data", [None, [], {"format": "amanat-roster"}, {"version": 1}])
def test_malformed_rosters_are_refused(data) -> None:
    with pytest.raises(RosterError):
        from_signed(data)


def test_a_revoked_key_is_never_added_again() -> None:
    gone = Roster(ORG_KEY, 3, (ALICE, BOB)).without(BOB)
    assert gone.members == (ALICE,) and gone.serial == 4
    assert gone.revocation(BOB.verify_key) == Revoked(BOB.name, BOB.box_key, BOB.verify_key, 4)
    with pytest.raises(RosterError, match="never added again"):
        gone.with_member(BOB)


def test_a_member_is_found_by_fingerprint_or_by_a_name_only_one_has() -> None:
    twins = Member.from_bundle(ReviewerKey.generate("Айгуль").bundle())
    roster = Roster(ORG_KEY, 3, (ALICE, BOB, twins))
    assert roster.find(BOB.name) == BOB
    assert roster.find(ALICE.fingerprint.replace(" ", "")) == ALICE
    with pytest.raises(RosterError, match="more than one member"):
        roster.find("Айгуль")
    with pytest.raises(RosterError, match="no member"):
        roster.find("Мошенник")


def test_the_serial_only_grows() -> None:
    roster = Roster(ORG_KEY, 3, (ALICE,))
    assert roster.renumbered().serial == 4 and roster.renumbered(100).serial == 100
    with pytest.raises(RosterError, match="only grows"):
        roster.renumbered(3)
