"""The only module that touches nacl.bindings.

Everything above it works with plain bytes and PyNaCl's typed keys; keeping
the raw calls here makes them easy to audit.
"""

from __future__ import annotations

import nacl.bindings as b
from nacl._sodium import ffi, lib
from nacl.exceptions import CryptoError as _NaclCryptoError

STREAM_KEYBYTES: int = b.crypto_secretstream_xchacha20poly1305_KEYBYTES
STREAM_HEADERBYTES: int = b.crypto_secretstream_xchacha20poly1305_HEADERBYTES
STREAM_ABYTES: int = b.crypto_secretstream_xchacha20poly1305_ABYTES
TAG_MESSAGE: int = b.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
TAG_FINAL: int = b.crypto_secretstream_xchacha20poly1305_TAG_FINAL

AEAD_KEYBYTES: int = b.crypto_aead_xchacha20poly1305_ietf_KEYBYTES
AEAD_NONCEBYTES: int = b.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES

PWHASH_SALTBYTES: int = b.crypto_pwhash_SALTBYTES
PWHASH_OPSLIMIT_MIN: int = b.crypto_pwhash_argon2id_OPSLIMIT_MIN
PWHASH_MEMLIMIT_MIN: int = b.crypto_pwhash_argon2id_MEMLIMIT_MIN


class AuthenticationFailed(Exception):
    """Raised by this module when a MAC does not verify."""


class StreamPusher:
    """Encrypting side of one secretstream."""

    def __init__(self, key: bytes) -> None:
        self._state = b.crypto_secretstream_xchacha20poly1305_state()
        self.header: bytes = b.crypto_secretstream_xchacha20poly1305_init_push(self._state, key)
        self._out = ffi.new("unsigned char[]", 0)
        self._out_size = 0

    def push(self, message: bytes, aad: bytes, final: bool) -> bytes:
        return bytes(self.push_view(message, aad, final))

    def push_view(self, message: bytes | bytearray, aad: bytes, final: bool) -> memoryview:
        """Encrypt message without copying it; the returned view lives until the next push.

        PyNaCl's binding takes only bytes and returns a fresh copy; at 64 KiB
        frames those copies cost a third of the sealing time.
        """
        size = len(message) + STREAM_ABYTES
        if size > self._out_size:
            self._out = ffi.new("unsigned char[]", size)
            self._out_size = size
        tag = TAG_FINAL if final else TAG_MESSAGE
        rc = lib.crypto_secretstream_xchacha20poly1305_push(
            self._state.statebuf,
            self._out,
            ffi.NULL,
            ffi.from_buffer(message),
            len(message),
            aad,
            len(aad),
            tag,
        )
        if rc != 0:
            raise RuntimeError("secretstream push failed")
        return memoryview(ffi.buffer(self._out, size))


class StreamPuller:
    """Decrypting side of one secretstream."""

    def __init__(self, key: bytes, header: bytes) -> None:
        self._state = b.crypto_secretstream_xchacha20poly1305_state()
        b.crypto_secretstream_xchacha20poly1305_init_pull(self._state, header, key)
        self._out = ffi.new("unsigned char[]", 0)
        self._out_size = 0
        self._tag = ffi.new("unsigned char *")

    def pull(self, ciphertext: bytes, aad: bytes) -> tuple[bytes, bool]:
        """Return (plaintext, is_final); raise AuthenticationFailed on any forgery."""
        view, final = self.pull_view(ciphertext, aad)
        return bytes(view), final

    def pull_view(self, ciphertext: bytes, aad: bytes) -> tuple[memoryview, bool]:
        """Like pull, but the plaintext view lives only until the next call.

        Saves PyNaCl's extra copy of every frame (about a tenth of the time).
        """
        size = len(ciphertext) - STREAM_ABYTES
        if size < 0:
            raise AuthenticationFailed("ciphertext shorter than its tag")
        if size > self._out_size:
            self._out = ffi.new("unsigned char[]", size)
            self._out_size = size
        rc = lib.crypto_secretstream_xchacha20poly1305_pull(
            self._state.statebuf,
            self._out,
            ffi.NULL,
            self._tag,
            ciphertext,
            len(ciphertext),
            aad,
            len(aad),
        )
        if rc != 0:
            raise AuthenticationFailed("secretstream frame does not verify")
        tag = int(self._tag[0])
        if tag not in (TAG_MESSAGE, TAG_FINAL):
            raise AuthenticationFailed("unexpected secretstream tag")
        return memoryview(ffi.buffer(self._out, size)), tag == TAG_FINAL


def aead_encrypt(message: bytes, aad: bytes, nonce: bytes, key: bytes) -> bytes:
    out: bytes = b.crypto_aead_xchacha20poly1305_ietf_encrypt(message, aad, nonce, key)
    return out


def aead_decrypt(ciphertext: bytes, aad: bytes, nonce: bytes, key: bytes) -> bytes:
    try:
        out: bytes = b.crypto_aead_xchacha20poly1305_ietf_decrypt(ciphertext, aad, nonce, key)
    except _NaclCryptoError as exc:
        raise AuthenticationFailed from exc
    return out


def argon2id(secret: bytes, salt: bytes, opslimit: int, memlimit: int, size: int) -> bytes:
    out: bytes = b.crypto_pwhash_alg(
        size, secret, salt, opslimit, memlimit, b.crypto_pwhash_ALG_ARGON2ID13
    )
    return out
