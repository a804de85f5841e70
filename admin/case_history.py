"""The case history as sentences in the console's language, from the event registry.

"Priority set to High by Aigul (40721…) on 2 December 2026": each event's
sentence is its type's msgid in admin/case_registry.py, filled with the
data's values as the console labels them, the author's name with the
first group of their key fingerprint, and the day in the console's
language.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from flask_babel import format_date
from flask_babel import gettext as _
from nacl.public import PublicKey
from nacl.signing import VerifyKey

from admin.case_events import HistoryItem
from admin.case_registry import BY_CODE, Field
from admin.roster import pinned_roster
from admin.vault import Vault
from crypto.keys import fingerprint

_NAMED_WITH_FINGERPRINT = re.compile(r"\(\d{5}[\d …]*\)$")


def short_fingerprints(vault: Vault, report_id: str) -> dict[str, str]:
    """Verify key (b64) to the first group of its key fingerprint, for the report's reviewers.

    Empty once the vault has pinned an organisation roster: authors' names
    then come from the roster with their fingerprint (admin.roster), and the
    keys the server lists are not to be believed.
    """
    if pinned_roster(vault) is not None:
        return {}
    keys = [(r.get("box_key"), r.get("verify_key")) for r in vault.report(report_id).recipients]
    own = vault.key
    keys.append(
        (
            base64.b64encode(bytes(own.box.public_key)).decode(),
            base64.b64encode(bytes(own.signing.verify_key)).decode(),
        )
    )
    out: dict[str, str] = {}
    for box, verify in keys:
        try:
            digits = fingerprint(
                PublicKey(base64.b64decode(str(box))), VerifyKey(base64.b64decode(str(verify)))
            )
        except (ValueError, TypeError):
            continue
        out[str(verify)] = digits.split(" ", 1)[0] + "…"
    return out


def author_label(item: HistoryItem, fingerprints: Mapping[str, str]) -> str:
    """The author's name and short fingerprint, "Aigul (40721…)"."""
    name = item.author_name or _("unknown author")
    if _NAMED_WITH_FINGERPRINT.search(name):
        return name  # the roster's label already carries the fingerprint
    key = item.event["author"] if item.event is not None else ""
    return f"{name} ({fingerprints[key]})" if key in fingerprints else name


def long_day(day: str | None) -> str:
    """A YYYY-MM-DD day in the console's language ("2 декабря 2026 г."), or "—"."""
    if not day:
        return "—"
    try:
        return str(format_date(dt.date.fromisoformat(day), "long"))
    except ValueError:
        return day


def _value(field: Field, value: Any, complaints: Mapping[str, str]) -> str:
    from admin.console.case import case_label

    if value is None and field.kind != "choice":
        return "—"
    if field.kind == "day":
        return long_day(str(value))
    if field.kind == "complaint":
        return complaints.get(str(value), "—")
    if field.kind in ("text", "reviewer"):
        return str(value)[:12] + "…" if field.name == "blob_id" else str(value)
    code = value
    if field.values is not None:
        code = next((c for c, v in field.values.items() if v == value), None)
    if field.labels is not None and code in field.labels:
        return str(_(field.labels[code]))
    return case_label(field.vocab, None if code is None else str(code))


def describe(item: HistoryItem, who: str, complaints: Mapping[str, str]) -> str:
    """The event of item as one sentence in the console's language.

    complaints maps a complaint's event id to its institution, for replies.
    An event whose type the registry does not know reads as its code.
    """
    event: Mapping[str, Any] = item.event or {}
    spec = BY_CODE.get(str(event.get("type")))
    data = event.get("data") if isinstance(event.get("data"), dict) else {}
    if spec is None or data is None:
        return str(event.get("type", "?"))
    values = {f.name: _value(f, data.get(f.name), complaints) for f in spec.fields}
    return str(_(spec.sentence_for(data), who=who, when=long_day(event.get("day")), **values))


def history_lines(
    items: list[HistoryItem], fingerprints: Mapping[str, str], complaints: Mapping[str, str]
) -> list[tuple[HistoryItem, str]]:
    """Each history item with its sentence ("" for an item whose event could not be read)."""
    return [
        (item, describe(item, author_label(item, fingerprints), complaints) if item.event else "")
        for item in items
    ]


__all__ = ["author_label", "describe", "history_lines", "long_day", "short_fingerprints"]
