"""Codenames only the server issued, and one rate budget for every codename attempt."""

from __future__ import annotations

from sqlalchemy import func, select

from portal import db
from portal.limits import limiter
from portal.models import Source, SourceSession

from .journey import get_codename, issued_codename, login, report_fields, text_of, token_in
from .multipart_body import content_type, encode

ZEROS = "0000 0000 0000 0000 0000 0000 0000"  # well formed: its Damm check digit is 0


def count(app, model) -> int:
    with app.app_context():
        return db.get_session().scalar(select(func.count()).select_from(model))


def post_check(client, token: str, group: str, **extra: str):
    return client.post(
        "/codename", data={"csrf_token": token, "check": group, "website": "", **extra}
    )


def test_create_path_refuses_28_zeros_the_server_did_not_issue(app, client, recipient_key):
    page = text_of(client.get("/login"))  # a CSRF token, but no codename issued
    response = post_check(client, token_in(page), "0000", codename=ZEROS, saved="y")
    assert response.status_code == 400
    assert "amanat_source" not in response.headers.get("Set-Cookie", "")
    assert count(app, Source) == 0
    assert login(client, ZEROS).status_code == 400


def test_create_path_takes_only_the_issued_codename_whatever_the_form_says(
    app, client, recipient_key
):
    codename, group, token = issued_codename(client)
    response = post_check(client, token, group, codename=ZEROS)
    assert response.status_code == 303
    assert count(app, Source) == 1
    other = app.test_client()
    assert login(other, ZEROS).status_code == 400
    assert login(other, codename).status_code == 303


def test_create_path_refuses_an_existing_codename(app, client, recipient_key):
    codename, group, token = issued_codename(client)
    replayed = client.get_cookie("session").value  # the signed session that names it
    assert post_check(client, token, group).status_code == 303
    # A replayed cookie brings the same issued codename back: it has an account now.
    attacker = app.test_client()
    attacker.set_cookie("session", replayed)
    response = post_check(attacker, token, group)
    assert response.status_code == 400
    assert "amanat_source" not in response.headers.get("Set-Cookie", "")
    assert count(app, Source) == 1
    assert count(app, SourceSession) == 1
    # ... and that browser is shown a fresh codename, not the taken one.
    assert codename not in text_of(attacker.get("/codename"))


def test_codename_is_created_only_when_its_group_is_typed_back(app, client, recipient_key):
    _, group, token = issued_codename(client)
    wrong = str((int(group) + 1) % 10000).zfill(4)
    response = post_check(client, token, wrong)
    assert response.status_code == 400
    assert count(app, Source) == 0
    assert post_check(client, token, f" {group[:2]}-{group[2:]} ").status_code == 303


def test_codename_stays_the_same_on_reload_and_hidden_after_the_check(client, recipient_key):
    first = issued_codename(client)[0]
    assert issued_codename(client)[0] == first
    check_page = text_of(client.get("/codename?step=check"))
    # On the check step the codename is folded away, to be looked at only on purpose.
    assert check_page.index("<details") < check_page.index('id="codename"')


def test_login_create_and_report_relogin_share_one_rate_budget(app, client, recipient_key):
    limiter.enabled = True
    limiter.reset()
    try:
        source = get_codename(client)  # 1 attempt (create)
        for _ in range(28):  # 28 more (login)
            assert login(app.test_client(), ZEROS).status_code == 400
        form = text_of(client.get("/report"))
        client.delete_cookie("amanat_source")
        body = encode(report_fields(token_in(form), codename=source.codename))
        relogin = client.post("/report", data=body, content_type=content_type())
        assert relogin.status_code == 303  # the 30th attempt: the budget's last
        # The budget is spent for all three ways in.
        assert login(app.test_client(), source.codename).status_code == 429
        fresh = app.test_client()
        _, group, token = issued_codename(fresh)
        assert post_check(fresh, token, group).status_code == 429
        form = text_of(client.get("/report"))
        client.delete_cookie("amanat_source")
        body = encode(report_fields(token_in(form), codename=source.codename, narrative="Ещё"))
        refused = client.post("/report", data=body, content_type=content_type())
        assert refused.status_code == 429
        assert "Ещё" in text_of(refused)  # the form comes back as typed
    finally:
        limiter.reset()
