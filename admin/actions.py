"""What a reviewer does on the server, once, for both front ends.

The CLI (admin/cli/) prints what these return and the console
(admin/console/views.py) renders it; neither talks to the server on its own
for these actions, so their rules (which server, the .onion and SOCKS rules,
keeping one's own reply) cannot drift apart.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import urlsplit

from admin.airgap import is_offline, queue_reply
from admin.case_events import submit_event
from admin.case_types import CaseEvent
from admin.client import ApiClient
from admin.custody import record_custody
from admin.sync import check_blob
from admin.vault import Vault, VaultError

# Where a reply or an event went: to the server now, into the next outgoing
# bundle (a vault that reviews offline), or into the vault until the next sync.
Delivery = Literal["sent", "bundle", "next sync"]


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


def reply(
    vault: Vault, connect: Callable[[], ApiClient], report_id: str, text: str
) -> Delivery | Literal["unconfirmed"]:
    """Send a reply, or keep it for the outgoing bundle if this vault reviews offline.

    connect() is called only to send; "unconfirmed" means it was sent but the
    server's answer does not describe it (so it is not kept as one's own).
    """
    if is_offline(vault):
        queue_reply(vault, report_id, text)
        return "bundle"
    with connect() as client:
        return "sent" if send_reply(vault, client, report_id, text) else "unconfirmed"


def add_event(
    vault: Vault, connect: Callable[[], ApiClient], report_id: str, kind: str, data: Any
) -> tuple[CaseEvent, Delivery]:
    """Make, seal and sign a case event; post it now unless this vault reviews offline.

    Raises CaseError for invalid data and ClientError if the server refuses it.
    """
    if is_offline(vault):
        event, _posted = submit_event(vault, None, report_id, kind, data)
        return event, "bundle"
    with connect() as client:
        event, posted = submit_event(vault, client, report_id, kind, data)
    return event, "sent" if posted else "next sync"


def log_custody(
    vault: Vault, client: ApiClient | None, report_id: str, blob_ids: list[str], action: str
) -> bool:
    """Write a custody event for each file; True if all were posted now (else some are queued)."""
    posted = [record_custody(vault, client, report_id, b, action) for b in blob_ids]
    return all(posted)


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
