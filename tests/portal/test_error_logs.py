"""Error logs name no request path and no report or blob id (issue 13 item 9).

A path is what a visitor typed: it can hold ids, and a %0a in it became a
line break that forged a log line. Flask's own "Exception on <path>" line
and the exception's text are replaced by the route's name, the method, the
exception's class and where it was raised.
"""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from portal import db
from tests.portal.journey import get_codename, only_report_id, submit_report

FORGED = "/%0aX-Forged-Log-Line:%20admin%20login"


def test_a_forged_line_break_in_the_path_neither_raises_nor_reaches_the_log(
    tmp_path, database_url, caplog
):
    from portal import create_app
    from portal.settings import Settings

    settings = Settings.from_env(
        {
            "AMANAT_DATA_DIR": str(tmp_path / "d"),
            "AMANAT_DATABASE_URL": database_url,
            "AMANAT_ONION_ADDRESS": "abcdefgh.onion",
        }
    )
    app = create_app(settings)
    with caplog.at_level(logging.DEBUG):
        response = app.test_client().get(FORGED)
    assert response.status_code == 404
    location = response.headers["Onion-Location"]
    assert location == "http://abcdefgh.onion/%0AX-Forged-Log-Line:%20admin%20login"
    assert "X-Forged-Log-Line" not in response.headers
    assert "X-Forged" not in caplog.text and "admin login" not in caplog.text
    db.get_engine(app).dispose()


def test_an_unhandled_error_logs_neither_the_path_nor_the_report_id(
    app, client, recipient_key, caplog, monkeypatch
):
    get_codename(client)
    assert submit_report(client).status_code == 303
    report_id = only_report_id(app)

    def broken(report_id: str) -> None:
        raise RuntimeError(f"cannot load report {report_id}")

    monkeypatch.setattr("portal.source_views.own_report", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: a 500 page, and a log line
    with caplog.at_level(logging.DEBUG):
        response = client.get(f"/report/{report_id}/received")
    assert response.status_code == 500
    assert "cannot load" not in response.get_data(as_text=True)
    assert "RuntimeError" in caplog.text and "sources.received" in caplog.text
    assert report_id not in caplog.text
    assert "/received" not in caplog.text


def test_database_errors_carry_no_statement_values(app):
    secret_id = "zzzsecretreportidzzzzzzzzz"
    engine = db.get_engine(app)
    with engine.connect() as connection:
        connection.execute(
            text(
                "INSERT INTO recipients (id, name, box_key, verify_key, fingerprint, regions, "
                "active, created_day) VALUES (900, :n, :k, :v, 'f', '', true, '2026-01-01')"
            ),
            {"n": secret_id, "k": b"k" * 32, "v": b"v" * 32},
        )
        with pytest.raises(IntegrityError) as raised:
            connection.execute(
                text(
                    "INSERT INTO recipients (id, name, box_key, verify_key, fingerprint, regions,"
                    " active, created_day) VALUES (900, :n, :k, :v, 'f', '', true, '2026-01-01')"
                ),
                {"n": secret_id, "k": b"k" * 32, "v": b"v" * 32},
            )
    assert secret_id not in str(raised.value)
