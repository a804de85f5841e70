"""A second implementation of Amanat's formats, written from docs/PROTOCOL.md only.

It uses nacl.bindings (libsodium's functions, one to one), hashlib, struct
and json; never crypto/. Every random input (content key, stream header,
ephemeral keys, salts, nonces) is a parameter, so the checked-in vectors can
be rebuilt byte for byte, and tests can build envelopes the real sealer
never would (non-zero padding, a second content key, a long trailer).
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import unicodedata
from dataclasses import dataclass, field

import nacl.bindings as b

ABYTES = b.crypto_secretstream_xchacha20poly1305_ABYTES  # 17
TAG_MESSAGE = b.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE  # 0
TAG_FINAL = b.crypto_secretstream_xchacha20poly1305_TAG_FINAL  # 3
CHUNK = 65536
FRAME_PLAIN = 5 + CHUNK  # 65,541
DATA, PAD, END = 1, 2, 3


# -- section 0: canonical JSON ---------------------------------------------------------


def canonical(value) -> bytes:
    """RFC 8785 for objects, arrays, strings, integers, booleans and null."""
    return _canon(value).encode("utf-8")


def _canon(value) -> str:
    if value is True or value is False or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, int):
        assert abs(value) < 2**53
        return str(value)
    if isinstance(value, str):
        out = ""
        for ch in value:
            code = ord(ch)
            assert not 0xD800 <= code <= 0xDFFF
            short = {0x22: '\\"', 0x5C: "\\\\", 8: "\\b", 9: "\\t", 10: "\\n", 12: "\\f", 13: "\\r"}
            out += short.get(code) or (f"\\u{code:04x}" if code < 0x20 else ch)
        return f'"{out}"'
    if isinstance(value, list):
        return "[" + ",".join(_canon(v) for v in value) + "]"
    keys = sorted(value, key=lambda k: k.encode("utf-16-be"))
    return "{" + ",".join(_canon(k) + ":" + _canon(value[k]) for k in keys) + "}"


# -- section 2: envelopes ----------------------------------------------------------------


def blake2b(data: bytes, size: int, person: bytes, key: bytes = b"") -> bytes:
    return b.crypto_generichash_blake2b_salt_personal(
        data, digest_size=size, key=key, person=person.ljust(16, b"\0")
    )


def key_id(public_key: bytes) -> bytes:
    return blake2b(public_key, 16, b"amanat.keyid")


def key_commitment(content_key: bytes) -> bytes:
    return blake2b(b"amanat envelope key commitment", 32, b"amanat.commit.v2", content_key)


def sealed_box(message: bytes, public_key: bytes, ephemeral_secret: bytes) -> bytes:
    """libsodium's crypto_box_seal, with the ephemeral key given instead of drawn."""
    ephemeral_public = b.crypto_scalarmult_base(ephemeral_secret)
    nonce = blake2b(ephemeral_public + public_key, 24, b"")
    return ephemeral_public + b.crypto_box(message, nonce, public_key, ephemeral_secret)


def padme(n: int) -> int:
    if n < 4:
        return n
    e = n.bit_length() - 1
    low = e - e.bit_length()
    mask = (1 << low) - 1
    return (n + mask) & ~mask


def small_bucket(n: int) -> int:
    size = 512
    while size < n:
        size *= 2
    return min(size, FRAME_PLAIN)


def frames_for(content: bytes, trailer: bytes) -> list[bytes]:
    """The plaintext frames PROTOCOL.md 2.4 prescribes; the last is the final frame."""
    frames = []
    rest = content
    while len(rest) > CHUNK or 9 + len(rest) + len(trailer) > FRAME_PLAIN:
        piece, rest = rest[:CHUNK], rest[CHUNK:]
        frames.append(struct.pack(">BI", DATA, len(piece)) + piece.ljust(CHUNK, b"\0"))
    end = struct.pack(">BII", END, len(rest), len(trailer)) + rest + trailer
    if not frames:
        return [end.ljust(small_bucket(len(end)), b"\0")]
    padding = struct.pack(">BI", PAD, 0) + bytes(CHUNK)
    frames += [padding] * (padme(len(frames) + 1) - len(frames) - 1)
    return [*frames, end.ljust(FRAME_PLAIN, b"\0")]


@dataclass
class Slot:
    public_key: bytes
    ephemeral_secret: bytes
    content_key: bytes | None = None  # another key than the envelope's, to attack


@dataclass
class EnvelopeInputs:
    version: int
    kind: int
    slots: list[Slot]
    content_key: bytes
    stream_header: bytes
    frames: list[bytes]
    commitment: bytes | None = None  # None: the right one (version 2)
    slot_count: int | None = None
    stream_key: bytes | None = None  # None: the content key
    extra: bytes = b""
    finals: list[bool] = field(default_factory=list)  # default: only the last


def seal(inputs: EnvelopeInputs) -> bytes:
    """Build an envelope from every input; honest unless the inputs say otherwise."""
    count = len(inputs.slots) if inputs.slot_count is None else inputs.slot_count
    prefix = b"AMNTENV" + struct.pack(">BBBH", inputs.version, inputs.kind, 0, count)
    for slot in inputs.slots:
        key = slot.content_key or inputs.content_key
        prefix += key_id(slot.public_key) + sealed_box(key, slot.public_key, slot.ephemeral_secret)
    prefix += inputs.stream_header
    if inputs.version == 2:
        prefix += inputs.commitment or key_commitment(inputs.content_key)
    aad = blake2b(prefix, 32, b"amanat.env.v%d" % inputs.version)
    # A secretstream state set up by init_pull from (key, header) is the one
    # init_push would have made with that header, so pushing is deterministic.
    state = b.crypto_secretstream_xchacha20poly1305_state()
    stream_key = inputs.stream_key or inputs.content_key
    b.crypto_secretstream_xchacha20poly1305_init_pull(state, inputs.stream_header, stream_key)
    finals = inputs.finals or [i == len(inputs.frames) - 1 for i in range(len(inputs.frames))]
    out = prefix
    for frame, final in zip(inputs.frames, finals, strict=True):
        tag = TAG_FINAL if final else TAG_MESSAGE
        out += b.crypto_secretstream_xchacha20poly1305_push(state, frame, aad, tag)
    return out + inputs.extra


def open_envelope(blob: bytes, secret_key: bytes, kind: int) -> tuple[bytes, bytes]:
    """Open an honest envelope by PROTOCOL.md 2.6; return (content, trailer). Asserts."""
    magic, version, found_kind, flags, count = struct.unpack(">7sBBBH", blob[:12])
    assert magic == b"AMNTENV" and version in (1, 2) and flags == 0 and 1 <= count <= 255
    assert found_kind == kind
    public_key = b.crypto_scalarmult_base(secret_key)
    at = 12 + 96 * count
    slots = [blob[12 + 96 * i : 12 + 96 * (i + 1)] for i in range(count)]
    mine = [s for s in slots if s[:16] == key_id(public_key)]
    content_key = b.crypto_box_seal_open(mine[0][16:], public_key, secret_key)
    header, at = blob[at : at + 24], at + 24
    if version == 2:
        assert blob[at : at + 32] == key_commitment(content_key)
        at += 32
    aad = blake2b(blob[:at], 32, b"amanat.env.v%d" % version)
    state = b.crypto_secretstream_xchacha20poly1305_state()
    b.crypto_secretstream_xchacha20poly1305_init_pull(state, header, content_key)
    content = b""
    while True:
        size = min(FRAME_PLAIN + ABYTES, len(blob) - at)
        frame, tag = b.crypto_secretstream_xchacha20poly1305_pull(state, blob[at : at + size], aad)
        at += size
        if tag == TAG_FINAL:
            _, tail_len, trailer_len = struct.unpack(">BII", frame[:9])
            assert at == len(blob) and not any(frame[9 + tail_len + trailer_len :])
            tail = frame[9 : 9 + tail_len]
            return content + tail, frame[9 + tail_len : 9 + tail_len + trailer_len]
        frame_kind, used = struct.unpack(">BI", frame[:5])
        assert not any(frame[5 + used :])
        if frame_kind == DATA:
            content += frame[5 : 5 + used]


# -- sections 3 to 5: signatures, bundles, key files ---------------------------------


def signed_bytes(purpose: str, message: bytes) -> bytes:
    label = purpose.encode("ascii")
    return b"amanat-signature-v1\0" + bytes([len(label)]) + label + b"\0" + message


def sign(seed: bytes, purpose: str, message: bytes) -> bytes:
    _, secret = b.crypto_sign_seed_keypair(seed)
    return b.crypto_sign(signed_bytes(purpose, message), secret)[:64]


def verify(public_key: bytes, purpose: str, message: bytes, signature: bytes) -> None:
    b.crypto_sign_open(signature + signed_bytes(purpose, message), public_key)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def fingerprint(box_key: bytes, verify_key: bytes) -> str:
    digest = blake2b(box_key + verify_key, 16, b"amanat.fpr")
    digits = f"{int.from_bytes(digest, 'big') % 10**30:030d}"
    return " ".join(digits[i : i + 5] for i in range(0, 30, 5))


def bundle(name: str, box_secret: bytes, signing_seed: bytes) -> dict:
    verify_key, _ = b.crypto_sign_seed_keypair(signing_seed)
    box_key = b.crypto_scalarmult_base(box_secret)
    signed = {
        "format": "amanat-recipient",
        "version": 1,
        "name": name,
        "box_key": b64(box_key),
        "verify_key": b64(verify_key),
    }
    signature = sign(signing_seed, "recipient-bundle", canonical(signed))
    return {**signed, "fingerprint": fingerprint(box_key, verify_key), "signature": b64(signature)}


def keyfile(
    name: str,
    box_secret: bytes,
    signing_seed: bytes,
    passphrase: str,
    salt: bytes,
    nonce: bytes,
    opslimit: int,
    memlimit: int,
) -> dict:
    header = {
        "format": "amanat-keyfile",
        "version": 1,
        "name": name,
        "kdf": {"alg": "argon2id13", "opslimit": opslimit, "memlimit": memlimit, "salt": b64(salt)},
        "bundle": bundle(name, box_secret, signing_seed),
    }
    secret = unicodedata.normalize("NFC", passphrase).encode("utf-8")
    wrapping = b.crypto_pwhash_alg(
        32, secret, salt, opslimit, memlimit, b.crypto_pwhash_ALG_ARGON2ID13
    )
    ciphertext = b.crypto_aead_xchacha20poly1305_ietf_encrypt(
        box_secret + signing_seed, canonical(header), nonce, wrapping
    )
    return {**header, "nonce": b64(nonce), "ciphertext": b64(ciphertext)}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def loads(data: bytes):
    return json.loads(data)
