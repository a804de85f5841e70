"""What the reviewer sends from the vault: replies to the source and case events, sealed and signed.

A reply is sealed to the source and every reviewer of the report, an event
to the reviewers only; both to the reviewer's own key as well, never to a
key the vault was sealed to before a rekey, and (with a pinned roster) to no
colleague key the organisation did not approve (admin.roster).
"""

from __future__ import annotations

import binascii
import hashlib
from typing import TYPE_CHECKING

from nacl.public import PublicKey

from admin import roster
from admin.vault_errors import VaultError
from crypto.encoding import from_b64
from crypto.envelope import Kind, seal_bytes
from crypto.events import sign_event
from crypto.replies import sign_reply

if TYPE_CHECKING:
    from admin.vault import Vault, VaultReport


def seal_reply(vault: Vault, report_id: str, text: str) -> tuple[bytes, bytes]:
    """Seal a reply to the source and every reviewer of the report, and sign it.

    Returns (envelope, signature) as POST /api/v1/reports/<id>/replies takes them.
    """
    report = vault.report(report_id)
    try:
        keys = [from_b64(report.source_key), *_colleague_box_keys(vault, report)]
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise VaultError(f"report {report_id} has a malformed key in its listing") from exc
    former = {from_b64(k["box_key"]) for k in vault.former_keys()}
    keys = [k for k in keys if k not in former]
    keys.append(bytes(vault.key.box.public_key))
    unique = list(dict.fromkeys(k for k in keys if len(k) == 32))
    if len(unique) != len(set(keys)):
        raise VaultError(f"report {report_id} has a malformed key in its listing")
    envelope = seal_bytes(text.encode("utf-8"), [PublicKey(k) for k in unique], Kind.REPLY)
    digest = hashlib.sha256(envelope).hexdigest()
    return envelope, sign_reply(vault.key.signing, report_id, digest)


def seal_event(vault: Vault, report_id: str, content: bytes) -> tuple[bytes, bytes]:
    """Seal a case event to every reviewer of the report (never the source), and sign it.

    Returns (envelope, signature) as POST /api/v1/reports/<id>/events takes them.
    """
    report = vault.report(report_id)
    try:
        keys = _colleague_box_keys(vault, report)
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise VaultError(f"report {report_id} has a malformed key in its listing") from exc
    keys.append(bytes(vault.key.box.public_key))
    if any(len(k) != 32 for k in keys):
        raise VaultError(f"report {report_id} has a malformed key in its listing")
    unique = list(dict.fromkeys(keys))
    envelope = seal_bytes(content, [PublicKey(k) for k in unique], Kind.EVENT)
    digest = hashlib.sha256(envelope).hexdigest()
    return envelope, sign_event(vault.key.signing, report_id, digest)


def _colleague_box_keys(vault: Vault, report: VaultReport) -> list[bytes]:
    """The listed recipients' box keys that the pinned roster approves (all without one).

    A key the server lists but the organisation never approved gets
    nothing new (admin.roster).
    """
    approved = roster.sealing_keys(vault, report)
    if approved is not None:
        return approved
    return [from_b64(r["box_key"]) for r in report.recipients]
