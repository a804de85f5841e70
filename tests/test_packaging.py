"""A non-editable install carries the commands, templates and data files.

The wheel is built from a copy of this tree and installed without
dependencies into a fresh virtual environment; the dependencies come from the
test run's own environment through PYTHONPATH (which, unlike a .pth file,
does not activate the editable install of this checkout). So the test needs
no network and proves that the installed package alone holds what it needs.
"""

import configparser
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Not the source: environments, build output and run data, then tools' caches.
SKIP_DIRS = {".venv", ".git", "build", "dist", "instance", "demo", "test-artifacts"}
SKIP_DIRS |= {"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".hypothesis"}


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    base = tmp_path_factory.mktemp("install")
    source = base / "source"
    shutil.copytree(
        ROOT,
        source,
        ignore=lambda d, names: [n for n in names if n in SKIP_DIRS or n.endswith(".egg-info")],
    )
    wheels = base / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--disable-pip-version-check",
            "-w",
            str(wheels),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    env_dir = base / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    wheel = next(wheels.glob("amanat-*.whl"))
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--disable-pip-version-check",
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    environ = {**os.environ, "PYTHONPATH": sysconfig.get_paths()["purelib"]}
    environ.pop("PYTHONHOME", None)
    return env_dir, environ, base


def run_in(installed, *command):
    env_dir, environ, base = installed
    return subprocess.run(
        [str(env_dir / "bin" / command[0]), *command[1:]],
        cwd=base,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )


def test_installed_commands_start(installed):
    for command in ("amanat-server", "amanat-admin"):
        result = run_in(installed, command, "--help")
        assert result.returncode == 0, result.stderr
        assert "Usage" in result.stdout


def test_installed_package_is_the_installed_copy_with_its_files(installed):
    code = (
        "import crypto, portal, admin, templates, pathlib\n"
        "for m in (crypto, portal, admin, templates):\n"
        "    print(pathlib.Path(m.__file__).parent)\n"
    )
    result = run_in(installed, "python", "-c", code)
    assert result.returncode == 0, result.stderr
    env_dir = installed[0]
    paths = [Path(line) for line in result.stdout.split()]
    assert all(env_dir in p.parents for p in paths), paths
    crypto_dir, portal_dir, _, templates_dir = paths
    assert (crypto_dir / "py.typed").exists()
    shipped = {p.relative_to(templates_dir).as_posix() for p in templates_dir.rglob("*.html")}
    in_tree = {
        p.relative_to(ROOT / "templates").as_posix() for p in (ROOT / "templates").rglob("*.html")
    }
    assert shipped == in_tree
    for pattern in (
        "static/*",
        "questionnaire/*.json",
        "translations/*/LC_MESSAGES/*.mo",
        "migrations/env.py",
        "migrations/versions/*.py",
    ):
        in_tree = {p.relative_to(ROOT / "portal") for p in (ROOT / "portal").glob(pattern)}
        shipped = {p.relative_to(portal_dir) for p in portal_dir.glob(pattern)}
        assert shipped == in_tree, pattern


def test_no_dependency_on_the_unrelated_crypto_packages():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    requirements = config["options"]["install_requires"].lower()
    for name in ("pycrypto", "pycryptodome", "\ncrypto"):
        assert name not in requirements
