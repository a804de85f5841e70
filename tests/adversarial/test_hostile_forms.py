"""Markup in every field, forged and reused CSRF tokens, codename guessing.

Markup typed by a source must reach the reviewer as text: on the portal's
own pages (a refused form comes back filled in) and in the reviewer console.
"""

from __future__ import annotations

import pytest

from admin.client import ApiClient
from admin.console.app import create_console
from admin.sync import sync
from admin.vault import Vault
from crypto.kdf import MINIMAL
from crypto.keys import write_keyfile
from portal.limits import limiter
from tests.portal.journey import (
    get_codename,
    login,
    only_report_id,
    submit_report,
    text_of,
    token_in,
)
from tests.portal.multipart_body import content_type, encode

from .conftest import row_counts, stored_files

PAYLOADS = (
    "<script>alert('x')</script>",
    '"><img src=x onerror=alert(1)>',
    "</textarea><svg onload=alert(1)>",
    "{{ 7*7 }}{% raw %}",
    "javascript:alert(1)",
)
PAYLOAD = "".join(PAYLOADS)
RAW_MARKERS = ("<script>alert", "<img src=x", "<svg onload", "onerror=alert(1)>")
CHOICE_FIELDS = (
    "reporter_role",
    "region",
    "violation_types",
    "perpetrator_types",
    "place_type",
    "key_population",
    "gender",
    "age_group",
    "consequences",
    "needs",
    "already_reported_to",
    "follow_up",
    "incident_date",
    "incident_date_precision",
)
PASSPHRASE = "a long passphrase"


def assert_no_live_markup(page: str) -> None:
    for marker in RAW_MARKERS:
        assert marker not in page, f"{marker!r} reached the page unescaped"


def test_markup_in_every_choice_field_is_refused_and_echoed_as_text(app, client, recipient_key):
    get_codename(client)
    answers = {code: PAYLOAD for code in CHOICE_FIELDS}
    response = submit_report(client, **answers)
    assert response.status_code == 400
    assert_no_live_markup(response.get_data(as_text=True))
    assert row_counts(app)["Report"] == 0
    assert stored_files(app) == []


def test_markup_in_every_text_field_reaches_the_console_as_text(
    app, client, recipient_key, live_server, tmp_path
):
    get_codename(client)
    response = submit_report(
        client,
        files=[("evidence", "<img src=x onerror=alert(1)>.jpg", b"x", "text/html")],
        narrative=PAYLOAD,
        consequences_other=PAYLOAD[:500],
        consequences="other",
    )
    assert response.status_code == 303, text_of(response)
    report_id = only_report_id(app)
    keyfile = tmp_path / "me.key"
    write_keyfile(keyfile, recipient_key, PASSPHRASE, MINIMAL)
    vault = Vault.open(tmp_path / "vault", recipient_key)
    with ApiClient(live_server.url, recipient_key) as api:
        assert not sync(vault, api).refused
    (file_entry,) = vault.files(report_id)
    vault.manifest(file_entry.blob_id)  # learn the file's name, as "identify" does
    vault.save()

    console = create_console(keyfile, tmp_path / "vault", live_server.url)
    console.config["TESTING"] = True
    browser = console.test_client()
    page = browser.get("/").get_data(as_text=True)
    browser.post("/", data={"csrf_token": token_in(page), "passphrase": PASSPHRASE})
    for url in ("/inbox", f"/reports/{report_id}"):
        page = browser.get(url).get_data(as_text=True)
        assert_no_live_markup(page)
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;.jpg" in page  # the file's name, as text
    assert "{{ 7*7 }}" in page  # shown as typed, never evaluated as a template


def test_a_token_from_another_session_is_refused(app, client, recipient_key):
    get_codename(client)
    stranger = app.test_client()
    stranger_token = token_in(text_of(stranger.get("/login")))
    before = row_counts(app)
    body = encode([("csrf_token", stranger_token), ("store_report", "yes"), ("narrative", "x")])
    response = client.post("/report", data=body, content_type=content_type())
    assert response.status_code == 400
    assert row_counts(app) == before
    assert stored_files(app) == []


def test_a_token_reused_after_logout_is_refused(app, client, recipient_key):
    source = get_codename(client)
    old_token = token_in(text_of(client.get("/status")))
    logout_token = token_in(text_of(client.get("/status")))
    client.post("/logout", data={"csrf_token": logout_token})
    login(client, source.codename)
    before = row_counts(app)
    body = encode([("csrf_token", old_token), ("store_report", "yes"), ("narrative", "x")])
    response = client.post("/report", data=body, content_type=content_type())
    assert response.status_code == 400
    assert row_counts(app)["Report"] == before["Report"]
    assert stored_files(app) == []


@pytest.fixture
def rate_limited():
    limiter.enabled = True
    try:
        yield
    finally:
        limiter.reset()


def test_codename_guessing_through_the_report_form_is_rate_limited(
    app, client, recipient_key, rate_limited
):
    """The report form logs in again with a typed codename: it must not be a free oracle."""
    get_codename(client)
    token = token_in(text_of(client.get("/report")))
    guesser = app.test_client()
    guesser.set_cookie("session", client.get_cookie("session").value)
    statuses = []
    for _ in range(130):
        body = encode(
            [
                ("csrf_token", token),
                ("store_report", "yes"),
                ("narrative", "x"),
                ("codename", "0000 0000 0000 0000 0000 0000 0000"),
            ]
        )
        statuses.append(guesser.post("/report", data=body, content_type=content_type()).status_code)
    assert 429 in statuses
    assert set(statuses) <= {401, 429}
    assert row_counts(app)["Report"] == 0
    assert stored_files(app) == []
