"""A reviewer's signature on a reply, so no one else (the server included) can forge one.

The signed message (docs/PROTOCOL.md, "Replies and case events") is the
canonical JSON of the report id and the reply envelope's SHA-256 in hex.
Version-1 signatures, over "amanat-reply-v1" LF report id LF hex digest,
still verify; only version 2 is written.
"""

from __future__ import annotations

from crypto.signatures import Purpose, ReportEnvelopeSignature

REPLY_VERSION = 2

_REPLY = ReportEnvelopeSignature(Purpose.REPLY, REPLY_VERSION, "amanat-reply-v1")

# The bytes a reply signature covers (version 2), signing and verifying:
# verify_reply returns if the reviewer signed this reply for this report and
# raises BadSignatureError otherwise.
reply_message = _REPLY.message
sign_reply = _REPLY.sign
verify_reply = _REPLY.verify
