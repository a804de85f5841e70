"""The roster through everyone's own commands, and what each person sees.

A coordinator makes the organisation key and a roster with two reviewers;
the operator publishes it; the reviewers pin the organisation key at their
first sync; a source reports; one reviewer replies, the other records a case
event. Then the server adds a third key of its own to the report and forges
a reply with it. The reviewers see that key flagged and the forgery
rejected; the third key opens nothing sealed after it was added; the source
sees the reviewers' replies and not the forgery.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re

from click.testing import CliRunner
from sqlalchemy import select

from admin.cli import main as admin_main
from crypto.envelope import Kind, open_bytes, seal_bytes
from crypto.errors import NotARecipientError
from crypto.keys import RecipientBundle
from crypto.replies import sign_reply
from crypto.roster import Member
from portal import db, intake
from portal.cli import main as server_main
from portal.models import Blob, Recipient, Report
from portal.services import blob_store, server_key
from tests.adversarial.operator import insert_operator_recipient
from tests.portal.journey import get_codename, login, only_report_id, submit_report, text_of

PASSPHRASE = "reviewer passphrase"
FINGERPRINT = re.compile(r"Organisation key fingerprint: ([0-9 ]{35})")


def _person(tmp_path, name: str):
    """amanat-admin as one person: their own vault, the passphrase from the environment."""
    env = {"AMANAT_PASSPHRASE": PASSPHRASE, "AMANAT_VAULT": str(tmp_path / f"{name}.vault")}

    def run(*args: str, input: str | None = None, ok: bool = True):
        result = CliRunner().invoke(admin_main, list(args), env=env, input=input)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return run


def _coordinator_makes_the_roster(tmp_path, coordinator, aigul, bakyt, roster_args):
    """The organisation key and a roster with both reviewers, on the coordinator's machine.

    Returns the organisation key's fingerprint and each reviewer's key file by name.
    """
    made = coordinator("roster", "init", "--name", "Организация", *roster_args, "--kdf", "minimal")
    match = FINGERPRINT.search(made.output)
    assert match, made.output
    org_fingerprint = match.group(1)
    keys = {}
    for run, name in ((aigul, "Айгуль"), (bakyt, "Бакыт")):
        keyfile, bundle = tmp_path / f"{name}.key", tmp_path / f"{name}.json"
        run("keygen", "--name", name, "--keyfile", str(keyfile), "--bundle", str(bundle))
        keys[name] = keyfile
    coordinator("roster", "add", str(tmp_path / "Айгуль.json"), "--regions", "osh", *roster_args)
    coordinator(
        "roster", "add", str(tmp_path / "Бакыт.json"), "--role", "coordinator", *roster_args
    )
    shown = coordinator("roster", "show", "--roster", str(roster_args[1])).output
    assert "Roster serial 3" in shown and org_fingerprint in shown
    return org_fingerprint, keys


def _operator_publishes(tmp_path, runner, roster_file) -> None:
    """The operator publishes the roster; a bare bundle is no longer enough."""
    published = runner.invoke(server_main, ["roster", "publish", str(roster_file)])
    assert published.exit_code == 0, published.output
    assert "published roster serial 3: 2 member(s)" in published.output
    refused = runner.invoke(server_main, ["recipient", "add", str(tmp_path / "Айгуль.json")])
    assert refused.exit_code == 1 and "signed roster" in refused.output
    again = runner.invoke(server_main, ["roster", "publish", str(roster_file)])
    assert again.exit_code == 1 and "not newer" in again.output


def _server_forges_a_reply(app, tmp_path, names, report_id):
    """The server adds a third key of its own to the report, and forges a reply with it.

    Returns that key and the forged envelope.
    """
    mallory = insert_operator_recipient(app, report_id, name="Бакыт")
    # Sealed to the reviewers' public keys too, so they read it: the signature is what lies.
    reviewers = [RecipientBundle.from_json((tmp_path / f"{n}.json").read_bytes()) for n in names]
    forged = seal_bytes(
        "Приходите в отделение с паспортом.".encode(),
        [mallory.box.public_key, *(b.box_key for b in reviewers)],
        Kind.REPLY,
    )
    with app.app_context():
        session = db.get_session()
        report = session.get(Report, report_id)
        row = session.scalar(
            select(Recipient).where(Recipient.verify_key == bytes(mallory.signing.verify_key))
        )
        digest = hashlib.sha256(forged).hexdigest()
        intake.store_reply(
            session,
            blob_store(),
            server_key(),
            report,
            row,
            forged,
            sign_reply(mallory.signing, report_id, digest),
        )
    return mallory, forged


def _what_aigul_sees(tmp_path, aigul, keyfile, report_id, org_fingerprint) -> None:
    """The third key flagged, the forgery rejected, Бакыт's reply and event by the roster."""
    shown = json.loads(aigul("show", "--keyfile", str(keyfile), "--json", "--", report_id).stdout)
    assert [r["name"] for r in shown["unapproved_recipients"]] == ["Бакыт"]
    assert shown["roster"]["organisation_fingerprint"] == org_fingerprint
    replies = [(c["author_check"], c["author_name"], c["text"]) for c in shown["conversation"]]
    bakyt_label = Member.from_bundle(
        RecipientBundle.from_json((tmp_path / "Бакыт.json").read_bytes())
    ).label
    assert ("roster", bakyt_label, "Юрист свяжется здесь.") in replies
    assert ("not_on_roster", None, "Приходите в отделение с паспортом.") in replies
    text = aigul("show", "--keyfile", str(keyfile), "--", report_id).output
    assert "this report was also sealed to a key your organisation has not approved" in text
    assert "REJECTED reply" in text
    case = json.loads(aigul("case", "--keyfile", str(keyfile), "--json", "--", report_id).stdout)
    assert case["state"]["priority"] == "high" and case["missing_events"] == []
    assert [h["author"] for h in case["history"]] == [bakyt_label]


def _what_the_third_key_opens(app, report_id, mallory, forged) -> None:
    """Nothing sealed after it was added."""
    with app.app_context():
        rows = db.get_session().scalars(
            select(Blob).where(Blob.report_id == report_id, Blob.kind.in_(("reply", "event")))
        )
        sealed = {
            row.id: (row.kind, blob_store().path_of(row.storage_name).read_bytes()) for row in rows
        }
    opened = 0
    for kind, envelope in sealed.values():
        if envelope == forged:
            continue
        try:
            open_bytes(envelope, mallory.box, Kind.REPLY if kind == "reply" else Kind.EVENT)
            opened += 1
        except NotARecipientError:
            pass
    assert opened == 0 and len(sealed) == 4  # two replies, an event, the forgery


def _what_the_source_sees(source, codename, mallory) -> None:
    """Both reviewers' replies, never the forgery."""
    source.delete_cookie("amanat_source")
    assert login(source, codename).status_code == 303
    page = text_of(source.get("/status"))
    assert "Мы получили ваш отчёт." in page and "Юрист свяжется здесь." in page
    assert "паспортом" not in page
    assert base64.b64encode(bytes(mallory.signing.verify_key)).decode() not in page


def test_coordinator_roster_two_reviewers_and_a_key_the_server_adds_on_its_own(
    tmp_path, app, runner, live_server
):
    coordinator = _person(tmp_path, "coordinator")
    aigul, bakyt = _person(tmp_path, "aigul"), _person(tmp_path, "bakyt")
    roster_file, org_file = tmp_path / "roster.json", tmp_path / "coordinator.key"
    roster_args = ["--roster", str(roster_file), "--coordinator-key", str(org_file)]
    org_fingerprint, keys = _coordinator_makes_the_roster(
        tmp_path, coordinator, aigul, bakyt, roster_args
    )
    _operator_publishes(tmp_path, runner, roster_file)

    # A source reports from Osh: sealed to Айгуль (osh) and Бакыт (all regions).
    source = app.test_client()
    codename = get_codename(source).codename
    assert submit_report(source, region="osh").status_code == 303
    report_id = only_report_id(app)

    def sync(run, name: str, *extra: str) -> str:
        return run("sync", "--server", live_server.url, "--keyfile", str(keys[name]), *extra).output

    # The reviewers pin the organisation key at their first sync; one replies, one records.
    assert "it matches the one you were given" in sync(
        aigul, "Айгуль", "--organisation-key", org_fingerprint
    )
    assert "Pinned your organisation's key" in sync(bakyt, "Бакыт")
    aigul("reply", "--keyfile", str(keys["Айгуль"]), report_id, input="Мы получили ваш отчёт.\n")
    bakyt(
        "event",
        report_id,
        "set_priority",
        "--json",
        "-",
        "--keyfile",
        str(keys["Бакыт"]),
        input='{"priority": "high"}',
    )

    mallory, forged = _server_forges_a_reply(app, tmp_path, keys, report_id)
    sync(aigul, "Айгуль")
    sync(bakyt, "Бакыт")
    bakyt("reply", "--keyfile", str(keys["Бакыт"]), report_id, input="Юрист свяжется здесь.\n")
    sync(aigul, "Айгуль")

    _what_aigul_sees(tmp_path, aigul, keys["Айгуль"], report_id, org_fingerprint)
    _what_the_third_key_opens(app, report_id, mallory, forged)
    _what_the_source_sees(source, codename, mallory)
