"""Settings read once from the environment (portal/settings.py); production refuses
an unsafe configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal import create_app
from portal.settings import ConfigError, Settings, UnsafeConfigError


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    data_dir = tmp_path / "prod"
    data_dir.mkdir(mode=0o700, exist_ok=True)
    env = {
        "AMANAT_ENV": "production",
        "AMANAT_DATA_DIR": str(data_dir),
        "AMANAT_DATABASE_URL": f"sqlite:///{tmp_path / 'prod.db'}",
        "AMANAT_SECRET_KEY": "k" * 48,
        # Never connected to by these tests: only views that are rate-limited do.
        "AMANAT_RATELIMIT_STORAGE": "redis://127.0.0.1:6379/0",
    }
    env.update(overrides)
    return env


def test_settings_defaults(tmp_path: Path) -> None:
    settings = Settings.from_env({"AMANAT_DATA_DIR": str(tmp_path / "d")})
    assert settings.database_url == f"sqlite:///{tmp_path / 'd' / 'amanat.db'}"
    assert not settings.production
    assert not settings.secure_cookies
    assert settings.kdf_cost_name == "interactive"
    assert settings.ratelimit_storage == "memory://"
    assert settings.onion_address is None
    assert settings.session_minutes == 30
    assert settings.regions[:2] == ("bishkek", "osh_city")
    assert len(settings.regions) == 9


def test_settings_read_from_environment(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "AMANAT_DATA_DIR": str(tmp_path),
            "AMANAT_KDF_COST": "moderate",
            "AMANAT_MAX_UPLOAD_BYTES": "1000",
            "AMANAT_REGIONS": " osh, naryn ,",
            "AMANAT_RATELIMIT_STORAGE": "redis://127.0.0.1:6379",
            "AMANAT_ONION_ADDRESS": "example.onion",
            "AMANAT_SESSION_MINUTES": "15",
        }
    )
    assert settings.kdf_cost.opslimit > 0
    assert settings.max_upload_bytes == 1000
    assert settings.regions == ("osh", "naryn")
    assert settings.ratelimit_storage == "redis://127.0.0.1:6379"
    assert settings.onion_address == "example.onion"
    assert settings.session_minutes == 15


@pytest.mark.parametrize(
    "name, value",
    [
        ("AMANAT_KDF_COST", "fast"),
        ("AMANAT_MAX_UPLOAD_BYTES", "2GB"),
        ("AMANAT_MAX_UPLOAD_BYTES", "-1"),
        ("AMANAT_SESSION_MINUTES", "0"),
    ],
)
def test_unparseable_settings_are_refused(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({"AMANAT_DATA_DIR": str(tmp_path), name: value})


def test_development_secret_key_is_generated_once_and_private(tmp_path: Path) -> None:
    env = {"AMANAT_DATA_DIR": str(tmp_path / "d")}
    first = Settings.from_env(env)
    second = Settings.from_env(env)
    assert len(first.secret_key) >= 32
    assert first.secret_key == second.secret_key
    key_file = tmp_path / "d" / "secret_key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "d").stat().st_mode & 0o777 == 0o700


def test_secret_key_is_not_in_settings_repr(tmp_path: Path) -> None:
    settings = Settings.from_env({"AMANAT_DATA_DIR": str(tmp_path), "AMANAT_SECRET_KEY": "s" * 40})
    assert "s" * 40 not in repr(settings)


def test_production_never_generates_a_secret_key(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    del env["AMANAT_SECRET_KEY"]
    settings = Settings.from_env(env)
    assert settings.secret_key == ""
    assert not (tmp_path / "prod" / "secret_key").exists()


def test_production_reads_the_secret_key_file_from_init(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    del env["AMANAT_SECRET_KEY"]
    (tmp_path / "prod" / "secret_key").write_text("f" * 64 + "\n")
    assert Settings.from_env(env).secret_key == "f" * 64


def test_safe_production_config_starts(tmp_path: Path) -> None:
    settings = Settings.from_env(production_env(tmp_path))
    settings.check_safe()
    app = create_app(settings)
    assert app.config["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"AMANAT_SECRET_KEY": ""}, "AMANAT_SECRET_KEY"),
        ({"AMANAT_SECRET_KEY": "short"}, "AMANAT_SECRET_KEY"),
        ({"AMANAT_KDF_COST": "minimal"}, "minimal"),
    ],
)
def test_unsafe_production_config_refuses_to_start(
    tmp_path: Path, overrides: dict[str, str], message: str
) -> None:
    settings = Settings.from_env(production_env(tmp_path, **overrides))
    with pytest.raises(UnsafeConfigError, match=message):
        create_app(settings)


def test_production_refuses_a_data_dir_others_can_read(tmp_path: Path) -> None:
    settings = Settings.from_env(production_env(tmp_path))
    settings.data_dir.chmod(0o750)
    with pytest.raises(UnsafeConfigError, match="group or others"):
        create_app(settings)


def test_production_refuses_a_missing_data_dir(tmp_path: Path) -> None:
    settings = Settings.from_env(production_env(tmp_path, AMANAT_DATA_DIR=str(tmp_path / "no")))
    with pytest.raises(UnsafeConfigError, match="does not exist"):
        settings.check_safe()


def test_development_accepts_anything(tmp_path: Path) -> None:
    settings = Settings.from_env({"AMANAT_DATA_DIR": str(tmp_path), "AMANAT_KDF_COST": "minimal"})
    settings.check_safe()
