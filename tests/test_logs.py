from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from replay_server.errors import ConfigError
from replay_server.logs import ACCESS_LOG_FORMAT, JsonFormatter, configure_logging
from replay_server.settings import Settings


def test_json_lines_carry_extras_and_exceptions() -> None:
    formatter = JsonFormatter()
    record = logging.LogRecord(
        "replay.ingest", logging.WARNING, __file__, 1, "cut %s", ("x",), None
    )
    record.session = "abc"
    entry = json.loads(formatter.format(record))
    assert entry["level"] == "warning" and entry["message"] == "cut x"
    assert entry["logger"] == "replay.ingest" and entry["session"] == "abc"
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    assert "ValueError: boom" in json.loads(formatter.format(record))["exception"]


def test_bad_log_settings_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        configure_logging(Settings(data_dir=tmp_path, log_format="xml"))
    with pytest.raises(ConfigError):
        configure_logging(Settings(data_dir=tmp_path, log_level="loud"))


def test_access_log_never_names_the_client() -> None:
    # %a (remote address) and %{X-Forwarded-For}i would put visitors' IPs in the log.
    assert "%a" not in ACCESS_LOG_FORMAT and "Forwarded" not in ACCESS_LOG_FORMAT
    assert "%{" not in ACCESS_LOG_FORMAT
