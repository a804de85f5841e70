"""The installation's secrets: the same on every portal host, checked against the database.

Three secrets make a host part of an installation, each a file in its data
directory:

- `secret_key` signs form tokens and Flask's cookie (or AMANAT_SECRET_KEY);
- `server_signing.key` signs intake receipts, whose verify key reviewers pin;
- `codename_salt` turns a codename into its lookup id.

A host with a different one of any of them breaks the others' codenames,
form tokens or receipts without a word. So `init` creates all three at once
(atomically: portal.secretfile, crypto.private_files) and records a one-way fingerprint of each in
the database every host shares; `join` copies the first host's files to
another host after checking them against those fingerprints; and
`amanat-server check` compares this host's secrets with them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from nacl.signing import SigningKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.private_files import write_private
from portal.integrity import receipt_problem
from portal.models import Blob, InstallationSecret
from portal.serverkey import SIGNING_KEY_FILE, load_or_create_signing_key
from portal.settings import SECRET_KEY_FILE, Settings, ensure_secret_key
from portal.sources import SALT_FILE, installation_salt

SECRET_FILES = (SECRET_KEY_FILE, SIGNING_KEY_FILE, SALT_FILE)
JOIN_FIX = (
    "Copy secret_key, server_signing.key and codename_salt from the first host's data "
    "directory into a folder here (scp, then chmod 600) and run `amanat-server join FOLDER` "
    "(docs/DEPLOY.md, 'Two or more hosts'); then restart the portal."
)


class JoinError(Exception):
    """The files offered to `join` are not this installation's secrets."""


@dataclass(frozen=True)
class Drift:
    """One secret of this host that is missing or differs from the database's record."""

    name: str
    what: str
    missing: bool = False


def fingerprint(name: str, value: bytes) -> str:
    """A one-way, domain-separated fingerprint of secret `name` holding value."""
    return hashlib.sha256(b"amanat.installation\x00" + name.encode() + b"\x00" + value).hexdigest()


def local_secrets(settings: Settings) -> dict[str, bytes]:
    """This host's secrets that exist (the secret key from the environment if set there)."""
    found = {}
    for name in SECRET_FILES:
        path = settings.data_dir / name
        if path.is_file():
            found[name] = _normal(name, path.read_bytes())
    if settings.secret_key:
        found[SECRET_KEY_FILE] = settings.secret_key.encode("ascii")
    return found


def _normal(name: str, value: bytes) -> bytes:
    # The secret key file ends with a newline; what counts is the key.
    return value.strip() if name == SECRET_KEY_FILE else value


def create_secrets(settings: Settings, *, with_secret_key: bool) -> SigningKey:
    """Create whichever of the three secrets are missing; return the signing key."""
    if with_secret_key:
        ensure_secret_key(settings.data_dir)
    installation_salt(settings.data_dir)
    return load_or_create_signing_key(settings.data_dir)


def recorded(session: Session) -> dict[str, str]:
    """The database's fingerprints, by secret name."""
    rows = session.execute(select(InstallationSecret.name, InstallationSecret.fingerprint))
    return {name: value for name, value in rows}


def record_missing(session: Session, secrets: dict[str, bytes]) -> None:
    """Record the fingerprint of each secret the database has none for, and commit."""
    known = recorded(session)
    for name, value in secrets.items():
        if name not in known:
            session.add(InstallationSecret(name=name, fingerprint=fingerprint(name, value)))
    session.commit()


def drift(session: Session, settings: Settings) -> list[Drift]:
    """What differs between this host's secrets and the database's record."""
    known = recorded(session)
    mine = local_secrets(settings)
    found = []
    for name in SECRET_FILES:
        if name not in mine:
            found.append(Drift(name, f"this host has no {name}", missing=True))
        elif name in known and known[name] != fingerprint(name, mine[name]):
            found.append(Drift(name, f"this host's {name} is not the installation's"))
    # Installations older than the record: the last receipt tells.
    unrecorded = SIGNING_KEY_FILE in mine and SIGNING_KEY_FILE not in known
    if unrecorded and not _signs_last_receipt(session, SigningKey(mine[SIGNING_KEY_FILE])):
        what = "this host's receipt key did not sign the last receipt in the database"
        found.append(Drift(SIGNING_KEY_FILE, what))
    return found


def _signs_last_receipt(session: Session, key: SigningKey) -> bool:
    row = session.scalars(select(Blob).order_by(Blob.created_day.desc()).limit(1)).first()
    return row is None or receipt_problem(row, key.verify_key) is None


def join(session: Session, settings: Settings, folder: Path) -> list[str]:
    """Install the first host's secrets from folder into this host's data directory.

    Every one of the three must be in folder and match the database's
    fingerprint (when it has one). Raises JoinError before anything is
    written otherwise. Returns the names written.
    """
    known = recorded(session)
    if not known:
        raise JoinError(
            "the database has no record of the installation's secrets: run `amanat-server "
            "init` on the first host (it records them), then join"
        )
    offered = {}
    for name in SECRET_FILES:
        path = Path(folder) / name
        if not path.is_file():
            raise JoinError(f"{path} is missing: copy all three files from the first host")
        offered[name] = path.read_bytes()
        if name in known and known[name] != fingerprint(name, _normal(name, offered[name])):
            raise JoinError(f"{path} is not this installation's {name} (the database says so)")
    for name, value in offered.items():
        write_private(settings.data_dir / name, value)
    return list(offered)
