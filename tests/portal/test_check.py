"""`amanat-server check`: each problem is found, named with a fix, and fails the command."""

from __future__ import annotations

import base64
import dataclasses
from pathlib import Path

import pytest
from click.testing import CliRunner

from crypto.keys import ReviewerKey
from portal import db
from portal.check import (
    Deployment,
    check_data_dir,
    check_database,
    check_deployment,
    check_disk,
    check_gunicorn,
    check_nginx,
    check_onion,
    check_production,
    check_rate_limits,
)
from portal.cli import main
from portal.onion import onion_address
from portal.recipients import register_recipient, revoke_recipient
from portal.serverkey import load_or_create_signing_key
from portal.settings import Settings, ensure_secret_key
from portal.sources import installation_salt
from tests.portal.deployment import closed_port
from tests.portal.journey import get_codename, submit_report

ONION = onion_address(bytes(range(32)))
DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


@pytest.fixture
def good(settings: Settings, redis_url: str) -> Settings:
    """Settings that pass every check but the database ones (add a reviewer for those)."""
    secret = ensure_secret_key(settings.data_dir)
    installation_salt(settings.data_dir)
    load_or_create_signing_key(settings.data_dir)
    settings.data_dir.chmod(0o700)
    # The test's fixtures made these under the test's umask, not the server's.
    database = Path(settings.database_url.removeprefix("sqlite:///"))
    for path in [*settings.data_dir.rglob("*"), *database.parent.glob(database.name + "*")]:
        path.chmod(0o700 if path.is_dir() else 0o600)
    return dataclasses.replace(
        settings,
        production=True,
        secret_key=secret,
        kdf_cost_name="interactive",
        onion_address=ONION,
        max_upload_bytes=1024**2,
        ratelimit_storage=redis_url,
    )


def test_a_good_deployment_passes(good: Settings, recipient_key: ReviewerKey) -> None:
    found = check_deployment(Deployment(good, DEPLOY / "nginx.conf", DEPLOY / "gunicorn.conf.py"))
    assert found == {name: [] for name in found}


def test_development_settings_are_named(good: Settings) -> None:
    bad = dataclasses.replace(good, production=False, secret_key="short", kdf_cost_name="minimal")
    problems = check_production(Deployment(bad))
    assert [p.what.split()[0] for p in problems] == ["AMANAT_ENV", "the", "AMANAT_KDF_COST=minimal"]
    assert all(p.fix for p in problems)


def test_data_directory_permissions(good: Settings) -> None:
    good.data_dir.chmod(0o755)
    (good.data_dir / "secret_key").chmod(0o644)
    problems = check_data_dir(Deployment(good))
    assert [p.fix for p in problems] == [
        f"chmod 700 {good.data_dir}",
        f"chmod 600 {good.data_dir / 'secret_key'}",
    ]
    missing = dataclasses.replace(good, data_dir=good.data_dir / "nope")
    assert "does not exist" in check_data_dir(Deployment(missing))[0].what


def test_database_not_migrated(good: Settings, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    db.upgrade(url, "0001")
    (problem,) = check_database(Deployment(dataclasses.replace(good, database_url=url)))
    assert "migration 0001" in problem.what and "amanat-server migrate" in problem.fix


def test_database_unreachable(good: Settings) -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=2"
    (problem,) = check_database(Deployment(dataclasses.replace(good, database_url=url)))
    assert "cannot be reached" in problem.what


def test_no_active_reviewer(good: Settings) -> None:
    (problem,) = check_database(Deployment(good))
    assert "no active reviewer" in problem.what


def test_reviewers_without_a_signed_roster_are_a_problem(app, good: Settings) -> None:
    with app.app_context():
        register_recipient(db.get_session(), ReviewerKey.generate("Bare bundle").bundle())
        db.get_session().commit()
    (problem,) = check_database(Deployment(good))
    assert "no signed roster is published" in problem.what
    assert "amanat-server roster publish" in problem.fix


def test_reports_sealed_only_to_revoked_keys_are_reported(
    app, client, good: Settings, recipient_key: ReviewerKey, add_recipient
) -> None:
    get_codename(client)
    assert submit_report(client).status_code == 303
    add_recipient("After the report")
    with app.app_context():
        session = db.get_session()
        revoke_recipient(session, 1)
        session.commit()
    (problem,) = check_database(Deployment(good))
    assert "sealed only to revoked keys" in problem.what and "reseal" in problem.fix


def test_nginx_upload_limit_buffering_and_log(good: Settings, tmp_path: Path) -> None:
    conf = tmp_path / "nginx.conf"
    conf.write_text("http { client_max_body_size 1m; access_log /var/log/x; server {} }")
    problems = check_nginx(Deployment(good, nginx_conf=conf))
    assert len(problems) == 3
    assert "client_max_body_size 2m" in problems[0].fix
    conf.write_text("client_max_body_size 0; proxy_request_buffering off; access_log off;")
    assert check_nginx(Deployment(good, nginx_conf=conf)) == []
    assert "cannot read" in check_nginx(Deployment(good, nginx_conf=tmp_path / "x"))[0].what


def test_gunicorn_access_log_and_workers(
    good: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf = tmp_path / "gunicorn.conf.py"
    conf.write_text('accesslog = "-"\nworker_class = "sync"\nforwarded_allow_ips = "*"\n')
    monkeypatch.setenv("GUNICORN_CMD_ARGS", "--access-logfile -")
    problems = check_gunicorn(Deployment(good, gunicorn_conf=conf))
    assert len(problems) == 4
    conf.write_text("this is not python(")
    assert "cannot load" in check_gunicorn(Deployment(good, gunicorn_conf=conf))[-1].what


@pytest.mark.parametrize(
    ("lines", "flagged"),
    [
        ("workers = 2\nthreads = 32\n", True),  # the old settings: 1000 connections each
        ("workers = 2\nthreads = 32\nworker_connections = 40\n", True),
        ("workers = 2\nthreads = 32\nworker_connections = 32\n", False),
        ("workers = 1\nthreads = 128\nworker_connections = 160\n", False),
    ],
)
def test_gunicorn_workers_that_accept_beyond_their_threads_are_flagged(
    good: Settings, tmp_path: Path, lines: str, flagged: bool
) -> None:
    conf = tmp_path / "gunicorn.conf.py"
    conf.write_text('worker_class = "gthread"\n' + lines)
    problems = [p.what for p in check_gunicorn(Deployment(good, gunicorn_conf=conf))]
    split = [what for what in problems if "pages can wait behind slow uploads" in what]
    assert len(split) == (1 if flagged else 0)


def test_onion_address(good: Settings) -> None:
    assert check_onion(Deployment(good)) == []
    for bad in (None, "http://" + ONION, "short.onion", "a" * 56 + ".onion"):
        (problem,) = check_onion(Deployment(dataclasses.replace(good, onion_address=bad)))
        assert "hostname" in problem.fix


def test_free_disk_space_against_the_upload_limit(good: Settings) -> None:
    assert check_disk(Deployment(good)) == []
    huge = dataclasses.replace(good, max_upload_bytes=1024**6)
    (problem,) = check_disk(Deployment(huge))
    assert "free" in problem.what


def test_check_command_exits_1_and_lists_every_problem(runner: CliRunner) -> None:
    result = runner.invoke(main, ["check"])
    assert result.exit_code == 1
    assert "PROBLEM  production settings: AMANAT_ENV is not production" in result.output
    assert "PROBLEM  onion address" in result.output
    assert "fix: " in result.output and "problem(s) found" in result.output


def test_check_command_passes_a_good_deployment(
    runner: CliRunner, good: Settings, recipient_key: ReviewerKey, tmp_path: Path
) -> None:
    env = {
        "AMANAT_ENV": "production",
        "AMANAT_RATELIMIT_STORAGE": good.ratelimit_storage,
        "AMANAT_KDF_COST": "interactive",
        "AMANAT_ONION_ADDRESS": ONION,
        "AMANAT_MAX_UPLOAD_BYTES": str(1024**2),
    }
    args = ["check", "--nginx-conf", str(DEPLOY / "nginx.conf")]
    result = runner.invoke(
        main, [*args, "--gunicorn-conf", str(DEPLOY / "gunicorn.conf.py")], env=env
    )
    assert result.exit_code == 0, result.output
    assert "No problems found." in result.output


def test_onion_check_refuses_a_made_up_address_or_a_wrong_version(good: Settings) -> None:
    """56 base32 letters are not enough: the v3 checksum and version must hold."""
    typo = ONION[:10] + ("b" if ONION[10] != "b" else "c") + ONION[11:]
    raw = bytearray(base64.b32decode(ONION[:56].upper()))
    raw[34] = 2
    version_2 = base64.b32encode(bytes(raw)).decode().lower() + ".onion"
    for bad, why in ((typo, "checksum"), (version_2, "version 2")):
        (problem,) = check_onion(Deployment(dataclasses.replace(good, onion_address=bad)))
        assert why in problem.what


def test_rate_limits_in_process_memory_are_a_problem(good: Settings) -> None:
    (problem,) = check_rate_limits(
        Deployment(dataclasses.replace(good, ratelimit_storage="memory://"))
    )
    assert "memory://" in problem.what
    assert "AMANAT_RATELIMIT_STORAGE=redis://" in problem.fix


def test_a_rate_limit_store_that_does_not_answer_is_a_problem(good: Settings) -> None:
    dead = dataclasses.replace(good, ratelimit_storage=f"redis://127.0.0.1:{closed_port()}/0")
    (problem,) = check_rate_limits(Deployment(dead))
    assert "does not answer" in problem.what
    assert "Start Redis" in problem.fix
