"""The server's code has no path that opens a report (DESIGN.md section 3)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# What opens sealed content, and the reviewer side as a whole.
DECRYPTING = {
    "crypto.envelope": {"Opener", "open_stream", "open_bytes"},
    "crypto.manifest": {"FileOpener", "open_file", "export_file"},
    "crypto.keys": {"read_keyfile"},
}
FORBIDDEN_MODULES = ("admin",)


def imports_of(path: Path) -> list[tuple[str, str | None]]:
    """(module, name) for every import in a file; name is None for `import module`."""
    found: list[tuple[str, str | None]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found += [(node.module, alias.name) for alias in node.names]
    return found


def test_portal_cannot_import_decrypt() -> None:
    problems = []
    files = [*sorted((ROOT / "portal").rglob("*.py")), ROOT / "wsgi.py"]
    assert len(files) > 10
    for path in files:
        for module, name in imports_of(path):
            where = path.relative_to(ROOT)
            if module.split(".")[0] in FORBIDDEN_MODULES:
                problems.append(f"{where} imports {module}")
            if name is None and module in DECRYPTING:
                problems.append(f"{where} imports all of {module}")
            if name in DECRYPTING.get(module, ()):
                problems.append(f"{where} imports {module}.{name}")
    assert problems == []


def test_the_only_opener_the_portal_uses_opens_replies_alone() -> None:
    used = {
        (module, name)
        for path in (ROOT / "portal").rglob("*.py")
        for module, name in imports_of(path)
        if module == "crypto.source" and name and name.startswith("open")
    }
    assert used <= {("crypto.source", "open_reply")}
