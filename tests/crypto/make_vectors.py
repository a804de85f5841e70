"""Write the checked-in test vectors. Run by hand only when a format changes on purpose:

    .venv/bin/python tests/crypto/make_vectors.py

The keys here are TEST KEYS, derived from public strings; they protect nothing.
"""

import hashlib
import io
import json
from pathlib import Path

from nacl.public import PrivateKey
from nacl.signing import SigningKey

from crypto.envelope import Kind, seal_bytes
from crypto.kdf import MINIMAL
from crypto.keys import ReviewerKey, write_keyfile
from crypto.manifest import seal_file
from crypto.signatures import Purpose, sign
from crypto.source import derive_source_secrets

HERE = Path(__file__).parent / "vectors"


def vector_key(label: str) -> ReviewerKey:
    seed = hashlib.sha256(f"amanat test vector {label}".encode()).digest()
    signing = hashlib.sha256(f"amanat test vector {label} signing".encode()).digest()
    return ReviewerKey(name=f"Test {label}", box=PrivateKey(seed), signing=SigningKey(signing))


def file_content() -> bytes:
    return bytes(i % 251 for i in range(150_000))


def main() -> None:
    HERE.mkdir(exist_ok=True)
    alice, bob = vector_key("alice"), vector_key("bob")
    recipients = [alice.box.public_key, bob.box.public_key]
    report = "Меня задержали у пункта ОЗТ. Тест.".encode()
    (HERE / "report.env").write_bytes(seal_bytes(report, recipients, Kind.REPORT, b"trailer"))
    out = io.BytesIO()
    _, manifest = seal_file(io.BytesIO(file_content()), out, recipients, "видео.mp4", "video/mp4")
    (HERE / "file.env").write_bytes(out.getvalue())
    keyfile = HERE / "alice.key"
    keyfile.unlink(missing_ok=True)
    write_keyfile(keyfile, alice, "test vector passphrase", MINIMAL)
    (HERE / "alice.bundle.json").write_text(alice.bundle().to_json())
    codename = "0454 3307 0870 8902 7384 0907 2859"
    source = derive_source_secrets(codename, bytes(16), MINIMAL)
    expected = {
        "report": {"content": report.decode(), "trailer": "trailer"},
        "file": {
            "sha256": hashlib.sha256(file_content()).hexdigest(),
            "size": len(file_content()),
            "filename": manifest.filename,
            "content_type": manifest.content_type,
            "ciphertext_sha256": hashlib.sha256(out.getvalue()).hexdigest(),
        },
        "keyfile": {
            "passphrase": "test vector passphrase",
            "fingerprint": alice.bundle().fingerprint,
        },
        "signatures": {p.name: sign(alice.signing, p, b"vector message").hex() for p in Purpose},
        "codename": {
            "codename": codename,
            "salt": bytes(16).hex(),
            "lookup_digest": source.lookup_digest,
            "public_key": bytes(source.box.public_key).hex(),
        },
    }
    (HERE / "expected.json").write_text(json.dumps(expected, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
