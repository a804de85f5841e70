"""The console's words: one term per language for the case worker, the source and sync."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).resolve().parents[3] / "admin" / "translations"
# Words the console no longer uses, each with the one it uses instead.
RETIRED = {
    "ru": {
        "рецензент": "кейс-менеджер",
        "сообщивш": "заявитель",
        "источник": "заявитель",
        "в полицию": "в милицию",
    },
    "ky": {
        "рецензент": "кейс-менеджер",
        "карап чыгуучу": "кейс-менеджер",
        "булак": "билдирүүчү",
        "синхрондош": "шайкештирүү",
    },
}
FIXED = {
    "ru": {
        "Download the decrypted file": "Скачать расшифрованный файл",
        "Acts": "Эпизоды нарушений",
        "a reviewer": "кейс-менеджер",
        "the source": "заявитель",
    },
    "ky": {"Acts": "Бузуу эпизоддору", "a reviewer": "кейс-менеджер", "the source": "билдирүүчү"},
}


def catalog(lang):
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as po:
        return {m.id: m.string for m in read_po(po, locale=lang) if m.id}


@pytest.mark.parametrize("lang", ["ru", "ky"])
def test_one_word_each_for_the_case_worker_the_source_and_sync(lang):
    strings = catalog(lang)
    for msgid, text in strings.items():
        for old, new in RETIRED[lang].items():
            assert not re.search(old, str(text), re.IGNORECASE), f"{msgid!r}: {old} -> {new}"
    for msgid, text in FIXED[lang].items():
        assert strings[msgid] == text
