"""Which decrypting code a Python file can reach through its imports.

Names are resolved to where they are defined, not to the module they were
imported from: `from crypto import open_bytes` reaches
`crypto.envelope.open_bytes` through the package's re-exports, and
`import crypto` (or `import crypto.anything`, which binds the package) hands
the file the whole facade, openers included. Both count as reaching an opener.
"""

from __future__ import annotations

import ast
import importlib
import types
from pathlib import Path

# What opens sealed content, by the name of its definition.
DECRYPTING = frozenset(
    {
        "crypto.envelope.Opener",
        "crypto.envelope.open_stream",
        "crypto.envelope.open_bytes",
        "crypto.manifest.FileOpener",
        "crypto.manifest.open_file",
        "crypto.manifest.export_file",
        "crypto.keys.read_keyfile",
    }
)
# Modules whose code opens sealed content when imported whole.
DECRYPTING_MODULES = frozenset(name.rpartition(".")[0] for name in DECRYPTING)
# The reviewer side as a whole; the server never imports any of it.
FORBIDDEN_PACKAGES = ("admin",)
IMPORTERS = {"import_module", "__import__"}


def definition_of(obj: object) -> str | None:
    """The dotted name where obj is defined, or None for data."""
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if isinstance(module, str) and isinstance(qualname, str):
        return f"{module}.{qualname}"
    return None


def reachable_openers(module: types.ModuleType) -> set[str]:
    """The decrypting definitions that a module's attributes hand out."""
    found = set()
    for value in vars(module).values():
        name = definition_of(value)
        if name in DECRYPTING:
            found.add(name)
    return found


def absolute_module(node: ast.ImportFrom, module_name: str) -> str:
    """The absolute module an ImportFrom names, relative imports resolved."""
    if not node.level:
        return node.module or ""
    base = module_name.split(".")[: -node.level]
    return ".".join([*base, *([node.module] if node.module else [])])


def _check_module(target: str, why: str) -> list[str]:
    problems = []
    if target.split(".")[0] in FORBIDDEN_PACKAGES:
        problems.append(f"{why} imports {target}")
    elif target.split(".")[0] == "crypto":
        module = importlib.import_module(target)
        openers = reachable_openers(module)
        if target in DECRYPTING_MODULES or openers:
            problems.append(f"{why} imports all of {target} ({', '.join(sorted(openers))})")
    return problems


def _check_import(node: ast.Import, where: str) -> list[str]:
    problems = []
    for alias in node.names:
        # `import crypto.signatures` binds the name `crypto`: the whole facade.
        bound = alias.name if alias.asname else alias.name.split(".")[0]
        problems += _check_module(alias.name, where)
        if bound != alias.name:
            problems += _check_module(bound, where)
    return problems


def _check_from(node: ast.ImportFrom, where: str, module_name: str) -> list[str]:
    target = absolute_module(node, module_name)
    for alias in node.names:
        full = f"{target}.{alias.name}" if target else alias.name
        if full.split(".")[0] in FORBIDDEN_PACKAGES:
            return [f"{where} imports {full}"]
    if target.split(".")[0] != "crypto":
        return []
    problems = []
    module = importlib.import_module(target)
    for alias in node.names:
        if alias.name == "*":
            problems += _check_module(target, where)
            continue
        value = getattr(module, alias.name, None)
        if value is None:
            try:
                value = importlib.import_module(f"{target}.{alias.name}")
            except ImportError:
                continue
        if isinstance(value, types.ModuleType):
            problems += _check_module(value.__name__, where)
        elif definition_of(value) in DECRYPTING:
            problems.append(f"{where} imports {definition_of(value)} (as {target}.{alias.name})")
    return problems


def _check_dynamic(node: ast.Call, where: str) -> list[str]:
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name not in IMPORTERS or not node.args:
        return []
    first = node.args[0]
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return _check_module(first.value, where)
    return [f"{where} imports a module whose name is computed at run time"]


def decrypting_imports(path: Path, module_name: str) -> list[str]:
    """Every import in path (a module called module_name) that reaches an opener.

    Returns one line per problem, naming the file; an empty list means the
    file cannot reach decrypting code through its imports.
    """
    problems: list[str] = []
    where = str(path)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            problems += _check_import(node, where)
        elif isinstance(node, ast.ImportFrom):
            problems += _check_from(node, where, module_name)
        elif isinstance(node, ast.Call):
            problems += _check_dynamic(node, where)
    return problems


def module_name_of(path: Path, root: Path) -> str:
    """The dotted module name of a file under root."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)
