"""Encrypted archives: round trips at frame edges; truncation, extension, alteration refused."""

from __future__ import annotations

import io
import os

import pytest
from nacl.public import PrivateKey

from crypto.archive import FRAME, ArchiveError, ArchiveWriter, Lock, open_archive
from crypto.kdf import MINIMAL

PASSPHRASE = b"a long enough passphrase"
KEY = PrivateKey.generate()
LOCKS = {
    "passphrase": (Lock(passphrase=PASSPHRASE, cost=MINIMAL), {"passphrase": PASSPHRASE}),
    "public key": (Lock(public_key=KEY.public_key), {"private_key": KEY}),
}


def seal(data: bytes, lock: Lock) -> bytes:
    out = io.BytesIO()
    writer = ArchiveWriter(out, lock)
    writer.write(data)
    writer.close()
    return out.getvalue()


def unseal(archive: bytes, **key: object) -> bytes:
    out = io.BytesIO()
    open_archive(io.BytesIO(archive), out, **key)  # type: ignore[arg-type]
    return out.getvalue()


@pytest.mark.parametrize("mode", LOCKS)
@pytest.mark.parametrize("size", [0, 1, FRAME - 1, FRAME, FRAME + 1, 3 * FRAME])
def test_archives_round_trip_at_every_frame_edge(mode, size):
    lock, key = LOCKS[mode]
    # A marker, not random bytes: one random byte is in any archive by chance.
    data = (b"PLAINTEXT-MARKER-" * (size // 17 + 1))[:size]
    archive = seal(data, lock)
    assert b"PLAINTEXT-MARKER" not in archive
    assert unseal(archive, **key) == data


@pytest.mark.parametrize("mode", LOCKS)
def test_truncated_extended_or_altered_archives_are_refused(mode):
    lock, key = LOCKS[mode]
    archive = seal(os.urandom(2 * FRAME + 10), lock)
    for broken in (
        archive[:-1],
        archive[: FRAME + 100],
        archive[: len(archive) - 27],
        archive + b"\0",
        archive[:40] + bytes([archive[40] ^ 1]) + archive[41:],
        archive[:-5] + bytes([archive[-5] ^ 1]) + archive[-4:],
    ):
        with pytest.raises(ArchiveError):
            unseal(broken, **key)


def test_the_wrong_passphrase_or_key_opens_nothing():
    by_passphrase = seal(b"secret", LOCKS["passphrase"][0])
    by_key = seal(b"secret", LOCKS["public key"][0])
    with pytest.raises(ArchiveError):
        unseal(by_passphrase, passphrase=b"another passphrase")
    with pytest.raises(ArchiveError):
        unseal(by_key, private_key=PrivateKey.generate())
    with pytest.raises(ArchiveError, match="passphrase"):
        unseal(by_passphrase, private_key=KEY)
    with pytest.raises(ArchiveError, match="not an encrypted"):
        unseal(b"plain tar bytes", passphrase=PASSPHRASE)
