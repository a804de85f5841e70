"""The source's own thread: readable after login, sealed so the server at rest cannot read it."""

from __future__ import annotations

import pytest

from crypto.errors import NotARecipientError
from crypto.kdf import MINIMAL
from crypto.source import derive_source_secrets, open_own_copy
from portal.services import installation_salt_of

from .journey import (
    blobs_of,
    get_codename,
    login,
    only_report_id,
    read_blob,
    reviewer_reads_answers,
    reviewer_replies,
    send_followup,
    submit_report,
    text_of,
)

NARRATIVE = "Меня задержали у пункта ОЗТ, свидетели были рядом."
FOLLOWUP = "В протоколе написали неправду."


def test_source_reads_their_narrative_and_followups_after_logging_in_again(
    app, client, recipient_key
):
    source = get_codename(client)
    submit_report(client, narrative=NARRATIVE)
    report_id = only_report_id(app)
    reviewer_replies(app, report_id, "Юрист свяжется с вами.")
    assert send_followup(client, report_id, FOLLOWUP).status_code == 303
    again = app.test_client()
    assert login(again, source.codename).status_code == 303
    page = text_of(again.get("/status"))
    assert page.index(NARRATIVE) < page.index("Юрист свяжется с вами.") < page.index(FOLLOWUP)


def test_own_copy_is_sealed_to_the_codename_key_and_the_reviewers_only(app, client, recipient_key):
    source = get_codename(client)
    submit_report(client, narrative=NARRATIVE)
    report_id = only_report_id(app)
    send_followup(client, report_id, FOLLOWUP)
    (answers,) = blobs_of(app, report_id, "answers")
    (message,) = blobs_of(app, report_id, "message")
    sealed = [read_blob(app, answers), read_blob(app, message)]
    for blob in sealed:  # nothing the server keeps at rest holds the text
        assert NARRATIVE.encode() not in blob and FOLLOWUP.encode() not in blob
    with app.app_context():
        salt = installation_salt_of()
    key = derive_source_secrets(source.codename, salt, MINIMAL).box
    assert NARRATIVE.encode() in open_own_copy(sealed[0], key)[1]
    assert open_own_copy(sealed[1], key)[1] == FOLLOWUP.encode()
    assert reviewer_reads_answers(app, recipient_key, report_id)["narrative"] == NARRATIVE
    stranger = derive_source_secrets(get_codename(app.test_client()).codename, salt, MINIMAL).box
    with pytest.raises(NotARecipientError):
        open_own_copy(sealed[0], stranger)
