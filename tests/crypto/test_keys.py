"""Key files and recipient bundles."""

import json
import re
import stat

import pytest

from crypto.errors import BadBundleError, KeyFileError, WrongPassphraseError
from crypto.kdf import MINIMAL
from crypto.keys import (
    RecipientBundle,
    ReviewerKey,
    read_keyfile,
    read_keyfile_bundle,
    write_keyfile,
)


@pytest.fixture
def key():
    return ReviewerKey.generate("Айгуль (Ош)")


@pytest.fixture
def keyfile(tmp_path, key):
    path = tmp_path / "reviewer.key"
    write_keyfile(path, key, "correct horse батарея", MINIMAL)
    return path


def test_key_file_round_trip_gives_back_both_private_keys(keyfile, key):
    opened = read_keyfile(keyfile, "correct horse батарея")
    assert bytes(opened.box) == bytes(key.box)
    assert bytes(opened.signing) == bytes(key.signing)
    assert opened.name == key.name


def test_key_file_is_readable_by_its_owner_only(keyfile):
    assert stat.S_IMODE(keyfile.stat().st_mode) == 0o600


def test_key_file_holds_no_private_key_in_the_clear(keyfile, key):
    text = keyfile.read_bytes()
    import base64

    for secret in (bytes(key.box), bytes(key.signing)):
        assert secret not in text
        assert base64.b64encode(secret) not in text


def test_writing_leaves_no_temporary_files(keyfile):
    assert [p.name for p in keyfile.parent.iterdir()] == ["reviewer.key"]


def test_wrong_passphrase_is_named_as_such(keyfile):
    with pytest.raises(WrongPassphraseError):
        read_keyfile(keyfile, "wrong")


def test_passphrase_in_another_unicode_form_still_opens(tmp_path, key):
    path = tmp_path / "k"
    write_keyfile(path, key, "йод", MINIMAL)  # composed й
    assert read_keyfile(path, "и\u0306од").name == key.name  # decomposed й


def test_existing_key_file_is_not_overwritten(keyfile, key):
    with pytest.raises(FileExistsError):
        write_keyfile(keyfile, ReviewerKey.generate("other"), "pass", MINIMAL)
    assert read_keyfile(keyfile, "correct horse батарея").name == key.name


def test_altered_public_part_of_key_file_is_refused(keyfile):
    body = json.loads(keyfile.read_text())
    body["name"] = "Mallory"
    keyfile.write_text(json.dumps(body))
    with pytest.raises(KeyFileError):
        read_keyfile(keyfile, "correct horse батарея")


def test_lowered_kdf_cost_in_key_file_is_refused(tmp_path, key):
    path = tmp_path / "k"
    write_keyfile(path, key, "pass", MINIMAL)
    body = json.loads(path.read_text())
    body["kdf"]["opslimit"] = 2
    path.write_text(json.dumps(body))
    with pytest.raises(KeyFileError):
        read_keyfile(path, "pass")


def test_unknown_key_file_version_is_refused(keyfile):
    body = json.loads(keyfile.read_text())
    body["version"] = 99
    keyfile.write_text(json.dumps(body))
    with pytest.raises(KeyFileError, match="version 99"):
        read_keyfile(keyfile, "correct horse батарея")


@pytest.mark.parametrize("content", [b"", b"not json", b"[]", b'{"format": "other"}'])
def test_garbage_is_not_a_key_file(tmp_path, content):
    path = tmp_path / "k"
    path.write_bytes(content)
    with pytest.raises(KeyFileError):
        read_keyfile(path, "x")


def test_missing_key_file_is_a_key_file_error(tmp_path):
    with pytest.raises(KeyFileError):
        read_keyfile(tmp_path / "absent", "x")


def test_bundle_can_be_read_from_key_file_without_passphrase(keyfile, key):
    assert read_keyfile_bundle(keyfile).fingerprint == key.bundle().fingerprint


def test_bundle_round_trips_through_json(key):
    bundle = key.bundle()
    parsed = RecipientBundle.from_json(bundle.to_json())
    assert parsed == bundle
    assert parsed.box_key == key.box.public_key


def test_fingerprint_is_six_groups_of_five_digits(key):
    assert re.fullmatch(r"\d{5}( \d{5}){5}", key.bundle().fingerprint)


def test_fingerprints_differ_between_keys(key):
    assert key.bundle().fingerprint != ReviewerKey.generate("x").bundle().fingerprint


@pytest.mark.parametrize("field", ["name", "box_key", "verify_key"])
def test_bundle_altered_in_transit_is_refused(key, field):
    data = key.bundle().to_dict()
    other = ReviewerKey.generate("Mallory").bundle().to_dict()
    data[field] = other[field]
    data.pop("fingerprint")
    with pytest.raises(BadBundleError):
        RecipientBundle.from_dict(data)


def test_bundle_with_a_wrong_fingerprint_is_refused(key):
    data = key.bundle().to_dict()
    data["fingerprint"] = "00000 00000 00000 00000 00000 00000"
    with pytest.raises(BadBundleError, match="fingerprint"):
        RecipientBundle.from_dict(data)


@pytest.mark.parametrize(
    "text", ["", "{}", "[1]", '{"format": "amanat-recipient", "version": 2}', "{bad json"]
)
def test_malformed_bundles_are_refused(text):
    with pytest.raises(BadBundleError):
        RecipientBundle.from_json(text)


def test_reviewer_name_must_be_given():
    with pytest.raises(ValueError):
        ReviewerKey.generate("")


@pytest.mark.parametrize(
    "add",
    [
        lambda body: body.update(comment="harmless?"),
        lambda body: body["kdf"].update(pepper="x"),
        lambda body: body["bundle"].update(regions=["osh"]),
        lambda body: body.pop("name"),
    ],
    ids=["top-level", "in kdf", "in bundle", "dropped"],
)
def test_key_file_fields_unknown_or_missing_are_authenticated_not_ignored(keyfile, add):
    body = json.loads(keyfile.read_text())
    add(body)
    keyfile.write_text(json.dumps(body, ensure_ascii=False, indent=4))
    with pytest.raises(KeyFileError):
        read_keyfile(keyfile, "correct horse батарея")


def test_key_file_layout_and_spelling_are_free(keyfile, key):
    # Whitespace, key order and \u escapes are not part of what is authenticated.
    body = json.loads(keyfile.read_text())
    keyfile.write_text(json.dumps(dict(reversed(list(body.items()))), ensure_ascii=True))
    assert bytes(read_keyfile(keyfile, "correct horse батарея").box) == bytes(key.box)


def test_key_file_with_a_repeated_field_is_refused(keyfile):
    text = keyfile.read_text().replace('"version": 1,', '"version": 1, "name": "Mallory",', 1)
    keyfile.write_text(text)
    with pytest.raises(KeyFileError):
        read_keyfile(keyfile, "correct horse батарея")
