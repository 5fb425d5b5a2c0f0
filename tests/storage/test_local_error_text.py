"""A local blob store's errors name the blob's key, not its local path: their
message can reach a client (HTTP ingest fallback, API) (issue 14 item 8)."""

from __future__ import annotations

from pathlib import Path

import pytest

from replay_server.errors import StorageError
from replay_server.storage.local import LocalBlobStore


async def test_write_and_read_errors_name_no_local_path(tmp_path: Path) -> None:
    root = tmp_path / "private-root"
    store = LocalBlobStore(root)
    root.mkdir()
    (root / "s").write_bytes(b"a file where a directory should be")
    with pytest.raises(StorageError) as write:
        await store.put("s/1/abc/c0", b"data")
    assert "s/1/abc/c0" in write.value.message and str(tmp_path) not in write.value.message
    (root / "t" / "1").mkdir(parents=True)  # a directory where a blob should be
    with pytest.raises(StorageError) as read:
        await store.get("t/1")
    assert "t/1" in read.value.message and str(tmp_path) not in read.value.message
