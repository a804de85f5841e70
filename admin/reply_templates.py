"""Reusable reply templates, per language, kept sealed in the vault.

A case worker writes the same first answers often ("we received your
message...", "a lawyer will contact you here..."). Templates are a sealed
side file (admin/vault_sealed.py), so their text is never on disk in the
clear; each belongs to one language (ru, ky, en), and the report page
offers those of the console's language. A template fills the reply box;
it is never sent without the reviewer pressing "Send".
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

from admin.vault import Vault
from admin.vault_sealed import load_side, save_side

SIDE_NAME = "reply_templates"
LANGUAGES = ("ru", "ky", "en")
MAX_TITLE = 100
MAX_TEXT = 20_000


class TemplateError(ValueError):
    """A template cannot be saved as given; the message is for the reviewer."""


@dataclass(frozen=True)
class ReplyTemplate:
    id: str
    lang: str
    title: str
    text: str


def templates(vault: Vault, lang: str | None = None) -> list[ReplyTemplate]:
    """The vault's templates (of one language if lang is given), by title."""
    found = load_side(vault, SIDE_NAME).get("templates", [])
    out = [
        ReplyTemplate(str(t["id"]), str(t["lang"]), str(t["title"]), str(t["text"]))
        for t in found
        if isinstance(t, dict) and {"id", "lang", "title", "text"} <= set(t)
    ]
    return sorted((t for t in out if lang is None or t.lang == lang), key=lambda t: t.title)


def add_template(vault: Vault, lang: str, title: str, text: str) -> ReplyTemplate:
    """Save a new template; TemplateError if the language, title or text is not acceptable."""
    title, text = title.strip(), text.strip()
    if lang not in LANGUAGES:
        raise TemplateError(f"language must be one of {', '.join(LANGUAGES)}")
    if not title or len(title) > MAX_TITLE:
        raise TemplateError(f"a title of 1 to {MAX_TITLE} characters")
    if not text or len(text) > MAX_TEXT:
        raise TemplateError(f"a text of 1 to {MAX_TEXT} characters")
    template = ReplyTemplate(os.urandom(8).hex(), lang, title, text)
    _save(vault, [*templates(vault), template])
    return template


def delete_template(vault: Vault, template_id: str) -> bool:
    """Remove a template; False if there was none with this id."""
    kept = [t for t in templates(vault) if t.id != template_id]
    if len(kept) == len(templates(vault)):
        return False
    _save(vault, kept)
    return True


def _save(vault: Vault, items: list[ReplyTemplate]) -> None:
    save_side(vault, SIDE_NAME, {"templates": [asdict(t) for t in items]})


__all__ = ["ReplyTemplate", "TemplateError", "add_template", "delete_template", "templates"]
