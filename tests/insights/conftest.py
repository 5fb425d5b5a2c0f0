from __future__ import annotations

from pathlib import Path

import pytest

from replay_server.settings import Settings


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    # The test client is the trusted proxy: X-Forwarded-For gives each visit its country.
    return Settings(
        data_dir=tmp_path / "data", database_url=database_url, trusted_proxies="127.0.0.1"
    )
