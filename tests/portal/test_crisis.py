"""Help first: crisis contacts per language and region, one tap from every page."""

from __future__ import annotations

import dataclasses
import json

import pytest

from portal import create_app, db
from portal.crisis import CrisisContactsError

from .journey import get_codename, submit_report, text_of

CONTACTS = {
    "contacts": [
        {
            "name": {"ru": "Телефон доверия", "ky": "Ишеним телефону", "en": "Helpline"},
            "phone": "+996 (312) 00-00-00",
        },
        {
            "name": {"ru": "Юрист в Оше", "ky": "Оштогу юрист"},
            "phone": "0555 11 22 33",
            "regions": ["osh"],
        },
    ]
}


@pytest.fixture
def contacts_app(settings, tmp_path):
    path = tmp_path / "contacts.json"
    path.write_text(json.dumps(CONTACTS, ensure_ascii=False), encoding="utf-8")
    app = create_app(dataclasses.replace(settings, crisis_contacts_file=path))
    app.config["TESTING"] = True
    yield app
    db.get_engine(app).dispose()


@pytest.mark.parametrize(
    ("lang", "name"), [("ru", "Телефон доверия"), ("ky", "Ишеним телефону"), ("en", "Helpline")]
)
def test_contacts_are_shown_in_the_page_language_as_tel_links_at_the_top(contacts_app, lang, name):
    client = contacts_app.test_client()
    client.set_cookie("lang", lang)
    page = text_of(client.get("/"))
    top = page[: page.index("<h1>")]
    assert f'<a class="tel" href="tel:+996312000000">+996 (312) 00-00-00</a> {name}' in top


def test_regional_contacts_are_on_the_help_page_under_their_region(contacts_app):
    client = contacts_app.test_client()
    client.set_cookie("lang", "ky")
    page = text_of(client.get("/help"))
    assert page.index("Ош облусу") < page.index('href="tel:0555112233"')
    assert "Оштогу юрист" in page
    assert "Юрист в Оше" not in text_of(client.get("/"))  # not a national contact


def test_a_broken_contacts_file_stops_the_portal_at_start(settings, tmp_path):
    path = tmp_path / "contacts.json"
    path.write_text('{"contacts": [{"name": "x", "phone": "none"}]}', encoding="utf-8")
    with pytest.raises(CrisisContactsError):
        create_app(dataclasses.replace(settings, crisis_contacts_file=path))


def test_help_page_is_one_tap_from_every_page(client, recipient_key):
    for path in ("/", "/login", "/codename", "/no-such-page", "/help"):
        assert 'href="/help"' in text_of(client.get(path)), path
    help_page = client.get("/help")
    assert help_page.status_code == 200
    assert 'href="tel:112"' in text_of(help_page)


def test_in_danger_shows_the_help_on_every_following_page_even_an_error(app, client, recipient_key):
    get_codename(client)
    refused = submit_report(client, narrative="", in_danger_now="yes")
    assert refused.status_code == 400
    assert 'class="crisis" role="alert"' in text_of(refused)
    for path in ("/status", "/report", "/no-such-page", "/"):
        assert 'class="crisis" role="alert"' in text_of(client.get(path)), path


def test_help_is_on_the_form_before_any_upload_and_beside_the_danger_box(client, recipient_key):
    get_codename(client)
    form = text_of(client.get("/report"))
    assert form.index('class="help-now"') < form.index("<form")
    box = form.index('name="in_danger_now"')
    assert form.index('class="help-now"', box) < form.index('name="contact_me"')
