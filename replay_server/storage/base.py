"""The BlobStore protocol every backend implements, and the key rules they share."""

from __future__ import annotations

from typing import Protocol

from replay_server.errors import InvalidMessage


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


def check_key(key: str, *, prefix: bool = False) -> str:
    """Security invariant: a key is a relative path without `.`/`..` or empty
    segments, backslashes or NULs, so no backend can be steered outside its root.
    A prefix may end with `/` (and may be empty: everything)."""
    body = key[:-1] if prefix and key.endswith("/") else key
    if prefix and not body:
        return key
    if not body or "\\" in body or "\0" in body or body.startswith("/"):
        raise InvalidMessage(f"invalid blob key {key!r}")
    if any(part in ("", ".", "..") for part in body.split("/")):
        raise InvalidMessage(f"invalid blob key {key!r}")
    return key
