"""Argon2id cost settings, passed in by callers so tests can lower them."""

from __future__ import annotations

from dataclasses import dataclass

import nacl.pwhash.argon2id as argon2id

from crypto import _sodium


@dataclass(frozen=True)
class KdfCost:
    """Argon2id operations and memory (bytes)."""

    opslimit: int
    memlimit: int

    def __post_init__(self) -> None:
        if (
            self.opslimit < _sodium.PWHASH_OPSLIMIT_MIN
            or self.memlimit < _sodium.PWHASH_MEMLIMIT_MIN
        ):
            raise ValueError("Argon2id cost below libsodium's minimum")


# 85 ms and 64 MiB here: codenames carry 89 bits of entropy, so the KDF only
# has to make bulk guessing of a stolen database pointless.
INTERACTIVE = KdfCost(argon2id.OPSLIMIT_INTERACTIVE, argon2id.MEMLIMIT_INTERACTIVE)
# 0.5 s and 256 MiB: key-file passphrases are chosen by people.
MODERATE = KdfCost(argon2id.OPSLIMIT_MODERATE, argon2id.MEMLIMIT_MODERATE)
# For tests only, chosen by their configuration; never a default anywhere.
MINIMAL = KdfCost(_sodium.PWHASH_OPSLIMIT_MIN, _sodium.PWHASH_MEMLIMIT_MIN)

NAMED = {"interactive": INTERACTIVE, "moderate": MODERATE, "minimal": MINIMAL}


def derive(secret: bytes, salt: bytes, cost: KdfCost, size: int) -> bytes:
    """Return size bytes derived from secret and a 16-byte salt with Argon2id."""
    if len(salt) != _sodium.PWHASH_SALTBYTES:
        raise ValueError(f"salt must be {_sodium.PWHASH_SALTBYTES} bytes")
    return _sodium.argon2id(secret, salt, cost.opslimit, cost.memlimit, size)
