"""An operator who edits the database against reviewers who trust their organisation's roster.

The operator can insert a recipient row, attach it to a report, store a reply
or event signed by their own key, revoke and re-add rows, and serve any
roster the database holds. The reviewers' vaults have pinned the
organisation key at their first sync.
"""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select

from admin.case import case_state, load_case
from admin.case_events import submit_event
from admin.cli import main as admin_main
from admin.client import ApiClient
from admin.roster import (
    UNAPPROVED,
    pin_organisation,
    unapproved_recipients,
    unapproved_reports,
)
from admin.sync import SyncError, sync
from admin.vault import Vault
from crypto.envelope import Kind, open_bytes, seal_bytes
from crypto.errors import NotARecipientError
from crypto.kdf import MINIMAL
from crypto.keys import ReviewerKey, write_keyfile
from crypto.replies import sign_reply
from crypto.roster import Member, Roster, organisation_fingerprint
from portal import db
from portal.models import PublishedRoster, Recipient, ReportRecipient
from tests.adversarial.operator import (
    PASSPHRASE,
    insert_operator_recipient,
    resync,
    store_as_operator,
)
from tests.conftest import change_roster
from tests.portal import api_client
from tests.portal.journey import get_codename, only_report_id, submit_report, text_of, token_in


def test_an_operator_inserted_recipient_cannot_open_a_reply_or_event_sealed_after(
    app, live_server, team
):
    report_id, a, b, _ = team
    mallory = insert_operator_recipient(app, report_id)
    resync(live_server, a)
    assert [r["name"] for r in unapproved_recipients(a, a.report(report_id))] == ["Бакыт"]
    assert unapproved_reports(a, a.reports()) == {report_id}  # the inbox's check, one roster read
    reply, _ = a.seal_reply(report_id, "Приходите в четверг.")
    event, _ = a.seal_event(report_id, b'{"v": 1}')
    for envelope, kind in ((reply, Kind.REPLY), (event, Kind.EVENT)):
        with pytest.raises(NotARecipientError):
            open_bytes(envelope, mallory.box, kind)
        assert open_bytes(envelope, b.key.box, kind).content  # the real colleague reads it


def test_a_forged_reply_by_the_operators_key_is_rejected_in_the_vault_and_show_json(
    tmp_path, app, live_server, team
):
    report_id, a, _, _ = team
    mallory = insert_operator_recipient(app, report_id, name="Бакыт")
    text = "Я юрист. Приходите в отделение полиции с паспортом."
    envelope = seal_bytes(text.encode(), [a.key.box.public_key], Kind.REPLY)
    store_as_operator(app, report_id, mallory, envelope, "reply")
    resync(live_server, a)
    (entry,) = [e for e in a.conversation(report_id) if e.kind == "reply"]
    assert entry.verified is False and entry.author_check == "not_on_roster"
    assert entry.author_name is None  # never the name the server chose

    keyfile = tmp_path / "a.key"
    write_keyfile(keyfile, a.key, PASSPHRASE, MINIMAL)
    result = CliRunner(env={"AMANAT_PASSPHRASE": PASSPHRASE}).invoke(
        admin_main,
        ["show", "--keyfile", str(keyfile), "--vault", str(a.path), "--json", "--", report_id],
    )
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    (reply,) = [c for c in shown["conversation"] if c["kind"] == "reply"]
    assert reply["author_check"] == "not_on_roster" and reply["verified"] is False
    assert [r["name"] for r in shown["unapproved_recipients"]] == ["Бакыт"]
    text_result = CliRunner(env={"AMANAT_PASSPHRASE": PASSPHRASE}).invoke(
        admin_main, ["show", "--keyfile", str(keyfile), "--vault", str(a.path), "--", report_id]
    )
    assert UNAPPROVED in text_result.output and "REJECTED reply" in text_result.output


def test_a_forged_reply_is_shown_rejected_in_the_console(tmp_path, app, live_server, team):
    from admin.console.app import create_console

    report_id, a, _, _ = team
    mallory = insert_operator_recipient(app, report_id, name="Бакыт")
    envelope = seal_bytes("Приходите.".encode(), [a.key.box.public_key], Kind.REPLY)
    store_as_operator(app, report_id, mallory, envelope, "reply")
    resync(live_server, a)
    keyfile = tmp_path / "a.key"
    write_keyfile(keyfile, a.key, PASSPHRASE, MINIMAL)
    console = create_console(keyfile, a.path, live_server.url)
    console.config["TESTING"] = True
    browser = console.test_client()
    page = browser.get("/").get_data(as_text=True)
    browser.post("/", data={"csrf_token": token_in(page), "passphrase": PASSPHRASE})
    browser.get("/lang/en?next=/inbox")
    page = text_of(browser.get(f"/reports/{report_id}"))
    assert "This report was also sealed to a key your organisation has not approved" in page
    assert "REJECTED reply: its author is not on your organisation's roster" in page
    assert "Also sealed to an unapproved key" in text_of(browser.get("/inbox"))
    browser.get("/lang/ru?next=/inbox")
    page = text_of(browser.get(f"/reports/{report_id}"))
    assert "ключа, который ваша организация не утверждала" in page
    assert "Также зашифрован для неутверждённого ключа" in text_of(browser.get("/inbox"))


def test_an_honest_server_does_not_show_sources_a_reply_whose_author_is_not_on_the_roster(
    app, live_server, team
):
    report_id, _, _, source = team
    mallory = insert_operator_recipient(app, report_id)
    api = api_client.ApiClient(app.test_client(), mallory)
    envelope = seal_bytes(b"forged", [mallory.box.public_key], Kind.REPLY)
    digest = hashlib.sha256(envelope).hexdigest()
    response = api.post_bytes(
        f"/api/v1/reports/{report_id}/replies",
        envelope,
        headers={
            "Amanat-Reply-Signature": base64.b64encode(
                sign_reply(mallory.signing, report_id, digest)
            ).decode()
        },
    )
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "not_on_roster"
    store_as_operator(app, report_id, mallory, envelope, "reply")
    page = text_of(source.client.get("/status"))
    assert "forged" not in page and "unreadable" not in page.lower()


def test_a_revoked_reviewers_new_events_are_rejected(app, live_server, organisation, team):
    report_id, a, b, _ = team
    with ApiClient(live_server.url, b.key) as api:
        submit_event(b, api, report_id, "set_priority", {"priority": "high"})
    resync(live_server, a)
    with app.app_context():
        change_roster(db.get_session(), organisation, revoke=[b.key])
        db.get_session().commit()
    resync(live_server, a)
    # B's key is revoked on the server too; a hostile one stores B's new event anyway.
    envelope, _ = b.seal_event(report_id, b"{}")
    content = json.dumps(
        {
            "v": 1,
            "id": "f" * 32,
            "report_id": report_id,
            "author": base64.b64encode(bytes(b.key.signing.verify_key)).decode(),
            "author_name": "Бакыт",
            "day": "2026-12-03",
            "clock": 9,
            "parents": [],
            "type": "set_priority",
            "data": {"priority": "low"},
        }
    ).encode()
    envelope = seal_bytes(content, [a.key.box.public_key], Kind.EVENT)
    store_as_operator(app, report_id, b.key, envelope, "event")
    resync(live_server, a)
    assert case_state(a, report_id)["priority"] == "high"  # the event before revocation stands
    reasons = [i.reason for i in load_case(a, report_id).history if i.status == "rejected"]
    assert reasons == ["signed by a key your organisation revoked"]


def test_a_roster_not_signed_by_the_pinned_key_is_refused_by_sync(app, live_server, team):
    _, a, _, _ = team
    impostor = ReviewerKey.generate("Impostor organisation")
    roster = Roster(base64.b64encode(bytes(impostor.signing.verify_key)).decode(), 99)
    with app.app_context():
        session = db.get_session()
        session.add(
            PublishedRoster(
                serial=99,
                organisation_key=bytes(impostor.signing.verify_key),
                body=json.dumps(roster.sign(impostor.signing).to_dict()),
            )
        )
        session.commit()
    with ApiClient(live_server.url, a.key) as api, pytest.raises(SyncError, match="not signed by"):
        sync(a, api)


def test_a_roster_with_a_lower_serial_is_refused_by_sync(app, live_server, organisation, team):
    _, a, _, _ = team
    with app.app_context():
        session = db.get_session()
        newest = session.scalar(select(PublishedRoster).order_by(PublishedRoster.id.desc()))
        assert newest is not None and newest.serial == 2
        session.execute(delete(PublishedRoster).where(PublishedRoster.id == newest.id))
        session.commit()
    with ApiClient(live_server.url, a.key) as api, pytest.raises(SyncError, match="older"):
        sync(a, api)


def test_a_reused_serial_with_other_content_is_refused_by_sync(
    app, live_server, organisation, team
):
    _, a, _, _ = team
    with app.app_context():
        session = db.get_session()
        newest = session.scalar(select(PublishedRoster).order_by(PublishedRoster.id.desc()))
        assert newest is not None
        data = json.loads(newest.body)
        other = Roster(data["organisation_key"], data["serial"], (), ())
        newest.body = json.dumps(other.sign(organisation.signing).to_dict())
        session.commit()
    with ApiClient(live_server.url, a.key) as api, pytest.raises(SyncError, match="serial"):
        sync(a, api)


def test_a_server_that_stops_serving_the_roster_is_refused_by_sync(app, live_server, team):
    _, a, _, _ = team
    with app.app_context():
        db.get_session().execute(delete(PublishedRoster))
        db.get_session().commit()
    with ApiClient(live_server.url, a.key) as api, pytest.raises(SyncError, match="no roster"):
        sync(a, api)


def test_a_fingerprint_given_out_of_band_must_match_the_first_roster(
    tmp_path, app, live_server, organisation, add_recipient
):
    key = add_recipient("Айгуль")
    vault = Vault.open(tmp_path / "v", key)
    pin_organisation(vault, "12345 67890 12345 67890 12345 67890")
    with ApiClient(live_server.url, key) as api, pytest.raises(SyncError, match="not the one"):
        sync(vault, api)
    right = Vault.open(tmp_path / "w", key)
    pin_organisation(right, organisation_fingerprint(organisation.signing.verify_key))
    with ApiClient(live_server.url, key) as api:
        assert "Pinned" in str(sync(right, api).roster_note)


def test_the_portal_seals_new_reports_only_to_roster_members(app, add_recipient):
    member = add_recipient("Айгуль")
    with app.app_context():
        session = db.get_session()
        session.add(
            Recipient(
                name="Оператор",
                box_key=b"\x01" * 32,
                verify_key=b"\x02" * 32,
                fingerprint="0",
                active=True,
            )
        )
        session.commit()
    source = get_codename(app.test_client())
    assert submit_report(source.client).status_code == 303
    report_id = only_report_id(app)
    with app.app_context():
        session = db.get_session()
        sealed_to = session.scalars(
            select(Recipient.verify_key)
            .join(ReportRecipient, ReportRecipient.recipient_id == Recipient.id)
            .where(ReportRecipient.report_id == report_id)
        ).all()
    assert sealed_to == [bytes(member.signing.verify_key)]


def test_routing_follows_the_roster_regions(app, organisation, add_recipient):
    osh = add_recipient("Ош", regions=["osh"])
    add_recipient("Нарын", regions=["naryn"])
    with app.app_context():
        session = db.get_session()
        recipient = session.scalar(
            select(Recipient).where(Recipient.verify_key == bytes(osh.signing.verify_key))
        )
        assert recipient is not None and recipient.region_list == ["osh"]
        # The operator widens a row by hand: the next roster puts it back.
        recipient.regions = ""
        change_roster(session, organisation, add=[Member.from_bundle(osh.bundle(), ("osh",))])
        session.commit()
        assert recipient.region_list == ["osh"]
