"""Fuzz targets: the envelope opener, the multipart reader, the questionnaire validator.

Each runs a few dozen examples in `make test`. For a longer hunt:

    AMANAT_FUZZ_EXAMPLES=20000 .venv/bin/pytest --no-cov tests/adversarial/test_fuzz.py

The property is the same everywhere: hostile bytes get the module's own
error (a CryptoError subclass, a 400 or 413), never another exception and
never partial plaintext.
"""

from __future__ import annotations

import io
import os
import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nacl.public import PrivateKey
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from crypto.envelope import MAGIC, VERSION, Kind, Opener, open_bytes, seal_bytes
from crypto.errors import CryptoError
from crypto.manifest import FileOpener, seal_file
from portal.multipart import Limits, read_parts
from portal.questionnaire import load_questionnaire, validate

EXAMPLES = int(os.environ.get("AMANAT_FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

KEY = PrivateKey.generate()
OTHER = PrivateKey.generate()
CONTENT = bytes(range(256)) * 300  # two frames and a bit: frame boundaries get hit
REPORT = seal_bytes(CONTENT, [KEY.public_key, OTHER.public_key], Kind.REPORT)
SMALL = seal_bytes(b"short", [KEY.public_key], Kind.REPLY)
_file = io.BytesIO()
seal_file(io.BytesIO(CONTENT[:5000]), _file, [KEY.public_key], "фото.jpg", "image/jpeg")
FILE = _file.getvalue()
SEEDS = {"report": (REPORT, Kind.REPORT), "reply": (SMALL, Kind.REPLY), "file": (FILE, Kind.FILE)}


@st.composite
def mutated(draw: st.DrawFn) -> tuple[bytes, Kind, bytes]:
    """(bytes, kind, original) where bytes is a valid envelope after 1-4 mutations."""
    original, kind = SEEDS[draw(st.sampled_from(sorted(SEEDS)))]
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "splice", "set"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if action == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif action == "truncate":
            del data[at:]
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif action == "delete":
            del data[at : at + draw(st.integers(1, 4096))]
        elif action == "splice":
            donor, _ = SEEDS[draw(st.sampled_from(sorted(SEEDS)))]
            start = draw(st.integers(0, len(donor) - 1))
            data[at : at + 64] = donor[start : start + 64]
        elif action == "set" and data:
            data[at] = draw(st.integers(0, 255))
    return bytes(data), kind, original


def open_everything(data: bytes, kind: Kind) -> bytes:
    """Open data as kind with the streaming opener (and the file opener for files)."""
    if kind == Kind.FILE:
        return b"".join(FileOpener(io.BytesIO(data), KEY).chunks())
    return b"".join(Opener(io.BytesIO(data), KEY, kind).chunks())


@FUZZ
@given(mutated())
def test_a_mutated_envelope_never_opens_to_anything_but_the_original(case) -> None:
    data, kind, original = case
    try:
        opened = open_everything(data, kind)
    except CryptoError:
        return
    # A mutation that opens must have changed nothing that is authenticated.
    assert opened == open_everything(original, kind)


@FUZZ
@given(
    st.binary(max_size=2048)
    | st.builds(
        lambda kind, count, rest: MAGIC + struct.pack(">BBBB", VERSION, kind, 0, count) + rest,
        st.integers(0, 255),
        st.integers(0, 255),
        st.binary(max_size=4096),
    ),
    st.sampled_from(list(Kind)),
)
def test_random_bytes_only_raise_crypto_errors(data: bytes, kind: Kind) -> None:
    try:
        open_bytes(data, KEY, kind)
    except CryptoError:
        pass
    else:
        raise AssertionError("random bytes opened as an envelope")


BOUNDARY = b"fuzzBoundary"


@st.composite
def multipart_bodies(draw: st.DrawFn) -> bytes:
    parts = []
    for _ in range(draw(st.integers(0, 6))):
        name = draw(st.text(max_size=12)).encode("utf-8", "surrogatepass")
        header = b'Content-Disposition: form-data; name="' + name + b'"'
        if draw(st.booleans()):
            header += b'; filename="' + draw(st.binary(max_size=20)) + b'"'
        if draw(st.booleans()):
            header += b"\r\nContent-Type: " + draw(st.binary(max_size=20))
        parts.append(
            b"--" + BOUNDARY + b"\r\n" + header + b"\r\n\r\n" + draw(st.binary()) + b"\r\n"
        )
    body = b"".join(parts) + b"--" + BOUNDARY + b"--\r\n"
    if draw(st.booleans()):
        body = body[: draw(st.integers(0, len(body)))]
    if draw(st.booleans()):
        at = draw(st.integers(0, len(body)))
        body = body[:at] + draw(st.binary(max_size=32)) + body[at:]
    return body


@FUZZ
@given(multipart_bodies() | st.binary(max_size=1024))
def test_the_multipart_reader_only_raises_http_errors(body: bytes) -> None:
    try:
        for _part in read_parts(io.BytesIO(body), BOUNDARY, Limits(max_parts=8)):
            pass
    except (BadRequest, RequestEntityTooLarge):
        pass


FIELD_CODES = [f.code for f in load_questionnaire().fields] + ["incident_date_precision"]


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from(FIELD_CODES) | st.text(max_size=10),
        st.lists(
            st.text(max_size=200) | st.sampled_from(["yes", "osh", "other", "day"]), max_size=70
        ),
        max_size=len(FIELD_CODES),
    ),
    st.sampled_from(["ru", "ky", "en", ""]),
)
def test_the_validator_never_raises_and_keeps_only_known_codes(form, lang: str) -> None:
    q = load_questionnaire()
    answers, errors = validate(q, form, ("osh", "bishkek"), lang)
    assert set(answers) <= set(FIELD_CODES) | {"questionnaire"}
    assert set(errors) <= set(FIELD_CODES)
    assert all(isinstance(message, str) and message for message in errors.values())
    for value in answers.values():
        if isinstance(value, str):
            assert "\x00" not in value
