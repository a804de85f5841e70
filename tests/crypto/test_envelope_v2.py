"""Envelope version 2: key commitment, and every bound of PROTOCOL.md 2.6 enforced.

The hostile envelopes come from tests/crypto/reference.py, which builds what
the real sealer never would but with valid tags: each test shows the opener
refuses a structure on its own, not because a tag failed.
"""

import hashlib
import struct

import pytest
from nacl.public import PrivateKey

from crypto.envelope import Kind, open_bytes, seal_bytes
from crypto.errors import (
    FrameOrderError,
    FrameSizeError,
    KeyCommitmentError,
    MalformedError,
    NonZeroPaddingError,
    SlotCountError,
    TamperedError,
    TrailerLengthError,
    TrailingDataError,
)

from . import reference as ref

ALICE = PrivateKey(hashlib.sha256(b"alice").digest())
BOB = PrivateKey(hashlib.sha256(b"bob").digest())
K1, K2 = bytes(range(32)), bytes(range(1, 33))
HEADER = bytes(range(100, 124))


def slots(*keys, content_keys=None):
    content_keys = content_keys or [None] * len(keys)
    return [
        ref.Slot(bytes(k.public_key), hashlib.sha256(bytes(k)).digest(), ck)
        for k, ck in zip(keys, content_keys, strict=True)
    ]


def build(frames, version=2, **changes):
    inputs = ref.EnvelopeInputs(
        version=version,
        kind=int(Kind.REPORT),
        slots=changes.pop("slots", slots(ALICE)),
        content_key=K1,
        stream_header=HEADER,
        frames=frames,
        **changes,
    )
    return ref.seal(inputs)


def end_frame(tail=b"", trailer=b"", size=None, pad=b""):
    end = struct.pack(">BII", 3, len(tail), len(trailer)) + tail + trailer + pad
    return end.ljust(size or ref.small_bucket(len(end)), b"\0")


def test_new_envelopes_are_version_2():
    assert seal_bytes(b"x", [ALICE.public_key], Kind.REPORT)[7] == 2


def test_reference_envelope_opens_in_both_versions():
    for version in (1, 2):
        blob = build(ref.frames_for(b"hello", b"t"), version=version)
        assert open_bytes(blob, ALICE, Kind.REPORT).content == b"hello"


def test_a_multi_frame_reference_envelope_opens():
    content = bytes(range(256)) * 1000
    blob = build(ref.frames_for(content, b""))
    assert open_bytes(blob, ALICE, Kind.REPORT).content == content


def test_key_commitment_mismatch_is_refused():
    blob = build(ref.frames_for(b"hello", b""), commitment=ref.key_commitment(K2))
    with pytest.raises(KeyCommitmentError):
        open_bytes(blob, ALICE, Kind.REPORT)


def test_a_slot_whose_key_opens_a_different_stream_is_refused():
    # The sealer commits to K1, gives Bob K2 and encrypts the stream under K2:
    # Bob's key opens that stream, but not the envelope the header commits to.
    blob = build(
        ref.frames_for(b"what Bob would read", b""),
        slots=slots(ALICE, BOB, content_keys=[None, K2]),
        stream_key=K2,
    )
    with pytest.raises(KeyCommitmentError):
        open_bytes(blob, BOB, Kind.REPORT)
    with pytest.raises(TamperedError):
        open_bytes(blob, ALICE, Kind.REPORT)


def test_version_1_could_not_tell_two_recipients_keys_apart():
    # Why version 2 exists: the same hostile v1 envelope opens for Bob.
    blob = build(
        ref.frames_for(b"what Bob reads", b""),
        version=1,
        slots=slots(ALICE, BOB, content_keys=[None, K2]),
        stream_key=K2,
    )
    assert open_bytes(blob, BOB, Kind.REPORT).content == b"what Bob reads"


@pytest.mark.parametrize("count", [0, 256, 65535])
def test_slot_count_outside_1_to_255_is_refused(count):
    blob = build(ref.frames_for(b"x", b""), slot_count=count)
    with pytest.raises(SlotCountError):
        open_bytes(blob, ALICE, Kind.REPORT)


def test_real_sealer_refuses_more_than_255_recipients():
    with pytest.raises(ValueError):
        seal_bytes(b"x", [ALICE.public_key] * 256, Kind.REPORT)


def test_trailer_longer_than_16384_bytes_is_refused():
    blob = build([end_frame(trailer=b"t" * 20_000)])
    with pytest.raises(TrailerLengthError):
        open_bytes(blob, ALICE, Kind.REPORT)


def test_non_zero_padding_in_the_final_frame_is_refused():
    blob = build([end_frame(tail=b"hi", pad=b"\x01")])
    with pytest.raises(NonZeroPaddingError):
        open_bytes(blob, ALICE, Kind.REPORT)


def test_non_zero_padding_after_a_short_data_frame_is_refused():
    frames = ref.frames_for(b"a" * (ref.CHUNK + 100), b"")
    first = struct.pack(">BI", 1, 10) + b"a" * 10 + b"\x07" + bytes(ref.CHUNK - 11)
    blob = build([first, *frames[1:]])
    with pytest.raises(NonZeroPaddingError):
        open_bytes(blob, ALICE, Kind.REPORT)


def test_non_zero_bytes_in_a_padding_frame_are_refused():
    frames = ref.frames_for(b"a" * (8 * ref.CHUNK + 1), b"")
    pad_at = next(i for i, f in enumerate(frames) if f[0] == ref.PAD)
    frames[pad_at] = frames[pad_at][:-1] + b"\x01"
    with pytest.raises(NonZeroPaddingError):
        open_bytes(build(frames), ALICE, Kind.REPORT)


def test_a_padding_frame_with_non_zero_used_is_refused():
    frames = ref.frames_for(b"a" * (8 * ref.CHUNK + 1), b"")
    pad_at = next(i for i, f in enumerate(frames) if f[0] == ref.PAD)
    frames[pad_at] = struct.pack(">BI", ref.PAD, 3) + bytes(ref.CHUNK)
    with pytest.raises(NonZeroPaddingError):
        open_bytes(build(frames), ALICE, Kind.REPORT)


def test_a_byte_after_a_short_final_frame_is_trailing_data():
    blob = build(ref.frames_for(b"hello", b""), extra=b"\x00")
    with pytest.raises(TrailingDataError):
        open_bytes(blob, ALICE, Kind.REPORT)


@pytest.mark.parametrize("extra", [b"\x00", bytes(600), bytes(70_000)])
def test_data_after_a_sealed_one_frame_envelope_is_trailing_data(extra):
    blob = seal_bytes(b"note", [ALICE.public_key], Kind.REPORT) + extra
    with pytest.raises(TrailingDataError):
        open_bytes(blob, ALICE, Kind.REPORT)


def test_a_one_frame_envelope_not_padded_to_its_bucket_is_refused():
    blob = build([end_frame(tail=b"hi", size=1024)])
    with pytest.raises(FrameSizeError):
        open_bytes(blob, ALICE, Kind.REPORT)


def test_a_short_final_frame_after_full_frames_is_refused():
    frames = ref.frames_for(b"a" * (ref.CHUNK + 1), b"")
    frames[-1] = end_frame(tail=b"a")
    with pytest.raises(FrameSizeError):
        open_bytes(build(frames), ALICE, Kind.REPORT)


def test_a_wrong_number_of_padding_frames_is_refused():
    frames = ref.frames_for(b"a" * (8 * ref.CHUNK + 1), b"")
    pad_at = next(i for i, f in enumerate(frames) if f[0] == ref.PAD)
    del frames[pad_at]
    with pytest.raises(FrameSizeError):
        open_bytes(build(frames), ALICE, Kind.REPORT)


def test_padding_before_any_data_frame_is_out_of_order():
    pad = struct.pack(">BI", ref.PAD, 0) + bytes(ref.CHUNK)
    blob = build([pad, end_frame(size=ref.FRAME_PLAIN)])
    with pytest.raises(FrameOrderError):
        open_bytes(blob, ALICE, Kind.REPORT)


def test_a_final_frame_claiming_more_than_it_holds_is_refused():
    frame = struct.pack(">BII", 3, 600, 0).ljust(512, b"\0")
    with pytest.raises(MalformedError):
        open_bytes(build([frame]), ALICE, Kind.REPORT)


def test_the_v1_rules_hold_for_version_1_too():
    blob = build([end_frame(tail=b"hi", pad=b"\x01")], version=1)
    with pytest.raises(NonZeroPaddingError):
        open_bytes(blob, ALICE, Kind.REPORT)
