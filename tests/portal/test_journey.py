"""The whole source journey through the test client, in each language."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal import db
from portal.models import Blob, Report, Source, SourceSession

from .journey import (
    get_codename,
    login,
    only_report_id,
    report_fields,
    reviewer_reads_answers,
    reviewer_reads_files,
    reviewer_replies,
    send_followup,
    submit_report,
    text_of,
    token_in,
)
from .multipart_body import content_type, encode

TEXTS = {
    "ru": ("Ваш кодовый номер", "Ваше обращение получено", "Ответы"),
    "ky": ("Сиздин коддук", "кабыл алынды", "Жооптор"),
    "en": ("Your codename", "Your report was received", "Replies"),
}


def count(app, model) -> int:
    with app.app_context():
        return db.get_session().scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("lang", ["ru", "ky", "en"])
def test_whole_journey_in_each_language(app, client, recipient_key, lang):
    client.get(f"/lang/{lang}")
    page = text_of(client.get("/codename"))
    assert TEXTS[lang][0] in page
    source = get_codename(client)
    video = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8000
    response = submit_report(
        client,
        files=[
            ("evidence", "видео.mp4", video, "video/mp4"),
            ("evidence", "n.txt", b"n", "text/plain"),
        ],
        violation_types="economic_violence",
    )
    assert response.status_code == 303, text_of(response)
    receipt = text_of(client.get(response.headers["Location"]))
    assert TEXTS[lang][1] in receipt
    report_id = only_report_id(app)

    answers = reviewer_reads_answers(app, recipient_key, report_id)
    assert answers["narrative"] == "Меня задержали у пункта ОЗТ."
    assert answers["violation_types"] == ["economic_violence"]
    files = reviewer_reads_files(app, recipient_key, report_id)
    assert sorted(content for _, content in files) == sorted([video, b"n"])
    assert {m.filename for m, _ in files} == {"видео.mp4", "n.txt"}

    reviewer_replies(app, report_id, "Мы получили ваше сообщение, юрист свяжется.")
    client.post("/logout", data={"csrf_token": token_in(text_of(client.get("/status")))})
    assert client.get("/status").status_code == 303
    assert login(client, source.codename).status_code == 303
    status = text_of(client.get("/status"))
    assert "Мы получили ваше сообщение, юрист свяжется." in status

    assert (
        send_followup(
            client, report_id, "Ещё деталь", [("evidence", "p.jpg", b"jpg", "image/jpeg")]
        ).status_code
        == 303
    )
    (message,) = [b for b in _blobs(app, report_id) if b.kind == "message"]
    assert message.author == "source"
    files = reviewer_reads_files(app, recipient_key, report_id)
    assert b"jpg" in [content for _, content in files]


def _blobs(app, report_id):
    with app.app_context():
        return list(db.get_session().scalars(select(Blob).where(Blob.report_id == report_id)))


def test_in_danger_shows_crisis_contacts_on_the_receipt(client, recipient_key, app):
    app.extensions["amanat"] = app.extensions["amanat"].__class__(
        **{**app.extensions["amanat"].__dict__, "crisis_contacts": "Горячая линия 0800-CRISIS"}
    )
    get_codename(client)
    response = submit_report(client, in_danger_now="yes")
    assert "0800-CRISIS" in text_of(client.get(response.headers["Location"]))


def test_receipt_without_danger_does_not_alarm(client, recipient_key):
    get_codename(client)
    response = submit_report(client)
    assert 'class="crisis"' not in text_of(client.get(response.headers["Location"]))


def test_missing_narrative_keeps_what_was_typed_and_stores_no_report(app, client, recipient_key):
    get_codename(client)
    response = submit_report(
        client,
        narrative="",
        consequences_other="мой текст <b>жирный</b>",
        files=[("evidence", "a.txt", b"x", "text/plain")],
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "мой текст &lt;b&gt;жирный&lt;/b&gt;" in page
    assert 'class="error"' in page or "has-errors" in page
    assert count(app, Report) == 0
    assert count(app, Blob) == 0
    with app.app_context():
        from portal.services import blob_store

        # The sealed file waits under incoming/ for the fixed form (test_kept_files).
        assert len(list(blob_store().incoming.iterdir())) == 1
        assert list(blob_store().root.iterdir()) == []


def test_no_reviewer_means_the_portal_takes_no_report(app, client):
    assert client.get("/codename").status_code == 503
    assert count(app, Source) == 0


def test_report_needs_a_codename_session(client, recipient_key):
    response = client.get("/report")
    assert response.status_code == 303
    assert "/login" in response.headers["Location"]


def test_session_that_ended_while_typing_loses_no_text(app, client, recipient_key):
    source = get_codename(client)
    page = text_of(client.get("/report"))
    client.delete_cookie("amanat_source")
    body = encode(report_fields(token_in(page), narrative="Долгий рассказ"))
    response = client.post("/report", data=body, content_type=content_type())
    assert response.status_code == 401
    assert "Долгий рассказ" in text_of(response)
    assert count(app, Report) == 0
    fields = report_fields(token_in(text_of(response)), narrative="Долгий рассказ")
    body = encode([*fields, ("codename", source.codename)])
    response = client.post("/report", data=body, content_type=content_type())
    assert response.status_code == 303
    assert count(app, Report) == 1


def test_wrong_codename_is_refused_with_a_clear_message(client, recipient_key):
    get_codename(client)
    client.delete_cookie("amanat_source")
    response = login(client, "0000 0000 0000 0000 0000 0000 0000")
    assert response.status_code == 400
    assert "0000 0000" not in response.headers.get("Set-Cookie", "")


def test_logout_ends_the_session_on_the_server(app, client, recipient_key):
    get_codename(client)
    assert count(app, SourceSession) == 1
    client.post("/logout", data={"csrf_token": token_in(text_of(client.get("/status")))})
    assert count(app, SourceSession) == 0


def test_cookie_holds_only_a_random_id_a_key_and_a_signed_deadline(client, recipient_key):
    source = get_codename(client)
    cookie = client.get_cookie("amanat_source")
    digits = source.codename.replace(" ", "")
    assert digits not in cookie.value and source.codename not in cookie.value
    session_id, key, deadline, mac = cookie.value.split(".")
    assert len(session_id) == len(key) == 43
    assert deadline.isdigit() and len(mac) == 22
    assert cookie.http_only
    assert cookie.same_site == "Strict"


def test_another_sources_report_is_not_found(app, client, recipient_key):
    get_codename(client)
    submit_report(client)
    report_id = only_report_id(app)
    other = app.test_client()
    get_codename(other)
    assert other.get(f"/report/{report_id}/received").status_code == 404
    page = text_of(other.get("/status"))
    body = encode([("csrf_token", token_in(page)), ("message", "x")])
    assert (
        other.post(
            f"/report/{report_id}/followup", data=body, content_type=content_type()
        ).status_code
        == 404
    )


def test_report_written_over_hours_is_still_accepted(app, client, recipient_key, monkeypatch):
    import time

    get_codename(client)
    page = text_of(client.get("/report"))
    later = time.time() + 5 * 3600
    monkeypatch.setattr(time, "time", lambda: later)
    body = encode(report_fields(token_in(page), narrative="Писала весь вечер"))
    response = client.post("/report", data=body, content_type=content_type())
    # The form's token outlives the hours (never "this form has expired", a
    # 400); the idle login session does not, so the form comes back as typed,
    # asking only for the codename.
    assert response.status_code == 401, text_of(response)
    assert 'name="codename"' in response.text
    assert "Писала весь вечер" in response.text


def test_upload_that_outlasts_the_session_is_still_accepted(
    app, client, recipient_key, monkeypatch
):
    """A video over Tor can take hours; the session is checked when the upload starts."""
    from portal import intake

    get_codename(client)
    page = text_of(client.get("/report"))
    real_receive = intake.receive

    def slow_receive(*args, **kwargs):
        import time

        submission = real_receive(*args, **kwargs)
        later = time.time() + 6 * 3600
        monkeypatch.setattr("portal.sources.clock", lambda: later)
        return submission

    monkeypatch.setattr(intake, "receive", slow_receive)
    body = encode(report_fields(token_in(page)), [("evidence", "v.mp4", b"video", "video/mp4")])
    response = client.post("/report", data=body, content_type=content_type())
    assert response.status_code == 303, text_of(response)
    assert count(app, Report) == 1
