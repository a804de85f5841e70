"""Both apps' catalogs are complete, and built by the one recipe in babel.cfg and the Makefile.

The portal's strings live in portal/ and templates/portal/, the console's in
admin/ and templates/admin/; `make catalogs` extracts each into its own
translations folder and `make translations` compiles both.
"""

from __future__ import annotations

import gettext
import os
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
LANGS = ("ru", "ky", "en")
APPS = {
    "portal": ("portal", "templates/portal"),
    "admin": ("admin", "templates/admin"),
}
CASES = [(app, lang) for app in APPS for lang in LANGS]


def _catalog(app: str, lang: str) -> Catalog:
    with open(ROOT / app / "translations" / lang / "LC_MESSAGES" / "messages.po", "rb") as po:
        return read_po(po, locale=lang)


def _makefile_keywords() -> dict[str, object]:
    line = re.search(r"^KEYWORDS := (.*)$", (ROOT / "Makefile").read_text(), re.M)
    assert line, "the Makefile's catalogs recipe names its keywords"
    keywords: dict[str, object] = dict(DEFAULT_KEYWORDS)
    for spec in re.findall(r"-k (\S+)", line.group(1)):
        name, _, args = spec.partition(":")
        keywords[name] = tuple(int(a) for a in args.split(",")) if args else None
    return keywords


def _extracted(app: str) -> set[str]:
    with open(ROOT / "babel.cfg") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    keywords = _makefile_keywords()
    found: set[str] = set()
    for folder in APPS[app]:
        for _file, _line, message, _comments, _context in extract_from_dir(
            os.fspath(ROOT / folder), method_map, options_map, keywords=keywords
        ):
            found.add(message[0] if isinstance(message, tuple) else message)
    return found


@pytest.mark.parametrize(("app", "lang"), CASES)
def test_catalogs_have_no_empty_or_fuzzy_entries(app: str, lang: str) -> None:
    catalog = _catalog(app, lang)
    assert not catalog.fuzzy
    for message in catalog:
        if not message.id:
            continue
        assert "fuzzy" not in message.flags, message.id
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"{app} {lang}: no translation for {message.id!r}"


@pytest.mark.parametrize(("app", "lang"), CASES)
def test_compiled_catalogs_match_their_po_files(app: str, lang: str, tmp_path: Path) -> None:
    fresh = tmp_path / "messages.mo"
    with open(fresh, "wb") as out:
        write_mo(out, _catalog(app, lang))
    committed = ROOT / app / "translations" / lang / "LC_MESSAGES" / "messages.mo"
    with open(fresh, "rb") as a, open(committed, "rb") as b:
        expected = gettext.GNUTranslations(a)._catalog  # type: ignore[attr-defined]
        actual = gettext.GNUTranslations(b)._catalog  # type: ignore[attr-defined]
    assert actual == expected, f"run `make translations` to recompile {app} {lang}"


@pytest.mark.parametrize("app", APPS)
def test_every_string_of_each_app_is_in_its_catalogs(app: str) -> None:
    extracted = _extracted(app)
    assert len(extracted) > 50, "the recipe found the app's strings"
    for lang in LANGS:
        ids = {m.id[0] if isinstance(m.id, tuple) else m.id for m in _catalog(app, lang) if m.id}
        missing = extracted - ids
        assert not missing, f"{app} {lang} lacks {sorted(missing)}: run `make catalogs`"


def test_the_recipe_finds_strings_of_both_kinds_of_file() -> None:
    portal, admin = _extracted("portal"), _extracted("admin")
    assert "Unlock the console" in admin, "templates/admin is extracted"
    assert not {"Unlock the console"} & portal, "the console's strings stay out of the portal's"
