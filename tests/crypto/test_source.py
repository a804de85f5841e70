"""Codenames: enough entropy, easy to type, typos caught, derivation stable."""

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.errors import BadCodenameError
from crypto.kdf import MINIMAL
from crypto.source import (
    ENTROPY_BITS,
    RANDOM_DIGITS,
    codename_from_seed,
    derive_source_secrets,
    generate_codename,
    lookup_digest,
    normalize_codename,
)

SALT = bytes(16)


def test_codename_has_at_least_80_bits_of_entropy():
    assert RANDOM_DIGITS * math.log2(10) >= 80
    assert ENTROPY_BITS >= 80


def test_codename_is_seven_groups_of_four_digits():
    assert re.fullmatch(r"\d{4}( \d{4}){6}", generate_codename())


def test_codename_from_a_seed_is_well_formed_and_depends_on_every_seed_byte():
    seed = bytes(range(32))
    codename = codename_from_seed(seed)
    assert re.fullmatch(r"\d{4}( \d{4}){6}", codename)
    assert normalize_codename(codename) == codename.replace(" ", "")
    assert codename_from_seed(seed) == codename
    changed = {
        codename_from_seed(seed[:i] + bytes([seed[i] ^ 1]) + seed[i + 1 :]) for i in range(32)
    }
    assert codename not in changed and len(changed) == 32


def test_codename_seed_shorter_than_16_bytes_is_refused():
    with pytest.raises(ValueError):
        codename_from_seed(bytes(15))


def test_codenames_do_not_repeat():
    assert len({generate_codename() for _ in range(200)}) == 200


def test_typed_codename_may_use_dashes_spaces_and_full_width_digits():
    codename = generate_codename()
    digits = codename.replace(" ", "")
    full_width = "".join(chr(0xFF10 + int(d)) for d in digits)
    assert normalize_codename(codename) == digits
    assert normalize_codename("-".join(codename.split())) == digits
    assert normalize_codename(f"  {digits}\n") == digits
    assert normalize_codename(full_width) == digits


def test_every_single_mistyped_digit_is_caught():
    digits = generate_codename().replace(" ", "")
    for position in range(len(digits)):
        for wrong in "0123456789":
            if wrong != digits[position]:
                typo = digits[:position] + wrong + digits[position + 1 :]
                with pytest.raises(BadCodenameError):
                    normalize_codename(typo)


def test_every_swap_of_neighbouring_digits_is_caught():
    digits = generate_codename().replace(" ", "")
    for i in range(len(digits) - 1):
        if digits[i] != digits[i + 1]:
            swapped = digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :]
            with pytest.raises(BadCodenameError):
                normalize_codename(swapped)


@pytest.mark.parametrize("typed", ["", "1234", "abcd " * 7, "1234 5678 9012 3456 7890 1234 567O"])
def test_malformed_codenames_are_refused(typed):
    with pytest.raises(BadCodenameError):
        normalize_codename(typed)


@settings(max_examples=200)
@given(st.text(max_size=60))
def test_normalize_either_gives_28_digits_or_a_codename_error(text):
    try:
        digits = normalize_codename(text)
    except BadCodenameError:
        return
    assert re.fullmatch(r"\d{28}", digits)


def test_derivation_is_stable_for_one_codename_and_salt():
    codename = generate_codename()
    a = derive_source_secrets(codename, SALT, MINIMAL)
    b = derive_source_secrets(codename.replace(" ", "-"), SALT, MINIMAL)
    assert a.lookup_id == b.lookup_id
    assert a.box.public_key == b.box.public_key
    assert re.fullmatch(r"[0-9a-f]{64}", a.lookup_digest)
    assert a.lookup_digest == lookup_digest(a.lookup_id)


def test_derivation_differs_by_codename_and_by_salt():
    codename = generate_codename()
    a = derive_source_secrets(codename, SALT, MINIMAL)
    other_codename = derive_source_secrets(generate_codename(), SALT, MINIMAL)
    other_salt = derive_source_secrets(codename, b"\x01" * 16, MINIMAL)
    assert len({a.lookup_id, other_codename.lookup_id, other_salt.lookup_id}) == 3
    assert a.box.public_key != other_codename.box.public_key


def test_lookup_id_and_private_key_are_independent():
    secrets = derive_source_secrets(generate_codename(), SALT, MINIMAL)
    assert secrets.lookup_id != bytes(secrets.box)


def test_source_key_opens_replies_and_nothing_else():
    from crypto.envelope import Kind, seal_bytes
    from crypto.errors import WrongKindError
    from crypto.source import open_reply

    source = derive_source_secrets(generate_codename(), SALT, MINIMAL)
    reply = seal_bytes("Мы получили ваше сообщение".encode(), [source.box.public_key], Kind.REPLY)
    assert open_reply(reply, source.box).decode() == "Мы получили ваше сообщение"
    report = seal_bytes(b"answers", [source.box.public_key], Kind.REPORT)
    with pytest.raises(WrongKindError):
        open_reply(report, source.box)


def test_wrapped_source_key_needs_the_cookie_half():
    from crypto.errors import TamperedError
    from crypto.source import unwrap_source_key, wrap_source_key

    source = derive_source_secrets(generate_codename(), SALT, MINIMAL)
    wrapped, unwrap_key = wrap_source_key(source.box)
    assert bytes(source.box) not in wrapped
    assert bytes(unwrap_source_key(wrapped, unwrap_key)) == bytes(source.box)
    with pytest.raises(TamperedError):
        unwrap_source_key(wrapped, bytes(32))
    with pytest.raises(TamperedError):
        unwrap_source_key(wrapped[:-1] + bytes([wrapped[-1] ^ 1]), unwrap_key)
