"""`amanat-admin vault-backup` and `vault-restore`: a copy of a reviewer's vault.

The vault is ciphertext already (blobs as the server sent them, the index
sealed to the reviewer's key, with the sealed log of the changes saved
since, admin.vault_log), so a backup is a plain tar of it: safe to keep
on a USB stick or another machine, useless without the key file and its
passphrase. Keep a copy of the key file apart from it: the backup alone
cannot be opened.
"""

from __future__ import annotations

import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path

from admin.vault import INDEX_NAME, VaultError, check_id
from admin.vault_lock import VaultBusyError, locked
from admin.vault_log import LOG_NAME
from crypto.private_files import private_file

_COPY = 1024 * 1024
_INDEX_FILES = (INDEX_NAME, LOG_NAME)


class VaultBackupError(VaultError):
    """A vault backup cannot be made or restored; the message is for the reviewer."""


@dataclass(frozen=True)
class VaultCopy:
    blobs: int


def backup_vault(vault_dir: Path, out: Path) -> VaultCopy:
    """Write the vault's index and blobs to the tar file out (mode 0600), atomically.

    Partial downloads are left out. Raises VaultBackupError if out exists or
    there is no vault at vault_dir.
    """
    vault_dir, out = Path(vault_dir), Path(out)
    if out.exists():
        raise VaultBackupError(f"{out} already exists; it was not changed")
    if not (vault_dir / INDEX_NAME).is_file():
        raise VaultBackupError(f"there is no vault at {vault_dir}")
    try:
        # Under the vault's lock: no save appends to the log or compacts it
        # while the index and its log are copied.
        with locked(vault_dir):
            return _write_backup(vault_dir, out)
    except VaultBusyError as exc:
        raise VaultBackupError(str(exc)) from exc


def _write_backup(vault_dir: Path, out: Path) -> VaultCopy:
    count = 0
    with private_file(out, overwrite=False) as raw, tarfile.open(fileobj=raw, mode="w") as tar:
        tar.add(vault_dir / INDEX_NAME, INDEX_NAME, recursive=False)
        if (vault_dir / LOG_NAME).is_file():
            tar.add(vault_dir / LOG_NAME, LOG_NAME, recursive=False)
        for path in sorted((vault_dir / "blobs").iterdir()):
            if path.is_file():
                tar.add(path, f"blobs/{path.name}", recursive=False)
                count += 1
    return VaultCopy(blobs=count)


def restore_vault(archive: Path, vault_dir: Path) -> VaultCopy:
    """Unpack a vault backup into vault_dir, which must not hold a vault yet.

    Only the index, its log and blobs/<id> are taken; any other name refuses the
    whole file before anything is written. Raises VaultBackupError.
    """
    vault_dir = Path(vault_dir)
    if (vault_dir / INDEX_NAME).exists():
        raise VaultBackupError(f"{vault_dir} already holds a vault; restore into a new folder")
    try:
        tar = tarfile.open(archive, mode="r:")  # noqa: SIM115 - closed by the with below
    except (OSError, tarfile.TarError) as exc:
        raise VaultBackupError(f"{archive} is not a vault backup ({exc})") from exc
    with tar:
        members = tar.getmembers()
        for member in members:
            folder, _, leaf = member.name.partition("/")
            ok = member.name in _INDEX_FILES or (folder == "blobs" and _safe_id(leaf))
            if not ok or not member.isfile():
                raise VaultBackupError(f"{archive} holds an unexpected entry {member.name[:80]!r}")
        if INDEX_NAME not in {m.name for m in members}:
            raise VaultBackupError(f"{archive} holds no vault index")
        for made in (vault_dir, vault_dir / "blobs", vault_dir / "partial"):
            made.mkdir(mode=0o700, parents=True, exist_ok=True)
        count = 0
        # The index last: a vault without one is not a vault, so an
        # interrupted restore is simply run again.
        for member in sorted(members, key=lambda m: m.name == INDEX_NAME):
            src = tar.extractfile(member)
            if src is None:  # pragma: no cover - isfile() was checked
                continue
            with private_file(vault_dir / member.name) as out:
                shutil.copyfileobj(src, out, _COPY)
            count += member.name not in _INDEX_FILES
    return VaultCopy(blobs=count)


def _safe_id(name: str) -> bool:
    try:
        check_id(name)
    except VaultError:
        return False
    return True


__all__ = ["VaultBackupError", "VaultCopy", "backup_vault", "restore_vault"]
