"""The vectors rebuilt by a second implementation (reference.py, nacl.bindings only).

A format change in crypto/, or a PyNaCl/libsodium change, makes one of these
fail: the reference is written from docs/PROTOCOL.md and never calls crypto/
to make bytes; crypto/ is called only to check it reads and writes the same.
"""

import base64
import hashlib
import io
import json
from pathlib import Path

import pytest
from nacl.public import PrivateKey
from nacl.signing import VerifyKey

from crypto import canonical
from crypto.acks import ack_message
from crypto.envelope import Kind, open_bytes, seal_bytes
from crypto.events import event_message
from crypto.manifest import open_file, seal_file
from crypto.receipts import Receipt
from crypto.replies import reply_message
from crypto.requests_auth import RequestFacts
from crypto.signatures import Purpose, verify

from . import make_vectors_v2 as v2
from . import reference as ref

VECTORS = Path(__file__).parent / "vectors"
V2 = json.loads((VECTORS / "v2.json").read_text(encoding="utf-8"))
V1 = json.loads((VECTORS / "expected.json").read_text(encoding="utf-8"))
KEYS = V2["keys"]
CONTENT = {"report": v2.report_content(), "file": v2.file_content()}


def secret(name: str) -> bytes:
    return bytes.fromhex(KEYS[name]["box_secret"])


@pytest.mark.parametrize("name", ["report", "file"])
def test_v2_envelope_vectors_rebuild_byte_for_byte(name):
    vector = V2["envelopes"][name]
    rebuilt = v2.build_envelope(KEYS, vector, CONTENT[name])
    assert rebuilt == (VECTORS / vector["file"]).read_bytes()
    assert hashlib.sha256(rebuilt).hexdigest() == vector["sha256"]
    assert ref.key_commitment(bytes.fromhex(vector["content_key"])).hex() == vector["commitment"]


@pytest.mark.parametrize("reader", ["alice", "bob"])
def test_v2_vectors_open_in_crypto_and_in_the_reference(reader):
    report = (VECTORS / "v2_report.env").read_bytes()
    assert open_bytes(report, PrivateKey(secret(reader)), Kind.REPORT).content == CONTENT["report"]
    assert ref.open_envelope(report, secret(reader), 1) == (CONTENT["report"], b"")
    out = io.BytesIO()
    blob = (VECTORS / "v2_file.env").read_bytes()
    manifest = open_file(io.BytesIO(blob), out, PrivateKey(secret(reader)))
    assert out.getvalue() == CONTENT["file"] and manifest.filename == "видео.mp4"
    assert ref.open_envelope(blob, secret(reader), 2) == (CONTENT["file"], v2.file_manifest())


def test_the_reference_opens_the_version_1_vectors():
    content, trailer = ref.open_envelope((VECTORS / "report.env").read_bytes(), secret("bob"), 1)
    assert (content.decode(), trailer.decode()) == (V1["report"]["content"], "trailer")
    content, trailer = ref.open_envelope((VECTORS / "file.env").read_bytes(), secret("alice"), 2)
    assert hashlib.sha256(content).hexdigest() == V1["file"]["sha256"]
    assert json.loads(trailer)["filename"] == V1["file"]["filename"]


@pytest.mark.parametrize("size", [0, 503, 504, 65_536, 65_537, 9 * 65_536 + 3])
def test_the_reference_opens_what_crypto_seals(size):
    content = bytes(i % 7 for i in range(size))
    public = PrivateKey(secret("alice")).public_key
    blob = seal_bytes(content, [public], Kind.MESSAGE, b"tr")
    assert ref.open_envelope(blob, secret("alice"), int(Kind.MESSAGE)) == (content, b"tr")
    out = io.BytesIO()
    seal_file(io.BytesIO(content), out, [public], "a.txt", "text/plain")
    opened, manifest = ref.open_envelope(out.getvalue(), secret("alice"), int(Kind.FILE))
    assert (
        opened == content and ref.loads(manifest)["sha256"] == hashlib.sha256(content).hexdigest()
    )


@pytest.mark.parametrize("vector", V2["signatures"], ids=lambda v: v["purpose"])
def test_v2_signature_vectors_rebuild_and_verify(vector):
    data = ref.canonical(vector["message"])
    assert data.hex() == vector["message_hex"] == canonical.encode(vector["message"]).hex()
    seed = bytes.fromhex(KEYS[vector["signer"]]["signing_seed"])
    assert ref.sign(seed, vector["purpose"], data).hex() == vector["signature"]
    key = VerifyKey(bytes.fromhex(KEYS[vector["signer"]]["verify_key"]))
    verify(key, Purpose(vector["purpose"]), data, bytes.fromhex(vector["signature"]))


def test_crypto_builds_the_signed_messages_the_vectors_give():
    by_purpose = {v["purpose"]: bytes.fromhex(v["message_hex"]) for v in V2["signatures"]}
    messages = v2.signed_messages()
    reply = messages["reply"]
    assert reply_message(reply["report_id"], reply["envelope_sha256"]) == by_purpose["reply"]
    assert event_message(reply["report_id"], reply["envelope_sha256"]) == by_purpose["case-event"]
    ack = messages["delivery-ack"]
    assert ack_message(ack["blob_id"], ack["sha256"]) == by_purpose["delivery-ack"]
    fields = {k: v for k, v in messages["receipt"].items() if k != "v"}
    assert Receipt(**fields).message() == by_purpose["receipt"]
    request = {k: v for k, v in messages["api-request"].items() if k != "v"}
    assert RequestFacts(**request).message() == by_purpose["api-request"]


@pytest.mark.parametrize("name", sorted(V1["signatures"]))
def test_v1_signature_vectors_rebuild(name):
    label = {p.name: p.value for p in Purpose} | {"STATUS": "status"}
    seed = bytes.fromhex(KEYS["alice"]["signing_seed"])
    assert ref.sign(seed, label[name], b"vector message").hex() == V1["signatures"][name]


def test_v1_bundle_and_key_file_rebuild_from_their_inputs():
    alice = KEYS["alice"]
    box, seed = bytes.fromhex(alice["box_secret"]), bytes.fromhex(alice["signing_seed"])
    bundle = json.loads((VECTORS / "alice.bundle.json").read_text())
    assert ref.bundle("Test alice", box, seed) == bundle
    keyfile = json.loads((VECTORS / "alice.key").read_text())
    rebuilt = ref.keyfile(
        "Test alice",
        box,
        seed,
        V1["keyfile"]["passphrase"],
        salt=base64.b64decode(keyfile["kdf"]["salt"]),
        nonce=base64.b64decode(keyfile["nonce"]),
        opslimit=keyfile["kdf"]["opslimit"],
        memlimit=keyfile["kdf"]["memlimit"],
    )
    assert rebuilt == keyfile


def test_canonical_vectors_rebuild_in_the_reference():
    cases = json.loads((VECTORS / "canonical.json").read_text(encoding="utf-8"))["encode"]
    for case in cases:
        assert ref.canonical(json.loads(case["input"])).hex() == case["canonical_hex"]
