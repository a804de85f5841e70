"""`amanat-server check`: inspect a deployment and say what is wrong and how to fix it.

Every check runs, whatever the others found, so an operator gets the whole
list in one go. A check returns the problems it found; each names the fix.
"""

from __future__ import annotations

import contextlib
import os
import re
import runpy
import shutil
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from limits.storage import storage_from_string
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from portal import db
from portal.check_files import check_blobs_deep, check_file_modes
from portal.check_hosts import check_blob_store, check_host_secrets
from portal.limits import storage_options
from portal.models import Recipient
from portal.onion import onion_problem
from portal.retention import stranded_reports
from portal.roster import current_roster_data
from portal.serverkey import SIGNING_KEY_FILE
from portal.settings import MIN_SECRET_KEY_CHARS, SECRET_KEY_FILE, Settings
from portal.sources import SALT_FILE
from portal.torrc import hostname_problems, port_problems, read_torrc

MIB = 1024**2
# Room for this many of the largest uploads at once, beyond what is stored.
FREE_UPLOADS = 2
_SIZE = re.compile(r"^(\d+)([kmg]?)$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": MIB, "g": 1024**3}


@dataclass(frozen=True)
class Problem:
    """Something unsafe or broken in the deployment, and what to do about it."""

    what: str
    fix: str


@dataclass(frozen=True)
class Deployment:
    """What `check` inspects: the settings, and the proxy and gunicorn configs if given."""

    settings: Settings
    nginx_conf: Path | None = None
    gunicorn_conf: Path | None = None
    torrc: Path | None = None
    # Read every blob and check it against its receipt (`check --deep`).
    deep: bool = False


Check = Callable[[Deployment], list[Problem]]


def check_production(deployment: Deployment) -> list[Problem]:
    settings = deployment.settings
    problems = []
    if not settings.production:
        problems.append(
            Problem("AMANAT_ENV is not production", "Set AMANAT_ENV=production in the unit's env.")
        )
    if len(settings.secret_key) < MIN_SECRET_KEY_CHARS:
        problems.append(
            Problem(
                f"the secret key is missing or shorter than {MIN_SECRET_KEY_CHARS} characters",
                "Run `amanat-server init` (it writes data_dir/secret_key), or set "
                "AMANAT_SECRET_KEY to the output of `python3 -c 'import secrets; "
                "print(secrets.token_urlsafe(48))'`.",
            )
        )
    if settings.kdf_cost_name == "minimal":
        problems.append(
            Problem("AMANAT_KDF_COST=minimal is for tests only", "Unset AMANAT_KDF_COST.")
        )
    return problems


def check_data_dir(deployment: Deployment) -> list[Problem]:
    data_dir = deployment.settings.data_dir
    try:
        info = data_dir.stat()
    except FileNotFoundError:
        return [
            Problem(f"the data directory {data_dir} does not exist", "Run `amanat-server init`.")
        ]
    problems = []
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        problems.append(Problem(f"{data_dir} is open to group or others", f"chmod 700 {data_dir}"))
    if info.st_uid != os.geteuid():
        problems.append(
            Problem(
                f"{data_dir} belongs to another user (uid {info.st_uid})",
                f"chown -R amanat: {data_dir} and run the portal as that user.",
            )
        )
    for name in (SECRET_KEY_FILE, SIGNING_KEY_FILE, SALT_FILE):
        path = data_dir / name
        if path.exists() and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            problems.append(Problem(f"{path} is readable by others", f"chmod 600 {path}"))
    return problems


def check_database(deployment: Deployment) -> list[Problem]:
    url = deployment.settings.database_url
    engine = db.make_engine(url)
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
            head = ScriptDirectory.from_config(db.alembic_config(url)).get_current_head()
            if current != head:
                return [
                    Problem(
                        f"the database is at migration {current or 'none'}, not {head}",
                        "Run `amanat-server migrate` (after a backup).",
                    )
                ]
            with Session(bind=connection) as session:
                return _reviewer_problems(session)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        return [
            Problem(
                f"the database cannot be reached ({reason})",
                "Check AMANAT_DATABASE_URL and that the database server runs.",
            )
        ]
    finally:
        engine.dispose()


def _reviewer_problems(session: Session) -> list[Problem]:
    problems = []
    active = session.scalar(select(func.count()).where(Recipient.active.is_(True)))
    if not active:
        problems.append(
            Problem(
                "no active reviewer is registered: the portal accepts no reports",
                "amanat-server roster publish ROSTER.json, a roster a coordinator signed "
                "(docs/DEPLOY.md section 8).",
            )
        )
    elif current_roster_data(session) is None:
        problems.append(
            Problem(
                "no signed roster is published: reviewers were added by the server alone, "
                "and their vaults cannot tell a colleague from a key the server added",
                "Ask a coordinator for a signed roster (amanat-admin roster init, add) and "
                "run amanat-server roster publish ROSTER.json (docs/DEPLOY.md section 8).",
            )
        )
    stranded = stranded_reports(session)
    if stranded:
        problems.append(
            Problem(
                f"{len(stranded)} report(s) are sealed only to revoked keys and no active "
                f"reviewer can open them: {', '.join(stranded[:10])}",
                "Ask the reviewers whose keys were replaced to `amanat-admin reseal` their "
                "vault copies; a coordinator decides whether to delete the server's copies.",
            )
        )
    return problems


def check_nginx(deployment: Deployment) -> list[Problem]:
    if deployment.nginx_conf is None:
        return []
    try:
        directives = dict(_nginx_directives(deployment.nginx_conf.read_text(encoding="utf-8")))
    except OSError as exc:
        return [Problem(f"cannot read {deployment.nginx_conf}: {exc.strerror}", "Give its path.")]
    problems = []
    needed = deployment.settings.max_upload_bytes + MIB
    size_text = directives.get("client_max_body_size", "1m")
    size = _nginx_size(size_text)
    if size is None or (size != 0 and size < needed):
        problems.append(
            Problem(
                f"nginx client_max_body_size {size_text} is below the portal's upload "
                f"limit ({needed} bytes with the form)",
                f"Set client_max_body_size {-(-needed // MIB)}m; in {deployment.nginx_conf}.",
            )
        )
    if directives.get("proxy_request_buffering") != "off":
        problems.append(
            Problem(
                "nginx buffers request bodies (uploads) to disk before passing them on",
                "Set proxy_request_buffering off; in the location that proxies to the portal.",
            )
        )
    if directives.get("access_log") != "off":
        problems.append(
            Problem("nginx writes an access log", "Set access_log off; in the http block.")
        )
    return problems


def _nginx_directives(text: str) -> Iterator[tuple[str, str]]:
    """(name, value) of each simple directive, comments dropped; blocks are flattened."""
    text = re.sub(r"#[^\n]*", "", text)
    for statement in re.split(r"[;{}]", text):
        words = statement.split()
        if len(words) >= 2:
            yield words[0], " ".join(words[1:])


def _nginx_size(text: str) -> int | None:
    match = _SIZE.match(text.strip())
    if match is None:
        return None
    return int(match.group(1)) * _UNITS[match.group(2).lower()]


def check_gunicorn(deployment: Deployment) -> list[Problem]:
    problems = []
    cmd_args = os.environ.get("GUNICORN_CMD_ARGS", "")
    if "--access-logfile" in cmd_args:
        problems.append(
            Problem(
                "GUNICORN_CMD_ARGS turns on gunicorn's access log (client addresses)",
                "Remove --access-logfile from GUNICORN_CMD_ARGS.",
            )
        )
    if deployment.gunicorn_conf is None:
        return problems
    try:
        conf: dict[str, Any] = runpy.run_path(str(deployment.gunicorn_conf))
    except (OSError, SyntaxError) as exc:
        return [*problems, Problem(f"cannot load {deployment.gunicorn_conf}: {exc}", "Fix it.")]
    if conf.get("accesslog") is not None:
        problems.append(
            Problem(
                f"gunicorn writes an access log to {conf['accesslog']}",
                f"Set accesslog = None in {deployment.gunicorn_conf}.",
            )
        )
    if conf.get("worker_class") != "gthread":
        problems.append(
            Problem(
                "gunicorn does not use threaded workers: a slow upload blocks others and "
                "sync workers kill it after `timeout` seconds",
                'Set worker_class = "gthread" and threads = 128.',
            )
        )
    problems += _split_problems(conf)
    if conf.get("forwarded_allow_ips", "") not in ("", None):
        problems.append(
            Problem(
                "gunicorn trusts X-Forwarded-* headers: behind Tor every visitor comes from "
                "127.0.0.1 and could forge them",
                'Set forwarded_allow_ips = "".',
            )
        )
    return problems


def _split_problems(conf: dict[str, Any]) -> list[Problem]:
    """Several gthread workers that accept more connections than they have threads:
    a page accepted by a worker whose threads all hold slow uploads waits for
    one to finish while another worker idles (issue 13: 100 s)."""
    workers, threads = int(conf.get("workers", 1)), int(conf.get("threads", 1))
    connections = int(conf.get("worker_connections", 1000))  # gunicorn's default
    if conf.get("worker_class") != "gthread" or workers <= 1 or connections <= threads:
        return []
    return [
        Problem(
            f"{workers} gunicorn workers each accept {connections} connections with "
            f"{threads} threads: pages can wait behind slow uploads while a worker idles",
            "Use one worker with many threads (the shipped deploy/gunicorn.conf.py), "
            "or set worker_connections = threads.",
        )
    ]


def check_onion(deployment: Deployment) -> list[Problem]:
    onion = deployment.settings.onion_address
    why = onion_problem(onion) if onion else "not set"
    if why is None:
        return []
    shown = f"{onion!r} " if onion else ""
    what = f"AMANAT_ONION_ADDRESS {shown}is not a v3 onion address: {why}"
    fix = "Set it to the content of /var/lib/tor/amanat/hostname (56 characters + .onion)."
    return [Problem(what, fix)]


def check_tor(deployment: Deployment) -> list[Problem]:
    """The onion service in deployment.torrc leads to this portal (portal/torrc.py)."""
    if deployment.torrc is None:
        return []
    try:
        service = read_torrc(deployment.torrc)
    except OSError as exc:
        return [Problem(f"cannot read {deployment.torrc}: {exc.strerror}", "Give the right path.")]
    bind = None
    if deployment.gunicorn_conf is not None:
        # A config that does not load is check_gunicorn's problem to name.
        with contextlib.suppress(OSError, SyntaxError):
            bind = runpy.run_path(str(deployment.gunicorn_conf)).get("bind")
    found = hostname_problems(service, deployment.settings.onion_address)
    found += port_problems(service, bind if isinstance(bind, str) else None)
    return [Problem(what, fix) for what, fix in found]


def check_disk(deployment: Deployment) -> list[Problem]:
    settings = deployment.settings
    if not settings.data_dir.exists():
        return []
    free = shutil.disk_usage(settings.data_dir).free
    needed = FREE_UPLOADS * settings.max_upload_bytes
    if free >= needed:
        return []
    what = f"only {free // MIB} MiB free under {settings.data_dir}"
    need = f"{FREE_UPLOADS} uploads at the limit need {needed // MIB} MiB"
    return [Problem(f"{what}; {need}", "Free disk space, or lower AMANAT_MAX_UPLOAD_BYTES.")]


def check_rate_limits(deployment: Deployment) -> list[Problem]:
    """The rate-limit store is shared (not memory://) and answers."""
    uri = deployment.settings.ratelimit_storage
    if not deployment.settings.rate_store_shared:
        return [
            Problem(
                "rate limits are counted in each process's memory (memory://): every worker "
                "and host has its own budget, and production refuses to start",
                "Run Redis and set AMANAT_RATELIMIT_STORAGE=redis://127.0.0.1:6379/0 (the same "
                "store on every host: docs/DEPLOY.md, 'Two or more hosts').",
            )
        ]
    try:
        answers = storage_from_string(uri, **storage_options(uri)).check()
    except Exception as exc:  # any failure (a bad URI, a refused connection) means one thing here
        answers, uri = False, f"{uri} ({type(exc).__name__})"
    if answers:
        return []
    return [
        Problem(
            f"the rate-limit store {uri} does not answer: every login and report gets 503",
            "Start Redis (systemctl start redis-server) and check AMANAT_RATELIMIT_STORAGE.",
        )
    ]


CHECKS: dict[str, Check] = {
    "production settings": check_production,
    "rate limits": check_rate_limits,
    "data directory": check_data_dir,
    "database and reviewers": check_database,
    "reverse proxy": check_nginx,
    "gunicorn": check_gunicorn,
    "onion address": check_onion,
    "onion service": check_tor,
    "disk space": check_disk,
    "host secrets": check_host_secrets,
    "blob store": check_blob_store,
    "file modes": check_file_modes,
    "blob integrity (--deep)": check_blobs_deep,
}


def check_deployment(deployment: Deployment) -> dict[str, list[Problem]]:
    """Run every check; return each check's problems (an empty list means it passed)."""
    return {name: check(deployment) for name, check in CHECKS.items()}
