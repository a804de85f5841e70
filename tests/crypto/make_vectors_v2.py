"""Write the version-2 vectors from tests/crypto/reference.py alone, every input given.

    .venv/bin/python -m tests.crypto.make_vectors_v2

Run by hand only when a format changes on purpose. Every key here is a TEST
KEY derived from a public string; they protect nothing.
"""

import hashlib
import json
from pathlib import Path

from tests.crypto import reference as ref

HERE = Path(__file__).parent / "vectors"
REPORT_ID = "R7Q2XK4M9TBA"


def seed(text: str) -> bytes:
    return hashlib.sha256(f"amanat test vector {text}".encode()).digest()


def people() -> dict[str, dict[str, str]]:
    """alice and bob: the same keys as the version-1 vectors (make_vectors.vector_key)."""
    out = {}
    for label in ("alice", "bob"):
        box_secret, signing_seed = seed(label), seed(f"{label} signing")
        verify_key, _ = ref.b.crypto_sign_seed_keypair(signing_seed)
        out[label] = {
            "box_secret": box_secret.hex(),
            "box_public": ref.b.crypto_scalarmult_base(box_secret).hex(),
            "signing_seed": signing_seed.hex(),
            "verify_key": verify_key.hex(),
            "key_id": ref.key_id(ref.b.crypto_scalarmult_base(box_secret)).hex(),
        }
    return out


def envelope_inputs(keys, kind, content: bytes, trailer: bytes, tag: str) -> dict:
    return {
        "version": 2,
        "kind": kind,
        "recipients": ["alice", "bob"],
        "ephemeral_secrets": [seed(f"{tag} ephemeral {n}").hex() for n in ("alice", "bob")],
        "content_key": seed(f"{tag} content key").hex(),
        "stream_header": seed(f"{tag} stream header")[:24].hex(),
        "content_sha256": hashlib.sha256(content).hexdigest(),
        "content_size": len(content),
        "trailer_hex": trailer.hex(),
    }


def build_envelope(keys, vector: dict, content: bytes) -> bytes:
    slots = [
        ref.Slot(bytes.fromhex(keys[name]["box_public"]), bytes.fromhex(eph))
        for name, eph in zip(vector["recipients"], vector["ephemeral_secrets"], strict=True)
    ]
    inputs = ref.EnvelopeInputs(
        version=vector["version"],
        kind=vector["kind"],
        slots=slots,
        content_key=bytes.fromhex(vector["content_key"]),
        stream_header=bytes.fromhex(vector["stream_header"]),
        frames=ref.frames_for(content, bytes.fromhex(vector["trailer_hex"])),
    )
    return ref.seal(inputs)


def report_content() -> bytes:
    answers = {"narrative": "Меня задержали у пункта ОЗТ.", "region": "osh", "v": 1}
    return ref.canonical(answers)


def file_content() -> bytes:
    return bytes(i % 251 for i in range(150_000))


def file_manifest() -> bytes:
    content = file_content()
    return ref.canonical(
        {
            "content_type": "video/mp4",
            "filename": "видео.mp4",
            "sha256": hashlib.sha256(content).hexdigest(),
            "size": len(content),
            "v": 1,
        }
    )


def signed_messages() -> dict[str, dict]:
    """Purpose label -> the message object each signature of that purpose covers."""
    digest = hashlib.sha256(b"an envelope").hexdigest()
    return {
        "reply": {"envelope_sha256": digest, "report_id": REPORT_ID, "v": 2},
        "case-event": {"envelope_sha256": digest, "report_id": REPORT_ID, "v": 2},
        "delivery-ack": {"blob_id": "B1", "sha256": digest, "v": 2},
        "receipt": {
            "blob_id": "B1",
            "day": "2026-12-03",
            "kind": "file",
            "report_id": REPORT_ID,
            "sha256": digest,
            "size": 197160,
            "v": 1,
        },
        "api-request": {
            "body_sha256": hashlib.sha256(b'{"status": "closed"}').hexdigest(),
            "method": "PUT",
            "nonce": "00112233445566778899aabbccddeeff",
            "server": ref.b64(bytes(32)),
            "target": f"/api/v1/reports/{REPORT_ID}/status",
            "timestamp": 1764763200,
            "v": 2,
        },
    }


def signatures(keys) -> list[dict]:
    out = []
    for purpose, message in signed_messages().items():
        data = ref.canonical(message)
        signing_seed = bytes.fromhex(keys["alice"]["signing_seed"])
        out.append(
            {
                "purpose": purpose,
                "signer": "alice",
                "message": message,
                "message_hex": data.hex(),
                "signed_bytes_hex": ref.signed_bytes(purpose, data).hex(),
                "signature": ref.sign(signing_seed, purpose, data).hex(),
            }
        )
    return out


def main() -> None:
    keys = people()
    report = envelope_inputs(keys, 1, report_content(), b"", "report")
    file = envelope_inputs(keys, 2, file_content(), file_manifest(), "file")
    report_blob = build_envelope(keys, report, report_content())
    file_blob = build_envelope(keys, file, file_content())
    (HERE / "v2_report.env").write_bytes(report_blob)
    (HERE / "v2_file.env").write_bytes(file_blob)
    report.update(file="v2_report.env", sha256=hashlib.sha256(report_blob).hexdigest())
    report["content_hex"] = report_content().hex()
    report["commitment"] = ref.key_commitment(bytes.fromhex(report["content_key"])).hex()
    file.update(file="v2_file.env", sha256=hashlib.sha256(file_blob).hexdigest())
    file["commitment"] = ref.key_commitment(bytes.fromhex(file["content_key"])).hex()
    vectors = {
        "about": "Version-2 vectors: every input and every output. tests/crypto/"
        "test_reference_vectors.py rebuilds them with nacl.bindings (reference.py).",
        "keys": keys,
        "envelopes": {"report": report, "file": file},
        "file_content": "bytes(i % 251 for i in range(150000))",
        "signatures": signatures(keys),
    }
    text = json.dumps(vectors, indent=2, ensure_ascii=False) + "\n"
    (HERE / "v2.json").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
