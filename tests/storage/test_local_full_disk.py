"""The local blob store on a real full filesystem (a tmpfs, tests/diskfull.py):
a put that does not fit fails as a StorageError and leaves nothing behind to
hold the space, and puts work again once space returns."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from replay_server.errors import StorageError
from replay_server.storage.local import LocalBlobStore
from tests.diskfull import fill, free_bytes, small_tmpfs


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    with small_tmpfs(tmp_path / "tiny", "1m") as mount:
        yield mount


async def test_a_put_on_a_full_disk_fails_and_leaves_nothing_behind(tiny_disk: Path) -> None:
    store = LocalBlobStore(tiny_disk / "blobs")
    await store.put("s/1/a/000-p0.rsc", b"first")
    filler = tiny_disk / "filler"
    fill(filler)
    with pytest.raises(StorageError):
        await store.put("s/1/a/001-p0.rsc", os.urandom(64 * 1024))
    assert sorted(p.name for p in (tiny_disk / "blobs").rglob("*") if p.is_file()) == ["000-p0.rsc"]
    filler.unlink()
    assert free_bytes(tiny_disk) > 512 * 1024  # the failed put holds no space
    await store.put("s/1/a/001-p0.rsc", b"second")
    assert await store.get("s/1/a/001-p0.rsc") == b"second"
    assert await store.get("s/1/a/000-p0.rsc") == b"first"
