"""A real Chromium (Debian's), JavaScript off, against the real portal on 127.0.0.1.

Nothing here downloads a browser: the tests drive /usr/bin/chromium through
Playwright and skip, saying why, where either is missing. axe-core (for the
accessibility checks) comes from the npm registry once and is cached.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.conftest import served

CHROMIUM = Path(os.environ.get("AMANAT_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE_VERSION = "4.14.1"


@pytest.fixture
def empty_database_url(tmp_path: Path) -> str:
    """SQLite only: the browser adds nothing the database parametrisation would catch."""
    return f"sqlite:///{tmp_path / 'amanat.db'}"


@pytest.fixture
def portal_url(app: Flask) -> Iterator[str]:
    """The test's portal app served over HTTP from a background thread."""
    with served(app) as url:
        yield url


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One headless Chromium for the session (each launch gets a fresh temp profile)."""
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')"
    )
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does it)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def no_js_page(chromium: Any) -> Iterator[Any]:
    """A page in a fresh context with JavaScript disabled, as Tor Browser on "Safest"."""
    context = chromium.new_context(java_script_enabled=False, locale="ru-RU")
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def axe_page(chromium: Any, axe_source: str) -> Iterator[Any]:
    """A JavaScript-enabled page for running axe-core over HTML the portal served.

    With scripts disabled, Chromium never fires the timers axe relies on, so
    the HTML a no-JS page received is replayed here; the CSP is bypassed so
    the test (never the page) can inject axe.
    """
    context = chromium.new_context(java_script_enabled=True, bypass_csp=True)
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "amanat-tests" / f"axe-core-{AXE_VERSION}"


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's axe.min.js from the npm package, fetched once with npm and cached."""
    cached = _cache_dir() / "axe.min.js"
    if not cached.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is missing: cannot fetch axe-core for the accessibility check")
        with tempfile.TemporaryDirectory() as scratch:
            try:
                done = subprocess.run(
                    [npm, "pack", f"axe-core@{AXE_VERSION}", "--silent"],
                    cwd=scratch,
                    capture_output=True,
                    timeout=120,
                    check=True,
                )
            except (subprocess.SubprocessError, OSError) as exc:
                pytest.skip(f"npm pack axe-core failed ({type(exc).__name__}): no registry?")
            tarball = Path(scratch) / done.stdout.decode().strip().splitlines()[-1]
            with tarfile.open(tarball) as archive:
                member = archive.extractfile("package/axe.min.js")
                assert member is not None
                source = member.read()
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(".partial")
        partial.write_bytes(source)
        partial.replace(cached)
    return cached.read_text(encoding="utf-8")
