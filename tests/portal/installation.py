"""A production installation made as an operator makes one, for the tests that run
the shipped commands and servers (tests/portal/test_deploy.py, tests/faults)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from crypto.keys import ReviewerKey

BIN = Path(sys.executable).parent


def init_installation(
    tmp_path: Path, reviewer: str, settings: dict[str, str]
) -> tuple[dict[str, str], ReviewerKey]:
    """Run `amanat-server init`, then add a reviewer named reviewer; return the
    environment the installation runs with (production, plus settings) and the
    reviewer's key. No AMANAT_* or GUNICORN_* variable of the caller leaks in."""
    key = ReviewerKey.generate(reviewer)
    bundle = tmp_path / "bundle.json"
    bundle.write_text(key.bundle().to_json())
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AMANAT_", "GUNICORN_"))},
        "AMANAT_ENV": "production",
        **settings,
    }
    for args in (["init"], ["recipient", "add", str(bundle)]):
        subprocess.run(
            [str(BIN / "amanat-server"), *args], env=env, check=True, capture_output=True
        )
    return env, key
