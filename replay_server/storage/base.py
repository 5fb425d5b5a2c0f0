"""The BlobStore protocol every backend implements."""

from __future__ import annotations

from typing import Protocol


class BlobStore(Protocol):
    """Keys are `/`-separated relative paths such as `s/12/<sid>/000003.rsc`."""

    async def put(self, key: str, data: bytes) -> None:
        """Store `data` durably under `key`, replacing what was there."""

    async def get(self, key: str) -> bytes:
        """Return the blob; raise `NotFound` when absent."""

    async def delete_prefix(self, prefix: str) -> int:
        """Delete every blob whose key starts with `prefix`; return how many."""

    async def check(self) -> None:
        """Raise `StorageError` when the store cannot be reached."""

    async def close(self) -> None:
        """Release connections and threads."""
