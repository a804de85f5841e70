"""What a reviewer does on the server, once, for both front ends.

The CLI (admin/cli.py) prints what these return and the console
(admin/console/views.py) renders it; neither talks to the server on its own
for these actions, so their rules (which server, the .onion and SOCKS rules,
keeping one's own reply) cannot drift apart.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlsplit

from admin.client import ApiClient
from admin.sync import check_blob
from admin.vault import Vault, VaultError


class NoServerError(Exception):
    """No server was given and the vault has not synced with one yet."""


class OnionNeedsProxyError(Exception):
    """An .onion server can only be reached through Tor's SOCKS proxy."""


def client_for(vault: Vault, server: str | None, proxy: str | None) -> ApiClient:
    """A signed client for server (or the one the vault remembers), through proxy if given.

    A proxy given here is remembered in the vault for the next time.
    """
    url = server or vault.server_url
    if not url:
        raise NoServerError
    proxy = proxy or vault.proxy
    if (urlsplit(url).hostname or "").endswith(".onion") and not proxy:
        raise OnionNeedsProxyError
    if proxy:
        vault.proxy = proxy
    return ApiClient(url, vault.key, proxy=proxy)


def leaks_names(proxy: str | None) -> bool:
    """socks5:// resolves host names outside the proxy (socks5h:// does not)."""
    return bool(proxy and proxy.startswith("socks5://"))


def send_reply(vault: Vault, client: ApiClient, report_id: str, text: str) -> bool:
    """Seal, sign and post a reply; keep it in the vault. False if the server's answer is off."""
    envelope, signature = vault.seal_reply(report_id, text)
    stored = client.post_reply(report_id, envelope, signature)
    return keep_own_reply(vault, report_id, stored, envelope)


def keep_own_reply(vault: Vault, report_id: str, stored: Any, envelope: bytes) -> bool:
    """Put the reply just sent into the vault, if the server's answer describes it."""
    try:
        blob = check_blob(stored)
    except (ValueError, KeyError, TypeError, VaultError):
        return False
    if blob["sha256"] != hashlib.sha256(envelope).hexdigest():
        return False
    if not vault.has_blob(blob["id"]):
        vault.add_blob_listing(report_id, blob)
        vault.store_blob(blob["id"], envelope)
        vault.save()
    return True


def set_status(vault: Vault, client: ApiClient, report_id: str, status: str) -> str:
    """Set the report's status on the server and in the vault; return the status now shown."""
    answer = client.set_status(report_id, status)
    new = str(answer.get("status", status))
    vault.set_status(report_id, new)
    vault.save()
    return new
