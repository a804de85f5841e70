"""README's layout table and docs/DESIGN.md name only paths that exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# A path in backticks: a folder ending in "/", or a file with one of our suffixes.
PATH = re.compile(r"`([A-Za-z0-9_./-]+(?:/|\.py|\.md|\.cfg|\.html|\.toml))`")
# Paths that live on a reviewer's or operator's machine, not in the repository.
NOT_IN_TREE = ("incoming/", "blobs/", "instance/", "~", "/")


def named_paths(text: str) -> list[str]:
    """Each path the text names; in a table row about a folder, bare names are inside it."""
    found = []
    for line in text.splitlines():
        row = re.match(r"\| `([A-Za-z0-9_./-]+/)` \|", line)
        for path in PATH.findall(line):
            if path.startswith(NOT_IN_TREE) or path.startswith("."):
                continue
            if row is not None and "/" not in path and not path.endswith(".md"):
                path = row.group(1) + path
            found.append(path)
    return found


def exists(path: str) -> bool:
    """A path from the root; a bare file name may also be one of docs/ (links between docs)."""
    return (ROOT / path).exists() or ("/" not in path and (ROOT / "docs" / path).exists())


def layout_section(readme: str) -> str:
    return readme.split("## Layout", 1)[1]


@pytest.mark.parametrize(
    ("doc", "text"),
    [
        ("README.md", layout_section((ROOT / "README.md").read_text(encoding="utf-8"))),
        ("docs/DESIGN.md", (ROOT / "docs" / "DESIGN.md").read_text(encoding="utf-8")),
    ],
)
def test_every_path_the_docs_name_exists(doc: str, text: str) -> None:
    paths = named_paths(text)
    assert paths, f"{doc} names no paths: the pattern broke"
    assert [p for p in paths if not exists(p)] == []


def test_the_layout_table_names_every_top_level_package_and_subpackage() -> None:
    table = layout_section((ROOT / "README.md").read_text(encoding="utf-8"))
    packages = [
        str(init.parent.relative_to(ROOT)) + "/"
        for top in ("crypto", "portal", "admin")
        for init in sorted((ROOT / top).rglob("__init__.py"))
        if "migrations" not in init.parts and "translations" not in init.parts
    ]
    assert [p for p in packages if f"`{p}`" not in table] == []


def test_the_path_pattern_sees_a_missing_file() -> None:
    assert named_paths("see `admin/nowhere.py` and `incoming/`") == ["admin/nowhere.py"]
    assert named_paths("| `admin/console/` | `app.py` wires it |") == [
        "admin/console/",
        "admin/console/app.py",
    ]
