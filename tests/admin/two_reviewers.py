"""Two reviewers of one report through the real portal: what their tests share."""

from __future__ import annotations

import base64
import json
import os

from admin.client import ApiClient
from admin.vault import Vault
from crypto.roster import Member

FILE_BYTES = b"EVIDENCE " * 1000


def label(vault: Vault) -> str:
    """How the roster names the vault's owner: name and short fingerprint."""
    return Member.from_bundle(vault.key.bundle()).label


def api(live_server, vault):
    return ApiClient(live_server.url, vault.key)


def own_event(vault, report_id, **changes):
    body = {
        "v": 1,
        "id": os.urandom(16).hex(),
        "report_id": report_id,
        "author": base64.b64encode(bytes(vault.key.signing.verify_key)).decode(),
        "author_name": vault.key.name,
        "day": "2026-11-28",
        "clock": 1,
        "parents": [],
        "type": "set_priority",
        "data": {"priority": "urgent"},
    }
    body.update(changes)
    return json.dumps(body).encode()
