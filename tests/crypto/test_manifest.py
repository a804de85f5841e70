"""File envelopes: the manifest travels inside, and must match what arrives."""

import hashlib
import io

import pytest
from nacl.public import PrivateKey

from crypto.envelope import Kind, Sealer, seal_bytes
from crypto.errors import EnvelopeError, ManifestMismatchError, NotARecipientError, WrongKindError
from crypto.manifest import (
    MAX_FILENAME_CHARS,
    FileOpener,
    Manifest,
    export_file,
    open_file,
    seal_file,
)

KEY = PrivateKey.generate()


def sealed_file(content: bytes, filename: str = "видео.mp4", content_type: str = "video/mp4"):
    out = io.BytesIO()
    sealed, manifest = seal_file(io.BytesIO(content), out, [KEY.public_key], filename, content_type)
    return out.getvalue(), sealed, manifest


def test_manifest_carries_name_type_length_and_plaintext_sha256():
    content = b"\x00\x01evidence" * 20_000
    blob, _, manifest = sealed_file(content)
    assert manifest == Manifest(
        filename="видео.mp4",
        content_type="video/mp4",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )
    out = io.BytesIO()
    assert open_file(io.BytesIO(blob), out, KEY) == manifest
    assert out.getvalue() == content


def test_filename_never_appears_in_the_ciphertext():
    blob, _, _ = sealed_file(b"photo", filename="police-station-3-bishkek.jpg")
    assert b"police-station" not in blob
    assert b"image" not in blob


def test_long_filenames_are_cut_not_refused():
    _, _, manifest = sealed_file(b"x", filename="a" * 10_000)
    assert len(manifest.filename) == MAX_FILENAME_CHARS


def test_manifest_that_does_not_match_the_content_is_refused():
    lying = Manifest("a.txt", "text/plain", 3, hashlib.sha256(b"abc").hexdigest())
    out = io.BytesIO()
    sealer = Sealer(out, [KEY.public_key], Kind.FILE)
    sealer.write(b"xyz")
    sealer.close(lying.to_bytes())
    with pytest.raises(ManifestMismatchError):
        open_file(io.BytesIO(out.getvalue()), io.BytesIO(), KEY)


def test_a_non_file_envelope_is_not_opened_as_a_file():
    blob = seal_bytes(b"answers", [KEY.public_key], Kind.REPORT)
    with pytest.raises(WrongKindError):
        open_file(io.BytesIO(blob), io.BytesIO(), KEY)


def test_file_opener_sets_manifest_only_after_the_end():
    blob, _, manifest = sealed_file(b"z" * 200_000)
    opener = FileOpener(io.BytesIO(blob), KEY)
    chunks = opener.chunks()
    next(chunks)
    assert opener.manifest is None
    for _ in chunks:
        pass
    assert opener.manifest == manifest


def test_export_writes_the_file_only_when_all_of_it_verifies(tmp_path):
    content = b"q" * 300_000
    blob, _, _ = sealed_file(content)
    target = tmp_path / "out.mp4"
    export_file(io.BytesIO(blob), target, KEY)
    assert target.read_bytes() == content
    assert (target.stat().st_mode & 0o777) == 0o600

    truncated = tmp_path / "truncated.mp4"
    with pytest.raises(EnvelopeError):
        export_file(io.BytesIO(blob[: len(blob) // 2 - (len(blob) // 2) % 64]), truncated, KEY)
    assert list(tmp_path.iterdir()) == [target]


def test_export_with_a_wrong_key_leaves_nothing(tmp_path):
    blob, _, _ = sealed_file(b"secret")
    with pytest.raises(NotARecipientError):
        export_file(io.BytesIO(blob), tmp_path / "x", PrivateKey.generate())
    assert list(tmp_path.iterdir()) == []
