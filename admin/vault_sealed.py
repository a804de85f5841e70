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

from admin.vault import DamagedVaultError, Vault, WrongVaultKeyError
from admin.vault_index import INDEX_NAME, open_sealed_json, seal_json
from crypto.keys import ReviewerKey
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


def reseal_sides(vault_dir: Path, old_key: ReviewerKey, new_key: ReviewerKey) -> list[str]:
    """Seal every side file that old_key opens to new_key instead; the names re-sealed.

    A side file the old key cannot open (re-sealed by an earlier run, or
    another key's) is left as it is; a damaged one raises DamagedVaultError.
    """
    done = []
    for path in sorted(vault_dir.glob("*.amanat")):
        if path.name == INDEX_NAME or not _NAME.fullmatch(path.stem):
            continue
        try:
            found = open_sealed_json(path.read_bytes(), old_key, path)
        except WrongVaultKeyError:
            continue
        write_private(path, seal_json(found, new_key))
        done.append(path.stem)
    return done
