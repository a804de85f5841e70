"""crypto/ stands alone: the right package, and no web or database code in it."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import crypto

ROOT = Path(__file__).resolve().parents[2]
CRYPTO_DIR = ROOT / "crypto"
FORBIDDEN = ("flask", "werkzeug", "sqlalchemy", "jinja2", "portal", "admin")


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_import_crypto_resolves_to_this_project():
    """A PyPI package named `crypto` exists; ours must win and it must not be installed."""
    assert Path(crypto.__file__).resolve().parent == CRYPTO_DIR
    assert hasattr(crypto, "seal_stream")


def test_crypto_source_imports_nothing_from_web_database_portal_or_admin():
    for path in CRYPTO_DIR.glob("*.py"):
        for name in imported_modules(path):
            assert name.split(".")[0] not in FORBIDDEN, f"{path.name} imports {name}"


def test_importing_crypto_loads_no_web_or_database_module():
    code = (
        "import json, sys, pkgutil, importlib, crypto\n"
        "for m in pkgutil.iter_modules(crypto.__path__):\n"
        "    importlib.import_module('crypto.' + m.name)\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = json.loads(out.stdout)
    bad = [m for m in loaded if m.split(".")[0] in FORBIDDEN]
    assert bad == []


def test_only_the_private_sodium_module_touches_raw_bindings():
    for path in CRYPTO_DIR.glob("*.py"):
        if path.name == "_sodium.py":
            continue
        assert not any(name.startswith("nacl.bindings") for name in imported_modules(path)), (
            f"{path.name} imports nacl.bindings"
        )
