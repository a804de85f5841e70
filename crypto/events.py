"""A reviewer's signature on a case event, so no one else (the server included) can forge one.

The signature covers the report id and the SHA-256 of the sealed envelope,
exactly as a reply's does (crypto.replies), under its own purpose label: a
reply signature never passes for an event's, nor the other way round.
Version-1 signatures, over "amanat-case-event-v1" LF report id LF hex
digest, still verify; only version 2 (canonical JSON) is written.
"""

from __future__ import annotations

from crypto.signatures import Purpose, ReportEnvelopeSignature

EVENT_SIGNATURE_VERSION = 2

_EVENT = ReportEnvelopeSignature(
    Purpose.CASE_EVENT, EVENT_SIGNATURE_VERSION, "amanat-case-event-v1"
)

# The bytes an event signature covers (version 2), signing and verifying:
# verify_event returns if the reviewer signed this event for this report and
# raises BadSignatureError otherwise.
event_message = _EVENT.message
sign_event = _EVENT.sign
verify_event = _EVENT.verify
