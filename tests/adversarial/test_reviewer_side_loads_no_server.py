"""The reviewer's laptop runs none of the server's code (docs/DESIGN.md section 3).

The console shares three things with the portal: the questionnaire, the
language list and the security headers. Importing them must not bring the
server along (SQLAlchemy, Flask-Limiter, the API, intake, retention).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# What the reviewer's side may use from portal/: data and constants, no server.
SHARED = {
    "portal",
    "portal.questionnaire",
    "portal.questionnaire.model",
    "portal.questionnaire.validation",
    "portal.languages",
    "portal.security_headers",
}
SERVER_LIBRARIES = ("sqlalchemy", "alembic", "flask_limiter", "psycopg", "gunicorn")
# The reviewer's web console is a Flask app (case_history renders its history in the
# UI language with Flask-Babel); the rest of admin/ is not.
WEB_MODULES = ("admin.console", "admin.stats.views", "admin.case_history")


def admin_modules() -> list[str]:
    names = []
    for path in sorted((ROOT / "admin").rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names.append(".".join(parts))
    return names


def loaded_after_import(module: str) -> list[str]:
    """The modules a fresh interpreter holds after importing module."""
    code = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded: list[str] = json.loads(result.stdout)
    return loaded


def server_modules_in(loaded: list[str]) -> list[str]:
    return [
        name
        for name in loaded
        if name.split(".")[0] in SERVER_LIBRARIES
        or (name.split(".")[0] == "portal" and name not in SHARED)
    ]


def test_the_console_loads_no_server_module() -> None:
    loaded = loaded_after_import("admin.console.app")
    assert "sqlalchemy" not in loaded
    assert server_modules_in(loaded) == []


@pytest.mark.parametrize("module", [m for m in admin_modules() if not m.startswith(WEB_MODULES)])
def test_admin_core_loads_no_flask_and_no_server(module: str) -> None:
    loaded = loaded_after_import(module)
    assert server_modules_in(loaded) == []
    assert [
        name for name in loaded if name.split(".")[0] in {"flask", "flask_wtf", "flask_babel"}
    ] == []


def test_the_shared_modules_import_without_the_app() -> None:
    loaded = loaded_after_import("portal.questionnaire, portal.languages, portal.security_headers")
    assert server_modules_in(loaded) == []
    assert "flask" not in loaded
