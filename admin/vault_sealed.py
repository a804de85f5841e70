"""Small sealed side files in the vault folder: case numbers, reply templates, the search index.

Each is JSON sealed (kind INDEX) to the reviewer's own key, like the vault
index, and names its own purpose inside the ciphertext, so one side file
cannot be passed off as another. Nothing here is ever written in the clear:
the file is sealed in memory and replaced atomically.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from admin.vault import DamagedVaultError, Vault
from admin.vault_index import open_sealed_json, seal_json
from crypto.private_files import write_private

SIDE_VERSION = 1
_NAME = re.compile(r"[a-z_]{1,32}")


def side_path(vault: Vault, name: str) -> Path:
    if not _NAME.fullmatch(name):
        raise ValueError(f"bad side file name {name!r}")
    return vault.path / f"{name}.amanat"


def load_side(vault: Vault, name: str) -> dict[str, Any]:
    """The side file's data ({} if it does not exist yet).

    Raises WrongVaultKeyError if it is sealed to another key and
    DamagedVaultError if it does not open or is not this side file.
    """
    path = side_path(vault, name)
    try:
        sealed = path.read_bytes()
    except FileNotFoundError:
        return {}
    found = open_sealed_json(sealed, vault.key, path)
    if not isinstance(found, dict) or found.get("v") != SIDE_VERSION or found.get("name") != name:
        raise DamagedVaultError(f"{path} is not the vault's {name} file")
    data = found.get("data")
    return data if isinstance(data, dict) else {}


def save_side(vault: Vault, name: str, data: dict[str, Any]) -> None:
    """Seal data to the reviewer's own key and replace the side file atomically."""
    path = side_path(vault, name)
    sealed = seal_json({"v": SIDE_VERSION, "name": name, "data": data}, vault.key)
    write_private(path, sealed)
