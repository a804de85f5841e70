"""The server's code has no path that opens a report (docs/DESIGN.md section 3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.adversarial.imports import decrypting_imports, module_name_of

ROOT = Path(__file__).resolve().parents[2]


def server_files() -> list[Path]:
    return [*sorted((ROOT / "portal").rglob("*.py")), ROOT / "wsgi.py"]


def test_portal_cannot_import_decrypt() -> None:
    files = server_files()
    assert len(files) > 10
    problems = [
        problem
        for path in files
        for problem in decrypting_imports(path, module_name_of(path, ROOT))
    ]
    assert problems == []


@pytest.mark.parametrize(
    "planted",
    [
        "from crypto import open_bytes",
        "from crypto import read_keyfile",
        "from crypto import Opener as Sealer",
        "import crypto\ncrypto.open_bytes(b'', None, None)",
        "import crypto.signatures",
        "import crypto.envelope as envelope",
        "from crypto import envelope",
        "from crypto import *",
        "from crypto.source import open_bytes",
        "from crypto.manifest import FileOpener",
        "from crypto.keys import read_keyfile",
        "import importlib\nimportlib.import_module('crypto.envelope')",
        "from admin.vault import Vault",
        "from .. import admin",
    ],
)
def test_a_planted_decrypting_import_fails_the_boundary_check(tmp_path: Path, planted: str) -> None:
    """Every way of reaching an opener is caught, re-exports and the facade included."""
    module = tmp_path / "planted.py"
    module.write_text(f"{planted}\n", encoding="utf-8")
    assert decrypting_imports(module, "portal.planted") != []


def test_the_check_passes_what_the_portal_really_needs(tmp_path: Path) -> None:
    """Sealing, signing and the source's own reply opener stay allowed."""
    module = tmp_path / "fine.py"
    module.write_text(
        "from crypto.envelope import Kind, seal_bytes\n"
        "from crypto.source import open_reply\n"
        "from crypto.signatures import sign\n"
        "import crypto.signatures as signatures\n",
        encoding="utf-8",
    )
    assert decrypting_imports(module, "portal.fine") == []


def test_the_only_opener_the_portal_uses_opens_replies_alone() -> None:
    import ast

    used = set()
    for path in (ROOT / "portal").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "crypto.source":
                used |= {alias.name for alias in node.names if alias.name.startswith("open")}
    # open_own_copy opens only what the source sent, with the source's own key
    # (the codename's): the source reading their own thread.
    assert used <= {"open_reply", "open_own_copy"}
