"""Where a reviewer's key file and vault live unless told otherwise.

Both default to the user's data directory ($XDG_DATA_HOME/amanat, usually
~/.local/share/amanat), so `amanat-admin list` works without flags.
AMANAT_KEYFILE and AMANAT_VAULT (or --keyfile and --vault) choose others.
Defaults are read when a command runs, not when the module is imported.
"""

from __future__ import annotations

import os
from pathlib import Path

KEYFILE_ENV = "AMANAT_KEYFILE"
VAULT_ENV = "AMANAT_VAULT"


def data_dir() -> Path:
    """The user's Amanat data directory: $XDG_DATA_HOME/amanat or ~/.local/share/amanat."""
    base = os.environ.get("XDG_DATA_HOME") or ""
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".local" / "share"
    return root / "amanat"


def default_keyfile() -> Path:
    return data_dir() / "reviewer.key"


def default_vault() -> Path:
    return data_dir() / "vault"


def make_private_parent(path: Path) -> None:
    """Create the folder path goes into, readable by this user only, if it does not exist."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)


__all__ = ["data_dir", "default_keyfile", "default_vault", "make_private_parent"]
