"""The house rule on size (issue 16): no module over 400 lines, no function over 50.

Every Python file git tracks is held to it. A module may keep a longer shape
only with a reason written in its first lines, as a one-line comment
`# house: <why>`, for where splitting would make it read worse: an
end-to-end test that tells one story, a migration's data. The counts are
those of /work/coord/sizes.py: a module's newlines, and a function from its
`def` line to its last line (decorators not counted).
"""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 50
# The reason must stand in the module's first lines, and say something.
REASON = re.compile(r"#\s*house:\s*\S")
REASON_WITHIN = 5


def has_reason(source: str) -> bool:
    """Whether one of the module's first lines is a `# house: <why>` comment."""
    head = source.splitlines()[:REASON_WITHIN]
    return any(REASON.match(line.strip()) for line in head)


def offences(path: Path, name: str) -> list[str]:
    """What in this module breaks the rule, one line each; none if it gives a reason."""
    source = path.read_text(encoding="utf-8")
    if has_reason(source):
        return []
    found = []
    lines = source.count("\n")
    if lines > MAX_MODULE_LINES:
        found.append(f"{name}: module of {lines} lines (over {MAX_MODULE_LINES})")
    for node in ast.walk(ast.parse(source, filename=name)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            assert node.end_lineno is not None
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                found.append(
                    f"{name}:{node.lineno}: {node.name}() of {length} lines "
                    f"(over {MAX_FUNCTION_LINES})"
                )
    return found


def tracked_python_files(root: Path) -> list[str]:
    """The .py files git tracks under root, as paths relative to it."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--", "*.py"],
        cwd=root,
        capture_output=True,
        check=False,
    )
    if listed.returncode != 0:
        pytest.skip("not a git checkout: the tracked files are unknown")
    names = [n for n in listed.stdout.decode("utf-8").split("\0") if n]
    # A file deleted in the working tree but not yet in the index is gone already.
    return sorted(n for n in names if (root / n).is_file())


def test_no_module_over_400_lines_and_no_function_over_50_without_a_reason() -> None:
    names = tracked_python_files(ROOT)
    assert "tests/conftest.py" in names  # the walk sees the tree
    found = [line for name in names for line in offences(ROOT / name, name)]
    assert not found, "over the house size rule (split it, or give a `# house:` reason):\n" + (
        "\n".join(found)
    )


def _function(name: str, lines: int) -> str:
    """A function of exactly this many lines, its def and return included."""
    body = "".join(f"    x{i} = {i}\n" for i in range(lines - 2))
    return f"def {name}():\n{body}    return 0\n"


def test_the_checker_names_a_planted_long_function(tmp_path: Path) -> None:
    planted = tmp_path / "planted.py"
    planted.write_text(
        '"""A module."""\n\n\n' + _function("short", 50) + "\n\n" + _function("long", 51)
    )
    assert offences(planted, "planted.py") == ["planted.py:56: long() of 51 lines (over 50)"]


def test_the_checker_names_a_planted_long_module(tmp_path: Path) -> None:
    planted = tmp_path / "planted.py"
    planted.write_text("".join(f"X{i} = {i}\n" for i in range(401)))
    assert offences(planted, "planted.py") == ["planted.py: module of 401 lines (over 400)"]
    planted.write_text("".join(f"X{i} = {i}\n" for i in range(400)))
    assert offences(planted, "planted.py") == []


def test_a_house_reason_at_the_top_lets_a_long_shape_stand(tmp_path: Path) -> None:
    story = _function("test_story", 80)
    planted = tmp_path / "story.py"
    planted.write_text("# house: one end-to-end story, told in order\n" + story)
    assert offences(planted, "story.py") == []
    # A reason must say why, and must stand at the top, not lower down.
    planted.write_text("# house:\n" + story)
    assert offences(planted, "story.py") != []
    planted.write_text("\n" * REASON_WITHIN + "# house: too late\n" + story)
    assert offences(planted, "story.py") != []
