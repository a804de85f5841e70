"""Checked-in vectors keep opening: a format change is never silent.

If one of these fails, the byte format changed. That needs a new version
number and a reader for the old one, not new vectors.
"""

import hashlib
import io
import json
from pathlib import Path

import pytest
from nacl.signing import VerifyKey

from crypto.envelope import Kind, open_bytes
from crypto.kdf import MINIMAL
from crypto.keys import RecipientBundle, read_keyfile
from crypto.manifest import open_file
from crypto.signatures import Purpose, verify
from crypto.source import derive_source_secrets

from . import reference
from .make_vectors import file_content, vector_key

VECTORS = Path(__file__).parent / "vectors"
RETIRED_PURPOSES = {"STATUS": "status"}
EXPECTED = json.loads((VECTORS / "expected.json").read_text())


@pytest.mark.parametrize("label", ["alice", "bob"])
def test_report_vector_opens_for_each_recipient(label):
    plain = open_bytes((VECTORS / "report.env").read_bytes(), vector_key(label).box, Kind.REPORT)
    assert plain.content.decode() == EXPECTED["report"]["content"]
    assert plain.trailer.decode() == EXPECTED["report"]["trailer"]


def test_file_vector_opens_with_its_manifest():
    blob = (VECTORS / "file.env").read_bytes()
    assert hashlib.sha256(blob).hexdigest() == EXPECTED["file"]["ciphertext_sha256"]
    out = io.BytesIO()
    manifest = open_file(io.BytesIO(blob), out, vector_key("alice").box)
    assert out.getvalue() == file_content()
    assert manifest.sha256 == EXPECTED["file"]["sha256"]
    assert manifest.filename == EXPECTED["file"]["filename"]


def test_keyfile_vector_opens_with_its_passphrase():
    key = read_keyfile(VECTORS / "alice.key", EXPECTED["keyfile"]["passphrase"])
    assert bytes(key.box) == bytes(vector_key("alice").box)
    assert key.bundle().fingerprint == EXPECTED["keyfile"]["fingerprint"]


def test_bundle_vector_verifies():
    bundle = RecipientBundle.from_json((VECTORS / "alice.bundle.json").read_text())
    assert bundle.fingerprint == EXPECTED["keyfile"]["fingerprint"]


@pytest.mark.parametrize("name", sorted(EXPECTED["signatures"]))
def test_signature_vectors_verify(name):
    # The v1 vectors hold the purposes that existed when they were made;
    # purposes added later have their vectors in vectors/v2.json.
    verify_key = bytes(vector_key("alice").signing.verify_key)
    signature = bytes.fromhex(EXPECTED["signatures"][name])
    if name in RETIRED_PURPOSES:
        # No longer a Purpose; the vector still verifies under its old label.
        reference.verify(verify_key, RETIRED_PURPOSES[name], b"vector message", signature)
        assert RETIRED_PURPOSES[name] not in {p.value for p in Purpose}
        return
    verify(VerifyKey(verify_key), Purpose[name], b"vector message", signature)


def test_codename_derivation_vector_is_stable():
    vector = EXPECTED["codename"]
    secrets = derive_source_secrets(vector["codename"], bytes.fromhex(vector["salt"]), MINIMAL)
    assert secrets.lookup_digest == vector["lookup_digest"]
    assert bytes(secrets.box.public_key).hex() == vector["public_key"]
