"""What can go wrong with a vault, and the one check every server id passes before use."""

from __future__ import annotations

import re

_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class VaultError(Exception):
    """The vault cannot be used as asked; the message is meant for the reviewer."""


class UnknownReportError(KeyError):
    """The vault holds no report, or no file, with this id.

    A KeyError by inheritance only so that older callers keep working; catch
    this class, never a bare KeyError, to mean "no such report".
    """

    def __init__(self, item_id: str, what: str = "report") -> None:
        super().__init__(item_id)
        self.item_id = item_id
        self.what = what

    def __str__(self) -> str:
        return f"The vault holds no {self.what} {self.item_id}."


class WrongVaultKeyError(VaultError):
    """The vault index is sealed to another reviewer's key."""


class DamagedVaultError(VaultError):
    """The vault index or a blob in it does not open."""


def check_id(value: object, what: str = "id") -> str:
    """Return value if it is a safe server id (also usable as a file name); raise VaultError."""
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise VaultError(f"the server sent an invalid {what}: {str(value)[:80]!r}")
    return value
