"""Where a source gets help right now: crisis contacts, per language and region.

The operator lists the programme's contacts in a JSON file named by
AMANAT_CRISIS_CONTACTS_FILE:

    {"contacts": [
        {"name": {"ru": "Скорая помощь", "ky": "Тез жардам", "en": "Ambulance"},
         "phone": "103"},
        {"name": {"ru": "Юрист REAct, Ош", ...}, "phone": "+996 555 000 000",
         "regions": ["osh", "osh_city"], "hours": {"ru": "пн-пт 9-18", ...}}
    ]}

A contact without regions is for everyone; one with regions is shown under
them on the help page. A name or hours missing in a language falls back to
Russian, then English. Without the file the portal shows the country's
emergency numbers. AMANAT_CRISIS_CONTACTS (one text for every language) is
still shown as the operator's note beside them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l

from portal.settings import Settings


class CrisisContactsError(ValueError):
    """The crisis contacts file cannot be used; the message says why."""


@dataclass(frozen=True)
class Contact:
    """One place to call, in one language."""

    name: str
    phone: str
    hours: str
    regions: tuple[str, ...]

    @property
    def tel(self) -> str:
        """The number as a tel: URI (digits and a leading +)."""
        digits = re.sub(r"[^0-9]", "", self.phone)
        return "tel:" + ("+" if self.phone.strip().startswith("+") else "") + digits


# Used when the operator gave no file: the numbers every phone in Kyrgyzstan can call.
DEFAULT_CONTACTS: list[dict[str, Any]] = [
    {"name": {"_": _l("Emergency (ambulance, rescue)")}, "phone": "112"},
    {"name": {"_": _l("Ambulance")}, "phone": "103"},
]


def _text(value: Any, lang: str) -> str:
    if not isinstance(value, dict):
        return str(value or "")
    for key in (lang, "ru", "en", "_"):
        if value.get(key):
            return str(value[key])
    return ""


def load_contacts(path: Path | None) -> list[dict[str, Any]]:
    """The raw contact list from path (or the defaults). Raises CrisisContactsError."""
    if path is None:
        return DEFAULT_CONTACTS
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CrisisContactsError(f"{path}: {exc}") from exc
    contacts = data.get("contacts") if isinstance(data, dict) else None
    if not isinstance(contacts, list) or not contacts:
        raise CrisisContactsError(f'{path}: no "contacts" list')
    for item in contacts:
        if not isinstance(item, dict) or not re.search(r"[0-9]", str(item.get("phone", ""))):
            raise CrisisContactsError(f"{path}: every contact needs a name and a phone number")
        if not isinstance(item.get("regions", []), list):
            raise CrisisContactsError(f'{path}: "regions" is a list of region codes')
    return contacts


def contacts_for(raw: list[dict[str, Any]], lang: str) -> list[Contact]:
    """The contacts in lang, national ones first."""
    contacts = [
        Contact(
            name=_text(item.get("name"), lang),
            phone=str(item["phone"]).strip(),
            hours=_text(item.get("hours"), lang),
            regions=tuple(str(r) for r in item.get("regions", [])),
        )
        for item in raw
    ]
    return sorted(contacts, key=lambda c: bool(c.regions))


def init_app(app: Flask, settings: Settings) -> None:
    """Load the contacts once; a broken file stops the portal at start, not a source later."""
    app.extensions["amanat.crisis"] = load_contacts(settings.crisis_contacts_file)
