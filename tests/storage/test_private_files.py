"""Every data file is private to the service user (issue 14 item 8): files
0600 and directories 0700 (the SQLite database with its -wal and -shm, blobs,
the spool, the secret key), whatever the umask the server was started with."""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from click.testing import CliRunner

from replay_server import keys
from replay_server.app import create_app
from replay_server.cli import main
from replay_server.db.migrate import upgrade
from replay_server.settings import Settings
from tests.browser import Client
from tests.e2e.conftest import create_account
from tests.procs import start_server, stop_server
from tests.test_ip_privacy import ORIGIN, visit


@contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def modes(root: Path) -> dict[str, int]:
    paths = [root, *root.rglob("*")]
    return {str(p.relative_to(root)): stat.S_IMODE(p.lstat().st_mode) for p in paths}


def open_to_others(root: Path) -> list[str]:
    return [f"{name} {oct(mode)}" for name, mode in modes(root).items() if mode & 0o077]


async def test_the_app_creates_private_files(
    tmp_path: Path, aiohttp_client: Callable[..., Awaitable[Client]]
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    with umask(0o022):  # the usual default: files 0644, directories 0755
        await asyncio.to_thread(upgrade, settings.effective_database_url)
        client = await aiohttp_client(create_app(settings))
        await client.app[keys.BLOBS].put("s/1/session/c0.rsc", b"a chunk")
        assert (await client.get("/healthz")).status == 200
        found = modes(settings.data_dir)
        assert {"replay.db", "replay.db-wal", "replay.db-shm", "secret_key"} <= set(found)
        assert found["blobs/s/1/session/c0.rsc"] == 0o600
        assert open_to_others(settings.data_dir) == []


async def test_a_real_server_writes_only_private_files(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with umask(0o022):
        server = start_server(data_dir)  # it makes data_dir first: 0755, the operator's
        try:
            account = create_account(server, ORIGIN)
            await visit(server, account.site_key)
            while_serving = open_to_others(data_dir)
            assert (data_dir / "replay.db-wal").exists()
        finally:
            stop_server(server)  # SIGTERM: everything pending is chunked into blobs
    assert any(data_dir.glob("blobs/**/*.rsc"))
    assert while_serving == [". 0o755"]
    assert open_to_others(data_dir) == [". 0o755"]


def test_every_command_runs_with_a_private_umask(tmp_path: Path) -> None:
    data_dir = tmp_path / "new" / "data"
    with umask(0o022):
        result = CliRunner().invoke(main, ["db", "upgrade"], env={"REPLAY_DATA_DIR": str(data_dir)})
        assert result.exit_code == 0, result.output
        assert os.umask(0o022) == 0o022  # restored for the rest of this process
    assert open_to_others(tmp_path) == []  # new/ and data/ 0700, replay.db 0600
