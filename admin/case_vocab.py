"""The case events' types and the shape of each one's data (docs/DESIGN.md section 7).

Codes are stable and stored in events; labels are translated where shown.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from admin.questionnaire_vocab import option_codes

# What happened and who did it: the codes the source's questionnaire offers,
# so a reviewer's act and a source's answer count in one table.
VIOLATION_TYPES = option_codes("violation_types")
PERPETRATOR_TYPES = option_codes("perpetrator_types")
STATE_ROLES = ("perpetrator", "failed_to_protect", "failed_to_remedy", "none")
RESPONSE_TYPES = (
    "primary_legal_aid",
    "secondary_legal_aid",
    "psychosocial",
    "medical_social_referral",
    "accompaniment",
    "shelter",
    "art_ost_continuity",
    "mediation_with_perpetrator",
    "complaint_to_facility",
    "complaint_to_police_or_prosecutor",
    "complaint_to_ombudsman",
    "strategic_litigation",
    "un_communication",
    "material_support",
    "information_only",
)
RESPONSE_MODES = ("direct", "referred")
RESOLUTIONS = (
    "resolved_fully",
    "resolved_partially",
    "not_resolved",
    "client_declined",
    "lost_contact",
    "ongoing",
)
PRIORITIES = ("low", "normal", "high", "urgent")
# Informed consent is asked separately for each use (docs/DESIGN.md section 7).
CONSENT_ACTIONS = (
    "store_report",
    "be_contacted",
    "anonymised_statistics",
    "share_with_lawyer",
    "contact_authorities",
)
CUSTODY_ACTIONS = ("decrypt", "export", "share")

# set_* events: the field each one writes (last writer wins, by (clock, id)).
SET_FIELDS = {
    "set_qualification": "qualification",
    "set_priority": "priority",
    "set_client_code": "client_code",
    "set_complaint_reply": "complaint_reply",
    "set_outcome": "outcome",
    "set_assignee": "assignee",
}
EVENT_TYPES = (
    "set_qualification",
    "add_act",
    "set_priority",
    "set_client_code",
    "add_response",
    "add_complaint",
    "set_complaint_reply",
    "set_outcome",
    "add_consent",
    "set_assignee",
    "custody",
)

MAX_TEXT = 2000
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_HEX = re.compile(r"[0-9a-f]{32}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_BLOB_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


Check = Callable[[Mapping[str, object], str], None]


class DataError(ValueError):
    """An event's data does not have the shape its type requires."""


def _code(data: Mapping[str, object], key: str, allowed: tuple[str, ...]) -> None:
    if data.get(key) not in allowed:
        raise DataError(f"{key} must be one of {', '.join(allowed)}")


def _day(data: Mapping[str, object], key: str, optional: bool = False) -> None:
    value = data.get(key)
    if optional and value is None:
        return
    if not isinstance(value, str) or not _DAY.fullmatch(value):
        raise DataError(f"{key} must be a day, YYYY-MM-DD")


def _text(data: Mapping[str, object], key: str, optional: bool = False) -> None:
    value = data.get(key)
    if optional and value is None:
        return
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        raise DataError(f"{key} must be a text of 1 to {MAX_TEXT} characters")


def _bool(data: Mapping[str, object], key: str, optional: bool = False) -> None:
    value = data.get(key)
    if not isinstance(value, bool) and not (optional and value is None):
        raise DataError(f"{key} must be true or false")


def _match(data: Mapping[str, object], key: str, pattern: re.Pattern[str]) -> None:
    value = data.get(key)
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise DataError(f"{key} is malformed")


def _one_of(allowed: tuple[str, ...]) -> Check:
    return lambda data, key: _code(data, key, allowed)


def _optional_day(data: Mapping[str, object], key: str) -> None:
    _day(data, key, optional=True)


def _optional_bool(data: Mapping[str, object], key: str) -> None:
    _bool(data, key, optional=True)


def _pattern(pattern: re.Pattern[str]) -> Check:
    return lambda data, key: _match(data, key, pattern)


# For each event type, the data's keys and how each is checked.
SCHEMAS: dict[str, dict[str, Check]] = {
    "set_qualification": {"violation": _optional_bool},
    "add_act": {
        "violation_type": _one_of(VIOLATION_TYPES),
        "perpetrator_type": _one_of(PERPETRATOR_TYPES),
        "state_role": _one_of(STATE_ROLES),
    },
    "set_priority": {"priority": _one_of(PRIORITIES)},
    "set_client_code": {"client_code": _text},
    "add_response": {"type": _one_of(RESPONSE_TYPES), "mode": _one_of(RESPONSE_MODES), "day": _day},
    "add_complaint": {"institution": _text, "day": _day},
    "set_complaint_reply": {"complaint": _pattern(_HEX), "reply": _text},
    "set_outcome": {"resolution": _one_of(RESOLUTIONS), "closed_day": _optional_day},
    "add_consent": {"action": _one_of(CONSENT_ACTIONS), "agreed": _bool, "day": _day},
    "set_assignee": {"assignee": _text},
    "custody": {
        "action": _one_of(CUSTODY_ACTIONS),
        "blob_id": _pattern(_BLOB_ID),
        "sha256": _pattern(_SHA256),
    },
}


def check_data(kind: str, data: Any) -> None:
    """Return if data suits an event of this type; raise DataError (a ValueError) otherwise."""
    if not isinstance(data, dict):
        raise DataError("an event's data must be an object")
    schema = SCHEMAS.get(kind)
    if schema is None:
        raise DataError(f"unknown event type {kind!r}")
    extra = set(data) - set(schema)
    if extra:
        raise DataError(f"unexpected field {sorted(extra)[0]!r}")
    for key, check in schema.items():
        check(data, key)
