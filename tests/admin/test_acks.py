"""The vault acknowledges, signed, only what it holds and checked; retention counts nothing else."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, select

from admin.client import ApiClient
from admin.sync import sync
from admin.vault import Vault
from portal import db
from portal.models import BlobAck, today
from portal.retention import purge
from portal.services import blob_store
from tests.admin.test_sync import FILE_BYTES, blob_rows, damage_file_on_server, first_sync
from tests.portal.journey import get_codename, only_report_id, submit_report


@pytest.fixture
def reported(app, client, recipient_key):
    get_codename(client)
    response = submit_report(client, files=[("evidence", "photo.jpg", FILE_BYTES, "image/jpeg")])
    assert response.status_code == 303
    return only_report_id(app)


def _due_after(app, days: int) -> int:
    with app.app_context():
        return purge(db.get_session(), blob_store(), 30, on=today() + dt.timedelta(days)).reports


def _acked(app) -> set[str]:
    with app.app_context():
        return set(db.get_session().scalars(select(BlobAck.blob_id)))


def test_a_synced_vault_acknowledges_every_blob_and_the_report_becomes_due(
    tmp_path, app, live_server, recipient_key, reported
):
    vault = Vault.open(tmp_path / "vault", recipient_key)
    with ApiClient(live_server.url, recipient_key) as client:
        result = sync(vault, client)
        assert sorted(result.acknowledged) == sorted(result.fetched)
        assert sync(vault, client).acknowledged == []  # each blob is acknowledged once
    assert _acked(app) == set(result.fetched)
    assert _due_after(app, 29) == 0
    assert _due_after(app, 30) == 1


def test_a_corrupt_blob_does_not_make_a_report_due(
    tmp_path, app, live_server, recipient_key, reported
):
    file_id = damage_file_on_server(app, reported)
    _, result = first_sync(tmp_path, live_server, recipient_key)
    assert [r.blob_id for r in result.refused] == [file_id]
    assert file_id not in _acked(app)
    assert _due_after(app, 365) == 0


def test_a_blob_damaged_in_the_vault_is_not_acknowledged(
    tmp_path, app, live_server, recipient_key, reported
):
    vault = Vault.open(tmp_path / "vault", recipient_key)
    ((file_id, _),) = blob_rows(app, reported, "file")
    # The download landed, then the vault's disk damaged it before the ack.
    with ApiClient(live_server.url, recipient_key) as client:
        sync(vault, client)
        with app.app_context():
            db.get_session().execute(delete(BlobAck))
            db.get_session().commit()
        vault._index["acked"] = []
        vault.blob_path(file_id).write_bytes(b"damaged")
        assert file_id not in sync(vault, client).acknowledged
    assert file_id not in _acked(app)
    assert _due_after(app, 365) == 0


def test_an_old_vault_acknowledges_what_it_holds_at_its_next_sync(
    tmp_path, app, live_server, recipient_key, reported
):
    vault = Vault.open(tmp_path / "vault", recipient_key)
    with ApiClient(live_server.url, recipient_key) as client:
        held = sync(vault, client).fetched
        # A vault from before acknowledgements: blobs held, nothing acknowledged,
        # and a server whose downloads table the migration dropped.
        vault._index.pop("acked")
        vault.save()
        with app.app_context():
            db.get_session().execute(delete(BlobAck))
            db.get_session().commit()
        old = Vault.open(tmp_path / "vault", recipient_key)
        again = sync(old, client)
    assert again.fetched == [] and sorted(again.acknowledged) == sorted(held)
    assert _due_after(app, 30) == 1
