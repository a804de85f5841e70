"""One canonical encoding (RFC 8785 subset) for everything signed or authenticated.

The vectors in vectors/canonical.json are the examples docs/PROTOCOL.md
gives; two of them are RFC 8785's own. The compatibility properties are what
let version-1 signatures keep verifying unchanged.
"""

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crypto import canonical

VECTORS = json.loads((Path(__file__).parent / "vectors" / "canonical.json").read_text())


@pytest.mark.parametrize("case", VECTORS["encode"], ids=lambda c: c["name"])
def test_canonical_vectors_encode_exactly(case):
    encoded = canonical.encode(json.loads(case["input"]))
    assert encoded.hex() == case["canonical_hex"]
    assert encoded.decode("utf-8") == case["canonical"]


@pytest.mark.parametrize("case", VECTORS["refuse"], ids=lambda c: c["name"])
def test_values_without_a_canonical_form_are_refused(case):
    with pytest.raises(canonical.NotCanonicalError):
        canonical.encode(json.loads(case["input"]))


def test_non_string_keys_are_refused():
    with pytest.raises(canonical.NotCanonicalError):
        canonical.encode({1: "one"})


def test_booleans_are_not_integers():
    assert canonical.encode([True, 1, False, 0]) == b"[true,1,false,0]"


@pytest.mark.parametrize(
    "data",
    [
        b'{"a":1, "b":2}',  # a space
        b'{"b":2,"a":1}',  # unsorted
        b'{"a":"\\u0041"}',  # an escape canonical form does not use
        b'{"a":1,"a":1}',  # a repeated key
        b'{"a":1.0}',  # a float
        b'{"a":01}',  # not JSON
    ],
)
def test_parse_refuses_bytes_that_are_not_canonical(data):
    with pytest.raises(canonical.NotCanonicalError):
        canonical.parse(data)


def test_parse_returns_the_value_of_canonical_bytes():
    for case in VECTORS["encode"]:
        data = bytes.fromhex(case["canonical_hex"])
        assert canonical.encode(canonical.parse(data)) == data


ascii_keys = st.text(st.characters(min_codepoint=0, max_codepoint=127), max_size=8)
strings = st.text(st.characters(blacklist_categories=["Cs"]), max_size=20)
safe_ints = st.integers(-canonical.MAX_SAFE_INTEGER, canonical.MAX_SAFE_INTEGER)
values = st.recursive(
    st.none() | st.booleans() | safe_ints | strings,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ascii_keys, inner, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(ascii_keys, values, max_size=6))
def test_version_1_bundle_and_keyfile_encoding_is_the_canonical_one(value):
    # Bundles and key files were signed over exactly these Python bytes.
    old = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical.encode(value) == old.encode("utf-8")


ascii_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)


@given(st.dictionaries(ascii_text, ascii_text | safe_ints, max_size=8))
def test_version_1_receipt_encoding_is_the_canonical_one(value):
    # Receipts were signed with ensure_ascii=True; their fields are printable ASCII.
    old = json.dumps(value, sort_keys=True, separators=(",", ":"))
    assert canonical.encode(value) == old.encode("ascii")
