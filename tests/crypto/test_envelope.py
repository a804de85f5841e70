"""Envelope properties: round trips, and every way an envelope must be refused."""

import io
import random
import struct
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.public import PrivateKey

from crypto import _sodium
from crypto.envelope import (
    _FIXED,
    CHUNK,
    COMMITMENT_BYTES,
    FRAME_CIPHER,
    FRAME_HEAD,
    SLOT_BYTES,
    HashingWriter,
    Kind,
    Opener,
    Sealer,
    _prefix_hash,
    key_id,
    open_bytes,
    open_stream,
    seal_bytes,
    seal_stream,
)
from crypto.errors import (
    EnvelopeError,
    MalformedError,
    NotAnEnvelopeError,
    NotARecipientError,
    TamperedError,
    TrailingDataError,
    TruncatedError,
    UnknownVersionError,
    WrongKindError,
)
from crypto.padding import padme

KEYS = [PrivateKey.generate() for _ in range(5)]
ALICE = KEYS[0]


def content_of(length: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(length)


def prefix_length(recipients: int) -> int:
    return _FIXED.size + recipients * SLOT_BYTES + _sodium.STREAM_HEADERBYTES + COMMITMENT_BYTES


def frame_offsets(blob: bytes, recipients: int = 1) -> list[int]:
    """Start offsets of each frame, the final one included."""
    start = prefix_length(recipients)
    return list(range(start, len(blob), FRAME_CIPHER))


@pytest.fixture(scope="module")
def multi_frame() -> bytes:
    return seal_bytes(content_of(3 * CHUNK + 100), [ALICE.public_key], Kind.FILE)


@settings(max_examples=40, deadline=None)
@given(
    length=st.one_of(
        st.integers(0, 600),
        st.sampled_from([CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 7]),
        st.integers(0, 4 * CHUNK),
    ),
    recipients=st.integers(1, 5),
    trailer=st.binary(max_size=300),
    seed=st.integers(0, 2**32),
)
def test_every_recipient_opens_what_was_sealed(length, recipients, trailer, seed):
    content = content_of(length, seed)
    keys = KEYS[:recipients]
    blob = seal_bytes(content, [k.public_key for k in keys], Kind.REPORT, trailer)
    for key in keys:
        plain = open_bytes(blob, key, Kind.REPORT)
        assert plain.content == content
        assert plain.trailer == trailer


@settings(max_examples=20, deadline=None)
@given(pieces=st.lists(st.integers(0, 70_000), max_size=6), seed=st.integers(0, 1000))
def test_sealer_accepts_content_in_pieces_of_any_size(pieces, seed):
    parts = [content_of(n, seed + i) for i, n in enumerate(pieces)]
    out = io.BytesIO()
    sealer = Sealer(out, [ALICE.public_key], Kind.MESSAGE)
    for part in parts:
        sealer.write(part)
    sealed = sealer.close()
    assert sealed.size == len(out.getvalue())
    assert open_bytes(out.getvalue(), ALICE, Kind.MESSAGE).content == b"".join(parts)


def test_hashing_writer_gives_the_ciphertext_sha256_and_size():
    import hashlib

    out = io.BytesIO()
    hashing = HashingWriter(out)
    sealed = seal_stream(io.BytesIO(b"evidence" * 30_000), hashing, [ALICE.public_key], Kind.FILE)
    assert hashing.hexdigest() == hashlib.sha256(out.getvalue()).hexdigest()
    assert sealed.size == hashing.size == len(out.getvalue())


def test_same_content_seals_differently_each_time():
    a = seal_bytes(b"same", [ALICE.public_key], Kind.REPORT)
    b = seal_bytes(b"same", [ALICE.public_key], Kind.REPORT)
    assert a != b


def test_plaintext_does_not_appear_in_ciphertext():
    marker = b"MARKER-plaintext-" * 100
    blob = seal_bytes(marker, [ALICE.public_key], Kind.REPORT)
    assert b"MARKER" not in blob


def test_wrong_key_is_not_a_recipient():
    blob = seal_bytes(b"secret", [ALICE.public_key], Kind.REPORT)
    with pytest.raises(NotARecipientError):
        open_bytes(blob, KEYS[1], Kind.REPORT)


def test_wrong_kind_is_refused():
    blob = seal_bytes(b"secret", [ALICE.public_key], Kind.REPLY)
    with pytest.raises(WrongKindError):
        open_bytes(blob, ALICE, Kind.REPORT)


def test_unknown_version_is_refused():
    blob = bytearray(seal_bytes(b"x", [ALICE.public_key], Kind.REPORT))
    blob[7] = 3
    with pytest.raises(UnknownVersionError):
        open_bytes(bytes(blob), ALICE, Kind.REPORT)


def test_data_without_magic_is_not_an_envelope():
    with pytest.raises(NotAnEnvelopeError):
        open_bytes(b"PK\x03\x04" + bytes(200), ALICE, Kind.REPORT)


def test_flipped_bit_anywhere_in_a_small_envelope_is_refused():
    blob = seal_bytes(b"a short report", [ALICE.public_key, KEYS[1].public_key], Kind.REPORT)
    for position in range(len(blob)):
        damaged = bytearray(blob)
        damaged[position] ^= 0x01
        with pytest.raises(EnvelopeError):
            open_bytes(bytes(damaged), ALICE, Kind.REPORT)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_flipped_bit_anywhere_in_a_multi_frame_envelope_is_refused(multi_frame, data):
    position = data.draw(st.integers(0, len(multi_frame) - 1))
    bit = data.draw(st.integers(0, 7))
    damaged = bytearray(multi_frame)
    damaged[position] ^= 1 << bit
    with pytest.raises(EnvelopeError):
        open_bytes(bytes(damaged), ALICE, Kind.FILE)


def test_truncation_at_any_point_of_a_small_envelope_is_refused():
    blob = seal_bytes(b"a short report", [ALICE.public_key], Kind.REPORT)
    for length in range(len(blob)):
        with pytest.raises(EnvelopeError):
            open_bytes(blob[:length], ALICE, Kind.REPORT)


def test_truncation_exactly_at_a_frame_boundary_is_refused(multi_frame):
    for boundary in frame_offsets(multi_frame):
        with pytest.raises(TruncatedError):
            open_bytes(multi_frame[:boundary], ALICE, Kind.FILE)


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_truncation_inside_a_frame_is_refused(multi_frame, data):
    length = data.draw(st.integers(0, len(multi_frame) - 1))
    with pytest.raises(EnvelopeError):
        open_bytes(multi_frame[:length], ALICE, Kind.FILE)


def test_truncated_stream_yields_no_complete_result(multi_frame):
    """Frames verified before the cut may be streamed, but the end is an error."""
    cut = frame_offsets(multi_frame)[-1]
    opener = Opener(io.BytesIO(multi_frame[:cut]), ALICE, Kind.FILE)
    received = []
    with pytest.raises(TruncatedError):
        for chunk in opener.chunks():
            received.append(chunk)
    assert opener.trailer is None


@pytest.mark.parametrize("extra", [b"\x00", b"appended", bytes(FRAME_CIPHER)])
def test_appended_data_is_refused(multi_frame, extra):
    with pytest.raises((TrailingDataError, TamperedError)):
        open_bytes(multi_frame + extra, ALICE, Kind.FILE)


def test_appended_data_after_a_full_final_frame_is_named_as_such(multi_frame):
    # The final frame of a multi-frame envelope is full size, so the opener
    # reads it whole and then sees the extra byte.
    with pytest.raises(TrailingDataError):
        open_bytes(multi_frame + b"x", ALICE, Kind.FILE)


def test_appended_data_after_a_small_envelope_is_refused():
    blob = seal_bytes(b"note", [ALICE.public_key], Kind.MESSAGE)
    with pytest.raises(EnvelopeError):
        open_bytes(blob + b"more", ALICE, Kind.MESSAGE)


def split_frames(blob: bytes) -> tuple[bytes, list[bytes]]:
    offsets = frame_offsets(blob)
    frames = [blob[o : o + FRAME_CIPHER] for o in offsets]
    return blob[: offsets[0]], frames


def test_reordered_frames_are_refused(multi_frame):
    prefix, frames = split_frames(multi_frame)
    frames[0], frames[1] = frames[1], frames[0]
    with pytest.raises(TamperedError):
        open_bytes(prefix + b"".join(frames), ALICE, Kind.FILE)


def test_duplicated_frame_is_refused(multi_frame):
    prefix, frames = split_frames(multi_frame)
    with pytest.raises(TamperedError):
        open_bytes(prefix + frames[0] + b"".join(frames), ALICE, Kind.FILE)


def test_dropped_middle_frame_is_refused(multi_frame):
    prefix, frames = split_frames(multi_frame)
    with pytest.raises(TamperedError):
        open_bytes(prefix + b"".join(frames[:1] + frames[2:]), ALICE, Kind.FILE)


def test_frames_from_another_envelope_are_refused(multi_frame):
    other = seal_bytes(content_of(3 * CHUNK + 100, 9), [ALICE.public_key], Kind.FILE)
    prefix, frames = split_frames(multi_frame)
    _, other_frames = split_frames(other)
    with pytest.raises(TamperedError):
        open_bytes(prefix + other_frames[0] + b"".join(frames[1:]), ALICE, Kind.FILE)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        pytest.param(_FIXED.size, _FIXED.size + SLOT_BYTES, id="slot"),
        pytest.param(_FIXED.size + SLOT_BYTES, prefix_length(1), id="stream-header"),
    ],
)
def test_slot_or_stream_header_moved_from_another_envelope_is_refused(start, end):
    a = seal_bytes(b"envelope a", [ALICE.public_key], Kind.REPORT)
    b = seal_bytes(b"envelope b", [ALICE.public_key], Kind.REPORT)
    moved = b[:start] + a[start:end] + b[end:]
    with pytest.raises(TamperedError):
        open_bytes(moved, ALICE, Kind.REPORT)


def test_whole_prefix_moved_from_another_envelope_is_refused():
    a = seal_bytes(b"envelope a", [ALICE.public_key], Kind.REPORT)
    b = seal_bytes(b"envelope b", [ALICE.public_key], Kind.REPORT)
    cut = prefix_length(1)
    with pytest.raises(TamperedError):
        open_bytes(a[:cut] + b[cut:], ALICE, Kind.REPORT)


def test_removing_another_recipients_slot_is_refused():
    blob = seal_bytes(b"for two", [ALICE.public_key, KEYS[1].public_key], Kind.REPORT)
    fixed = bytearray(blob[: _FIXED.size])
    struct.pack_into(">H", fixed, _FIXED.size - 2, 1)
    without_second = bytes(fixed) + blob[_FIXED.size : _FIXED.size + SLOT_BYTES]
    rest = blob[_FIXED.size + 2 * SLOT_BYTES :]
    with pytest.raises(TamperedError):
        open_bytes(without_second + rest, ALICE, Kind.REPORT)


def test_kind_changed_in_the_header_is_refused():
    blob = bytearray(seal_bytes(b"a reply", [ALICE.public_key], Kind.REPLY))
    blob[8] = int(Kind.REPORT)
    with pytest.raises(TamperedError):
        open_bytes(bytes(blob), ALICE, Kind.REPORT)


def test_frames_out_of_order_are_malformed_even_when_authentic():
    """A sealer holding the content key cannot slip data in after padding."""
    content_key = bytes(range(32))
    pusher = _sodium.StreamPusher(content_key)
    from nacl.public import SealedBox

    slot = key_id(ALICE.public_key) + SealedBox(ALICE.public_key).encrypt(content_key)
    prefix = _FIXED.pack(b"AMNTENV", 1, int(Kind.FILE), 0, 1) + slot + pusher.header
    aad = _prefix_hash(prefix, 1)
    pad = FRAME_HEAD.pack(2, 0) + bytes(CHUNK)
    data = FRAME_HEAD.pack(1, CHUNK) + bytes(CHUNK)
    blob = prefix + pusher.push(pad, aad, final=False) + pusher.push(data, aad, final=False)
    with pytest.raises(MalformedError):
        open_bytes(blob, ALICE, Kind.FILE)


def test_small_contents_share_one_ciphertext_size():
    sizes = {len(seal_bytes(b"x" * n, [ALICE.public_key], Kind.REPORT)) for n in range(0, 480)}
    assert len(sizes) == 1


def test_ciphertext_sizes_fall_into_few_buckets():
    sizes = {
        len(seal_bytes(bytes(n), [ALICE.public_key], Kind.FILE))
        for n in range(0, 40 * CHUNK, CHUNK // 3)
    }
    # 120 different lengths share a quarter as many sizes, and every
    # multi-frame size is a whole Padmé count of frames.
    assert len(sizes) <= 30
    for size in sizes:
        frames, rest = divmod(size - prefix_length(1), FRAME_CIPHER)
        assert rest == 0 or frames == 0
        if frames:
            assert padme(frames) == frames


def test_padding_overhead_stays_small_for_large_content():
    n = 37 * CHUNK + 5
    blob_size = len(seal_bytes(bytes(n), [ALICE.public_key], Kind.FILE))
    assert blob_size < n * 1.15


def test_sealing_and_opening_use_constant_memory(tmp_path):
    """20 MiB through the streaming API never holds more than a few frames."""
    source = tmp_path / "plain"
    with source.open("wb") as out:
        for i in range(20 * 16):
            out.write(content_of(64 * 1024, i))
    sealed_path = tmp_path / "sealed"
    tracemalloc.start()
    with source.open("rb") as src, sealed_path.open("wb") as dst:
        seal_stream(src, dst, [ALICE.public_key], Kind.FILE)
    _, seal_peak = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    with sealed_path.open("rb") as src, (tmp_path / "opened").open("wb") as dst:
        open_stream(src, dst, ALICE, Kind.FILE)
    _, open_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert seal_peak < 2 * 1024 * 1024
    assert open_peak < 2 * 1024 * 1024
    assert (tmp_path / "opened").read_bytes() == source.read_bytes()


def test_an_envelope_needs_a_recipient():
    with pytest.raises(ValueError):
        seal_bytes(b"x", [], Kind.REPORT)


def test_sealer_refuses_writes_after_close():
    sealer = Sealer(io.BytesIO(), [ALICE.public_key], Kind.REPORT)
    sealer.close()
    with pytest.raises(ValueError):
        sealer.write(b"late")
    with pytest.raises(ValueError):
        sealer.close()
