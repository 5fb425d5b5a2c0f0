"""The server's secret key: the configured one, else one generated into the
data dir on first start (owner-only) and read back on every later start."""

from __future__ import annotations

import stat
from pathlib import Path

from replay_server.auth.secret import load_or_create_secret
from replay_server.settings import Settings


async def test_a_configured_secret_is_used_and_nothing_written(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", secret_key="configured-secret")
    assert await load_or_create_secret(settings) == b"configured-secret"
    assert not (tmp_path / "data" / "secret_key").exists()


async def test_a_generated_secret_is_kept_private_and_stable(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    first = await load_or_create_secret(settings)
    assert len(first) >= 48
    path = tmp_path / "data" / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert await load_or_create_secret(settings) == first  # a restart keeps sessions valid

    other = await load_or_create_secret(Settings(data_dir=tmp_path / "other"))
    assert other != first


async def test_a_secret_file_is_read_without_its_newline(tmp_path: Path) -> None:
    (tmp_path / "secret_key").write_bytes(b"written-by-an-operator\n")
    assert await load_or_create_secret(Settings(data_dir=tmp_path)) == b"written-by-an-operator"
