"""Fixtures shared by the whole suite.

Database-touching tests run on SQLite always, and on PostgreSQL too when
AMANAT_TEST_POSTGRES_URL names a server (e.g.
postgresql+psycopg://postgres@127.0.0.1:5432/test). Each test gets a freshly
migrated schema, dropped again at the end.
"""

from __future__ import annotations

import base64
import functools
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import MetaData, create_engine, make_url, text
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from crypto.keys import ReviewerKey
from crypto.roster import Member, Revoked, Roster
from portal import create_app, db
from portal.roster import current_roster, publish_roster
from portal.settings import Settings

POSTGRES_ENV = "AMANAT_TEST_POSTGRES_URL"

# `amanat-admin keygen --kdf minimal` (fast key files) works only with this
# switch, which only the test suite sets; subprocesses inherit it.
os.environ["AMANAT_TEST_ONLY_MINIMAL_KDF"] = "1"
DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def postgres_url() -> str | None:
    """The PostgreSQL database this test process uses, or None when none is named.

    Under pytest-xdist each worker gets a database of its own, made on first
    use beside the one AMANAT_TEST_POSTGRES_URL names: the fixtures drop every
    table, so two workers must never share one.
    """
    url = os.environ.get(POSTGRES_ENV)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    return _worker_database(url, worker)


@functools.cache
def _worker_database(url: str, worker: str) -> str:
    base = make_url(url)
    name = f"{base.database}_{worker}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            found = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).scalar()
            if not found:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def drop_everything(database_url: str) -> None:
    """Drop every table in the database, alembic_version included."""
    engine = db.make_engine(database_url)
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        metadata.drop_all(engine)
    finally:
        engine.dispose()


@pytest.fixture(params=DATABASES)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database: a SQLite file, or the PostgreSQL test database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'amanat.db'}"
        return
    url = postgres_url()
    if not url:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    drop_everything(url)  # a crashed earlier run may have left tables behind
    yield url
    drop_everything(url)


@pytest.fixture
def database_url(empty_database_url: str) -> str:
    """The URL of a database migrated to the latest schema."""
    db.upgrade(empty_database_url)
    return empty_database_url


@pytest.fixture
def environ(tmp_path: Path, database_url: str) -> dict[str, str]:
    """The AMANAT_* environment of a development portal in a temp directory."""
    return {
        "AMANAT_DATA_DIR": str(tmp_path / "data"),
        "AMANAT_DATABASE_URL": database_url,
        # Codename derivation at libsodium's minimum cost keeps tests fast.
        "AMANAT_KDF_COST": "minimal",
    }


@pytest.fixture
def settings(environ: dict[str, str]) -> Settings:
    """Development settings: temp data dir, minimal KDF cost, the parametrised database."""
    return Settings.from_env(environ)


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    """The portal app, in testing mode, over the migrated database."""
    app = create_app(settings)
    app.config["TESTING"] = True
    yield app
    # Close pooled connections, or PostgreSQL cannot drop the tables.
    db.get_engine(app).dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(environ: dict[str, str]) -> CliRunner:
    """A click runner whose environment is this test's portal (invoke portal.cli.main)."""
    unset: dict[str, str | None] = {
        name: None for name in os.environ if name.startswith("AMANAT_") and name not in environ
    }
    return CliRunner(env={**unset, **environ})


@pytest.fixture
def db_session(app: Flask) -> Iterator[Session]:
    """The request-style session of an app context held open for the test."""
    with app.app_context():
        yield db.get_session()


@pytest.fixture
def organisation() -> ReviewerKey:
    """The test organisation's coordinator key: its signing key signs the roster."""
    return ReviewerKey.generate("Test organisation")


def publish_member(
    session: Session,
    organisation: ReviewerKey,
    key: ReviewerKey,
    regions: Iterable[str] = (),
    known_regions: Iterable[str] = (),
) -> None:
    """Add key to the published roster (or start one) signed by organisation; flush."""
    member = Member.from_bundle(key.bundle(), tuple(regions))
    # Tests name regions freely; the operator's command checks them against the settings.
    change_roster(session, organisation, add=[member], known_regions=known_regions)


def change_roster(
    session: Session,
    organisation: ReviewerKey,
    add: Iterable[Member] = (),
    revoke: Iterable[ReviewerKey] = (),
    known_regions: Iterable[str] = (),
) -> None:
    """Publish the next roster, signed by organisation: members added, keys revoked; flush."""
    current = current_roster(session)
    if current is None:
        org_key = base64.b64encode(bytes(organisation.signing.verify_key)).decode()
        current = Roster(org_key, 0)
    serial = current.serial + 1
    gone = {base64.b64encode(bytes(k.signing.verify_key)).decode() for k in revoke}
    add = list(add)
    replaced = gone | {m.verify_key for m in add}
    members = [m for m in current.members if m.verify_key not in replaced]
    revoked = [*current.revoked] + [
        Revoked(m.name, m.box_key, m.verify_key, serial)
        for m in current.members
        if m.verify_key in gone
    ]
    draft = Roster(current.organisation_key, serial, (*members, *add), tuple(revoked))
    named = [r for m in draft.members for r in m.regions]
    publish_roster(session, draft.sign(organisation.signing).to_dict(), [*known_regions, *named])


@pytest.fixture
def add_recipient(app: Flask, organisation: ReviewerKey) -> Callable[..., ReviewerKey]:
    """A function that makes a reviewer key and puts it on the signed roster: add(name, regions)."""

    def add(name: str = "Test reviewer", regions: Iterable[str] = ()) -> ReviewerKey:
        key = ReviewerKey.generate(name)
        with app.app_context():
            session = db.get_session()
            publish_member(session, organisation, key, regions, app.extensions["amanat"].regions)
            session.commit()
        return key

    return add


@pytest.fixture
def recipient_key(add_recipient: Callable[..., ReviewerKey]) -> ReviewerKey:
    """A reviewer key registered as an active recipient for all regions."""
    return add_recipient()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a private Redis (redis-server on a free port) for this test session.

    Private, so other test runs on the machine (which share every rate-limit
    key: the portal has one) cannot touch its counters.
    """
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (Debian: apt-get install redis-server)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = tmp_path_factory.mktemp("redis")
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(folder)]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url, socket_timeout=1)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.RedisError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.skip("redis-server did not start")
                time.sleep(0.05)
        yield url
    finally:
        client.close()
        process.terminate()
        process.wait(10)


@pytest.fixture
def redis_url(redis_server: str) -> str:
    """The private Redis, emptied for this test."""
    with redis.Redis.from_url(redis_server) as client:
        client.flushall()
    return redis_server


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say once, plainly, why the PostgreSQL half of the suite did not run."""
    skipped = terminalreporter.stats.get("skipped", [])
    postgres = [r for r in skipped if POSTGRES_ENV in str(getattr(r, "longrepr", ""))]
    if postgres:
        terminalreporter.write_line(
            f"{len(postgres)} PostgreSQL tests skipped: {POSTGRES_ENV} is not set "
            "(.ci/run sets it when PostgreSQL answers on 127.0.0.1:5432)."
        )


# -- the real portal over HTTP, for reviewer-side and hostile tests --------------------


@dataclass
class LiveServer:
    """The portal's URL, its app, and the requests it saw (method, path, Range header)."""

    url: str
    app: Flask
    requests: list[dict[str, Any]] = field(default_factory=list)


@contextmanager
def served(wsgi_app: Any) -> Iterator[str]:
    """Serve a WSGI app on a free 127.0.0.1 port from a background thread; yield its URL."""
    with serving(make_server("127.0.0.1", 0, wsgi_app, threaded=True)) as url:
        yield url


@contextmanager
def serving(server: Any) -> Iterator[str]:
    """Run an HTTP server bound to 127.0.0.1 from a background thread; yield its URL."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    """The test's portal app on a free port, served from a background thread."""
    live = LiveServer(url="", app=app)

    def recording_app(environ: dict[str, Any], start_response: Any) -> Any:
        live.requests.append(
            {
                "method": environ["REQUEST_METHOD"],
                "path": environ.get("PATH_INFO", ""),
                "range": environ.get("HTTP_RANGE"),
            }
        )
        return app(environ, start_response)

    with served(recording_app) as url:
        live.url = url
        yield live
