"""private_file(): whole or absent, owner-only, never written through a link."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from crypto.private_files import private_file, write_private


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_a_private_file_is_owner_only_even_under_a_loose_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        write_private(tmp_path / "key", b"secret")
    finally:
        os.umask(old)
    assert (tmp_path / "key").read_bytes() == b"secret"
    assert stat.S_IMODE((tmp_path / "key").stat().st_mode) == 0o600


@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()])
def test_any_error_keeps_the_old_content_and_leaves_no_temporary_file(
    tmp_path: Path, error: BaseException
) -> None:
    target = tmp_path / "index"
    target.write_bytes(b"old")
    with pytest.raises(type(error)), private_file(target) as out:
        out.write(b"half of the new")
        raise error
    assert target.read_bytes() == b"old"
    assert leftovers(tmp_path) == []


def test_without_overwrite_an_existing_file_is_never_replaced(tmp_path: Path) -> None:
    target = tmp_path / "backup.tar"
    target.write_bytes(b"first")
    with pytest.raises(FileExistsError):
        write_private(target, b"second", overwrite=False)
    assert target.read_bytes() == b"first"


def test_without_overwrite_a_file_that_appears_meanwhile_is_kept(tmp_path: Path) -> None:
    target = tmp_path / "backup.tar"
    with pytest.raises(FileExistsError), private_file(target, overwrite=False) as out:
        out.write(b"ours")
        target.write_bytes(b"theirs")
    assert target.read_bytes() == b"theirs"
    assert leftovers(tmp_path) == []


def test_a_link_planted_at_the_target_is_replaced_not_written_through(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(b"untouched")
    target = tmp_path / "key"
    target.symlink_to(victim)
    write_private(target, b"secret")
    assert victim.read_bytes() == b"untouched"
    assert not target.is_symlink()
    assert target.read_bytes() == b"secret"
