"""The sync API against a forger, and the console against a server that swaps blobs.

Forged, replayed and stale signatures, oversized JSON and another reviewer's
report are covered in tests/portal/test_api*.py (docs/SECURITY.md maps them).
"""

from __future__ import annotations

import shutil

from sqlalchemy import select

from admin.client import ApiClient as HttpApiClient
from admin.sync import sync
from admin.vault import Vault
from crypto.keys import ReviewerKey
from crypto.requests_auth import KEY_HEADER
from portal import db
from portal.models import Blob
from portal.services import blob_store
from tests.portal.api_client import ApiClient
from tests.portal.journey import get_codename, only_report_id, submit_report

from .conftest import row_counts


def error_code(response) -> tuple[int, str]:
    return response.status_code, response.get_json()["error"]["code"]


def test_a_signature_made_by_another_reviewer_is_refused(app, add_recipient):
    alice = add_recipient("Alice")
    bob = add_recipient("Bob")
    signed_by_alice = ApiClient(app.test_client(), alice).headers("GET", "/api/v1/reports")
    # Claim to be Bob with Alice's signature: the key named must be the key that signed.
    forged = {
        **signed_by_alice,
        KEY_HEADER: ApiClient(app.test_client(), bob).headers("GET", "/api/v1/reports")[KEY_HEADER],
    }
    response = app.test_client().get("/api/v1/reports", headers=forged)
    assert error_code(response) == (401, "bad_signature")


def test_a_status_change_signed_for_one_report_cannot_be_replayed_on_another(
    app, client, recipient_key
):
    get_codename(client)
    submit_report(client)
    submit_report(client)
    with app.app_context():
        first, second = sorted(db.get_session().scalars(select(Blob.report_id)).unique())[:2]
    api = ApiClient(app.test_client(), recipient_key)
    body = b'{"status": "closed"}'
    headers = api.headers("PUT", f"/api/v1/reports/{first}/status", body)
    response = app.test_client().put(
        f"/api/v1/reports/{second}/status",
        data=body,
        headers=headers,
        content_type="application/json",
    )
    assert error_code(response) == (401, "bad_signature")
    before = row_counts(app)
    # The genuine request still works once, and only once.
    kwargs = {"data": body, "headers": headers, "content_type": "application/json"}
    assert app.test_client().put(f"/api/v1/reports/{first}/status", **kwargs).status_code == 200
    again = app.test_client().put(f"/api/v1/reports/{first}/status", **kwargs)
    assert error_code(again) == (401, "replayed_nonce")
    assert row_counts(app) == before


def test_a_blob_replaced_on_the_servers_disk_is_refused_by_sync(
    app, client, recipient_key: ReviewerKey, live_server, tmp_path
):
    """A whole, valid envelope sealed to the same reviewer, swapped in by the server."""
    get_codename(client)
    submit_report(client, files=[("evidence", "a.txt", b"the real evidence", "text/plain")])
    real_report = only_report_id(app)
    other = app.test_client()
    get_codename(other)
    submit_report(other, files=[("evidence", "b.txt", b"something else!!!", "text/plain")])
    with app.app_context():
        files = {
            row.report_id: row
            for row in db.get_session().scalars(select(Blob).where(Blob.kind == "file"))
        }
        store = blob_store()
        real, swapped_in = (
            files[real_report],
            next(row for rid, row in files.items() if rid != real_report),
        )
        assert real.size == swapped_in.size  # padding: same size, so only the hash can tell
        shutil.copyfile(store.path_of(swapped_in.storage_name), store.path_of(real.storage_name))
    vault = Vault.open(tmp_path / "vault", recipient_key)
    with HttpApiClient(live_server.url, recipient_key) as api:
        result = sync(vault, api)
    refused = {(r.blob_id, r.reason) for r in result.refused}
    assert refused == {(real.id, "the SHA-256 does not match what the server signed")}
    assert not vault.has_blob(real.id)
    assert vault.has_blob(swapped_in.id)
