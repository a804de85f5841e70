"""The portal's configuration, read once from the environment.

Everything the portal can be told lives in one frozen `Settings` object, so
a setting is read in one place, typed, and cannot change while serving.
`Settings.check_safe()` is the gate `create_app` passes before it serves.
"""

from __future__ import annotations

import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from crypto.kdf import NAMED, KdfCost
from portal.questionnaire import PREFER_NOT, load_questionnaire
from portal.secretfile import write_once

GIB = 1024**3
MIB = 1024**2
MIN_SECRET_KEY_CHARS = 32
SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name, not a secret

# Kyrgyzstan's two cities of republican status and its seven oblasts, as the
# questionnaire offers them (prefer_not is always added there). Codes
# are stable (they end up inside sealed reports); labels are translated.
DEFAULT_REGIONS = tuple(
    option.code
    for option in load_questionnaire().field("region").options
    if option.code != PREFER_NOT
)


MEMORY_STORE_PROBLEM = (
    "AMANAT_RATELIMIT_STORAGE is memory:// (the default): every worker process and host "
    "would count its own rate limits, multiplying each budget; set it to a shared store, "
    "e.g. redis://127.0.0.1:6379/0"
)


class UnsafeConfigError(Exception):
    """The configuration must not be used to serve real reports."""


class ConfigError(ValueError):
    """An environment variable holds a value the portal cannot use."""


@dataclass(frozen=True)
class Settings:
    """The portal's settings. Build with `Settings.from_env(os.environ)`."""

    data_dir: Path
    database_url: str
    secret_key: str = field(repr=False)
    production: bool = False
    max_upload_bytes: int = 2 * GIB
    kdf_cost_name: str = "interactive"
    ratelimit_storage: str = "memory://"
    onion_address: str | None = None
    # The operator's own text (local hotlines); None shows the translated
    # default text in the visitor's language.
    crisis_contacts: str | None = None
    # A JSON file of crisis contacts per language and region (portal.crisis).
    crisis_contacts_file: Path | None = None
    regions: tuple[str, ...] = DEFAULT_REGIONS
    session_minutes: int = 30
    # Uploads stop (and are refused at the start) when the data directory's
    # file system has less than this free: the database, sessions and
    # logins need room to keep working. 0 turns the floor off.
    min_free_bytes: int = 256 * MIB
    # A database blip when a finished upload's rows are written is retried
    # this long (portal.retry) before the upload is given up. 0: no retry.
    commit_retry_seconds: int = 60
    # Reports are deleted from the server this many days after every
    # reviewer they are sealed to downloaded all of them (`amanat-server
    # purge`); None keeps them until a reviewer deletes them.
    retention_days: int | None = 30
    # Where blob files live (shared storage with several hosts); incoming/
    # is made beside it. None: data_dir/blobs and data_dir/incoming.
    blob_dir: Path | None = None

    @property
    def kdf_cost(self) -> KdfCost:
        """The Argon2id cost for codenames (crypto.kdf.NAMED[kdf_cost_name])."""
        return NAMED[self.kdf_cost_name]

    @property
    def rate_store_shared(self) -> bool:
        """Whether rate-limit counters are shared by processes and hosts (not memory://)."""
        return not self.ratelimit_storage.strip().lower().startswith("memory://")

    @property
    def secure_cookies(self) -> bool:
        """Cookies carry the Secure flag in production.

        Tor Browser treats .onion sites as secure contexts, so Secure cookies
        work on a plain-HTTP onion service too.
        """
        return self.production

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Read the settings from environ (usually os.environ).

        In development, a missing AMANAT_SECRET_KEY is generated once and kept
        in <data_dir>/secret_key (mode 0600), creating the data directory
        (mode 0700) if needed. In production nothing is generated: a missing
        key is left empty for `check_safe` to refuse.
        Raises ConfigError for a value that cannot be parsed.
        """
        data_dir = Path(environ.get("AMANAT_DATA_DIR") or "./instance").resolve()
        production = environ.get("AMANAT_ENV", "").strip().lower() == "production"
        secret_key = environ.get("AMANAT_SECRET_KEY", "")
        if not secret_key:
            key_file = data_dir / SECRET_KEY_FILE
            if key_file.exists():
                secret_key = key_file.read_text(encoding="ascii").strip()
            elif not production:
                secret_key = ensure_secret_key(data_dir)
        kdf_cost_name = environ.get("AMANAT_KDF_COST", "interactive").strip().lower()
        if kdf_cost_name not in NAMED:
            raise ConfigError(f"AMANAT_KDF_COST must be one of {', '.join(sorted(NAMED))}")
        regions_text = environ.get("AMANAT_REGIONS", "")
        regions = tuple(r.strip() for r in regions_text.split(",") if r.strip())
        return cls(
            data_dir=data_dir,
            database_url=environ.get("AMANAT_DATABASE_URL")
            or f"sqlite:///{data_dir / 'amanat.db'}",
            secret_key=secret_key,
            production=production,
            max_upload_bytes=_positive_int(environ, "AMANAT_MAX_UPLOAD_BYTES", 2 * GIB),
            kdf_cost_name=kdf_cost_name,
            ratelimit_storage=environ.get("AMANAT_RATELIMIT_STORAGE") or "memory://",
            onion_address=(environ.get("AMANAT_ONION_ADDRESS") or "").strip() or None,
            crisis_contacts=(environ.get("AMANAT_CRISIS_CONTACTS") or "").strip() or None,
            crisis_contacts_file=Path(environ["AMANAT_CRISIS_CONTACTS_FILE"])
            if environ.get("AMANAT_CRISIS_CONTACTS_FILE")
            else None,
            regions=regions or DEFAULT_REGIONS,
            session_minutes=_positive_int(environ, "AMANAT_SESSION_MINUTES", 30),
            min_free_bytes=_whole_number(environ, "AMANAT_MIN_FREE_BYTES", 256 * MIB),
            commit_retry_seconds=_whole_number(environ, "AMANAT_COMMIT_RETRY_SECONDS", 60),
            retention_days=_retention_days(environ),
            blob_dir=_blob_dir(environ),
        )

    def check_safe(self) -> None:
        """Return if these settings may serve real reports; raise otherwise.

        Only production is checked: development may run with anything.
        Raises UnsafeConfigError naming every problem found.
        """
        if not self.production:
            return
        problems = []
        if len(self.secret_key) < MIN_SECRET_KEY_CHARS:
            problems.append(
                f"AMANAT_SECRET_KEY is missing or shorter than {MIN_SECRET_KEY_CHARS} characters"
            )
        problems.extend(_data_dir_problems(self.data_dir))
        if self.kdf_cost_name == "minimal":
            problems.append("AMANAT_KDF_COST=minimal is for tests only")
        if not self.rate_store_shared:
            problems.append(MEMORY_STORE_PROBLEM)
        if problems:
            raise UnsafeConfigError("refusing to start in production: " + "; ".join(problems) + ".")


def ensure_data_dir(data_dir: Path) -> Path:
    """Create data_dir (and parents) if missing; the directory itself gets mode 0700."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    return data_dir


def ensure_secret_key(data_dir: Path) -> str:
    """Return the secret key kept in <data_dir>/secret_key, creating it (mode 0600) once."""
    ensure_data_dir(data_dir)
    # Another process (a second worker, `init`) may win the race: its key is used.
    made = (secrets.token_urlsafe(48) + "\n").encode("ascii")
    return write_once(data_dir / SECRET_KEY_FILE, made).decode("ascii").strip()


def _data_dir_problems(data_dir: Path) -> list[str]:
    try:
        mode = data_dir.stat().st_mode
    except FileNotFoundError:
        return [f"the data directory {data_dir} does not exist (run `amanat-server init`)"]
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return [f"the data directory {data_dir} is open to group or others (chmod 700 it)"]
    return []


def _blob_dir(environ: Mapping[str, str]) -> Path | None:
    text = environ.get("AMANAT_BLOB_DIR", "").strip()
    if not text:
        return None
    if not Path(text).is_absolute():
        raise ConfigError(f"AMANAT_BLOB_DIR must be an absolute path, not {text!r}")
    return Path(text)


def _retention_days(environ: Mapping[str, str]) -> int | None:
    if environ.get("AMANAT_RETENTION_DAYS", "").strip().lower() == "never":
        return None
    return _positive_int(environ, "AMANAT_RETENTION_DAYS", 30)


def _positive_int(environ: Mapping[str, str], name: str, default: int) -> int:
    value = _whole_number(environ, name, default)
    if value <= 0:
        raise ConfigError(f"{name} must be positive")
    return value


def _whole_number(environ: Mapping[str, str], name: str, default: int) -> int:
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {text!r}") from None
    if value < 0:
        raise ConfigError(f"{name} must not be negative")
    return value
