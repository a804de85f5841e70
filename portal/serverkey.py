"""The server's Ed25519 signing key, used to sign intake receipts.

A receipt (a signature over a blob's ciphertext SHA-256) lets a reviewer
prove later that a file is what the server received. The key stays on the
server; its public half is what reviewers check receipts against.
"""

from __future__ import annotations

import os
from pathlib import Path

from nacl.signing import SigningKey

from portal.secretfile import write_once

SIGNING_KEY_FILE = "server_signing.key"
SEED_BYTES = 32


class ServerKeyError(Exception):
    """The signing key file exists but cannot be used."""


def load_or_create_signing_key(data_dir: Path) -> SigningKey:
    """Return the key in <data_dir>/server_signing.key, creating it (mode 0600) once.

    Raises ServerKeyError if the file exists but does not hold a 32-byte seed.
    """
    path = Path(data_dir) / SIGNING_KEY_FILE
    seed = write_once(path, os.urandom(SEED_BYTES))
    if len(seed) != SEED_BYTES:
        raise ServerKeyError(f"{path} does not hold a {SEED_BYTES}-byte signing key")
    return SigningKey(seed)
