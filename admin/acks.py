"""Tell the server, signed, which blobs this vault holds and has checked.

Retention on the server counts these acknowledgements and nothing else
(docs/API.md, POST /api/v1/acks). A blob is acknowledged only once it is in
the vault, the index naming it is saved, and the SHA-256 of the file on this
disk is the one the server's receipt signed. A vault made before
acknowledgements existed simply acknowledges everything it holds at its next
sync.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from admin.client import ApiClient, ClientError
from admin.listing_types import Ack
from admin.vault import Vault
from crypto.acks import sign_ack

BATCH = 1000


def acknowledge_held(vault: Vault, client: ApiClient) -> list[str]:
    """Acknowledge every held, checked blob not acknowledged before; return the ids counted.

    Raises ClientError (ConnectionFailed when the server cannot be reached).
    """
    vault.save()  # the index names every blob before the server is told it is held
    pending = unacknowledged(vault)
    counted: list[str] = []
    for start in range(0, len(pending), BATCH):
        answer = client.post_acks(pending[start : start + BATCH])
        done = answer.get("acknowledged")
        refused = answer.get("refused")
        if not isinstance(done, list) or not isinstance(refused, list):
            raise ClientError("the server's answer to the acknowledgements is malformed")
        ids = [d for d in done if isinstance(d, str)]
        counted += ids
        # A refused one (its report deleted on the server, say) is not hashed
        # again at every sync: the server's refusal does not change.
        gone = [r.get("blob") for r in refused if isinstance(r, dict)]
        vault.mark_acknowledged(ids, [g for g in gone if isinstance(g, str)])
    vault.save()
    return counted


def unacknowledged(vault: Vault) -> list[Ack]:
    """Signed acknowledgements of every held, checked blob the server has not counted yet."""
    done = vault.acknowledged()
    acks: list[Ack] = []
    for report in vault.reports():
        for blob in report.blobs:
            blob_id = blob["id"]
            if blob_id in done or not vault.has_blob(blob_id):
                continue
            digest = _sha256(vault.blob_path(blob_id))
            # A blob re-sealed to a new key (admin.rekey) is another file now;
            # the digest the receipt vouched for stands for it as for its signature.
            if digest != blob["sha256"] and vault.resealed_digest(blob_id) != digest:
                continue
            signature = sign_ack(vault.key.signing, blob_id, blob["sha256"])
            acks.append(
                {
                    "blob": blob_id,
                    "sha256": blob["sha256"],
                    "signature": base64.b64encode(signature).decode("ascii"),
                }
            )
    return acks


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()
