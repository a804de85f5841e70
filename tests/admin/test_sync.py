"""amanat-admin sync against the real portal: what arrives, what is refused, and why."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from admin.client import ApiClient, ApiError
from admin.sync import SyncError, sync
from admin.vault import Vault
from crypto.keys import ReviewerKey
from portal import db
from portal.models import Blob
from portal.services import blob_store
from tests.portal.journey import get_codename, only_report_id, submit_report

FILE_BYTES = b"evidence bytes " * 20_000  # about 300 KB: several frames


@pytest.fixture
def reported(app, client, recipient_key):
    """A report with a file, submitted through the portal's pages."""
    get_codename(client)
    response = submit_report(
        client,
        files=[("evidence", "photo.jpg", FILE_BYTES, "image/jpeg")],
        narrative="Меня задержали у пункта ОЗТ.",
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    return only_report_id(app)


def blob_rows(app, report_id, kind):
    with app.app_context():
        rows = db.get_session().scalars(
            select(Blob).where(Blob.report_id == report_id, Blob.kind == kind)
        )
        return [(row.id, blob_store().path_of(row.storage_name)) for row in rows]


def damage_file_on_server(app, report_id):
    """Flip one byte of the report's file as the server stores it; return the file's blob id."""
    ((file_id, path),) = blob_rows(app, report_id, "file")
    data = bytearray(path.read_bytes())
    data[5000] ^= 1
    path.write_bytes(bytes(data))
    return file_id


def first_sync(tmp_path, live_server, key):
    """A new vault at tmp_path/vault, synced once: (vault, the sync's result)."""
    vault = Vault.open(tmp_path / "vault", key)
    with ApiClient(live_server.url, key) as client:
        return vault, sync(vault, client)


def test_first_sync_fetches_every_blob_and_pins_the_key(
    tmp_path, live_server, recipient_key, reported
):
    vault = Vault.open(tmp_path / "vault", recipient_key)
    with ApiClient(live_server.url, recipient_key) as client:
        result = sync(vault, client)
        assert len(result.fetched) == 2 and not result.refused
        assert vault.receipt_key
        again = sync(vault, client)
    # Nothing changed since: the cursor is past every report, none is listed again.
    assert again.fetched == [] and again.reports == []
    assert vault.answers(reported)["narrative"] == "Меня задержали у пункта ОЗТ."


def test_interrupted_download_resumes(tmp_path, app, live_server, recipient_key, reported):
    ((file_id, path),) = blob_rows(app, reported, "file")
    ciphertext = path.read_bytes()
    vault = Vault.open(tmp_path / "vault", recipient_key)
    vault.partial_path(file_id).write_bytes(ciphertext[:100_000])
    with ApiClient(live_server.url, recipient_key) as client:
        result = sync(vault, client)
    assert file_id in result.fetched and not result.refused
    ranges = [r["range"] for r in live_server.requests if r["path"].endswith(file_id)]
    assert ranges == ["bytes=100000-"]
    assert vault.blob_path(file_id).read_bytes() == ciphertext
    assert not vault.partial_path(file_id).exists()
    assert b"".join(vault.open_file(file_id).chunks()) == FILE_BYTES


def test_a_partial_that_is_not_a_prefix_is_refused_by_hash(
    tmp_path, app, live_server, recipient_key, reported
):
    ((file_id, _),) = blob_rows(app, reported, "file")
    vault = Vault.open(tmp_path / "vault", recipient_key)
    vault.partial_path(file_id).write_bytes(b"\0" * 1000)
    with ApiClient(live_server.url, recipient_key) as client:
        result = sync(vault, client)
    assert [(r.blob_id, "SHA-256" in r.reason) for r in result.refused] == [(file_id, True)]
    assert not vault.partial_path(file_id).exists()
    with ApiClient(live_server.url, recipient_key) as client:
        assert file_id in sync(vault, client).fetched  # the next sync starts afresh


def test_tampered_blob_in_transit_is_refused_and_named(
    tmp_path, app, live_server, recipient_key, reported
):
    file_id = damage_file_on_server(app, reported)
    vault, result = first_sync(tmp_path, live_server, recipient_key)
    (refusal,) = result.refused
    assert refusal.blob_id == file_id and refusal.report_id == reported
    assert str(refusal) == (
        f"blob {file_id} of report {reported}: the SHA-256 does not match what the server signed"
    )
    assert len(result.fetched) == 1  # the answers still arrived
    assert not vault.has_blob(file_id) and not vault.partial_path(file_id).exists()


def test_changed_server_key_stops_sync(tmp_path, live_server, recipient_key, reported):
    vault = Vault.open(tmp_path / "vault", recipient_key)
    vault.receipt_key = "A" * 43 + "="  # what an earlier sync pinned
    with ApiClient(live_server.url, recipient_key) as client, pytest.raises(SyncError) as exc:
        sync(vault, client)
    assert "receipt key has changed" in str(exc.value)
    assert list(vault.blobs_dir.iterdir()) == []


def test_an_unregistered_key_gets_401(tmp_path, live_server, reported):
    stranger = ReviewerKey.generate("Stranger")
    with ApiClient(live_server.url, stranger) as client, pytest.raises(ApiError) as exc:
        client.list_reports()
    assert exc.value.status == 401 and exc.value.code == "unknown_key"


def test_another_reviewers_report_is_not_listed(tmp_path, live_server, add_recipient, reported):
    other = add_recipient("Other", ["chui"])  # added after the report was routed
    vault = Vault.open(tmp_path / "vault", other)
    with ApiClient(live_server.url, other) as client:
        assert sync(vault, client).fetched == []
        with pytest.raises(ApiError) as exc:
            client.set_status(reported, "closed")
    assert exc.value.status == 404


def test_a_vault_with_a_day_cursor_lists_everything_once_then_follows_numbers(
    tmp_path, live_server, recipient_key, reported
):
    vault = Vault.open(tmp_path / "vault", recipient_key)
    vault._index["cursor"] = "2026-01-01"  # what a vault made before the sequence kept
    vault.save()
    vault = Vault.open(tmp_path / "vault", recipient_key)
    with ApiClient(live_server.url, recipient_key) as client:
        assert len(sync(vault, client).fetched) == 2
        assert isinstance(vault.cursor, int) and vault.cursor > 0
        assert sync(vault, client).reports == []  # nothing changed since the number


def test_sync_pages_through_the_listing_and_keeps_its_place(
    tmp_path, app, client, live_server, recipient_key, reported, monkeypatch
):
    import admin.sync

    for n in range(3):
        get_codename(client)
        assert submit_report(client, narrative=f"Отчёт {n}").status_code == 303
    monkeypatch.setattr(admin.sync, "PAGE", 2)
    vault = Vault.open(tmp_path / "vault", recipient_key)
    with ApiClient(live_server.url, recipient_key) as api:
        result = sync(vault, api)
    assert len(set(result.reports)) == 4 and not result.refused
    listings = [r["path"] for r in live_server.requests if r["path"] == "/api/v1/reports"]
    assert len(listings) == 2
    assert Vault.open(tmp_path / "vault", recipient_key).cursor == vault.cursor


def test_a_refused_report_is_listed_again_at_the_next_sync(
    tmp_path, app, live_server, recipient_key, reported
):
    ((file_id, path),) = blob_rows(app, reported, "file")
    good = path.read_bytes()
    path.write_bytes(good[:-1] + bytes([good[-1] ^ 1]))
    vault = Vault.open(tmp_path / "vault", recipient_key)
    with ApiClient(live_server.url, recipient_key) as client:
        assert [r.blob_id for r in sync(vault, client).refused] == [file_id]
        path.write_bytes(good)
        assert sync(vault, client).fetched == [file_id]
