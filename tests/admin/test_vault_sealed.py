"""Sealed side files of the vault (case numbers, templates, search index): never plaintext."""

from __future__ import annotations

import pytest

from admin.case_numbers import case_numbers
from admin.vault import DamagedVaultError, Vault, WrongVaultKeyError
from admin.vault_sealed import load_side, save_side, side_path
from crypto.keys import ReviewerKey


@pytest.fixture
def vault(tmp_path):
    return Vault.open(tmp_path / "vault", ReviewerKey.generate("Aigul"))


def test_a_side_file_round_trips_and_holds_no_plaintext(vault):
    save_side(vault, "templates", {"greeting": "СЕКРЕТНЫЙ-МАРКЕР привет"})
    assert load_side(vault, "templates") == {"greeting": "СЕКРЕТНЫЙ-МАРКЕР привет"}
    raw = side_path(vault, "templates").read_bytes()
    assert "СЕКРЕТНЫЙ".encode() not in raw and b"greeting" not in raw


def test_a_missing_side_file_is_empty(vault):
    assert load_side(vault, "search_index") == {}


def test_one_side_file_cannot_pass_for_another(vault):
    save_side(vault, "templates", {"x": 1})
    side_path(vault, "templates").rename(side_path(vault, "case_numbers"))
    with pytest.raises(DamagedVaultError):
        load_side(vault, "case_numbers")


def test_a_side_file_of_another_key_is_refused(vault, tmp_path):
    other = Vault.open(tmp_path / "other", ReviewerKey.generate("Other"))
    save_side(other, "templates", {"x": 1})
    side_path(vault, "templates").write_bytes(side_path(other, "templates").read_bytes())
    with pytest.raises(WrongVaultKeyError):
        load_side(vault, "templates")


def test_a_damaged_side_file_is_refused(vault):
    save_side(vault, "templates", {"x": 1})
    path = side_path(vault, "templates")
    data = bytearray(path.read_bytes())
    data[-5] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(DamagedVaultError):
        load_side(vault, "templates")


def test_case_numbers_follow_the_region_and_never_change(vault):
    first = case_numbers(
        vault, [("r2", "2026-11-02", "osh_city"), ("r1", "2026-11-01", "osh_city")]
    )
    assert first == {"r1": "OSH-0001", "r2": "OSH-0002"}
    later = case_numbers(
        vault,
        [("r0", "2026-10-01", "osh_city"), ("r1", "2026-11-01", "osh_city"), ("r3", "", None)],
    )
    assert later["r1"] == "OSH-0001" and later["r2"] == "OSH-0002"
    assert later["r0"] == "OSH-0003" and later["r3"] == "KG-0001"
