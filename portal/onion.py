"""Version 3 onion addresses: what makes one well formed (Tor's rend-spec-v3, section 6).

An address is base32 of PUBKEY (32 bytes) || CHECKSUM (2 bytes) || VERSION
(1 byte, 3), where CHECKSUM is the first two bytes of
SHA3-256(".onion checksum" || PUBKEY || VERSION). A typo, or 56 letters
made up, fails the checksum.
"""

from __future__ import annotations

import base64
import hashlib
import re

_SHAPE = re.compile(r"^[a-z2-7]{56}\.onion$")
VERSION = 3


def onion_problem(address: str) -> str | None:
    """Why address is not a v3 onion address, or None if it is one."""
    if not _SHAPE.match(address):
        return "not 56 base32 characters followed by .onion"
    raw = base64.b32decode(address[:56].upper())
    pubkey, checksum, version = raw[:32], raw[32:34], raw[34]
    if version != VERSION:
        return f"version {version}, not {VERSION}"
    expected = hashlib.sha3_256(b".onion checksum" + pubkey + bytes([version])).digest()[:2]
    if checksum != expected:
        return "its checksum does not match (a typo?)"
    return None


def onion_address(pubkey: bytes) -> str:
    """The v3 onion address of an Ed25519 public key (for tests and tools)."""
    checksum = hashlib.sha3_256(b".onion checksum" + pubkey + bytes([VERSION])).digest()[:2]
    return base64.b32encode(pubkey + checksum + bytes([VERSION])).decode().lower() + ".onion"
