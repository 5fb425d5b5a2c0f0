from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from replay_server.errors import ConfigError
from replay_server.settings import Settings

DOCS = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def test_every_setting_is_documented_with_its_default() -> None:
    text = DOCS.read_text()
    rows = {
        line.split("|")[1].strip(" `"): line for line in text.splitlines() if "| `REPLAY_" in line
    }
    for env_name, _field, default, help_text in Settings.fields_with_help():
        assert env_name in rows, f"{env_name} is missing from docs/configuration.md"
        assert help_text.split(".")[0] in rows[env_name], f"{env_name}: help text out of date"
        if default != "":
            assert str(default) in rows[env_name], f"{env_name}: default out of date"


def test_every_setting_has_help_text() -> None:
    for env_name, _field, _default, help_text in Settings.fields_with_help():
        assert env_name.startswith("REPLAY_")
        assert len(help_text) > 10


def test_defaults_without_environment(tmp_path: Path) -> None:
    settings = Settings.from_env({})
    assert settings == Settings()
    assert settings.port == 8321
    assert settings.effective_public_url == "http://127.0.0.1:8321"
    moved = Settings.from_env({"REPLAY_DATA_DIR": str(tmp_path)})
    assert moved.effective_database_url == f"sqlite+aiosqlite:///{tmp_path.resolve()}/replay.db"
    assert moved.effective_storage_url == (tmp_path / "blobs").resolve().as_uri()


def test_environment_values_are_parsed_to_field_types() -> None:
    settings = Settings.from_env(
        {
            "REPLAY_PORT": "9000",
            "REPLAY_CHUNK_MAX_AGE_SECONDS": "2.5",
            "REPLAY_DATA_DIR": "/srv/replay",
            "REPLAY_PUBLIC_URL": "https://replay.example/",
            "REPLAY_LOGIN_COOKIE_DAYS": "3",
            "UNRELATED": "ignored",
        }
    )
    assert settings.port == 9000
    assert settings.chunk_max_age_seconds == 2.5
    assert settings.data_dir == Path("/srv/replay")
    assert settings.effective_public_url == "https://replay.example"
    assert settings.login_cookie_days == 3


def test_toml_file_and_environment_wins(tmp_path: Path) -> None:
    config = tmp_path / "replay.toml"
    config.write_text('port = 9100\nhost = "0.0.0.0"\n')
    settings = Settings.from_env({"REPLAY_CONFIG_FILE": str(config), "REPLAY_PORT": "9200"})
    assert settings.host == "0.0.0.0"
    assert settings.port == 9200


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"REPLAY_PORT": "eighty"}, "REPLAY_PORT"),
        ({"REPLAY_CHUNK_MAX_AGE_SECONDS": "soon"}, "REPLAY_CHUNK_MAX_AGE_SECONDS"),
        ({"REPLAY_CONFIG_FILE": "/nonexistent/replay.toml"}, "cannot read config file"),
    ],
)
def test_bad_values_are_config_errors(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(environ)


def test_unknown_key_in_config_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "replay.toml"
    config.write_text("prot = 1\n")
    with pytest.raises(ConfigError, match="unknown setting"):
        Settings.from_env({"REPLAY_CONFIG_FILE": str(config)})


def test_malformed_config_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "replay.toml"
    config.write_text("port = = 1\n")
    with pytest.raises(ConfigError, match="cannot read config file"):
        Settings.from_env({"REPLAY_CONFIG_FILE": str(config)})


def test_configuration_doc_is_generated_from_settings() -> None:
    script = DOCS.parents[1] / "scripts" / "gen_config_docs.py"
    generated = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, check=True
    ).stdout
    assert generated == DOCS.read_text(), (
        "docs/configuration.md is stale: run "
        "`.venv/bin/python scripts/gen_config_docs.py > docs/configuration.md`"
    )
