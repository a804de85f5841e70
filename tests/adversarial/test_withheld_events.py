"""A server that withholds a case event cannot make the case look complete."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import delete

from admin.case import MISSING_EVENT, load_case
from admin.case_events import submit_event
from admin.cli import main as admin_main
from admin.client import ApiClient
from admin.sync import sync
from crypto.kdf import MINIMAL
from crypto.keys import write_keyfile
from portal import db
from portal.models import Blob
from tests.adversarial.operator import PASSPHRASE, resync
from tests.portal.journey import text_of, token_in


def _withhold_first_event(app, live_server, report_id, a, b) -> str:
    """B records two events, the second after the first; the server drops the first."""
    with ApiClient(live_server.url, b.key) as api:
        first, posted = submit_event(b, api, report_id, "set_priority", {"priority": "high"})
        assert posted
        submit_event(b, api, report_id, "set_priority", {"priority": "low"})
    (blob_id,) = [i.blob_id for i in load_case(b, report_id).history if i.event_id == first["id"]]
    with app.app_context():
        db.get_session().execute(delete(Blob).where(Blob.id == blob_id))
        db.get_session().commit()
    resync(live_server, a)
    return str(first["id"])


def test_a_withheld_event_is_reported_as_missing(app, live_server, team):
    report_id, a, b, _ = team
    assert load_case(a, report_id).missing == []
    withheld = _withhold_first_event(app, live_server, report_id, a, b)
    case = load_case(a, report_id)
    assert case.missing == [withheld]
    assert case.state["priority"] == "low"  # what arrived still folds
    assert load_case(b, report_id).missing == []  # B holds its own first event


def test_a_withheld_event_shows_in_the_cli_and_the_console(
    tmp_path,
    app,
    live_server,
    team,
):
    from admin.console.app import create_console

    report_id, a, b, _ = team
    _withhold_first_event(app, live_server, report_id, a, b)
    keyfile = tmp_path / "a.key"
    write_keyfile(keyfile, a.key, PASSPHRASE, MINIMAL)
    runner = CliRunner(env={"AMANAT_PASSPHRASE": PASSPHRASE})
    args = ["--keyfile", str(keyfile), "--vault", str(a.path)]
    shown = runner.invoke(admin_main, ["case", *args, "--json", "--", report_id])
    assert shown.exit_code == 0, shown.output
    assert len(json.loads(shown.stdout)["missing_events"]) == 1
    assert MISSING_EVENT in runner.invoke(admin_main, ["show", *args, "--", report_id]).output
    report_json = json.loads(
        runner.invoke(admin_main, ["show", *args, "--json", "--", report_id]).stdout
    )
    assert len(report_json["missing_events"]) == 1

    console = create_console(keyfile, a.path, live_server.url)
    console.config["TESTING"] = True
    browser = console.test_client()
    page = browser.get("/").get_data(as_text=True)
    browser.post("/", data={"csrf_token": token_in(page), "passphrase": PASSPHRASE})
    for lang, text in (
        ("en", "An event is missing from this case"),
        ("ru", "В этом деле не хватает события"),
        ("ky", "Бул иште бир окуя жетишпейт"),
    ):
        browser.get(f"/lang/{lang}?next=/inbox")
        assert text in text_of(browser.get(f"/reports/{report_id}"))


def test_an_event_delivered_late_is_no_longer_missing(app, live_server, team):
    report_id, a, b, _ = team
    with ApiClient(live_server.url, b.key) as api:
        submit_event(b, api, report_id, "set_priority", {"priority": "high"})
        submit_event(b, api, report_id, "set_priority", {"priority": "low"})
    with ApiClient(live_server.url, a.key) as api:
        sync(a, api)
    assert load_case(a, report_id).missing == []
