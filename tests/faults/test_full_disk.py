"""A real full disk: a small tmpfs the test mounts holds the data directory and the database.

The partial upload must be gone after the failure (a partial that stays
keeps the disk full for everyone), the source gets the 507 page in their
language, and the next report works. Below the free-space floor
(AMANAT_MIN_FREE_BYTES) uploads are refused before anything is written and
stop before they eat the room the database needs.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from portal import create_app, db
from portal.recipients import register_recipient
from portal.settings import Settings
from portal.store import BlobStore
from tests.portal.journey import get_codename, login, submit_report, text_of

MIB = 1024**2
DISK_MIB = 24


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A DISK_MIB tmpfs mounted for this test (needs root, which CI has)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_MIB}m,mode=0700", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def portal_on(disk: Path, floor: int) -> Flask:
    url = f"sqlite:///{disk / 'amanat.db'}"
    db.upgrade(url)
    settings = Settings.from_env(
        {
            "AMANAT_DATA_DIR": str(disk / "data"),
            "AMANAT_DATABASE_URL": url,
            "AMANAT_KDF_COST": "minimal",
            "AMANAT_MIN_FREE_BYTES": str(floor),
        }
    )
    app = create_app(settings)
    app.config["TESTING"] = True
    from crypto.keys import ReviewerKey

    with app.app_context():
        register_recipient(db.get_session(), ReviewerKey.generate("R").bundle(), [])
        db.get_session().commit()
    return app


def incoming(disk: Path) -> list[str]:
    return os.listdir(disk / "data" / "incoming")


def video(size: int) -> list[tuple[str, str, bytes, str]]:
    return [("evidence", "video.mp4", os.urandom(size), "video/mp4")]


def test_a_full_disk_shreds_the_partial_and_the_next_report_works(small_disk):
    app = portal_on(small_disk, floor=0)
    client = app.test_client()
    get_codename(client)
    free_before = shutil.disk_usage(small_disk).free
    response = submit_report(client, files=video(DISK_MIB * MIB))
    assert response.status_code == 507
    assert "недостаточно места" in text_of(response)
    assert incoming(small_disk) == []
    assert os.listdir(small_disk / "data" / "blobs") == []
    # The room the partial took is back (the WAL may have grown a little).
    assert shutil.disk_usage(small_disk).free > free_before - MIB
    assert submit_report(client, files=video(MIB)).status_code == 303
    db.get_engine(app).dispose()


def test_discard_shreds_the_partial_even_when_close_raises_enospc(tmp_path):
    store = BlobStore(tmp_path)
    blob = store.create()
    blob.writer.write(b"x" * 100_000)

    def close_on_a_full_disk() -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    blob.file.close = close_on_a_full_disk  # type: ignore[method-assign]
    blob.writer.close = close_on_a_full_disk  # type: ignore[method-assign]
    store.discard(blob)
    assert not blob.path.exists()
    assert list(store.incoming.iterdir()) == []


def test_uploads_stop_at_the_free_space_floor_and_the_database_stays_writable(small_disk):
    floor = 12 * MIB
    app = portal_on(small_disk, floor=floor)
    client = app.test_client()
    source = get_codename(client)
    client.get("/lang/ky")
    response = submit_report(client, files=video(16 * MIB))
    assert response.status_code == 507
    assert "орун жетишсиз" in text_of(response).lower()
    assert incoming(small_disk) == []
    # The upload stopped within a check interval of the floor, not at a full disk.
    assert shutil.disk_usage(small_disk).free >= floor - 2 * MIB
    # Fill the disk below the floor: reports are refused before anything is
    # written, while logins (database writes) still work.
    ballast = small_disk / "ballast"
    ballast.write_bytes(b"\0" * (shutil.disk_usage(small_disk).free - floor + MIB))
    response = submit_report(client, narrative="Без файлов")
    assert response.status_code == 507
    assert incoming(small_disk) == []
    assert login(app.test_client(), source.codename).status_code == 303
    ballast.unlink()
    assert submit_report(client, files=video(MIB)).status_code == 303
    db.get_engine(app).dispose()


def test_the_floor_setting_is_read_and_checked(tmp_path):
    env = {"AMANAT_DATA_DIR": str(tmp_path)}
    assert Settings.from_env({**env, "AMANAT_MIN_FREE_BYTES": "0"}).min_free_bytes == 0
    assert Settings.from_env(env).min_free_bytes == 256 * MIB
    with pytest.raises(ValueError, match="AMANAT_MIN_FREE_BYTES"):
        Settings.from_env({**env, "AMANAT_MIN_FREE_BYTES": "-1"})
