"""The reviewer side's tests use tests/conftest.py's live_server: the real portal over HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from crypto.kdf import MINIMAL
from crypto.keys import ReviewerKey, write_keyfile
from tests.admin.synced_console import PASSPHRASE


@pytest.fixture
def keyfile(tmp_path: Path, recipient_key: ReviewerKey) -> Path:
    """The reviewer's key file, tmp_path/me.key, locked with PASSPHRASE."""
    path = tmp_path / "me.key"
    write_keyfile(path, recipient_key, PASSPHRASE, MINIMAL)
    return path
