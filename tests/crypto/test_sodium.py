"""crypto/_sodium.py's streaming (PyNaCl's private FFI) against PyNaCl's public bindings.

_sodium calls libsodium through nacl._sodium to avoid copies; these tests
tie it to what PyNaCl's public secretstream functions produce, both ways, so
a PyNaCl upgrade that changed the private interface cannot pass silently.
"""

import os

import nacl.bindings as b
import pytest

from crypto import _sodium

KEY = bytes(range(32))
MESSAGES = [b"", b"first", os.urandom(70_000), b"last"]
AAD = b"associated"


def test_private_pusher_output_opens_with_the_public_puller():
    pusher = _sodium.StreamPusher(KEY)
    frames = [pusher.push(m, AAD, final=i == len(MESSAGES) - 1) for i, m in enumerate(MESSAGES)]
    state = b.crypto_secretstream_xchacha20poly1305_state()
    b.crypto_secretstream_xchacha20poly1305_init_pull(state, pusher.header, KEY)
    pulled = [b.crypto_secretstream_xchacha20poly1305_pull(state, f, AAD) for f in frames]
    assert [m for m, _ in pulled] == MESSAGES
    assert [t for _, t in pulled] == [0, 0, 0, b.crypto_secretstream_xchacha20poly1305_TAG_FINAL]


def test_public_pusher_output_opens_with_the_private_puller():
    state = b.crypto_secretstream_xchacha20poly1305_state()
    header = b.crypto_secretstream_xchacha20poly1305_init_push(state, KEY)
    tags = [0, 0, 0, b.crypto_secretstream_xchacha20poly1305_TAG_FINAL]
    frames = [
        b.crypto_secretstream_xchacha20poly1305_push(state, m, AAD, t)
        for m, t in zip(MESSAGES, tags, strict=True)
    ]
    puller = _sodium.StreamPuller(KEY, header)
    pulled = [puller.pull(f, AAD) for f in frames]
    assert pulled == [(m, t == tags[-1]) for m, t in zip(MESSAGES, tags, strict=True)]


def test_private_and_public_pushers_write_the_same_bytes_for_one_header():
    pusher = _sodium.StreamPusher(KEY)
    state = b.crypto_secretstream_xchacha20poly1305_state()
    b.crypto_secretstream_xchacha20poly1305_init_pull(state, pusher.header, KEY)
    for message in MESSAGES:
        public = b.crypto_secretstream_xchacha20poly1305_push(state, message, AAD, 0)
        assert pusher.push(message, AAD, final=False) == public


def test_a_failed_pull_leaves_the_stream_state_as_it_was():
    # The opener relies on this to try the sizes a short final frame can have.
    pusher = _sodium.StreamPusher(KEY)
    frame = pusher.push(b"x" * 600, AAD, final=True)
    puller = _sodium.StreamPuller(KEY, pusher.header)
    with pytest.raises(_sodium.AuthenticationFailed):
        puller.pull(frame + b"\0", AAD)
    with pytest.raises(_sodium.AuthenticationFailed):
        puller.pull(frame[:-1], AAD)
    assert puller.pull(frame, AAD) == (b"x" * 600, True)


def test_private_pull_refuses_a_changed_aad_or_byte():
    pusher = _sodium.StreamPusher(KEY)
    frame = pusher.push(b"content", AAD, final=True)
    for bad_frame, aad in [(frame, b"other"), (bytes([frame[0] ^ 1]) + frame[1:], AAD)]:
        with pytest.raises(_sodium.AuthenticationFailed):
            _sodium.StreamPuller(KEY, pusher.header).pull(bad_frame, aad)
