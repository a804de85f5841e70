"""The server's Ed25519 signing key, used to sign intake receipts.

A receipt (a signature over a blob's ciphertext SHA-256) lets a reviewer
prove later that a file is what the server received. The key stays on the
server; its public half is what reviewers check receipts against.
"""

from __future__ import annotations

import os
from pathlib import Path

from nacl.signing import SigningKey

SIGNING_KEY_FILE = "server_signing.key"
SEED_BYTES = 32


class ServerKeyError(Exception):
    """The signing key file exists but cannot be used."""


def load_or_create_signing_key(data_dir: Path) -> SigningKey:
    """Return the key in <data_dir>/server_signing.key, creating it (mode 0600) once.

    Raises ServerKeyError if the file exists but does not hold a 32-byte seed.
    """
    path = Path(data_dir) / SIGNING_KEY_FILE
    seed = os.urandom(SEED_BYTES)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read(path)
    with os.fdopen(fd, "wb") as out:
        out.write(seed)
        out.flush()
        os.fsync(out.fileno())
    return SigningKey(seed)


def _read(path: Path) -> SigningKey:
    seed = path.read_bytes()
    if len(seed) != SEED_BYTES:
        raise ServerKeyError(f"{path} does not hold a {SEED_BYTES}-byte signing key")
    return SigningKey(seed)
