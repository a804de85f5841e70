"""Small sealed side files in the vault folder: case numbers, reply templates, the search index.

Each is JSON sealed (kind INDEX) to the reviewer's own key, like the vault
index, and names its own purpose inside the ciphertext, so one side file
cannot be passed off as another. Nothing here is ever written in the clear:
the file is sealed in memory and replaced atomically.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from admin.vault import DamagedVaultError, Vault, WrongVaultKeyError
from crypto.envelope import Kind, open_bytes, seal_bytes
from crypto.errors import EnvelopeError, NotARecipientError
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
    try:
        content = open_bytes(sealed, vault.key.box, Kind.INDEX).content
    except NotARecipientError as exc:
        raise WrongVaultKeyError(f"{path} belongs to another key file") from exc
    except EnvelopeError as exc:
        raise DamagedVaultError(f"{path} is damaged") from exc
    try:
        found = json.loads(content.decode("utf-8"))
    except ValueError as exc:
        raise DamagedVaultError(f"{path} is unreadable") from exc
    if not isinstance(found, dict) or found.get("v") != SIDE_VERSION or found.get("name") != name:
        raise DamagedVaultError(f"{path} is not the vault's {name} file")
    data = found.get("data")
    return data if isinstance(data, dict) else {}


def save_side(vault: Vault, name: str, data: dict[str, Any]) -> None:
    """Seal data to the reviewer's own key and replace the side file atomically."""
    path = side_path(vault, name)
    content = json.dumps(
        {"v": SIDE_VERSION, "name": name, "data": data}, ensure_ascii=False, sort_keys=True
    ).encode("utf-8")
    sealed = seal_bytes(content, [vault.key.box.public_key], Kind.INDEX)
    write_private(path, sealed)
