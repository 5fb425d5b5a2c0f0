"""Blobs as files under one root directory; writes are atomic and fsync'd.
Blob files are created 0600 and directories 0700, whatever the umask: replays
are private to the service user (docs/deployment.md, "Data files")."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from pathlib import Path

from replay_server.errors import InvalidMessage, NotFound, StorageError
from replay_server.storage.base import check_key

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def path_for(self, key: str) -> Path:
        """Security invariant: every key resolves to a path under the root."""
        check_key(key)
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            raise InvalidMessage(f"blob key escapes the storage root: {key!r}")
        return path

    async def put(self, key: str, data: bytes) -> None:
        path = self.path_for(key)
        await asyncio.to_thread(self._put_sync, path, data)

    async def get(self, key: str) -> bytes:
        path = self.path_for(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError as e:
            raise NotFound(f"blob {key} not found") from e
        except OSError as e:
            # The key, not the local path: this message may reach a client.
            raise StorageError(f"cannot read blob {key}: {e.strerror or e}") from e

    async def delete_prefix(self, prefix: str) -> int:
        check_key(prefix, prefix=True)
        return await asyncio.to_thread(self._delete_prefix_sync, prefix)

    async def check(self) -> None:
        try:
            await asyncio.to_thread(self._check_sync)
        except OSError as e:
            raise StorageError(f"local storage at {self.root} is not writable: {e}") from e

    async def close(self) -> None:
        return None

    def _put_sync(self, path: Path, data: bytes) -> None:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            make_private_dir(path.parent)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
            fsync_dir(path.parent)
        except OSError as e:
            # A partly written file (disk full) must not go on holding the space.
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            # The key, not the local path: this message may reach a client.
            key = path.relative_to(self.root).as_posix()
            raise StorageError(f"cannot write blob {key}: {e.strerror or e}") from e

    def _delete_prefix_sync(self, prefix: str) -> int:
        base = self.path_for(prefix.rstrip("/")) if prefix.strip("/") else self.root
        if base.is_dir():
            count = sum(1 for p in base.rglob("*") if p.is_file())
            shutil.rmtree(base)
            return count
        parent, stem = base.parent, base.name
        count = 0
        if parent.is_dir():
            for child in parent.iterdir():
                if child.name.startswith(stem):
                    if child.is_dir():
                        count += sum(1 for p in child.rglob("*") if p.is_file())
                        shutil.rmtree(child)
                    else:
                        child.unlink()
                        count += 1
        return count

    def _check_sync(self) -> None:
        make_private_dir(self.root)
        probe = self.root / ".healthcheck"
        probe.write_bytes(b"ok")
        probe.unlink()


def make_private_dir(path: Path) -> None:
    """`path` and its missing parents, each created 0700 (`mkdir(parents=True)`
    gives parents the umask's mode); existing directories are left as they are."""
    missing: list[Path] = []
    while not path.is_dir():
        missing.append(path)
        if path.parent == path:
            break
        path = path.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):  # made meanwhile by another writer
            directory.mkdir(mode=PRIVATE_DIR_MODE)


def fsync_dir(path: Path) -> None:
    """Make a directory's entries durable (a file created or renamed in it)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
