"""Amanat's portal: the Flask app sources use, and the reviewers' sync API.

The app itself is built by `portal.app.create_app`. Importing this package
loads nothing else, so the parts the reviewer's console shares with the
portal (`portal.questionnaire`, `portal.languages`, `portal.security_headers`)
can be imported on a reviewer's laptop without the server's modules.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    # `from portal import create_app` keeps working without importing the app
    # whenever anything under portal/ is imported.
    if name in {"create_app", "csrf"}:
        from portal import app

        return getattr(app, name)
    raise AttributeError(f"module 'portal' has no attribute {name!r}")
