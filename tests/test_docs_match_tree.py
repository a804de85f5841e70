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


CITED = re.compile(r"tests/[\w/]+\.py(?:::\w+)?|::\w+")


def security_claims(text: str) -> list[tuple[str, str | None]]:
    """(test file, test name or None) for each test docs/SECURITY.md's tables cite.

    A cell lists `tests/x.py::name`, `::other` (same file) or a whole `tests/x.py`.
    """
    cited: list[tuple[str, str | None]] = []
    for line in text.splitlines():
        if not line.startswith("| tests/"):
            continue
        current = ""
        for item in CITED.findall(line.split("|")[1]):
            path, _, name = item.partition("::")
            current = path or current
            cited.append((current, name or None))
    return cited


def test_every_test_security_md_cites_exists() -> None:
    cited = security_claims((ROOT / "docs" / "SECURITY.md").read_text(encoding="utf-8"))
    assert len(cited) > 50, "the table pattern broke"
    missing = []
    for path, name in cited:
        file = ROOT / path
        if not file.is_file():
            missing.append(path)
        elif name and not re.search(
            rf"^\s*(?:async )?def {re.escape(name)}\(", file.read_text(), re.M
        ):
            missing.append(f"{path}::{name}")
    assert missing == []


def test_the_citation_reader_sees_a_missing_test() -> None:
    assert security_claims("| tests/a.py::one, ::two, tests/b.py (prose) | claim |") == [
        ("tests/a.py", "one"),
        ("tests/a.py", "two"),
        ("tests/b.py", None),
    ]
