"""The server's secret key: from settings, or generated once into the data dir."""

from __future__ import annotations

import asyncio
import os
import secrets

from replay_server.settings import Settings
from replay_server.storage.local import PRIVATE_FILE_MODE, make_private_dir


async def load_or_create_secret(settings: Settings) -> bytes:
    if settings.secret_key:
        return settings.secret_key.encode()
    return await asyncio.to_thread(_load_or_create_file, settings)


def _load_or_create_file(settings: Settings) -> bytes:
    path = settings.data_dir / "secret_key"
    if path.exists():
        return path.read_bytes().strip()
    make_private_dir(settings.data_dir)
    value = secrets.token_urlsafe(48).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    with os.fdopen(fd, "wb") as fh:
        fh.write(value)
    return value
