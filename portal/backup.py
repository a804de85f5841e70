"""`amanat-server backup` and `restore`: the database, the blob store and the server's keys.

A backup is one tar file, encrypted as it is written (crypto.archive) to
the operator's public key or to a passphrase, so no byte of it is on disk
in the clear (it holds the receipt signing key and the codename salt):

    amanat-backup.json     format version, source database kind, counts
    database.sqlite        the database as a SQLite file at the latest migration
    keys/<name>            secret_key, server_signing.key, codename_salt
    blobs/<name>           every blob the database names (ciphertext), each
                           checked against its signed receipt on the way in

A SQLite database is copied with SQLite's online backup API (a consistent
snapshot while the portal runs); any other database is copied row by row
through SQLAlchemy into a fresh SQLite file, so one restore path serves both
and a backup moves an installation from SQLite to PostgreSQL or back.
Source sessions and API nonces are left out: they are short-lived, and a
restored portal asks sources to log in again.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import sqlite3
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from nacl.public import PrivateKey
from nacl.signing import SigningKey, VerifyKey
from sqlalchemy import Connection, Engine, Integer, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from crypto.archive import ArchiveError, ArchiveWriter, Lock, open_archive
from crypto.private_files import private_file
from portal import db
from portal.integrity import HashingReader, content_problem, receipt_problem
from portal.models import Base, Blob, Recipient, Report, Source, today
from portal.serverkey import SIGNING_KEY_FILE
from portal.settings import SECRET_KEY_FILE, Settings, ensure_data_dir
from portal.shred import shred_file
from portal.sources import SALT_FILE
from portal.store import BlobStore, StoreError

FORMAT = "amanat-backup"
FORMAT_VERSION = 1
MANIFEST_NAME = "amanat-backup.json"
DATABASE_NAME = "database.sqlite"
KEY_FILES = (SECRET_KEY_FILE, SIGNING_KEY_FILE, SALT_FILE)
SKIPPED_TABLES = ("source_sessions", "api_nonces")
# Tables whose one row a migration writes (portal.sequence's counter).
SEEDED_TABLES = ("change_counter",)
_BATCH = 500
# The names portal.store gives blobs (it checks them again on every path).
BLOB_NAME = re.compile(r"[A-Za-z0-9_-]{32}")


class BackupError(Exception):
    """A backup cannot be made or restored; the message says why."""


@dataclass
class BackupSummary:
    """What a backup or restore moved, and blobs the database named but the disk lacked."""

    reports: int = 0
    blobs: int = 0
    missing: list[str] = field(default_factory=list)


def create_backup(settings: Settings, out: Path, lock: Lock) -> BackupSummary:
    """Write a backup of the installation described by settings to out (mode 0600),
    encrypted to lock (crypto.archive: a passphrase or the operator's public key).

    out appears only when complete. Raises BackupError if out exists or the
    database is not at the latest migration.
    """
    out = Path(out)
    if out.exists():
        raise BackupError(f"{out} already exists; it was not changed")
    summary = BackupSummary()
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".amanat-backup-") as tmp:
        snapshot = Path(tmp) / DATABASE_NAME
        _snapshot_database(settings.database_url, snapshot)
        rows = _blob_rows(snapshot)
        _verify_key(settings)  # before anything is written
        summary.reports = _count_reports(snapshot)
        with private_file(out, overwrite=False) as raw:
            sealed = ArchiveWriter(raw, lock)
            _write_tar(settings, sealed, snapshot, rows, summary)
            sealed.close()
    return summary


def _write_tar(
    settings: Settings,
    sealed: ArchiveWriter,
    snapshot: Path,
    rows: list[Blob],
    summary: BackupSummary,
) -> None:
    """The backup's tar, streamed into the archive: no plaintext of it reaches the disk."""
    verify_key = _verify_key(settings)
    with tarfile.open(fileobj=sealed, mode="w|") as tar:  # type: ignore[call-overload]
        manifest = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "day": today().isoformat(),
            "database": make_url(settings.database_url).get_backend_name(),
            "reports": summary.reports,
            "blobs": len(rows),
        }
        _add_bytes(tar, MANIFEST_NAME, json.dumps(manifest, indent=2).encode())
        tar.add(snapshot, DATABASE_NAME, recursive=False)
        for name in KEY_FILES:
            if (settings.data_dir / name).is_file():
                tar.add(settings.data_dir / name, f"keys/{name}", recursive=False)
        store = BlobStore(settings.data_dir, settings.blob_dir)
        _add_blobs(tar, store, rows, verify_key, summary)


def _snapshot_database(database_url: str, snapshot: Path) -> None:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database:
        source = sqlite3.connect(url.database)
        target = sqlite3.connect(snapshot)
        try:
            source.backup(target)
        finally:
            source.close()
        try:
            target.execute("PRAGMA secure_delete = ON")
            for table in SKIPPED_TABLES:
                target.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
            target.commit()
            # The snapshot starts in WAL mode like the portal's file: leave it
            # a plain single file, rebuilt without the deleted rows' pages.
            target.execute("PRAGMA journal_mode = DELETE")
            target.execute("VACUUM")
        finally:
            target.close()
        _require_head(f"sqlite:///{snapshot}", "the database")
        return
    _require_head(database_url, "the database")
    target_url = f"sqlite:///{snapshot}"
    db.upgrade(target_url)
    with (
        _engine(database_url) as source_engine,
        _engine(target_url) as target_engine,
        source_engine.connect() as src,
        target_engine.begin() as dst,
    ):
        _copy_rows(src, dst)


def _require_head(database_url: str, what: str) -> None:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(db.alembic_config(database_url)).get_current_head()
    with _engine(database_url) as engine, engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    if current != head:
        raise BackupError(
            f"{what} is at migration {current}, not {head}: run `amanat-server migrate`"
        )


@contextmanager
def _engine(database_url: str) -> Iterator[Engine]:
    engine = db.make_engine(database_url)
    try:
        yield engine
    finally:
        engine.dispose()


def _copy_rows(src: Connection, dst: Connection) -> None:
    """Copy every kept table's rows from src to dst, parents before children.

    dst is freshly migrated: rows a migration seeds (the change counter) are
    replaced by the copied ones.
    """
    for table in Base.metadata.sorted_tables:
        if table.name in SKIPPED_TABLES:
            continue
        if table.name in SEEDED_TABLES:
            dst.execute(table.delete())
        result = src.execution_options(stream_results=True).execute(select(table))
        while batch := result.mappings().fetchmany(_BATCH):
            dst.execute(table.insert(), [dict(row) for row in batch])


def _verify_key(settings: Settings) -> VerifyKey:
    path = settings.data_dir / SIGNING_KEY_FILE
    try:
        return SigningKey(path.read_bytes()).verify_key
    except (OSError, ValueError, TypeError) as exc:
        raise BackupError(f"cannot read the receipt signing key {path}: {exc}") from exc


def _blob_rows(snapshot: Path) -> list[Blob]:
    with _engine(f"sqlite:///{snapshot}") as engine, Session(engine) as session:
        rows = list(session.scalars(select(Blob).order_by(Blob.storage_name)))
        session.expunge_all()
        return rows


def _add_blobs(
    tar: tarfile.TarFile,
    store: BlobStore,
    rows: list[Blob],
    verify_key: VerifyKey,
    summary: BackupSummary,
) -> None:
    """Copy every blob into tar, checking each against its row and receipt as it is read.

    Raises BackupError naming every blob that does not match: a backup never
    carries a corrupted blob without a word.
    """
    bad: list[str] = []
    for row in rows:
        why = receipt_problem(row, verify_key)
        try:
            with store.open(row.storage_name) as file:
                info = tar.gettarinfo(fileobj=file, arcname=f"blobs/{row.storage_name}")
                reader = HashingReader(file)
                tar.addfile(info, reader)
        except (FileNotFoundError, StoreError):
            summary.missing.append(row.storage_name)  # deleted during the backup
            continue
        why = why or content_problem(row, reader.hexdigest(), reader.size)
        if why is not None:
            bad.append(f"blob {row.id} (report {row.report_id}): {why}")
        summary.blobs += 1
    if bad:
        raise BackupError(
            f"{len(bad)} blob(s) do not match their receipts; no backup was written: "
            + "; ".join(bad)
        )


def _blob_names(snapshot: Path) -> list[str]:
    with _engine(f"sqlite:///{snapshot}") as engine, engine.connect() as connection:
        return list(connection.scalars(select(Blob.storage_name).order_by(Blob.storage_name)))


def _count_reports(snapshot: Path) -> int:
    with _engine(f"sqlite:///{snapshot}") as engine, engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(Report)) or 0)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))


def restore_backup(
    settings: Settings,
    archive: Path,
    *,
    passphrase: bytes | None = None,
    private_key: PrivateKey | None = None,
) -> BackupSummary:
    """Decrypt a backup with its passphrase or private key, and restore it (_restore_tar).

    The decrypted tar exists only in an owner-only temporary folder, and is
    shredded afterwards. Raises BackupError for a file that does not open.
    """
    with tempfile.TemporaryDirectory(prefix=".amanat-restore-") as tmp:
        plain = Path(tmp) / "backup.tar"
        try:
            with archive.open("rb") as src, plain.open("wb") as dst:
                open_archive(src, dst, passphrase=passphrase, private_key=private_key)
            return _restore_tar(settings, plain)
        except ArchiveError as exc:
            raise BackupError(f"{archive}: {exc}") from None
        except OSError as exc:
            raise BackupError(f"cannot read {archive}: {exc.strerror}") from None
        finally:
            shred_file(plain)


def _restore_tar(settings: Settings, archive: Path) -> BackupSummary:
    """Restore a backup's tar into the (empty) database and data directory of settings.

    The database is migrated first, and must hold no recipients, sources or
    reports. Blob files and keys are written owner-only. Raises BackupError
    for a file that is not an Amanat backup or a database that is not empty.
    """
    try:
        tar = tarfile.open(archive, mode="r:")  # noqa: SIM115 - closed by the with below
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"{archive} is not a backup file ({exc})") from exc
    with tar, tempfile.TemporaryDirectory(prefix=".amanat-restore-") as tmp:
        members = {m.name: m for m in tar.getmembers()}
        manifest = _read_manifest(tar, members)
        _check_names(members)
        db.upgrade(settings.database_url)
        _require_empty(settings.database_url)
        snapshot = Path(tmp) / DATABASE_NAME
        with snapshot.open("wb") as out:
            shutil.copyfileobj(_member(tar, members, DATABASE_NAME), out)
        db.upgrade(f"sqlite:///{snapshot}")  # a backup from an older version
        with (
            _engine(f"sqlite:///{snapshot}") as source,
            _engine(settings.database_url) as target,
            source.connect() as src,
            target.begin() as dst,
        ):
            _copy_rows(src, dst)
            _reset_sequences(dst)
        summary = BackupSummary(reports=int(manifest.get("reports", 0)))
        store = BlobStore(ensure_data_dir(settings.data_dir), settings.blob_dir)
        for name, member in members.items():
            folder, _, leaf = name.partition("/")
            if folder == "blobs" and member.isfile():
                _write_private(store.path_of(leaf), _member(tar, members, name))
                summary.blobs += 1
            elif folder == "keys" and leaf in KEY_FILES and member.isfile():
                _write_private(settings.data_dir / leaf, _member(tar, members, name))
        summary.missing = [n for n in _blob_names(snapshot) if not store.path_of(n).exists()]
    return summary


def _check_names(members: dict[str, tarfile.TarInfo]) -> None:
    """Refuse, before anything is written, a backup holding any name not made by create_backup."""
    for name in members:
        folder, _, leaf = name.partition("/")
        if name in (MANIFEST_NAME, DATABASE_NAME) or (folder == "keys" and leaf in KEY_FILES):
            continue
        if folder == "blobs" and BLOB_NAME.fullmatch(leaf):
            continue
        raise BackupError(f"the backup holds an unexpected name {name[:80]!r}")


def _read_manifest(tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo]) -> dict[str, Any]:
    try:
        manifest = json.loads(_member(tar, members, MANIFEST_NAME).read())
    except ValueError as exc:
        raise BackupError("the backup's manifest is unreadable") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("this is not an Amanat server backup")
    if manifest.get("version") != FORMAT_VERSION:
        raise BackupError(f"backup format version {manifest.get('version')} is not supported")
    return manifest


def _member(tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo], name: str) -> IO[bytes]:
    member = members.get(name)
    file = tar.extractfile(member) if member is not None and member.isfile() else None
    if file is None:
        raise BackupError(f"the backup has no {name}")
    return file


def _require_empty(database_url: str) -> None:
    with _engine(database_url) as engine, engine.connect() as connection:
        for model in (Recipient, Source, Report):
            if connection.scalar(select(func.count()).select_from(model)):
                raise BackupError(
                    "the database already holds data; restore into a fresh database "
                    "(a new AMANAT_DATABASE_URL or an empty data directory)"
                )


def _reset_sequences(connection: Connection) -> None:
    """On PostgreSQL, move each id sequence past the ids just copied in."""
    if connection.dialect.name != "postgresql":
        return
    for table in Base.metadata.sorted_tables:
        if "id" in table.c and isinstance(table.c.id.type, Integer):
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608 - table names from our own metadata, never input
                    f"COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {table.name}"
                )
            )


def _write_private(path: Path, src: IO[bytes]) -> None:
    """Write src to path (mode 0600), whole or not at all (crypto.private_files)."""
    with private_file(path) as out:
        shutil.copyfileobj(src, out, 1024 * 1024)
