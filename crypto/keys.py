"""Reviewer keys, passphrase-protected key files and public recipient bundles.

A reviewer holds an X25519 key (reports are sealed to it) and an Ed25519 key
(their API requests, replies and case events are signed with it). The key
file keeps both private halves encrypted under a key derived from a
passphrase; the recipient bundle is the public half the operator registers,
self-signed so a change in transit is detected, with a fingerprint short
enough to read aloud over the phone.
"""

from __future__ import annotations

import binascii
import hashlib
import json
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nacl.public import PrivateKey, PublicKey
from nacl.signing import SigningKey, VerifyKey

from crypto import _sodium, canonical
from crypto.encoding import from_b64, to_b64
from crypto.errors import BadBundleError, BadSignatureError, KeyFileError, WrongPassphraseError
from crypto.kdf import MODERATE, KdfCost, derive
from crypto.private_files import write_private
from crypto.signatures import Purpose, sign, verify

KEYFILE_FORMAT = "amanat-keyfile"
KEYFILE_VERSION = 1
BUNDLE_FORMAT = "amanat-recipient"
BUNDLE_VERSION = 1
MAX_NAME_CHARS = 100
MAX_OPSLIMIT = 64
MAX_MEMLIMIT = 2 * 1024**3


def _canonical(obj: dict[str, Any]) -> bytes:
    return canonical.encode(obj)


def fingerprint(box_key: PublicKey, verify_key: VerifyKey) -> str:
    """Return 30 digits in six groups of five, for comparing keys out of band.

    Digits read aloud the same way in Russian, Kyrgyz or English (about 99 bits).
    """
    digest = hashlib.blake2b(
        bytes(box_key) + bytes(verify_key), digest_size=16, person=b"amanat.fpr"
    ).digest()
    digits = f"{int.from_bytes(digest, 'big') % 10**30:030d}"
    return " ".join(digits[i : i + 5] for i in range(0, 30, 5))


@dataclass(frozen=True)
class RecipientBundle:
    """The public half of a reviewer's keys, as registered on the server."""

    name: str
    box_key: PublicKey
    verify_key: VerifyKey
    signature: bytes

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.box_key, self.verify_key)

    def _signed_part(self) -> dict[str, Any]:
        return {
            "format": BUNDLE_FORMAT,
            "version": BUNDLE_VERSION,
            "name": self.name,
            "box_key": to_b64(bytes(self.box_key)),
            "verify_key": to_b64(bytes(self.verify_key)),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            **self._signed_part(),
            "fingerprint": self.fingerprint,
            "signature": to_b64(self.signature),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_dict(cls, data: Any) -> RecipientBundle:
        """Parse and verify a bundle; raise BadBundleError on any problem."""
        try:
            if data["format"] != BUNDLE_FORMAT:
                raise BadBundleError("this is not an Amanat recipient bundle")
            if data["version"] != BUNDLE_VERSION:
                raise BadBundleError(f"bundle version {data['version']} is not supported")
            name = data["name"]
            if not isinstance(name, str) or not 0 < len(name) <= MAX_NAME_CHARS:
                raise BadBundleError("the bundle's name is missing or too long")
            bundle = cls(
                name=name,
                box_key=PublicKey(from_b64(data["box_key"], 32)),
                verify_key=VerifyKey(from_b64(data["verify_key"], 32)),
                signature=from_b64(data["signature"], 64),
            )
        except BadBundleError:
            raise
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            raise BadBundleError("the bundle is malformed") from exc
        try:
            verify(
                bundle.verify_key,
                Purpose.BUNDLE,
                _canonical(bundle._signed_part()),
                bundle.signature,
            )
        except BadSignatureError as exc:
            raise BadBundleError("the bundle's self-signature does not verify") from exc
        if "fingerprint" in data and data["fingerprint"] != bundle.fingerprint:
            raise BadBundleError("the bundle's fingerprint does not match its keys")
        return bundle

    @classmethod
    def from_json(cls, text: str | bytes) -> RecipientBundle:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise BadBundleError("the bundle is not valid JSON") from exc
        return cls.from_dict(data)


@dataclass(frozen=True)
class ReviewerKey:
    """A reviewer's private keys. Lives only on the reviewer's machine."""

    name: str
    box: PrivateKey
    signing: SigningKey

    @classmethod
    def generate(cls, name: str) -> ReviewerKey:
        if not 0 < len(name) <= MAX_NAME_CHARS:
            raise ValueError(f"a name is 1 to {MAX_NAME_CHARS} characters")
        return cls(name=name, box=PrivateKey.generate(), signing=SigningKey.generate())

    def bundle(self) -> RecipientBundle:
        unsigned = RecipientBundle(
            name=self.name,
            box_key=self.box.public_key,
            verify_key=self.signing.verify_key,
            signature=b"",
        )
        signature = sign(self.signing, Purpose.BUNDLE, _canonical(unsigned._signed_part()))
        return RecipientBundle(unsigned.name, unsigned.box_key, unsigned.verify_key, signature)


def _passphrase_bytes(passphrase: str) -> bytes:
    # The same passphrase typed on another keyboard may arrive in another
    # Unicode form; NFC makes them one.
    return unicodedata.normalize("NFC", passphrase).encode("utf-8")


def _keyfile_header(
    name: str, cost: KdfCost, salt: bytes, bundle: RecipientBundle
) -> dict[str, Any]:
    return {
        "format": KEYFILE_FORMAT,
        "version": KEYFILE_VERSION,
        "name": name,
        "kdf": {
            "alg": "argon2id13",
            "opslimit": cost.opslimit,
            "memlimit": cost.memlimit,
            "salt": to_b64(salt),
        },
        "bundle": bundle.to_dict(),
    }


def write_keyfile(
    path: Path,
    key: ReviewerKey,
    passphrase: str,
    cost: KdfCost = MODERATE,
    *,
    overwrite: bool = False,
) -> None:
    """Write the key file atomically, readable by its owner only.

    Raises FileExistsError rather than replace an existing key file, unless
    overwrite is set: a lost key is a lost archive of reports.
    """
    if not passphrase:
        raise ValueError("a key file needs a passphrase")
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists")
    salt = os.urandom(_sodium.PWHASH_SALTBYTES)
    nonce = os.urandom(_sodium.AEAD_NONCEBYTES)
    header = _keyfile_header(key.name, cost, salt, key.bundle())
    wrapping_key = derive(_passphrase_bytes(passphrase), salt, cost, _sodium.AEAD_KEYBYTES)
    secret = bytes(key.box) + bytes(key.signing)
    ciphertext = _sodium.aead_encrypt(secret, _canonical(header), nonce, wrapping_key)
    body = {**header, "nonce": to_b64(nonce), "ciphertext": to_b64(ciphertext)}
    write_private(path, (json.dumps(body, indent=2, ensure_ascii=False) + "\n").encode())


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        raise ValueError("a key appears twice")
    return found


def _written_header(body: dict[str, Any]) -> bytes:
    """The associated data of a key file: everything in it but nonce and ciphertext.

    Taken from the file as written, not rebuilt from the fields this code
    knows, so a field added, dropped or changed (even one no reader looks
    at) fails as a wrong passphrase would.
    """
    try:
        return canonical.encode({k: v for k, v in body.items() if k not in ("nonce", "ciphertext")})
    except canonical.NotCanonicalError as exc:
        raise KeyFileError("the key file holds a value it cannot hold") from exc


def _load_keyfile(path: Path) -> dict[str, Any]:
    try:
        body = json.loads(Path(path).read_bytes(), object_pairs_hook=_refuse_duplicates)
    except OSError as exc:
        raise KeyFileError(f"cannot read the key file {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise KeyFileError(f"{path} is not a key file") from exc
    if not isinstance(body, dict) or body.get("format") != KEYFILE_FORMAT:
        raise KeyFileError(f"{path} is not an Amanat key file")
    if body.get("version") != KEYFILE_VERSION:
        raise KeyFileError(f"key file version {body.get('version')} is not supported")
    return body


def read_keyfile_bundle(path: Path) -> RecipientBundle:
    """Return the public bundle stored in a key file, without the passphrase."""
    try:
        return RecipientBundle.from_dict(_load_keyfile(path)["bundle"])
    except (KeyError, BadBundleError) as exc:
        raise KeyFileError("the key file's public part is damaged") from exc


def read_keyfile(path: Path, passphrase: str) -> ReviewerKey:
    """Open a key file. Raises WrongPassphraseError or KeyFileError."""
    body = _load_keyfile(path)
    try:
        kdf = body["kdf"]
        if kdf["alg"] != "argon2id13":
            raise KeyFileError("unknown key derivation in the key file")
        cost = KdfCost(int(kdf["opslimit"]), int(kdf["memlimit"]))
        if cost.opslimit > MAX_OPSLIMIT or cost.memlimit > MAX_MEMLIMIT:
            # A damaged file must not make the reader allocate without bound.
            raise KeyFileError("the key file asks for an unreasonable key derivation cost")
        salt = from_b64(kdf["salt"], _sodium.PWHASH_SALTBYTES)
        bundle = RecipientBundle.from_dict(body["bundle"])
        nonce = from_b64(body["nonce"], _sodium.AEAD_NONCEBYTES)
        ciphertext = from_b64(body["ciphertext"])
        name = body["name"]
    except KeyFileError:
        raise
    except (KeyError, TypeError, ValueError, binascii.Error, BadBundleError) as exc:
        raise KeyFileError("the key file is damaged") from exc
    header = _written_header(body)
    wrapping_key = derive(_passphrase_bytes(passphrase), salt, cost, _sodium.AEAD_KEYBYTES)
    try:
        secret = _sodium.aead_decrypt(ciphertext, header, nonce, wrapping_key)
    except _sodium.AuthenticationFailed as exc:
        raise WrongPassphraseError("wrong passphrase, or the key file was altered") from exc
    key = ReviewerKey(name=name, box=PrivateKey(secret[:32]), signing=SigningKey(secret[32:64]))
    if key.box.public_key != bundle.box_key or key.signing.verify_key != bundle.verify_key:
        raise KeyFileError("the key file's private and public parts do not match")
    return key
